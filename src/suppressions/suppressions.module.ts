import { Module } from '@nestjs/common';
import { TypeOrmModule } from '@nestjs/typeorm';
import { Suppression } from './suppression.entity.js';
import { SuppressionsService } from './suppressions.service.js';
import { SuppressionsController } from './suppressions.controller.js';

/** Per-tenant opt-out list. */
@Module({
  imports: [TypeOrmModule.forFeature([Suppression])],
  controllers: [SuppressionsController],
  providers: [SuppressionsService],
})
export class SuppressionsModule {}
