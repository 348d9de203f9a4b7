import { InitialSchema1764300000000 } from './1764300000000-initial-schema.js';
import { BatchLeases1764400000000 } from './1764400000000-batch-leases.js';

/** Every migration, in order. Listed explicitly (not globbed) so the app, the CLI and tests load the same set. */
export const MIGRATIONS = [InitialSchema1764300000000, BatchLeases1764400000000];
