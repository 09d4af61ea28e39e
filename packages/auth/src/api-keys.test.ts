// API-key authentication over real sockets: every request below goes through a node:http server that
// builds a Gatehouse Exchange, so headers and query strings arrive exactly as Node parses them.
import { randomUUID } from 'node:crypto';
import { once } from 'node:events';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import type { AddressInfo } from 'node:net';
import { createServer as createTcpServer, type Server as TcpServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { ConfigError } from '@gatehousejs/core';
import { Redis } from 'ioredis';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type ApiKeyOptions, type ApiKeyPrincipal, apiKeyAuthenticator, hashApiKey } from './api-keys.js';
import { type ProbeServer, refusal, startProbeServer } from './test-probe.js';

// ---------------------------------------------------------------------------------------------------
// A real HTTP server that runs one authenticator per request and keeps what it returned or threw.

let probeServer: ProbeServer;
const probe: ProbeServer['probe'] = (auth, init) => probeServer.probe(auth, init);
beforeAll(async () => {
  probeServer = await startProbeServer();
});
afterAll(() => probeServer.close());

function configProblems(options: ApiKeyOptions) {
  try {
    apiKeyAuthenticator(options);
  } catch (error) {
    expect(error).toBeInstanceOf(ConfigError);
    return (error as ConfigError).problems.map((p) => `${p.path}: ${p.message}`);
  }
  throw new Error('expected a ConfigError');
}

const sleep = (ms: number) => new Promise((done) => setTimeout(done, ms));

const LIVE_KEY = 'gh_live_Q3xv9ZkT2mWb8Lr4';
const OTHER_KEY = 'gh_live_0aP7sD2fG5hJ8kL1';

// ---------------------------------------------------------------------------------------------------

describe('hashApiKey', () => {
  it('gives sha256: and lower-case hex (FIPS 180-2 test vector)', () => {
    expect(hashApiKey('abc')).toBe('sha256:ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad');
  });
  it('refuses an empty key', () => {
    expect(() => hashApiKey('')).toThrow(TypeError);
  });
});

describe('inline keys', () => {
  const auth = apiKeyAuthenticator({
    keys: [
      {
        key: LIVE_KEY,
        id: 'billing',
        scopes: ['invoices:read', 'invoices:read', 'invoices:write'],
        roles: ['service'],
        tier: 'pro',
        team: 'payments',
        limits: { daily: 1000 },
      },
      { hash: hashApiKey(OTHER_KEY), id: 'partner' },
    ],
  });

  it('authenticates a plaintext-configured key and builds a frozen principal without the key', async () => {
    const { principal } = await probe(auth, { headers: { 'x-api-key': LIVE_KEY } });
    expect(principal).toEqual({
      id: 'billing',
      method: 'api-key',
      scopes: ['invoices:read', 'invoices:write'],
      roles: ['service'],
      tier: 'pro',
      claims: { team: 'payments', limits: { daily: 1000 } },
    });
    expect(Object.isFrozen(principal)).toBe(true);
    expect(Object.isFrozen(principal!.claims)).toBe(true);
    expect(Object.isFrozen((principal!.claims as { limits: object }).limits)).toBe(true);
    expect(JSON.stringify(principal)).not.toContain(LIVE_KEY);
  });

  it('authenticates a hash-configured key', async () => {
    const { principal } = await probe(auth, { headers: { 'x-api-key': OTHER_KEY } });
    expect(principal).toMatchObject({ id: 'partner', method: 'api-key', scopes: [], roles: [], claims: {} });
    expect(principal!.tier).toBeUndefined();
  });

  it('returns undefined when no key is presented (and ignores the query unless configured)', async () => {
    expect(await probe(auth)).toEqual({ principal: undefined });
    expect(await probe(auth, { path: `/?api_key=${LIVE_KEY}` })).toEqual({ principal: undefined });
  });

  it('refuses an unknown key without echoing it', async () => {
    const unknown = 'gh_live_NOT_A_REAL_KEY_123';
    const r = refusal(await probe(auth, { headers: { 'x-api-key': unknown } }));
    expect(r).toMatchObject({ code: 'GH_AUTH_INVALID', status: 401, reason: 'unknown_key' });
    expect(r.message).not.toContain(unknown);
  });

  it.each([
    ['upper-cased', LIVE_KEY.toUpperCase()],
    ['lower-cased', LIVE_KEY.toLowerCase()],
    ['one letter flipped in case', `G${LIVE_KEY.slice(1)}`],
    ['an inner space', `${LIVE_KEY.slice(0, 8)} ${LIVE_KEY.slice(8)}`],
    ['an inner tab', `${LIVE_KEY.slice(0, 8)}\t${LIVE_KEY.slice(8)}`],
    ['a prefix of the key', LIVE_KEY.slice(0, -1)],
    ['an extra character', `${LIVE_KEY}x`],
  ])('refuses the key with %s', async (_, variant) => {
    expect(refusal(await probe(auth, { headers: { 'x-api-key': variant } }))).toMatchObject({
      status: 401,
      reason: 'unknown_key',
    });
  });

  it('does not trim keys itself: surrounding spaces in the query make the key unknown', async () => {
    const query = apiKeyAuthenticator({ query: 'api_key', keys: [{ key: LIVE_KEY, id: 'billing' }] });
    expect((await probe(query, { path: `/?api_key=${LIVE_KEY}` })).principal?.id).toBe('billing');
    for (const variant of [`%20${LIVE_KEY}`, `${LIVE_KEY}%20`, `${LIVE_KEY}%0A`, `${LIVE_KEY}+`]) {
      expect(refusal(await probe(query, { path: `/?api_key=${variant}` })).reason).toBe('unknown_key');
    }
  });

  it('accepts surrounding whitespace in the header only because HTTP (and Node) strip it', async () => {
    const { principal } = await probe(auth, { headers: { 'x-api-key': `  ${LIVE_KEY}\t` } });
    expect(principal?.id).toBe('billing');
  });

  it('refuses an empty key as malformed', async () => {
    expect(refusal(await probe(auth, { headers: { 'x-api-key': '' } }))).toMatchObject({
      code: 'GH_AUTH_INVALID',
      reason: 'malformed',
    });
  });

  it('refuses a key longer than maxKeyBytes, counting UTF-8 bytes', async () => {
    const auth = apiKeyAuthenticator({
      query: 'k',
      maxKeyBytes: 16,
      keys: [{ key: 'a'.repeat(16), id: 'x' }],
    });
    expect((await probe(auth, { headers: { 'x-api-key': 'a'.repeat(16) } })).principal?.id).toBe('x');
    expect(refusal(await probe(auth, { headers: { 'x-api-key': 'a'.repeat(17) } }))).toMatchObject({
      code: 'GH_AUTH_INVALID',
      reason: 'too_large',
    });
    // Six characters, eighteen bytes.
    const euros = encodeURIComponent('€'.repeat(6));
    expect(refusal(await probe(auth, { path: `/?k=${euros}` })).reason).toBe('too_large');
  });

  it('refuses a repeated header as a conflict, even with equal values', async () => {
    for (const values of [
      [LIVE_KEY, LIVE_KEY],
      [LIVE_KEY, OTHER_KEY],
    ]) {
      expect(refusal(await probe(auth, { headers: { 'x-api-key': values } }))).toMatchObject({
        code: 'GH_AUTH_CONFLICT',
        status: 400,
        reason: 'conflict',
      });
    }
  });

  it('reads a custom header name case-insensitively', async () => {
    const custom = apiKeyAuthenticator({ header: 'X-Partner-Key', keys: [{ key: LIVE_KEY, id: 'billing' }] });
    expect((await probe(custom, { headers: { 'X-PARTNER-KEY': LIVE_KEY } })).principal?.id).toBe('billing');
    expect(await probe(custom, { headers: { 'x-api-key': LIVE_KEY } })).toEqual({ principal: undefined });
  });
});

describe('header and query together', () => {
  const auth = apiKeyAuthenticator({ query: 'api_key', keys: [{ key: LIVE_KEY, id: 'billing' }] });

  it('accepts the key in either place, and the same key in both', async () => {
    expect((await probe(auth, { path: `/?api_key=${LIVE_KEY}` })).principal?.id).toBe('billing');
    expect((await probe(auth, { headers: { 'x-api-key': LIVE_KEY } })).principal?.id).toBe('billing');
    const both = await probe(auth, { path: `/?api_key=${LIVE_KEY}`, headers: { 'x-api-key': LIVE_KEY } });
    expect(both.principal?.id).toBe('billing');
  });

  it('refuses different keys in header and query, and a repeated query parameter', async () => {
    const different = await probe(auth, {
      path: `/?api_key=${OTHER_KEY}`,
      headers: { 'x-api-key': LIVE_KEY },
    });
    expect(refusal(different)).toMatchObject({ code: 'GH_AUTH_CONFLICT', status: 400 });
    const repeated = await probe(auth, { path: `/?api_key=${LIVE_KEY}&api_key=${LIVE_KEY}` });
    expect(refusal(repeated).code).toBe('GH_AUTH_CONFLICT');
  });

  it('reads only the query when the header is off', async () => {
    const queryOnly = apiKeyAuthenticator({
      header: false,
      query: 'api_key',
      keys: [{ key: LIVE_KEY, id: 'billing' }],
    });
    expect(await probe(queryOnly, { headers: { 'x-api-key': LIVE_KEY } })).toEqual({ principal: undefined });
    expect((await probe(queryOnly, { path: `/?api_key=${LIVE_KEY}` })).principal?.id).toBe('billing');
  });
});

describe('key file', () => {
  let dir = '';
  beforeAll(async () => {
    dir = await mkdtemp(join(tmpdir(), 'gatehouse-api-keys-'));
  });
  afterAll(async () => {
    await rm(dir, { recursive: true, force: true });
  });

  async function keyFile(content: string): Promise<string> {
    const file = join(dir, `${randomUUID()}.json`);
    await writeFile(file, content);
    return file;
  }

  it('reads the entries once, at creation', async () => {
    const file = await keyFile(
      JSON.stringify([
        { key: LIVE_KEY, id: 'billing', scopes: ['a'] },
        { hash: hashApiKey(OTHER_KEY), id: 'partner', region: 'eu' },
      ]),
    );
    const auth = apiKeyAuthenticator({ file });
    await writeFile(file, '[]');
    expect((await probe(auth, { headers: { 'x-api-key': LIVE_KEY } })).principal).toMatchObject({
      id: 'billing',
      scopes: ['a'],
    });
    expect((await probe(auth, { headers: { 'x-api-key': OTHER_KEY } })).principal).toMatchObject({
      id: 'partner',
      claims: { region: 'eu' },
    });
  });

  it('lists every problem in the file with its index path, never quoting a key', async () => {
    const secret = 'gh_live_SECRET_IN_FILE_1';
    const file = await keyFile(
      JSON.stringify([
        { key: secret, id: 'ok' },
        { key: secret, id: 'copy' },
        { hash: hashApiKey(secret), id: 'copy-as-hash' },
        { hash: 'sha256:xyz', id: 'bad-hash' },
        { key: 'k1' },
        { key: 'k2', id: 'x', scopes: 'read write' },
        { key: '', id: 'empty' },
        'not an object',
      ]),
    );
    let error: unknown;
    try {
      apiKeyAuthenticator({ file });
    } catch (caught) {
      error = caught;
    }
    expect(error).toBeInstanceOf(ConfigError);
    const problems = (error as ConfigError).problems.map((p) => `${p.path}: ${p.message}`);
    expect(problems).toEqual([
      'apiKey.file[1]: same key as apiKey.file[0]',
      'apiKey.file[2]: same key as apiKey.file[0]',
      "apiKey.file[3].hash: must be 'sha256:' followed by 64 hex digits (see hashApiKey())",
      'apiKey.file[4].id: required: expected a string',
      "apiKey.file[5].scopes: expected an array, received the string 'read write'",
      'apiKey.file[6].key: must be a non-empty string',
      'apiKey.file[7]: must be an object with id and key or hash',
    ]);
    expect((error as Error).message).not.toContain(secret);
  });

  it('reports unreadable and invalid files without quoting their content', async () => {
    expect(configProblems({ file: join(dir, 'missing.json') })).toEqual([
      `apiKey.file: cannot read '${join(dir, 'missing.json')}': ENOENT`,
    ]);
    const secret = 'gh_live_LEAKY_JSON_KEY';
    // A missing comma: V8 reports a position, turned into a line and column.
    const noComma = await keyFile(`[\n  { "key": "${secret}", "id": "x" }\n  { "key": "k" }\n]`);
    const [problem] = configProblems({ file: noComma });
    expect(problem).toMatch(/^apiKey\.file: '.*' is not valid JSON \(line 3, column 3\)$/);
    // A trailing comma: V8's message quotes the text around it, which must not reach the problem.
    const trailing = await keyFile(`[\n  { "key": "${secret}" },\n]`);
    const [quoted] = configProblems({ file: trailing });
    expect(quoted).toMatch(/^apiKey\.file: '.*' is not valid JSON$/);
    expect(`${problem}${quoted}`).not.toContain(secret);
    expect(configProblems({ file: await keyFile('{"key": "x"}') })).toEqual([
      expect.stringMatching(/must hold a JSON array of key entries$/),
    ]);
  });
});

describe('lookup function', () => {
  function counting(records: Record<string, ApiKeyPrincipal | undefined>, delayMs = 0) {
    const calls: string[] = [];
    const lookup = async (hash: string) => {
      calls.push(hash);
      if (delayMs > 0) await sleep(delayMs);
      return records[hash];
    };
    return { calls, lookup };
  }

  it('gets only the digest, never the plaintext', async () => {
    const { calls, lookup } = counting({
      [hashApiKey(LIVE_KEY)]: { id: 'billing', scopes: ['r'], owner: 'ana' },
    });
    const auth = apiKeyAuthenticator({ lookup });
    expect((await probe(auth, { headers: { 'x-api-key': LIVE_KEY } })).principal).toEqual({
      id: 'billing',
      method: 'api-key',
      scopes: ['r'],
      roles: [],
      claims: { owner: 'ana' },
    });
    expect(calls).toEqual([hashApiKey(LIVE_KEY)]);
    expect(calls.join()).not.toContain(LIVE_KEY);
  });

  it('caches found keys: one lookup for repeated requests, another after ttlMs', async () => {
    const { calls, lookup } = counting({ [hashApiKey(LIVE_KEY)]: { id: 'billing' } });
    const auth = apiKeyAuthenticator({ lookup, cache: { ttlMs: 150 } });
    for (let i = 0; i < 3; i++) {
      expect((await probe(auth, { headers: { 'x-api-key': LIVE_KEY } })).principal?.id).toBe('billing');
    }
    expect(calls).toHaveLength(1);
    await sleep(250);
    expect((await probe(auth, { headers: { 'x-api-key': LIVE_KEY } })).principal?.id).toBe('billing');
    expect(calls).toHaveLength(2);
  });

  it('caches unknown keys for negativeTtlMs, then asks again', async () => {
    const records: Record<string, ApiKeyPrincipal | undefined> = {};
    const { calls, lookup } = counting(records);
    const auth = apiKeyAuthenticator({ lookup, cache: { negativeTtlMs: 150 } });
    for (let i = 0; i < 2; i++) {
      expect(refusal(await probe(auth, { headers: { 'x-api-key': LIVE_KEY } })).reason).toBe('unknown_key');
    }
    expect(calls).toHaveLength(1);
    // A key created meanwhile is found once the negative entry has expired.
    records[hashApiKey(LIVE_KEY)] = { id: 'new' };
    await sleep(250);
    expect((await probe(auth, { headers: { 'x-api-key': LIVE_KEY } })).principal?.id).toBe('new');
    expect(calls).toHaveLength(2);
  });

  it('remembers at most max keys, known and unknown together (least recently used goes first)', async () => {
    const keys = ['gh_live_AAAAAAAAAAAAAAAA', 'gh_live_BBBBBBBBBBBBBBBB', 'gh_live_CCCCCCCCCCCCCCCC'];
    const { calls, lookup } = counting({
      [hashApiKey(keys[0]!)]: { id: 'a' },
      [hashApiKey(keys[1]!)]: { id: 'b' },
    });
    const auth = apiKeyAuthenticator({ lookup, cache: { max: 2 } });
    const ask = (key: string) => probe(auth, { headers: { 'x-api-key': key } });
    await ask(keys[0]!);
    await ask(keys[1]!);
    await ask(keys[0]!); // a is now the most recently used
    expect(calls).toHaveLength(2);
    expect(refusal(await ask(keys[2]!)).reason).toBe('unknown_key'); // evicts b
    expect(calls).toHaveLength(3);
    expect((await ask(keys[0]!)).principal?.id).toBe('a');
    expect(refusal(await ask(keys[2]!)).reason).toBe('unknown_key');
    expect(calls).toHaveLength(3);
    expect((await ask(keys[1]!)).principal?.id).toBe('b');
    expect(calls.at(-1)).toBe(hashApiKey(keys[1]!));
    expect(calls).toHaveLength(4);
  });

  it('asks every time when the cache is off', async () => {
    const { calls, lookup } = counting({ [hashApiKey(LIVE_KEY)]: { id: 'billing' } });
    const auth = apiKeyAuthenticator({ lookup, cache: false });
    await probe(auth, { headers: { 'x-api-key': LIVE_KEY } });
    await probe(auth, { headers: { 'x-api-key': LIVE_KEY } });
    expect(calls).toHaveLength(2);
  });

  it('shares one lookup between concurrent requests with the same key', async () => {
    const { calls, lookup } = counting({ [hashApiKey(LIVE_KEY)]: { id: 'billing' } }, 100);
    const auth = apiKeyAuthenticator({ lookup });
    const results = await Promise.all(
      Array.from({ length: 5 }, () => probe(auth, { headers: { 'x-api-key': LIVE_KEY } })),
    );
    expect(results.map((r) => r.principal?.id)).toEqual(Array(5).fill('billing'));
    expect(calls).toHaveLength(1);
  });

  it('refuses with 503 when the lookup throws, and does not cache the failure', async () => {
    let calls = 0;
    const auth = apiKeyAuthenticator({
      lookup: async () => {
        calls++;
        throw new Error('database is down');
      },
    });
    for (let i = 0; i < 2; i++) {
      const outcome = await probe(auth, { headers: { 'x-api-key': LIVE_KEY } });
      expect(refusal(outcome)).toMatchObject({
        code: 'GH_AUTH_UNAVAILABLE',
        status: 503,
        reason: 'unavailable',
      });
      expect((outcome.error!.cause as Error).message).toBe('database is down');
    }
    expect(calls).toBe(2);
  });

  it('refuses with 500 when the lookup returns an invalid principal', async () => {
    const auth = apiKeyAuthenticator({ lookup: async () => ({ scopes: [1] }) as unknown as ApiKeyPrincipal });
    const outcome = await probe(auth, { headers: { 'x-api-key': LIVE_KEY } });
    expect(refusal(outcome)).toMatchObject({ code: 'GH_AUTH_ERROR', status: 500 });
    expect(String(outcome.error!.cause)).toMatch(/the lookup function\.id: required: expected a string/);
    expect(String(outcome.error!.cause)).toMatch(/the lookup function\.scopes\[0\]: expected a string/);
  });

  it('refuses an oversized or empty key without looking it up', async () => {
    const { calls, lookup } = counting({});
    const auth = apiKeyAuthenticator({ lookup });
    await probe(auth, { headers: { 'x-api-key': 'x'.repeat(257) } });
    await probe(auth, { headers: { 'x-api-key': '' } });
    expect(calls).toHaveLength(0);
  });
});

describe('options', () => {
  it('lists every problem at once, with paths, never quoting a key', () => {
    const secret = 'gh_live_DUPLICATED_KEY_9';
    const problems = configProblems({
      hedaer: 'x-key',
      header: 'bad header',
      maxKeyBytes: 0,
      keys: [
        { key: secret, id: 'a' },
        { key: secret, id: 'b' },
        { hash: hashApiKey(secret), id: 'c' },
        { hash: 'sha256:ABCDEF', id: 'd' },
        { hash: `md5:${'0'.repeat(32)}`, id: 'e' },
        { key: 'k1', id: '' },
        { key: 'k2', id: 'f', scopes: ['read', 2] },
        { key: 'k3', id: 'g', roles: 'admin' },
        { key: ' padded', id: 'h' },
        { key: 'k4', hash: hashApiKey('k4'), id: 'i' },
        { id: 'j' },
        { key: 'k5', id: 'k', tier: 3 },
      ] as never,
    } as ApiKeyOptions);
    expect(problems).toEqual([
      "apiKey.hedaer: unknown option; did you mean 'header'?",
      'apiKey.header: expected a header name',
      'apiKey.maxKeyBytes: expected a number > 0, received the number 0',
      'apiKey.keys[1]: same key as apiKey.keys[0]',
      'apiKey.keys[2]: same key as apiKey.keys[0]',
      "apiKey.keys[3].hash: must be 'sha256:' followed by 64 hex digits (see hashApiKey())",
      "apiKey.keys[4].hash: must be 'sha256:' followed by 64 hex digits (see hashApiKey())",
      'apiKey.keys[5].id: must be a non-empty string',
      'apiKey.keys[6].scopes[1]: expected a string, received the number 2',
      "apiKey.keys[7].roles: expected an array, received the string 'admin'",
      'apiKey.keys[8].key: must be printable ASCII without leading or trailing whitespace (no request could present it)',
      'apiKey.keys[9]: give either key or hash, not both',
      'apiKey.keys[10]: needs a key or a hash',
      'apiKey.keys[11].tier: expected a string, received the number 3',
    ]);
    expect(problems.join('\n')).not.toContain(secret);
  });

  it('needs exactly one key source and a way to read keys', () => {
    expect(configProblems({})).toEqual(['apiKey: needs a key source: one of keys, file, lookup or redis']);
    expect(configProblems({ keys: [], lookup: async () => undefined })).toEqual([
      'apiKey: give only one key source, not keys and lookup',
    ]);
    expect(configProblems({ header: false, keys: [] })).toEqual([
      'apiKey: header is off and no query parameter is set: keys could never be read',
    ]);
    expect(
      configProblems({
        lookup: 'nope' as never,
        cache: { max: -1, ttlMs: 1.5, negativeTtlMs: 'x' as never },
        query: '',
      }),
    ).toEqual([
      "apiKey.lookup: expected a function (hash) => Promise<principal | undefined>, received the string 'nope'",
      'apiKey.cache.max: expected a number > 0, received the number -1',
      'apiKey.cache.ttlMs: expected an integer, received the number 1.5',
      "apiKey.cache.negativeTtlMs: expected an integer, received the string 'x'",
      'apiKey.query: must not be empty',
    ]);
    expect(configProblems({ redis: { client: {} as never, prefix: '', db: 2 } as never })).toEqual([
      'apiKey.redis.client: expected a Redis client with get() (ioredis), received an object',
      'apiKey.redis.prefix: must not be empty',
      'apiKey.redis.db: unknown option; expected one of client, prefix',
    ]);
  });
});

// ---------------------------------------------------------------------------------------------------
// Redis: a real server (REDIS_URL, else 127.0.0.1:6379); skipped loudly when absent, fatal on CI.

const REDIS_URL = process.env.REDIS_URL ?? 'redis://127.0.0.1:6379';

async function connectRedis(): Promise<{ client?: Redis; reason?: string }> {
  const client = new Redis(REDIS_URL, {
    lazyConnect: true,
    connectTimeout: 2000,
    enableOfflineQueue: false,
    commandTimeout: 2000,
    retryStrategy: () => null,
  });
  client.on('error', () => {});
  try {
    await client.connect();
    await client.ping();
    return { client };
  } catch (error) {
    client.disconnect();
    return { reason: `Redis at ${REDIS_URL} is unreachable (${(error as Error).message})` };
  }
}

const redis = await connectRedis();
if (redis.reason !== undefined && process.env.CI !== 'true') {
  console.warn(`\n!!! SKIPPING the Redis API-key tests: ${redis.reason}\n`);
}

describe.skipIf(redis.reason !== undefined && process.env.CI !== 'true')('Redis source', () => {
  const prefix = `gatehouse:test:apikey:${randomUUID()}:`;
  const client = redis.client!;

  beforeAll(() => {
    if (redis.reason !== undefined) throw new Error(`CI=true and ${redis.reason}`);
  });
  const written = new Set<string>();
  afterAll(async () => {
    if (client === undefined) return;
    if (written.size > 0) await client.del(...written);
    await client.quit();
  });

  /** The Redis key for an API key, remembered for clean-up. */
  const keyFor = (key: string) => {
    const name = `${prefix}${hashApiKey(key).slice('sha256:'.length)}`;
    written.add(name);
    return name;
  };

  it('finds the principal stored as JSON under prefix + hex digest', async () => {
    await client.set(
      keyFor(LIVE_KEY),
      JSON.stringify({ id: 'billing', scopes: ['a', 'b'], tier: 'pro', plan: 7 }),
    );
    const auth = apiKeyAuthenticator({ redis: { client, prefix } });
    expect((await probe(auth, { headers: { 'x-api-key': LIVE_KEY } })).principal).toEqual({
      id: 'billing',
      method: 'api-key',
      scopes: ['a', 'b'],
      roles: [],
      tier: 'pro',
      claims: { plan: 7 },
    });
    expect(refusal(await probe(auth, { headers: { 'x-api-key': OTHER_KEY } })).reason).toBe('unknown_key');
    expect(refusal(await probe(auth, { headers: { 'x-api-key': LIVE_KEY.toLowerCase() } })).reason).toBe(
      'unknown_key',
    );
  });

  it('caches what Redis said until ttlMs', async () => {
    const key = `gh_live_${randomUUID()}`;
    await client.set(keyFor(key), JSON.stringify({ id: 'cached' }));
    const auth = apiKeyAuthenticator({ redis: { client, prefix }, cache: { ttlMs: 200 } });
    expect((await probe(auth, { headers: { 'x-api-key': key } })).principal?.id).toBe('cached');
    await client.del(keyFor(key));
    expect((await probe(auth, { headers: { 'x-api-key': key } })).principal?.id).toBe('cached');
    await sleep(300);
    expect(refusal(await probe(auth, { headers: { 'x-api-key': key } })).reason).toBe('unknown_key');
  });

  it('refuses with 500 when the stored value is not a valid principal', async () => {
    const key = `gh_live_${randomUUID()}`;
    await client.set(keyFor(key), '{not json');
    const auth = apiKeyAuthenticator({ redis: { client, prefix } });
    expect(refusal(await probe(auth, { headers: { 'x-api-key': key } }))).toMatchObject({
      code: 'GH_AUTH_ERROR',
      status: 500,
    });
  });
});

describe('Redis unavailable', () => {
  let closedPort = 0;
  let silent: TcpServer;
  const clients: Redis[] = [];

  beforeAll(async () => {
    const probeServer = createTcpServer().listen(0, '127.0.0.1');
    await once(probeServer, 'listening');
    closedPort = (probeServer.address() as AddressInfo).port;
    await new Promise((done) => probeServer.close(done));
    // Accepts connections and never answers: a hung Redis.
    silent = createTcpServer(() => {}).listen(0, '127.0.0.1');
    await once(silent, 'listening');
  });
  afterAll(async () => {
    for (const client of clients) client.disconnect();
    silent.close();
  });

  function client(port: number, extra: object = {}): Redis {
    const c = new Redis({
      host: '127.0.0.1',
      port,
      enableOfflineQueue: false,
      commandTimeout: 300,
      ...extra,
    });
    c.on('error', () => {});
    clients.push(c);
    return c;
  }

  it('refuses with 503, never authenticating, when Redis is down', async () => {
    const auth = apiKeyAuthenticator({ redis: { client: client(closedPort) } });
    for (let i = 0; i < 2; i++) {
      const outcome = await probe(auth, { headers: { 'x-api-key': LIVE_KEY } });
      expect(refusal(outcome)).toMatchObject({
        code: 'GH_AUTH_UNAVAILABLE',
        status: 503,
        reason: 'unavailable',
      });
    }
  });

  it('refuses with 503 when Redis hangs, bounded by the client commandTimeout', async () => {
    const port = (silent.address() as AddressInfo).port;
    // No handshake (HELLO, CLIENT SETINFO, INFO), which a silent server would never complete: the
    // connection is up and GET is written, so only the command timeout ends it.
    const hung = client(port, { enableReadyCheck: false, disableClientInfo: true, protocol: 2 });
    await once(hung, 'ready');
    const auth = apiKeyAuthenticator({ redis: { client: hung } });
    const outcome = await probe(auth, { headers: { 'x-api-key': LIVE_KEY } });
    expect(refusal(outcome)).toMatchObject({ code: 'GH_AUTH_UNAVAILABLE', status: 503 });
    expect(String((outcome.error!.cause as Error).message)).toMatch(/timed out/i);
  });
});
