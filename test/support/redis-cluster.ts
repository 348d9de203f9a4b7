import { spawn, execFile, type ChildProcess } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { Cluster, Redis } from 'ioredis';
import { stopProcess, waitFor } from '../../scripts/lib/harness.mjs';

const run = promisify(execFile);

export interface LocalRedisCluster {
  /** The REDIS_CLUSTER_NODES value for the app. */
  nodes: string;
  ports: number[];
  /** A cluster client for the test's own checks (closed by `stop`). */
  client: Cluster;
  /** host:port of the master serving `key`'s hash slot. */
  nodeOf(key: string): Promise<string>;
  /** SIGKILLs one node (a master lost with its slots). */
  killNode(port: number): Promise<void>;
  /** Starts a killed node again on its port and cluster config (its data is gone); resolves when the cluster is ok. */
  restartNode(port: number): Promise<void>;
  stop(): Promise<void>;
}

/** True when `port` can be bound on 127.0.0.1 right now. */
function isFree(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const server = createServer();
    server.once('error', () => resolve(false));
    server.listen(port, '127.0.0.1', () => server.close(() => resolve(true)));
  });
}

/** A free port whose cluster bus port (port + 10000) is free too. */
async function spareClusterPort(taken: Set<number>): Promise<number> {
  for (let i = 0; i < 200; i++) {
    const port = 20_000 + Math.floor(Math.random() * 30_000);
    if (taken.has(port) || taken.has(port + 10_000)) continue;
    if ((await isFree(port)) && (await isFree(port + 10_000))) return port;
  }
  throw new Error('no spare port pair for a Redis Cluster node');
}

async function nodeAnswers(port: number, command: string[], expected: RegExp): Promise<boolean> {
  const client = new Redis({ host: '127.0.0.1', port, lazyConnect: true, maxRetriesPerRequest: 0, retryStrategy: () => null });
  try {
    await client.connect();
    return expected.test(String(await client.call(command[0], ...command.slice(1))));
  } finally {
    client.disconnect();
  }
}

/** A probe for waitFor: the node answers `command` as `expected` (a node not up yet is a no). */
const answersOn = (port: number, command: string[], expected: RegExp) => () => nodeAnswers(port, command, expected).catch(() => false);

function startServer(port: number, dir: string): ChildProcess {
  return spawn(
    'redis-server',
    ['--port', String(port), '--bind', '127.0.0.1', '--cluster-enabled', 'yes', '--cluster-config-file', join(dir, 'nodes.conf'),
      '--cluster-node-timeout', '5000', '--dir', dir, '--save', '', '--appendonly', 'no'],
    { stdio: 'ignore' },
  );
}

const clusterOk = (port: number) => waitFor(answersOn(port, ['CLUSTER', 'INFO'], /^cluster_state:ok\s*$/m), 30_000, 100, `cluster_state:ok on ${port}`);

/** Resolves once the server answers PING; rejects if it cannot be started at all. */
async function serverUp(server: { port: number; child: ChildProcess }): Promise<void> {
  const failed = new Promise<never>((_, reject) => {
    server.child.once('error', (e) => reject(new Error(`redis-server could not start (is it installed?): ${e.message}`)));
  });
  failed.catch(() => undefined);
  await Promise.race([waitFor(answersOn(server.port, ['PING'], /^PONG$/), 10_000, 100, `redis-server on ${server.port} to answer`), failed]);
}

/**
 * Starts `size` local `redis-server --cluster-enabled yes` masters (no replicas, no persistence, each
 * in a temp dir, on spare ports) and joins them with `redis-cli --cluster create`. Touches nothing of
 * the machine's shared Redis. `stop()` kills exactly these processes and removes their dirs.
 */
export async function startRedisCluster(size = 3): Promise<LocalRedisCluster> {
  const taken = new Set<number>();
  const servers: Array<{ port: number; dir: string; child: ChildProcess }> = [];
  const stopServers = () => {
    for (const s of servers) if (s.child.exitCode === null && s.child.signalCode === null) s.child.kill('SIGKILL');
  };
  process.once('exit', stopServers);
  try {
    while (servers.length < size) {
      const port = await spareClusterPort(taken);
      taken.add(port).add(port + 10_000);
      const dir = mkdtempSync(join(tmpdir(), `redis-cluster-${port}-`));
      const server = { port, dir, child: startServer(port, dir) };
      servers.push(server);
      await serverUp(server);
    }
    const addresses = servers.map((s) => `127.0.0.1:${s.port}`);
    await run('redis-cli', ['--cluster', 'create', ...addresses, '--cluster-replicas', '0', '--cluster-yes']);
    for (const s of servers) await clusterOk(s.port);
  } catch (e) {
    stopServers();
    for (const s of servers) rmSync(s.dir, { recursive: true, force: true });
    throw e;
  }

  const client = new Cluster(servers.map((s) => ({ host: '127.0.0.1', port: s.port })));
  const nodeOf = async (key: string): Promise<string> => {
    const slot = Number(await client.cluster('KEYSLOT', key));
    const range = (await client.cluster('SLOTS')).find(([from, to]) => slot >= from && slot <= to);
    const master = range?.[2];
    if (!master) throw new Error(`slot ${slot} is not served`);
    return `${master[0]}:${master[1]}`;
  };
  return {
    nodes: servers.map((s) => `127.0.0.1:${s.port}`).join(','),
    ports: servers.map((s) => s.port),
    client,
    nodeOf,
    async killNode(port) {
      const server = servers.find((s) => s.port === port);
      if (server) await stopProcess(server.child, 'SIGKILL');
    },
    async restartNode(port) {
      const server = servers.find((s) => s.port === port);
      if (!server) throw new Error(`no node on ${port}`);
      server.child = startServer(port, server.dir);
      await serverUp(server);
      for (const s of servers) await clusterOk(s.port);
    },
    async stop() {
      await client.quit().catch(() => client.disconnect());
      const exits = servers.map((s) => (s.child.exitCode === null && s.child.signalCode === null ? new Promise((r) => s.child.once('exit', r)) : undefined));
      stopServers();
      await Promise.all(exits);
      process.removeListener('exit', stopServers);
      for (const s of servers) rmSync(s.dir, { recursive: true, force: true });
    },
  };
}
