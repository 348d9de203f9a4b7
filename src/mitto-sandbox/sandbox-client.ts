// A tiny typed client of the sandbox's control API (`/__sandbox/...`), for tests and benchmarks that run
// the sandbox as a separate process. Uses the global fetch; throws on any non-2xx answer.
import type { RecordedMessage, SandboxConfigPatch, SandboxOptions, SandboxStats } from './sandbox-types.js';

export type { RecordedMessage, SandboxConfigPatch, SandboxOptions, SandboxStats } from './sandbox-types.js';

export class SandboxControl {
  private readonly base: string;

  /** @param baseUrl the sandbox root, e.g. `http://127.0.0.1:4010` (a trailing slash is fine). */
  constructor(baseUrl: string) {
    this.base = baseUrl.replace(/\/+$/, '');
  }

  stats(): Promise<SandboxStats> {
    return this.call('GET', '/__sandbox/stats');
  }

  /** Clears records and counters (the configuration is kept). */
  async reset(): Promise<void> {
    await this.call('POST', '/__sandbox/reset');
  }

  /** Merges a partial configuration (faults key by key) and returns the resulting configuration. */
  configure(patch: SandboxConfigPatch): Promise<SandboxOptions> {
    return this.call('POST', '/__sandbox/config', patch);
  }

  config(): Promise<SandboxOptions> {
    return this.call('GET', '/__sandbox/config');
  }

  /** Accepted messages sent to one E.164 destination, in acceptance order. */
  messages(destination: string): Promise<RecordedMessage[]> {
    return this.call('GET', `/__sandbox/messages?destination=${encodeURIComponent(destination)}`);
  }

  /** Accepted messages that carried this reference (more than one = a duplicate send). */
  references(ref: string): Promise<RecordedMessage[]> {
    return this.call('GET', `/__sandbox/references?ref=${encodeURIComponent(ref)}`);
  }

  private async call<T>(method: 'GET' | 'POST', path: string, body?: unknown): Promise<T> {
    const res = await fetch(this.base + path, {
      method,
      headers: body === undefined ? undefined : { 'Content-Type': 'application/json' },
      body: body === undefined ? undefined : JSON.stringify(body),
    });
    const text = await res.text();
    if (!res.ok) throw new Error(`sandbox ${method} ${path} answered ${res.status}: ${text.slice(0, 200)}`);
    return JSON.parse(text) as T;
  }
}
