import { Global, Module } from '@nestjs/common';
import { CampaignEvents } from './campaign-events.js';

@Global()
@Module({ providers: [CampaignEvents], exports: [CampaignEvents] })
export class EventsModule {}
