import { execFileSync, spawn, type ChildProcess } from 'node:child_process';
import { chmodSync, chownSync, existsSync, mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { freePort, sleep } from '../../scripts/lib/harness.mjs';

/**
 * A PostgreSQL server and a Redis server of a test's own, on spare ports, so that a fault test can stop,
 * kill and restart them without touching the machine's services (or anyone else's tests).
 */

/** PostgreSQL's own binaries (Debian keeps them per major version, not on PATH). */
function pgBin(name: string): string {
  const root = '/usr/lib/postgresql';
  if (!existsSync(root)) return name;
  const major = readdirSync(root).sort((a, b) => Number(b) - Number(a))[0];
  return join(root, major, 'bin', name);
}

/** initdb and postgres refuse to run as root: as root, run them as the `postgres` user. */
function asServiceUser(cmd: string, args: string[]): [string, string[]] {
  return process.getuid?.() === 0 ? ['runuser', ['-u', 'postgres', '--', cmd, ...args]] : [cmd, args];
}

export class PrivatePostgres {
  private constructor(
    readonly dir: string,
    readonly port: number,
  ) {}

  static async create(): Promise<PrivatePostgres> {
    const dir = mkdtempSync(join(tmpdir(), 'bulk-sms-pg-'));
    chmodSync(dir, 0o700);
    if (process.getuid?.() === 0) {
      const uid = Number(execFileSync('id', ['-u', 'postgres']).toString().trim());
      const gid = Number(execFileSync('id', ['-g', 'postgres']).toString().trim());
      chownSync(dir, uid, gid);
    }
    const [cmd, args] = asServiceUser(pgBin('initdb'), ['-D', join(dir, 'data'), '-U', 'postgres', '--auth=trust', '-E', 'UTF8', '--no-sync']);
    execFileSync(cmd, args, { stdio: 'pipe' });
    const pg = new PrivatePostgres(dir, await freePort());
    await pg.start();
    return pg;
  }

  url(database = 'postgres'): string {
    return `postgres://postgres@127.0.0.1:${this.port}/${database}`;
  }

  async start(): Promise<void> {
    const options = `-p ${this.port} -k ${this.dir} -c listen_addresses=127.0.0.1 -c fsync=off -c max_connections=200`;
    this.ctl(['start', '-w', '-t', '30', '-l', join(this.dir, 'log'), '-o', options]);
    await this.waitReady(true);
  }

  /** `fast`: a clean shutdown that disconnects everyone (an operator's stop); `immediate`: a crash. */
  async stop(mode: 'fast' | 'immediate' = 'fast'): Promise<void> {
    this.ctl(['stop', '-w', '-t', '30', '-m', mode]);
    await this.waitReady(false);
  }

  /** The server's log (every start appends to it): a crash shows at the next start as crash recovery. */
  log(): string {
    const file = join(this.dir, 'log');
    return existsSync(file) ? readFileSync(file, 'utf8') : '';
  }

  isReady(): boolean {
    try {
      execFileSync(pgBin('pg_isready'), ['-h', '127.0.0.1', '-p', String(this.port), '-q']);
      return true;
    } catch {
      return false;
    }
  }

  async destroy(): Promise<void> {
    try {
      this.ctl(['stop', '-m', 'immediate']);
    } catch {
      /* already stopped */
    }
    rmSync(this.dir, { recursive: true, force: true });
  }

  private ctl(args: string[]): void {
    const [cmd, full] = asServiceUser(pgBin('pg_ctl'), ['-D', join(this.dir, 'data'), ...args]);
    execFileSync(cmd, full, { stdio: 'pipe' });
  }

  private async waitReady(ready: boolean): Promise<void> {
    for (let i = 0; i < 300 && this.isReady() !== ready; i++) await sleep(100);
  }
}

export class PrivateRedis {
  private child?: ChildProcess;
  /** Times this server was started (a restart counts). */
  starts = 0;

  private constructor(readonly port: number) {}

  static async create(): Promise<PrivateRedis> {
    const redis = new PrivateRedis(await freePort());
    await redis.start();
    return redis;
  }

  get url(): string {
    return `redis://127.0.0.1:${this.port}`;
  }

  async start(): Promise<void> {
    this.child = spawn('redis-server', ['--port', String(this.port), '--bind', '127.0.0.1', '--save', '', '--appendonly', 'no'], { stdio: 'ignore' });
    this.starts++;
    for (let i = 0; i < 100 && !this.ping(); i++) await sleep(50);
  }

  /** Stops the server; nothing was persisted, so a start after it is an empty Redis. */
  async stop(): Promise<void> {
    const child = this.child;
    if (!child || child.exitCode !== null) return;
    const exited = new Promise((r) => child.once('exit', r));
    child.kill('SIGKILL');
    await exited;
  }

  ping(): boolean {
    try {
      return execFileSync('redis-cli', ['-p', String(this.port), 'ping'], { stdio: 'pipe' }).toString().trim() === 'PONG';
    } catch {
      return false;
    }
  }

  /** `INFO server` run id: a different one after a restart. */
  runId(): string {
    const info = execFileSync('redis-cli', ['-p', String(this.port), 'info', 'server']).toString();
    return /run_id:(\w+)/.exec(info)?.[1] ?? '';
  }

  async destroy(): Promise<void> {
    await this.stop();
  }
}
