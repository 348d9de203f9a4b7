import { Module } from '@nestjs/common';

/** Delivery reports, status refresh, live events and operations endpoints. */
@Module({})
export class StatusModule {}
