import { TrafficAccount } from '../tenants/traffic-account.entity.js';
import { Tenant } from '../tenants/tenant.entity.js';
import { CreditLedgerEntry } from '../tenants/credit-ledger-entry.entity.js';
import { Campaign } from '../campaigns/campaign.entity.js';
import { CampaignMessage, CampaignMessageProviderId } from '../campaigns/campaign-message.entity.js';
import { CampaignBatch } from '../campaigns/campaign-batch.entity.js';
import { Suppression } from '../suppressions/suppression.entity.js';

/** Every TypeORM entity, listed once for the app and the migration CLI. */
export const ENTITIES = [TrafficAccount, Tenant, CreditLedgerEntry, Campaign, CampaignMessage, CampaignMessageProviderId, CampaignBatch, Suppression];
