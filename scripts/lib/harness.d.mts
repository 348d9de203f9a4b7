// Types of harness.mjs, for the TypeScript tests (test/support/) that import it.
import type { ChildProcess } from 'node:child_process';

export declare const ROOT: string;
export declare function sleep(ms: number): Promise<void>;
export declare function freePort(): Promise<number>;
export declare function waitFor<T>(probe: () => Promise<T | undefined | null | false> | T | undefined | null | false, timeoutMs?: number, everyMs?: number, what?: string): Promise<T>;
export declare function answers(url: string, accept?: (status: number) => boolean): () => Promise<boolean>;

export interface StartProcessOptions {
  name?: string;
  /** The script node runs. */
  script: string;
  /** Flags for node itself, before the script (the app's: APP_NODE_ARGS in app-runtime.mjs). */
  nodeArgs?: readonly string[];
  cwd?: string;
  env?: Record<string, string | undefined>;
  /** A line the process prints once it is ready, or a probe polled until it returns something truthy. */
  ready?: string | (() => unknown);
  timeoutMs?: number;
  everyMs?: number;
  logFile?: string;
  /** Called when the process exits without stopProcess having asked it to. */
  onExit?: (child: ChildProcess) => void;
}
export declare function startProcess(options: StartProcessOptions): Promise<ChildProcess>;
export declare function processOutput(child: ChildProcess): string;
export declare function processExit(child: ChildProcess): Promise<void>;
export declare function tail(child: ChildProcess, chars?: number): string;
export declare function assertRunning(child: ChildProcess): void;
export declare function stopProcess(child: ChildProcess, signal?: NodeJS.Signals, killAfterMs?: number): Promise<void>;
export declare function stopAllProcesses(signal?: NodeJS.Signals, killAfterMs?: number): Promise<void[]>;
export declare function killAllProcesses(): void;

export interface ApiResponse<T = any> {
  status: number;
  body: T;
  headers: Headers;
}
export declare class Api {
  readonly baseUrl: string;
  constructor(baseUrl: string, headers?: Record<string, string>);
  request<T = any>(method: string, path: string, body?: unknown, headers?: Record<string, string>): Promise<ApiResponse<T>>;
  get<T = any>(path: string): Promise<ApiResponse<T>>;
  post<T = any>(path: string, body?: unknown, headers?: Record<string, string>): Promise<ApiResponse<T>>;
  patch<T = any>(path: string, body?: unknown): Promise<ApiResponse<T>>;
  delete<T = any>(path: string): Promise<ApiResponse<T>>;
  expect<T = any>(status: number, method: string, path: string, body?: unknown, headers?: Record<string, string>): Promise<T>;
}

export interface CreateTenantOptions {
  name?: string;
  credits?: number;
  subscriptionStatus?: 'active' | 'inactive';
  rateLimitPerSecond?: number;
  /** An existing traffic account; without it one is created from `account`. */
  trafficAccountId?: string;
  account?: { name?: string; defaultSender?: string; rateLimitPerSecond?: number };
}
export declare function createTenant(
  baseUrl: string,
  adminKey: string,
  opts?: CreateTenantOptions,
): Promise<{ tenantId: string; apiKey: string; trafficAccountId: string; body: any }>;

export declare function adminQuery(url: string, sql: string, params?: unknown[], adminUrl?: string): Promise<{ rows: any[]; rowCount: number | null }>;
export declare function createDatabase(url: string, opts?: { template?: string; adminUrl?: string }): Promise<void>;
export declare function dropDatabase(url: string, opts?: { adminUrl?: string }): Promise<void>;
export declare function recreateDatabase(url: string, opts?: { dataSource?: string }): Promise<void>;
export declare function removeRedisKeys(url: string, pattern: string): Promise<void>;
