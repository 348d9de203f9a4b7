// Types shared by the Mitto sandbox server, its control client, the CLI and the tests.
// Kept free of runtime dependencies so that sandbox-client.ts can import it cheaply.

/** Faults injected on the two send endpoints (bulk and single) only; never on the status endpoint. */
export interface SandboxFaults {
  /** Share of send requests answered HTTP 500 (nothing recorded). */
  error500Ratio: number;
  /** Share of send requests answered HTTP 429 with `Retry-After` (nothing recorded). */
  error429Ratio: number;
  /** Value of the `Retry-After` header (seconds) sent with 429. */
  retryAfterSeconds: number;
  /** Share of send requests answered HTTP 503 (nothing recorded). */
  error503Ratio: number;
  /**
   * Share of send requests whose messages ARE accepted (recorded, reports scheduled) but whose socket is
   * destroyed without an answer: the "ambiguous outcome" of docs/mitto-api.md (no idempotency key exists).
   */
  acceptThenDropRatio: number;
  /** Destinations (E.164 strings) rejected per item with errorCode `DESTINATION_REJECTED`. */
  rejectDestinations: string[];
}

export interface SandboxOptions {
  /** Accepted values of the `X-Mitto-API-Key` header. */
  apiKeys: string[];
  /** Delay (ms) added before answering each request to the three Mitto endpoints. */
  latencyMs: number;
  /** Where delivery reports are POSTed; no reports are scheduled while unset. */
  webhookUrl?: string;
  /** Sent as header `X-Webhook-Secret` with every report POST. */
  webhookSecret?: string;
  /** Time from acceptance to the final delivery status (both for GET status and the webhook). */
  reportDelayMs: number;
  /** Share (0..1) of accepted messages that end `Delivered`; the rest end `Failure`. */
  deliveredRatio: number;
  /** Max message objects per report POST (reports are JSON arrays). */
  reportBatchSize: number;
  /** Accept messages but never schedule webhooks (tests of status refresh by polling). */
  suppressReports: boolean;
  faults: SandboxFaults;
  /** Seed for the fault/delivery random draws; unset = Math.random. */
  seed?: number;
}

/** What `configure()` / `POST /__sandbox/config` accepts: any subset, faults merged key by key. */
export type SandboxConfigPatch = Partial<Omit<SandboxOptions, 'faults'>> & { faults?: Partial<SandboxFaults> };

export type FinalStatus = 'Delivered' | 'Failure';

/** One accepted message as returned by the control API (`/__sandbox/messages`, `/__sandbox/references`). */
export interface RecordedMessage {
  messageId: string;
  destination: string;
  text: string;
  reference: string | null;
  apiKey: string;
  trafficAccountId: string;
  acceptedAt: string;
  /** When the final status becomes visible (GET status) and the report becomes due. */
  reportAt: string;
  finalStatus: FinalStatus;
}

export interface SandboxStats {
  /** Requests to the Mitto API side (the three endpoints and unknown routes); control-API calls are not counted. */
  requests: {
    total: number;
    byEndpoint: { bulk: number; single: number; status: number };
    /** HTTP status code → count; requests dropped by `acceptThenDropRatio` count under "dropped". */
    byStatusCode: Record<string, number>;
  };
  accepted: number;
  rejected: number;
  uniqueDestinations: number;
  /** Accepted messages whose destination had already been accepted before. */
  duplicateDestinations: number;
  /** Accepted messages whose non-empty reference had already been accepted before (exactly-once metric). */
  duplicateReferences: number;
  /**
   * apiKey → unix second → number of requests to the three Mitto endpoints, faulted and unauthorised ones
   * included (a missing key counts under "(missing)").
   */
  perSecondByApiKey: Record<string, Record<string, number>>;
  /** Report objects delivered with a 2xx answer. */
  reportsSent: number;
  /** Report objects in POST attempts that failed (each failed attempt counts; retried reports may count again). */
  reportsFailed: number;
  /** Report objects given up after the last retry. */
  reportsDropped: number;
  /** Report objects scheduled but not yet delivered (includes ones waiting for a retry or in flight). */
  reportsPending: number;
  maxRequestsInAnySecond: Record<string, number>;
}

/** The report object posted to the webhook (an array of these per POST). Shape assumed, see docs/mitto-api.md. */
export interface DeliveryReport {
  messageId: string;
  deliveryStatus: FinalStatus;
  description: string;
  updatedAt: string;
  reference: string | null;
  trafficAccountId: string;
}

export const DEFAULT_FAULTS: SandboxFaults = {
  error500Ratio: 0,
  error429Ratio: 0,
  retryAfterSeconds: 1,
  error503Ratio: 0,
  acceptThenDropRatio: 0,
  rejectDestinations: [],
};

export const DEFAULT_OPTIONS: SandboxOptions = {
  apiKeys: ['sandbox-key'],
  latencyMs: 0,
  reportDelayMs: 1000,
  deliveredRatio: 0.95,
  reportBatchSize: 100,
  suppressReports: false,
  faults: DEFAULT_FAULTS,
};

const clampRatio = (n: number): number => (Number.isFinite(n) ? Math.min(1, Math.max(0, n)) : 0);
const nonNegative = (n: number): number => (Number.isFinite(n) ? Math.max(0, n) : 0);

const isStringArray = (v: unknown): v is string[] => Array.isArray(v) && v.every((x) => typeof x === 'string');

/** Merges a patch into a config (faults key by key) and normalises the numbers; returns a new object. */
export function mergeOptions(base: SandboxOptions, patch: SandboxConfigPatch = {}): SandboxOptions {
  if (patch.apiKeys !== undefined && !isStringArray(patch.apiKeys)) throw new TypeError('apiKeys must be an array of strings');
  if (patch.faults !== undefined && (typeof patch.faults !== 'object' || patch.faults === null)) {
    throw new TypeError('faults must be an object');
  }
  if (patch.faults?.rejectDestinations !== undefined && !isStringArray(patch.faults.rejectDestinations)) {
    throw new TypeError('faults.rejectDestinations must be an array of strings');
  }
  const faults: SandboxFaults = { ...base.faults, ...(patch.faults ?? {}) };
  const merged: SandboxOptions = { ...base, ...patch, faults };
  merged.apiKeys = [...merged.apiKeys];
  merged.latencyMs = nonNegative(Number(merged.latencyMs));
  merged.reportDelayMs = nonNegative(Number(merged.reportDelayMs));
  merged.deliveredRatio = clampRatio(Number(merged.deliveredRatio));
  merged.reportBatchSize = Math.max(1, Math.floor(Number(merged.reportBatchSize)) || 1);
  merged.suppressReports = Boolean(merged.suppressReports);
  faults.error500Ratio = clampRatio(Number(faults.error500Ratio));
  faults.error429Ratio = clampRatio(Number(faults.error429Ratio));
  faults.error503Ratio = clampRatio(Number(faults.error503Ratio));
  faults.acceptThenDropRatio = clampRatio(Number(faults.acceptThenDropRatio));
  faults.retryAfterSeconds = nonNegative(Number(faults.retryAfterSeconds));
  faults.rejectDestinations = [...faults.rejectDestinations];
  return merged;
}
