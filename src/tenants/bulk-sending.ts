/**
 * The gradual rollout of the bulk flow, tenant by tenant (docs/OPERATIONS.md, "Rolling out the bulk flow").
 * `default` follows USE_BULK_SMS; `on` and `off` override it for one tenant. This is the one place that
 * decides; the batch service asks it when it leases a batch, so a change applies to every batch that
 * starts afterwards (also of campaigns already sending), and a batch in flight finishes in its mode.
 */
export const BULK_SENDING = ['default', 'on', 'off'] as const;
export type BulkSending = (typeof BULK_SENDING)[number];

export function usesBulk(setting: BulkSending, useBulkByDefault: boolean): boolean {
  switch (setting) {
    case 'on':
      return true;
    case 'off':
      return false;
    case 'default':
      return useBulkByDefault;
  }
}
