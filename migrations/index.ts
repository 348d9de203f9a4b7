import { InitialSchema1764300000000 } from './1764300000000-initial-schema.js';
import { BatchLeases1764400000000 } from './1764400000000-batch-leases.js';
import { TenantBulkSending1764450000000 } from './1764450000000-tenant-bulk-sending.js';
import { ImportCopy1764500000000 } from './1764500000000-import-copy.js';
import { GuardRails1764600000000 } from './1764600000000-guard-rails.js';
import { MessageRetention1764700000000 } from './1764700000000-message-retention.js';
import { StatusTriggerOnePass1764800000000 } from './1764800000000-status-trigger-one-pass.js';
import { MessagesFillfactor401764900000000 } from './1764900000000-messages-fillfactor-40.js';

/** Every migration, in order. Listed explicitly (not globbed) so the app, the CLI and tests load the same set. */
export const MIGRATIONS = [InitialSchema1764300000000, BatchLeases1764400000000, TenantBulkSending1764450000000, ImportCopy1764500000000,
  GuardRails1764600000000, MessageRetention1764700000000, StatusTriggerOnePass1764800000000,
  MessagesFillfactor401764900000000];
