import { type CallResponse, type Client, createClient } from '@gatehousejs/client';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { HttpCache } from './cache.js';
import { CACHED_BYTES, CLEAN_HEADERS, cachedResponse, cachingClient } from './caching-client.js';
import { type CacheStore, memoryStore } from './store.js';
import { json, sleep, startUpstream, type Upstream } from './test-upstream.js';

// One upstream whose answers are steered by the query: cc (Cache-Control), etag, vary, cookie, status,
// delay (ms before answering), fail (answer 503 while set in `failing`), and a body that says which
// request it answered (its sequence number) so a cached answer is told apart from a fresh one.
let upstream: Upstream;
let seq = 0;
const failing = new Set<string>();

beforeAll(async () => {
  upstream = await startUpstream((req, res, url) => {
    const q = url.searchParams;
    const n = ++seq;
    const respond = () => {
      if (failing.has(url.pathname)) return json(res, 503, { down: true });
      const headers: Record<string, string> = {};
      if (q.get('cc')) headers['cache-control'] = q.get('cc')!;
      if (q.get('vary')) headers.vary = q.get('vary')!;
      if (q.get('cookie')) headers['set-cookie'] = 'session=abc';
      const etag = q.get('etag');
      if (etag) {
        headers.etag = `"${etag}"`;
        if (req.headers['if-none-match'] === `"${etag}"`) {
          res.writeHead(304, headers);
          res.end();
          return;
        }
      }
      const lang = req.headers['accept-language'];
      json(
        res,
        Number(q.get('status') ?? 200),
        { n, path: url.pathname, lang: lang ?? null, user: req.headers['x-user'] ?? null },
        headers,
      );
    };
    const delay = Number(q.get('delay') ?? 0);
    if (delay > 0) setTimeout(respond, delay);
    else respond();
  });
});
afterAll(() => upstream.close());

interface Setup {
  client: Client;
  cache: HttpCache;
  reported: unknown[];
  close(): Promise<void>;
}

function setup(store: CacheStore = memoryStore(), coalesce = true): Setup {
  const reported: unknown[] = [];
  const base = createClient({ name: 'svc', endpoints: [upstream.url], retry: { maxAttempts: 1 } });
  const cache = new HttpCache({
    store,
    name: 'gatehouse',
    coalesce,
    honorRequestDirectives: false,
    report: (e) => reported.push(e),
  });
  return { client: cachingClient(base, cache, 64 * 1024), cache, reported, close: () => base.close() };
}

async function get(client: Client, path: string, headers: Record<string, string> = {}) {
  const res: CallResponse = await client.request({ path, headers });
  const body = (await res.body.json()) as { n: number; lang: string | null; user: string | null };
  return { status: res.statusCode, headers: res.headers, body };
}

const hitsOf = (path: string) => upstream.hits.get(path) ?? 0;

describe('HttpCache through cachingClient (real upstream)', () => {
  it('stores a fresh answer and serves it with Age and Cache-Status; only one upstream call', async () => {
    const s = setup();
    const path = '/r/fresh?cc=max-age%3D60';
    const first = await get(s.client, path);
    const second = await get(s.client, path);
    expect(first.headers['cache-status']).toBe('gatehouse; fwd=uri-miss; stored');
    expect(second.headers['cache-status']).toMatch(/^gatehouse; hit; ttl=(59|60)$/);
    expect(second.headers.age).toMatch(/^\d+$/);
    expect(second.body.n).toBe(first.body.n);
    expect(hitsOf(path)).toBe(1);
    expect(s.cache.stats).toMatchObject({ hits: 1, misses: 1, stored: 1 });
    await s.close();
  });

  it("answers a caller's own conditional request from a fresh entry with 304", async () => {
    const s = setup();
    const path = '/r/conditional?cc=max-age%3D60&etag=c1';
    await get(s.client, path);
    const notModified = await s.client.request({ path, headers: { 'if-none-match': 'W/"c1", "other"' } });
    expect(notModified.statusCode).toBe(304);
    expect(await notModified.body.text()).toBe('');
    expect(notModified.headers.etag).toBe('"c1"');
    expect(notModified.headers['content-type']).toBeUndefined();
    expect(notModified.headers['cache-status']).toMatch(/^gatehouse; hit/);
    const changed = await s.client.request({ path, headers: { 'if-none-match': '"c0"' } });
    expect(changed.statusCode).toBe(200);
    expect(((await changed.body.json()) as { path: string }).path).toBe('/r/conditional');
    expect(hitsOf(path)).toBe(1);
    await s.close();
  });

  it('never stores private, no-store, Set-Cookie answers, or uncacheable statuses', async () => {
    const s = setup();
    for (const path of [
      '/r/p?cc=private%2C%20max-age%3D60',
      '/r/ns?cc=no-store',
      '/r/sc?cc=max-age%3D60&cookie=1',
      '/r/st?cc=max-age%3D60&status=500',
    ]) {
      const a = await get(s.client, path);
      const b = await get(s.client, path);
      expect(b.body.n, path).not.toBe(a.body.n);
      expect(hitsOf(path), path).toBe(2);
      expect(a.headers['cache-status'], path).toBe('gatehouse; fwd=uri-miss');
    }
    await s.close();
  });

  it('does not store an answer to a request with Authorization unless it is explicitly public', async () => {
    const s = setup();
    const priv = '/r/auth?cc=max-age%3D60';
    await get(s.client, priv, { authorization: 'Bearer a' });
    await get(s.client, priv, { authorization: 'Bearer a' });
    expect(hitsOf(priv)).toBe(2);
    const pub = '/r/authpub?cc=public%2C%20max-age%3D60';
    await get(s.client, pub, { authorization: 'Bearer a' });
    const other = await get(s.client, pub, { authorization: 'Bearer b' });
    expect(hitsOf(pub)).toBe(1);
    expect(other.headers['cache-status']).toMatch(/hit/);
    await s.close();
  });

  it('keys on the headers Vary names: another Accept-Language gets its own variant', async () => {
    const s = setup();
    const path = '/r/vary?cc=max-age%3D60&vary=accept-language';
    const en = await get(s.client, path, { 'accept-language': 'en' });
    const fr = await get(s.client, path, { 'accept-language': 'fr' });
    const en2 = await get(s.client, path, { 'accept-language': 'en' });
    const fr2 = await get(s.client, path, { 'accept-language': 'fr' });
    expect([en.body.lang, fr.body.lang, en2.body.lang, fr2.body.lang]).toEqual(['en', 'fr', 'en', 'fr']);
    expect(en2.body.n).toBe(en.body.n);
    expect(fr2.body.n).toBe(fr.body.n);
    expect(hitsOf(path)).toBe(2);
    await s.close();
  });

  it('an unkeyed header cannot poison the entry another caller gets', async () => {
    const s = setup();
    // x-user is not in Vary: the upstream reflects it, but the answer is scoped to the anonymous caller
    // only when nothing identifies one; a caller with credentials never receives the anonymous entry.
    const path = '/r/poison?cc=max-age%3D60';
    await get(s.client, path, { authorization: 'Bearer attacker', 'x-user': 'evil' });
    const victim = await get(s.client, path);
    expect(victim.body.user).toBeNull();
    expect(hitsOf(path)).toBe(2);
    await s.close();
  });

  it('revalidates a stale entry with its validator and reuses the body on 304', async () => {
    const s = setup();
    const path = '/r/etag?cc=max-age%3D1&etag=v1';
    const first = await get(s.client, path);
    await sleep(1_100);
    const second = await get(s.client, path);
    expect(second.body.n).toBe(first.body.n);
    expect(second.headers['cache-status']).toBe('gatehouse; fwd=stale; fwd-status=304; stored');
    expect(upstream.seen.filter((r) => r.url === path).at(-1)?.headers['if-none-match']).toBe('"v1"');
    expect(s.cache.stats.revalidations).toBe(1);
    const third = await get(s.client, path);
    expect(third.headers['cache-status']).toMatch(/hit/);
    await s.close();
  });

  it('thundering herd on an expired entry: 50 concurrent requests, one revalidation upstream', async () => {
    const s = setup();
    const path = '/r/herd?cc=max-age%3D1&etag=h1&delay=30';
    await get(s.client, path);
    await sleep(1_100);
    const before = hitsOf(path);
    const answers = await Promise.all(Array.from({ length: 50 }, () => get(s.client, path)));
    expect(hitsOf(path) - before).toBe(1);
    expect(s.cache.stats.revalidations).toBe(1);
    expect(upstream.seen.filter((r) => r.url === path).at(-1)?.headers['if-none-match']).toBe('"h1"');
    expect(new Set(answers.map((a) => a.body.n)).size).toBe(1);
    for (const a of answers)
      expect(a.headers['cache-status']).toBe('gatehouse; fwd=stale; fwd-status=304; stored');
    await s.close();
  });

  it('stale-while-revalidate: answers stale at once and revalidates once in the background', async () => {
    const s = setup();
    const path = '/r/swr?cc=max-age%3D1%2C%20stale-while-revalidate%3D30&delay=50';
    const first = await get(s.client, path);
    await sleep(1_100);
    const stale = await Promise.all(Array.from({ length: 10 }, () => get(s.client, path)));
    // Every one answered from the stale entry while the (slow) background revalidation was out.
    for (const a of stale) expect(a.body.n).toBe(first.body.n);
    expect(stale[0]!.headers['cache-status']).toMatch(/^gatehouse; hit; ttl=-\d+; fwd=stale$/);
    await sleep(150);
    expect(hitsOf(path)).toBe(2);
    const fresh = await get(s.client, path);
    expect(fresh.body.n).not.toBe(first.body.n);
    expect(fresh.headers['cache-status']).toMatch(/hit/);
    await s.close();
  });

  it('stale-if-error: an upstream failure is answered with the stale entry', async () => {
    const s = setup();
    const path = '/r/sie?cc=max-age%3D1%2C%20stale-if-error%3D60';
    const first = await get(s.client, path);
    await sleep(1_100);
    failing.add('/r/sie');
    try {
      const second = await get(s.client, path);
      expect(second.status).toBe(200);
      expect(second.body.n).toBe(first.body.n);
      expect(second.headers['cache-status']).toMatch(
        /fwd=stale; fwd-status=503; ttl=-\d+; detail=stale-if-error/,
      );
    } finally {
      failing.delete('/r/sie');
    }
    await s.close();
  });

  it('100 concurrent identical GETs make one upstream call', async () => {
    const s = setup();
    const path = '/r/hundred?delay=40';
    const answers = await Promise.all(Array.from({ length: 100 }, () => get(s.client, path)));
    expect(hitsOf(path)).toBe(1);
    expect(new Set(answers.map((a) => a.body.n)).size).toBe(1);
    expect(answers.filter((a) => /collapsed/.test(String(a.headers['cache-status'])))).toHaveLength(99);
    await s.close();
  });

  it('coalescing never hands one principal a private answer fetched for another', async () => {
    const s = setup();
    const path = '/r/private-flight?delay=40&cc=private';
    const [a, b] = await Promise.all([
      get(s.client, path, { authorization: 'Bearer a', 'x-user': 'a' }),
      get(s.client, path, { authorization: 'Bearer b', 'x-user': 'b' }),
    ]);
    expect(a.body.user).toBe('a');
    expect(b.body.user).toBe('b');
    expect(hitsOf(path)).toBe(2);
    const pub = '/r/public-flight?delay=40&cc=public';
    const [c, d] = await Promise.all([
      get(s.client, pub, { authorization: 'Bearer a', 'x-user': 'a' }),
      get(s.client, pub, { authorization: 'Bearer b', 'x-user': 'b' }),
    ]);
    expect(c.body.n).toBe(d.body.n);
    expect(hitsOf(pub)).toBe(1);
    await s.close();
  });

  it('purges by key (every variant) and by prefix', async () => {
    const s = setup();
    await get(s.client, '/r/purge/1?cc=max-age%3D60');
    await get(s.client, '/r/purge/2?cc=max-age%3D60');
    await get(s.client, '/r/other?cc=max-age%3D60');
    expect(await s.cache.purgeKey('svc:/r/purge/1?cc=max-age%3D60')).toBe(1);
    await get(s.client, '/r/purge/1?cc=max-age%3D60');
    expect(hitsOf('/r/purge/1?cc=max-age%3D60')).toBe(2);
    expect(await s.cache.purgePrefix('svc:/r/purge/')).toBe(2);
    await get(s.client, '/r/purge/2?cc=max-age%3D60');
    await get(s.client, '/r/other?cc=max-age%3D60');
    expect(hitsOf('/r/purge/2?cc=max-age%3D60')).toBe(2);
    expect(hitsOf('/r/other?cc=max-age%3D60')).toBe(1);
    await s.close();
  });

  it('a failing store degrades to no cache and is reported once', async () => {
    const broken: CacheStore = {
      kind: 'broken',
      get: () => Promise.reject(new Error('store down')),
      set: () => Promise.reject(new Error('store down')),
      delete: () => Promise.reject(new Error('store down')),
      deletePrefix: () => Promise.reject(new Error('store down')),
    };
    const s = setup(broken, false);
    const path = '/r/broken-store?cc=max-age%3D60';
    for (let i = 0; i < 3; i++) expect((await get(s.client, path)).status).toBe(200);
    expect(hitsOf(path)).toBe(3);
    expect(s.reported).toHaveLength(1);
    expect(s.cache.stats.storeErrors).toBeGreaterThanOrEqual(3);
    await s.close();
  });
});

describe('a fresh hit as a route writes it (peek, cachedResponse)', () => {
  const BODY = Buffer.from('{"hello":"world"}');
  const stored = async (headers: Record<string, string>, name = 'gatehouse') => {
    const cache = new HttpCache({
      store: memoryStore(),
      name,
      coalesce: false,
      honorRequestDirectives: false,
      report: () => {},
    });
    const request = { service: 'svc', method: 'GET', path: '/hello', headers: {}, scope: undefined };
    await cache.fetch(request, async () => ({
      status: 200,
      headers: { 'cache-control': 'max-age=60', ...headers },
      body: BODY,
    }));
    return cache.peek(request);
  };

  it('says when its headers need no second hygiene pass, and makes its body stream only when read', async () => {
    const hit = await stored({ 'content-type': 'application/json', etag: '"e1"' });
    expect(hit?.outcome).toBe('hit');
    expect(hit?.clean).toBe(true);
    const response = cachedResponse(hit!) as CallResponse & Record<symbol, unknown>;
    expect(response[CLEAN_HEADERS]).toBe(true);
    expect(response[CACHED_BYTES]).toBe(BODY);
    expect(response.headers).toMatchObject({ etag: '"e1"', age: '0', 'cache-status': hit!.cacheStatus });
    // The stream is made on first read, once, and carries the bytes (also under CACHED_BYTES).
    const body = response.body;
    expect(response.body).toBe(body);
    expect((body as unknown as Record<symbol, unknown>)[CACHED_BYTES]).toBe(BODY);
    expect(await body.text()).toBe('{"hello":"world"}');
  });

  it('is not clean when response hygiene would change a header, or when the cache name is unsafe', async () => {
    // A value Node would write as something else (a character above 0xFF) is dropped by hygiene.
    const odd = await stored({ 'x-note': 'caf\u0113' });
    expect(odd?.clean).toBe(false);
    expect((cachedResponse(odd!) as unknown as Record<symbol, unknown>)[CLEAN_HEADERS]).toBe(false);
    // A cache made by hand (not through the options, which insist on a token) with a name that
    // cannot be written as a header value.
    const named = await stored({}, 'bad\r\nname');
    expect(named?.clean).toBe(false);
  });
});

describe('memoryStore', () => {
  it('is bounded by entries (least recently used out first) and by bytes', async () => {
    const store = memoryStore({ maxEntries: 2, maxBytes: 10_000 });
    const entry = (size: number) => ({
      policy: {} as never,
      status: 200,
      headers: {},
      body: Buffer.alloc(size),
      vary: [],
      varyKey: '',
      freshUntil: 0,
      bornAt: 0,
    });
    await store.set('a', entry(10), 60_000);
    await store.set('b', entry(10), 60_000);
    await store.get('a');
    await store.set('c', entry(10), 60_000);
    expect(await store.get('b')).toBeUndefined();
    expect(await store.get('a')).toBeDefined();
    // One entry may not take more than an eighth of the bytes.
    await store.set('big', entry(2_000), 60_000);
    expect(await store.get('big')).toBeUndefined();
  });
});
