// Real Redis for tests, found the way DESIGN.md says (REDIS_URL, else 127.0.0.1:6379, else a
// redis-server started on a free port), plus private redis-servers that a test may kill, hang and
// restart on the same port. A test that cannot get Redis is skipped loudly, and fails on CI.
import { type ChildProcess, spawn, spawnSync } from 'node:child_process';
import { randomUUID } from 'node:crypto';
import { once } from 'node:events';
import { createServer } from 'node:net';
import { Redis } from 'ioredis';
import { test } from 'vitest';

/** A Redis the tests may use; `close()` stops it when the tests started it. */
export interface RedisTarget {
  readonly url: string;
  /** Where it came from, for messages. */
  readonly source: 'REDIS_URL' | '127.0.0.1:6379' | 'started';
  close(): Promise<void>;
}

/** A redis-server owned by one test file: it can be killed, hung, resumed and restarted. */
export interface RedisServer {
  readonly port: number;
  readonly url: string;
  /** SIGKILL: the process dies at once and its connections drop, as in a crash. */
  kill(): Promise<void>;
  /** SIGSTOP: the process hangs with its connections open (accepted, never answered). */
  pause(): void;
  /** SIGCONT after {@link pause}. */
  resume(): void;
  /** Starts redis-server again on the same port, empty (nothing is persisted). */
  restart(): Promise<void>;
  /** Stops it for good. */
  stop(): Promise<void>;
}

const LOCAL = 'redis://127.0.0.1:6379';

/** Whether a Redis at `url` answers PING within `timeoutMs`. */
export async function pingRedis(url: string, timeoutMs = 1_000): Promise<boolean> {
  const client = new Redis(url, {
    lazyConnect: true,
    enableOfflineQueue: false,
    maxRetriesPerRequest: 0,
    connectTimeout: timeoutMs,
    retryStrategy: () => null,
  });
  client.on('error', () => {});
  try {
    await client.connect();
    return (await client.ping()) === 'PONG';
  } catch {
    return false;
  } finally {
    client.disconnect();
  }
}

/** A loopback port nobody listens on right now. */
export async function freePort(): Promise<number> {
  const server = createServer();
  server.listen(0, '127.0.0.1');
  await once(server, 'listening');
  const { port } = server.address() as { port: number };
  await new Promise((done) => server.close(done));
  return port;
}

// Started servers are killed when the test process exits, however the tests ended.
const started = new Set<ChildProcess>();
process.once('exit', () => {
  for (const child of started) child.kill('SIGKILL');
});

/** Starts `redis-server` on `port`; resolves once it answers PING, rejects with why it could not. */
async function launch(port: number): Promise<ChildProcess> {
  const child = spawn(
    'redis-server',
    ['--port', String(port), '--bind', '127.0.0.1', '--save', '', '--appendonly', 'no'],
    { stdio: ['ignore', 'pipe', 'pipe'] },
  );
  started.add(child);
  let output = '';
  child.stdout?.on('data', (chunk: Buffer) => {
    output = (output + chunk.toString('utf8')).slice(-2_000);
  });
  child.stderr?.on('data', (chunk: Buffer) => {
    output = (output + chunk.toString('utf8')).slice(-2_000);
  });
  let failure: string | undefined;
  child.once('error', (error) => {
    failure = `cannot run redis-server: ${error.message}`;
  });
  child.once('exit', (code, signal) => {
    started.delete(child);
    failure ??= `redis-server exited (${signal ?? code}): ${output.trim().split('\n').slice(-3).join(' | ')}`;
  });
  const url = `redis://127.0.0.1:${port}`;
  const deadline = Date.now() + 5_000;
  while (Date.now() < deadline) {
    if (failure !== undefined) throw new Error(failure);
    if (await pingRedis(url, 200)) return child;
    await new Promise((done) => setTimeout(done, 50));
  }
  child.kill('SIGKILL');
  throw new Error(`redis-server on port ${port} did not answer PING within 5 s: ${output.trim()}`);
}

async function stopChild(child: ChildProcess | undefined, signal: NodeJS.Signals): Promise<void> {
  if (child === undefined || child.exitCode !== null || child.signalCode !== null) return;
  const exited = once(child, 'exit');
  // A stopped process ignores SIGTERM until continued.
  child.kill('SIGCONT');
  child.kill(signal);
  await exited;
}

/**
 * Finds Redis: `REDIS_URL`, else 127.0.0.1:6379 when it answers PING, else a `redis-server` started
 * on a free port. Resolves with the reason when none can be had.
 */
export async function findRedis(): Promise<RedisTarget | string> {
  const fromEnv = process.env['REDIS_URL'];
  if (fromEnv !== undefined && fromEnv !== '') {
    if (await pingRedis(fromEnv, 2_000)) return { url: fromEnv, source: 'REDIS_URL', close: async () => {} };
    return `REDIS_URL=${fromEnv} does not answer PING`;
  }
  if (await pingRedis(LOCAL, 500)) return { url: LOCAL, source: '127.0.0.1:6379', close: async () => {} };
  try {
    const server = await startRedisServer();
    return { url: server.url, source: 'started', close: () => server.stop() };
  } catch (error) {
    return `no Redis at REDIS_URL or 127.0.0.1:6379, and none could be started: ${(error as Error).message}`;
  }
}

/** Starts a private `redis-server` on a free loopback port (retrying when the port is taken meanwhile). */
export async function startRedisServer(): Promise<RedisServer> {
  let child: ChildProcess | undefined;
  let port = 0;
  let lastError: unknown;
  for (let attempt = 0; attempt < 3 && child === undefined; attempt++) {
    port = await freePort();
    try {
      child = await launch(port);
    } catch (error) {
      lastError = error;
      if (/cannot run redis-server/.test((error as Error).message)) break;
    }
  }
  if (child === undefined) throw lastError;
  let current: ChildProcess | undefined = child;
  return {
    port,
    url: `redis://127.0.0.1:${port}`,
    kill: async () => {
      await stopChild(current, 'SIGKILL');
      current = undefined;
    },
    pause: () => {
      current?.kill('SIGSTOP');
    },
    resume: () => {
      current?.kill('SIGCONT');
    },
    restart: async () => {
      await stopChild(current, 'SIGKILL');
      current = await launch(port);
    },
    stop: async () => {
      await stopChild(current, 'SIGTERM');
      current = undefined;
    },
  };
}

/** Why a private `redis-server` cannot be started here, or `undefined` when it can. */
export function redisServerMissing(): string | undefined {
  const probe = spawnSync('redis-server', ['--version'], { encoding: 'utf8', timeout: 5_000 });
  if (probe.error !== undefined)
    return `cannot run redis-server (${probe.error.message}); install Debian's redis-server`;
  if (probe.status !== 0) return `redis-server --version failed: ${probe.stderr.trim()}`;
  return undefined;
}

/**
 * Says loudly that `file`'s Redis tests cannot run. On CI (`CI=true`) it registers a failing test
 * instead, so a missing Redis never passes as green.
 */
export function redisMissing(file: string, reason: string): void {
  if (process.env['CI'] === 'true') {
    test(`Redis is available for ${file}`, () => {
      throw new Error(`Redis is required on CI: ${reason}`);
    });
    return;
  }
  console.warn(`\n*** ${file}: Redis tests SKIPPED — ${reason} ***\n`);
}

/** A key prefix no other test (or run) uses, so counters never collide. */
export function uniquePrefix(label: string): string {
  return `gh-test:${label}:${process.pid}:${randomUUID().slice(0, 8)}`;
}

/** A client for inspecting keys; fails fast rather than queueing while Redis is down. */
export function redisClient(url: string): Redis {
  const client = new Redis(url, { maxRetriesPerRequest: 1, connectTimeout: 1_000 });
  client.on('error', () => {});
  return client;
}

/** Every key under `prefix`. */
export async function keysUnder(client: Redis, prefix: string): Promise<string[]> {
  const keys: string[] = [];
  let cursor = '0';
  do {
    const [next, batch] = await client.scan(cursor, 'MATCH', `${prefix}*`, 'COUNT', 1000);
    cursor = next;
    keys.push(...batch);
  } while (cursor !== '0');
  return keys.sort();
}

/** Deletes every key under `prefix` (a test's cleanup). */
export async function deleteKeys(client: Redis, prefix: string): Promise<void> {
  const keys = await keysUnder(client, prefix);
  if (keys.length > 0) await client.del(...keys);
}
