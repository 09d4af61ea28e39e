// Test support (not built into dist): a private etcd on free loopback ports with a temporary data
// dir, which a test may kill (SIGKILL, as in a crash), restart on the same ports with its data, or
// replace by a fresh member with none. Tests change and read keys through etcd's JSON gateway, not
// through etcd3, so what they check does not depend on the client under test.
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { type Child, freePort, missingBinary, startChild, waitFor } from './test-support.js';

export const ETCD_BINARY = '/usr/bin/etcd';

/** Why etcd tests cannot run here; undefined when they can. */
export const etcdMissing = (): string | undefined => missingBinary(ETCD_BINARY, 'etcd-server');

export interface EtcdServer {
  /** `http://127.0.0.1:<port>`, for etcd3's `hosts`. */
  readonly url: string;
  /** SIGKILL: etcd dies at once and every connection to it drops. */
  kill(): Promise<void>;
  /** Starts etcd again on the same ports: with its data, or `fresh` (an empty member, no history). */
  start(options?: { fresh?: boolean }): Promise<void>;
  /** Stops it for good and removes its data. */
  stop(): Promise<void>;
  put(key: string, value: string, lease?: string): Promise<void>;
  del(key: string): Promise<void>;
  get(key: string): Promise<{ value: string; lease: string } | undefined>;
  grant(ttlSeconds: number): Promise<string>;
  revoke(lease: string): Promise<void>;
}

const b64 = (text: string) => Buffer.from(text).toString('base64');

export async function startEtcd(): Promise<EtcdServer> {
  const clientPort = await freePort();
  let peerPort = await freePort();
  while (peerPort === clientPort) peerPort = await freePort();
  const url = `http://127.0.0.1:${clientPort}`;
  const peer = `http://127.0.0.1:${peerPort}`;
  let dataDir = await mkdtemp(join(tmpdir(), 'gatehouse-etcd-'));
  let child: Child | undefined;

  const call = async (path: string, body: unknown): Promise<Record<string, unknown>> => {
    const response = await fetch(`${url}${path}`, {
      method: 'POST',
      body: JSON.stringify(body),
      signal: AbortSignal.timeout(3_000),
    });
    const json = (await response.json()) as Record<string, unknown>;
    if (!response.ok || json.error !== undefined) throw new Error(`etcd ${path}: ${JSON.stringify(json)}`);
    return json;
  };

  const start = async ({ fresh = false } = {}) => {
    if (fresh) {
      await rm(dataDir, { recursive: true, force: true });
      dataDir = await mkdtemp(join(tmpdir(), 'gatehouse-etcd-'));
    }
    // Short heartbeat and election timeout: a restarted member leads within a fraction of a second,
    // and leases of 1 s are allowed (etcd's minimum TTL is 1.5 election timeouts).
    child = startChild(ETCD_BINARY, [
      '--name=gatehouse-test',
      `--data-dir=${dataDir}`,
      `--listen-client-urls=${url}`,
      `--advertise-client-urls=${url}`,
      `--listen-peer-urls=${peer}`,
      `--initial-advertise-peer-urls=${peer}`,
      `--initial-cluster=gatehouse-test=${peer}`,
      '--initial-cluster-state=new',
      '--heartbeat-interval=50',
      '--election-timeout=500',
      '--logger=zap',
      '--log-level=error',
    ]);
    const current = child;
    await waitFor(
      `etcd on ${url} to be healthy`,
      async () => {
        if (current.process.exitCode !== null) throw new Error(`etcd exited:\n${current.output()}`);
        const response = await fetch(`${url}/health`, { signal: AbortSignal.timeout(500) });
        return response.ok && ((await response.json()) as { health?: string }).health === 'true';
      },
      { timeoutMs: 15_000, intervalMs: 50 },
    ).catch((error: Error) => {
      throw new Error(`${error.message}\n${current.output()}`, { cause: error });
    });
  };

  await start();
  return {
    url,
    async kill() {
      await child?.kill();
    },
    start,
    async stop() {
      await child?.kill();
      await rm(dataDir, { recursive: true, force: true });
    },
    async put(key, value, lease) {
      await call('/v3/kv/put', { key: b64(key), value: b64(value), ...(lease ? { lease } : {}) });
    },
    async del(key) {
      await call('/v3/kv/deleterange', { key: b64(key) });
    },
    async get(key) {
      const json = await call('/v3/kv/range', { key: b64(key) });
      const kv = (json.kvs as Array<{ value?: string; lease?: string }> | undefined)?.[0];
      if (kv === undefined) return undefined;
      return { value: Buffer.from(kv.value ?? '', 'base64').toString(), lease: kv.lease ?? '0' };
    },
    async grant(ttlSeconds) {
      return (await call('/v3/lease/grant', { TTL: ttlSeconds })).ID as string;
    },
    async revoke(lease) {
      await call('/v3/lease/revoke', { ID: lease });
    },
  };
}
