// Recording of accepted messages and request counters of the Mitto sandbox.
//
// Exactly-once proofs need every accepted message kept for a whole benchmark (~1M messages), so records are
// stored column-wise in plain arrays (numbers stay unboxed) instead of one object per message:
// - destination is kept as a number (E.164 has at most 15 digits, exact in a double);
// - apiKey and trafficAccountId are interned (few distinct values);
// - the messageId is not stored at all: it encodes the record index (see sandbox-util.ts).
import type { FinalStatus, RecordedMessage, SandboxStats } from './sandbox-types.js';
import { Interner, LazyIndex } from './sandbox-tables.js';
import { ID_INDEX_CHARS, ID_LENGTH, ID_TAG_CHARS, ID_TIME_CHARS, decodeBase32, encodeBase32, randomTag } from './sandbox-util.js';

export type Endpoint = 'bulk' | 'single' | 'status';

export interface AcceptInput {
  destination: string;
  text: string;
  reference: string;
  apiKey: string;
  trafficAccountId: string;
  delivered: boolean;
}

export class SandboxState {
  /** Bumped on reset so that reports of the previous generation (in flight) are ignored. */
  generation = 0;
  private tag!: string;
  private lastIdMs = -1;
  private lastIdTime = '';
  private lastIsoMs = -1;
  private lastIso = '';

  // Columns, one entry per accepted message (index = record index).
  private acceptedAt!: number[];
  private reportAt!: number[];
  private destination!: number[];
  private text!: string[];
  private reference!: string[]; // '' = none
  private apiKeyIdx!: number[];
  private trafficIdx!: number[];
  private delivered!: boolean[];
  private apiKeys!: Interner;
  private traffic!: Interner;
  // Sets only (no key → records map), filled when the counters are read (stats), not on the hot path of
  // accepting messages: a send the counters are never read for pays nothing for them. The lookups by
  // destination/reference (control API, for tests) use lazily built indexes too.
  private destinations!: Set<number>;
  private references!: Set<string>;
  /** Records [0, counted) are in `destinations`, `references` and the duplicate counters. */
  private counted!: number;
  private byDestination!: LazyIndex<number>;
  private byReference!: LazyIndex<string>;

  // Counters.
  private total!: number;
  private byEndpoint!: Record<Endpoint, number>;
  private byStatusCode!: Map<string, number>;
  private rejected!: number;
  private duplicateDestinations!: number;
  private duplicateReferences!: number;
  private perSecond!: Map<string, Map<number, number>>;
  private maxPerSecond!: Map<string, number>;
  reportsSent!: number;
  reportsFailed!: number;
  reportsDropped!: number;

  constructor() {
    this.clear();
  }

  /** Forgets every record and counter; issued ids become unknown (new tag). */
  reset(): void {
    this.generation++;
    this.clear();
  }

  private clear(): void {
    this.tag = randomTag();
    this.acceptedAt = [];
    this.reportAt = [];
    this.destination = [];
    this.text = [];
    this.reference = [];
    this.apiKeyIdx = [];
    this.trafficIdx = [];
    this.delivered = [];
    this.apiKeys = new Interner();
    this.traffic = new Interner();
    this.destinations = new Set();
    this.references = new Set();
    this.counted = 0;
    this.byDestination = new LazyIndex((i) => this.destination[i]);
    this.byReference = new LazyIndex((i) => this.reference[i] || undefined);
    this.total = 0;
    this.byEndpoint = { bulk: 0, single: 0, status: 0 };
    this.byStatusCode = new Map();
    this.rejected = 0;
    this.duplicateDestinations = 0;
    this.duplicateReferences = 0;
    this.perSecond = new Map();
    this.maxPerSecond = new Map();
    this.reportsSent = 0;
    this.reportsFailed = 0;
    this.reportsDropped = 0;
  }

  get count(): number {
    return this.acceptedAt.length;
  }

  /** Records an accepted message (destination already validated as E.164); returns its record index. */
  accept(m: AcceptInput, now: number, reportAt: number): number {
    const i = this.acceptedAt.length;
    const dest = Number(m.destination.slice(1));
    this.acceptedAt.push(now);
    this.reportAt.push(reportAt);
    this.destination.push(dest);
    this.text.push(m.text);
    this.reference.push(m.reference);
    this.apiKeyIdx.push(this.apiKeys.intern(m.apiKey));
    this.trafficIdx.push(this.traffic.intern(m.trafficAccountId));
    this.delivered.push(m.delivered);
    return i;
  }

  /** Brings the unique/duplicate counters up to the last record (incrementally, from where they stopped). */
  private countDuplicates(): void {
    for (; this.counted < this.destination.length; this.counted++) {
      // Set.add on a present key leaves the size unchanged: duplicate detection without a second lookup.
      const destinationsBefore = this.destinations.size;
      if (this.destinations.add(this.destination[this.counted]).size === destinationsBefore) this.duplicateDestinations++;
      const reference = this.reference[this.counted];
      if (reference !== '') {
        const referencesBefore = this.references.size;
        if (this.references.add(reference).size === referencesBefore) this.duplicateReferences++;
      }
    }
  }

  countRejected(n = 1): void {
    this.rejected += n;
  }

  messageId(i: number): string {
    const ms = this.acceptedAt[i];
    // Many messages share a millisecond (a bulk call): encode the time part once per ms.
    if (ms !== this.lastIdMs) {
      this.lastIdMs = ms;
      this.lastIdTime = encodeBase32(ms, ID_TIME_CHARS);
    }
    return this.lastIdTime + this.tag + encodeBase32(i, ID_INDEX_CHARS);
  }

  /** ISO-8601 text of a time; cached because a bulk call's messages share their times. */
  isoTime(ms: number): string {
    if (ms !== this.lastIsoMs) {
      this.lastIsoMs = ms;
      this.lastIso = new Date(ms).toISOString();
    }
    return this.lastIso;
  }

  /** Record index of a message id issued by this generation, else -1. */
  indexOf(messageId: string): number {
    if (messageId.length !== ID_LENGTH) return -1;
    if (messageId.slice(ID_TIME_CHARS, ID_TIME_CHARS + ID_TAG_CHARS) !== this.tag) return -1;
    const i = decodeBase32(messageId.slice(ID_TIME_CHARS + ID_TAG_CHARS));
    if (i < 0 || i >= this.count) return -1;
    return encodeBase32(this.acceptedAt[i], ID_TIME_CHARS) === messageId.slice(0, ID_TIME_CHARS) ? i : -1;
  }

  finalStatus(i: number): FinalStatus {
    return this.delivered[i] ? 'Delivered' : 'Failure';
  }
  acceptedAtMs(i: number): number {
    return this.acceptedAt[i];
  }
  reportAtMs(i: number): number {
    return this.reportAt[i];
  }
  textOf(i: number): string {
    return this.text[i];
  }
  referenceOf(i: number): string | null {
    return this.reference[i] === '' ? null : this.reference[i];
  }
  trafficAccountOf(i: number): string {
    return this.traffic.values[this.trafficIdx[i]];
  }

  record(i: number): RecordedMessage {
    return {
      messageId: this.messageId(i),
      destination: `+${this.destination[i]}`,
      text: this.text[i],
      reference: this.referenceOf(i),
      apiKey: this.apiKeys.values[this.apiKeyIdx[i]],
      trafficAccountId: this.trafficAccountOf(i),
      acceptedAt: new Date(this.acceptedAt[i]).toISOString(),
      reportAt: new Date(this.reportAt[i]).toISOString(),
      finalStatus: this.finalStatus(i),
    };
  }

  messagesForDestination(destination: string): RecordedMessage[] {
    if (!/^\+\d{1,15}$/.test(destination)) return [];
    const dest = Number(destination.slice(1));
    return this.byDestination.lookup(dest, this.count).map((i) => this.record(i));
  }

  messagesForReference(reference: string): RecordedMessage[] {
    return this.byReference.lookup(reference, this.count).map((i) => this.record(i));
  }

  /** Counts one request to the Mitto API; `endpoint` and `apiKey` only for the three Mitto endpoints. */
  countRequest(endpoint: Endpoint, apiKey: string, nowMs: number): void {
    this.total++;
    this.byEndpoint[endpoint]++;
    const second = Math.floor(nowMs / 1000);
    let seconds = this.perSecond.get(apiKey);
    if (seconds === undefined) this.perSecond.set(apiKey, (seconds = new Map()));
    const n = (seconds.get(second) ?? 0) + 1;
    seconds.set(second, n);
    if (n > (this.maxPerSecond.get(apiKey) ?? 0)) this.maxPerSecond.set(apiKey, n);
  }

  /** Counts a request that matched no Mitto endpoint (404); it has no endpoint nor per-key bucket. */
  countUnroutedRequest(): void {
    this.total++;
  }

  /** Counts the outcome of a request: an HTTP status code or "dropped" (acceptThenDrop). */
  countOutcome(code: number | 'dropped'): void {
    const key = String(code);
    this.byStatusCode.set(key, (this.byStatusCode.get(key) ?? 0) + 1);
  }

  stats(reportsPending: number): SandboxStats {
    const perSecondByApiKey: SandboxStats['perSecondByApiKey'] = {};
    for (const [key, seconds] of this.perSecond) perSecondByApiKey[key] = Object.fromEntries(seconds);
    this.countDuplicates();
    return {
      requests: { total: this.total, byEndpoint: { ...this.byEndpoint }, byStatusCode: Object.fromEntries(this.byStatusCode) },
      accepted: this.count,
      rejected: this.rejected,
      uniqueDestinations: this.destinations.size,
      duplicateDestinations: this.duplicateDestinations,
      duplicateReferences: this.duplicateReferences,
      perSecondByApiKey,
      reportsSent: this.reportsSent,
      reportsFailed: this.reportsFailed,
      reportsDropped: this.reportsDropped,
      reportsPending,
      maxRequestsInAnySecond: Object.fromEntries(this.maxPerSecond),
    };
  }
}
