import { createHash, randomBytes } from 'node:crypto';
import { createServer, type IncomingMessage, request, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { setTimeout as delay } from 'node:timers/promises';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { hasBody, type PeekedBody, peekBody, restoreBody, upstreamBody } from './body.js';

// One real server; each test installs the handler that the next request runs, and gets back what
// the handler returned (or threw) once the request is over.
let server: Server;
let port: number;
let handler: ((req: IncomingMessage) => Promise<unknown>) | undefined;
let outcome: Deferred<unknown> | undefined;

beforeAll(async () => {
  server = createServer((req, res) => {
    const run = handler;
    const done = outcome;
    if (run === undefined || done === undefined) {
      res.statusCode = 500;
      res.end();
      return;
    }
    run(req).then(
      (value) => {
        done.resolve(value);
        res.end('ok');
      },
      (error: unknown) => {
        done.reject(error);
        res.destroy();
      },
    );
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  port = (server.address() as AddressInfo).port;
});

afterAll(async () => {
  server.closeAllConnections();
  await new Promise((resolve) => server.close(resolve));
});

interface Deferred<T> {
  promise: Promise<T>;
  resolve: (value: T | PromiseLike<T>) => void;
  reject: (reason?: unknown) => void;
}

/** `Promise.withResolvers`, which Node 20 lacks. */
function deferred<T>(): Deferred<T> {
  let resolve!: (value: T | PromiseLike<T>) => void;
  let reject!: (reason?: unknown) => void;
  const promise = new Promise<T>((res, rej) => {
    resolve = res;
    reject = rej;
  });
  return { promise, resolve, reject };
}

interface Send {
  method?: string;
  headers?: Record<string, string | number>;
  /** Writes the body; the request is ended after it. */
  body?: (write: (chunk: Buffer | string) => Promise<void>) => Promise<void>;
  /** Destroys the connection after `body` instead of ending the request. */
  abort?: boolean;
}

/** Sends one request whose server side runs `onServer`; resolves with what `onServer` returned. */
async function roundTrip<T>(send: Send, onServer: (req: IncomingMessage) => Promise<T>): Promise<T> {
  handler = onServer as (req: IncomingMessage) => Promise<unknown>;
  outcome = deferred();
  const result = outcome.promise;
  const req = request({
    host: '127.0.0.1',
    port,
    method: send.method ?? 'POST',
    path: '/',
    headers: send.headers,
    agent: false,
  });
  const response = new Promise<void>((resolve) => {
    req.on('response', (res) => {
      res.resume();
      res.on('end', resolve);
    });
    // The server destroys the connection when the handler throws; `result` carries the error.
    req.on('error', () => resolve());
  });
  const write = (chunk: Buffer | string) =>
    new Promise<void>((resolve, reject) => req.write(chunk, (error) => (error ? reject(error) : resolve())));
  await send.body?.(write);
  if (send.abort === true) {
    req.destroy();
    return (await result) as T;
  }
  req.end();
  const [value] = await Promise.all([result, response]);
  return value as T;
}

/** Fails instead of hanging when `promise` does not settle in `ms`. */
async function within<T>(promise: Promise<T>, ms: number, what: string): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new Error(`${what} did not settle within ${ms} ms`)), ms);
  });
  try {
    return await Promise.race([promise, timeout]);
  } finally {
    clearTimeout(timer);
  }
}

/** What an application reading the body afterwards sees: every 'data' chunk, and how many 'end's. */
async function consume(req: IncomingMessage): Promise<{ body: Buffer; ends: number }> {
  const chunks: Buffer[] = [];
  let ends = 0;
  await within(
    new Promise<void>((resolve, reject) => {
      req.on('data', (chunk: Buffer) => chunks.push(chunk));
      req.on('end', () => {
        ends++;
        resolve();
      });
      req.on('error', reject);
    }),
    10_000,
    'reading the restored body',
  );
  // A second 'end' would come after the first, in a later turn.
  await delay(20);
  return { body: Buffer.concat(chunks), ends };
}

const sha256 = (bytes: Buffer) => createHash('sha256').update(bytes).digest('hex');

/** Resolves once the parser has seen the whole body, which nobody has read yet. */
async function arrived(req: IncomingMessage): Promise<void> {
  await within(
    (async () => {
      while (!req.complete) await delay(2);
    })(),
    5_000,
    'the body to arrive',
  );
}

const LISTENED = ['readable', 'data', 'end', 'error', 'close'] as const;
const listenerCounts = (req: IncomingMessage) => LISTENED.map((name) => req.listenerCount(name));

describe('hasBody', () => {
  const check = (send: Send) => roundTrip(send, async (req) => hasBody(req));

  it('is false without content-length and transfer-encoding', async () => {
    expect(await check({ method: 'GET' })).toBe(false);
  });

  it('is false for content-length 0', async () => {
    expect(await check({ headers: { 'content-length': 0 } })).toBe(false);
  });

  it('is true for a positive content-length', async () => {
    expect(await check({ headers: { 'content-length': 2 }, body: (write) => write('{}') })).toBe(true);
  });

  it('is true for a chunked body, even an empty one', async () => {
    expect(await check({ headers: { 'transfer-encoding': 'chunked' }, body: (write) => write('x') })).toBe(
      true,
    );
    expect(await check({ headers: { 'transfer-encoding': 'chunked' } })).toBe(true);
  });
});

describe('peekBody and restoreBody', () => {
  it('peeks a small JSON body and gives the application the same bytes, with one end', async () => {
    const json = Buffer.from(JSON.stringify({ id: 42, name: 'café ☕', tags: ['a', 'b'] }));
    const result = await roundTrip(
      {
        headers: { 'content-type': 'application/json', 'content-length': json.length },
        body: (write) => write(json),
      },
      async (req) => {
        const before = listenerCounts(req);
        const peeked = await within(peekBody(req, 1024), 5_000, 'peekBody');
        restoreBody(req, peeked);
        // Back to the initial mode once the listener's removal has been processed.
        await new Promise((resolve) => process.nextTick(resolve));
        const state = { flowing: req.readableFlowing, listeners: listenerCounts(req), before };
        return { peeked, state, read: await consume(req) };
      },
    );
    expect(result.peeked.complete).toBe(true);
    expect(result.peeked.bytes.equals(json)).toBe(true);
    expect(result.state.flowing).toBe(null);
    expect(result.state.listeners).toEqual(result.state.before);
    expect(result.read.body.equals(json)).toBe(true);
    expect(result.read.ends).toBe(1);
  });

  it('peeks a chunked body sent in several writes with pauses', async () => {
    const parts = ['{"part":1,', '"more":"', 'x'.repeat(5_000), '","end":true}'];
    const result = await roundTrip(
      {
        headers: { 'transfer-encoding': 'chunked' },
        body: async (write) => {
          for (const part of parts) {
            await write(part);
            await delay(15);
          }
        },
      },
      async (req) => {
        const peeked = await within(peekBody(req, 64 * 1024), 5_000, 'peekBody');
        restoreBody(req, peeked);
        return { peeked, read: await consume(req) };
      },
    );
    const whole = Buffer.from(parts.join(''));
    expect(result.peeked.complete).toBe(true);
    expect(result.peeked.bytes.equals(whole)).toBe(true);
    expect(result.read.body.equals(whole)).toBe(true);
    expect(result.read.ends).toBe(1);
  });

  it('takes a body exactly at the limit as complete', async () => {
    const body = randomBytes(4096);
    const peeked = await roundTrip(
      { headers: { 'content-length': body.length }, body: (write) => write(body) },
      async (req) => {
        const result = await within(peekBody(req, body.length), 5_000, 'peekBody');
        restoreBody(req, result);
        await consume(req);
        return result;
      },
    );
    expect(peeked.complete).toBe(true);
    expect(peeked.bytes.equals(body)).toBe(true);
  });

  for (const framing of ['content-length', 'chunked'] as const) {
    it(`stops at the limit of a large ${framing} body, and the application still reads all of it`, async () => {
      const body = randomBytes(3 * 1024 * 1024);
      const limit = 64 * 1024;
      const headers: Record<string, string | number> =
        framing === 'chunked' ? { 'transfer-encoding': 'chunked' } : { 'content-length': body.length };
      const result = await roundTrip(
        {
          headers,
          body: async (write) => {
            // Several writes, as a client streaming an upload does.
            for (let at = 0; at < body.length; at += 256 * 1024)
              await write(body.subarray(at, at + 256 * 1024));
          },
        },
        async (req) => {
          const peeked = await within(peekBody(req, limit), 5_000, 'peekBody');
          restoreBody(req, peeked);
          return { peeked, read: await consume(req) };
        },
      );
      expect(result.peeked.complete).toBe(false);
      expect(result.peeked.bytes.length).toBeGreaterThan(limit);
      // The peek stops at the first read past the limit: what was buffered then, one socket read of
      // at most 64 KiB over what sat below the stream's high-water mark.
      expect(result.peeked.bytes.length).toBeLessThanOrEqual(limit + 128 * 1024);
      expect(result.peeked.bytes.equals(body.subarray(0, result.peeked.bytes.length))).toBe(true);
      expect(result.read.body.length).toBe(body.length);
      expect(sha256(result.read.body)).toBe(sha256(body));
      expect(result.read.ends).toBe(1);
    });
  }

  it('resolves at once, empty and complete, without a body', async () => {
    const result = await roundTrip({ method: 'GET' }, async (req) => {
      const peeked = await within(peekBody(req, 1024), 1_000, 'peekBody');
      return { peeked, listeners: listenerCounts(req), read: await consume(req) };
    });
    expect(result.peeked.complete).toBe(true);
    expect(result.peeked.bytes.length).toBe(0);
    expect(result.listeners).toEqual(LISTENED.map(() => 0));
    expect(result.read.ends).toBe(1);
  });

  it('peeks a body that had fully arrived before the peek', async () => {
    const json = Buffer.from('{"arrived":"early"}');
    const result = await roundTrip(
      { headers: { 'content-length': json.length }, body: (write) => write(json) },
      async (req) => {
        await arrived(req);
        const peeked = await within(peekBody(req, 1024), 2_000, 'peekBody');
        restoreBody(req, peeked);
        return { peeked, read: await consume(req) };
      },
    );
    expect(result.peeked).toMatchObject({ complete: true });
    expect(result.peeked.bytes.equals(json)).toBe(true);
    expect(result.read.body.equals(json)).toBe(true);
    expect(result.read.ends).toBe(1);
  });

  // The route may run after an asynchronous step (token verification), by when an empty chunked body
  // has fully arrived: the stream is then ended but has not emitted 'end', and a 'readable' listener
  // makes it read(0) and end without ever emitting 'readable'.
  it('peeks an empty chunked body that had fully arrived before the peek', async () => {
    const result = await roundTrip({ headers: { 'transfer-encoding': 'chunked' } }, async (req) => {
      await arrived(req);
      const peeked = await within(peekBody(req, 1024), 2_000, 'peekBody');
      restoreBody(req, peeked);
      return { peeked, read: await consume(req) };
    });
    expect(result.peeked.complete).toBe(true);
    expect(result.peeked.bytes.length).toBe(0);
    expect(result.read.ends).toBe(1);
  });

  it('rejects when the client goes away mid-body, and leaves no listener behind', async () => {
    const peeking = deferred<void>();
    const result = await roundTrip(
      {
        headers: { 'content-length': 1024 * 1024 },
        body: async (write) => {
          await write(randomBytes(10_000));
          // Gone before the rest of the announced megabyte, while the server is peeking.
          await peeking.promise;
        },
        abort: true,
      },
      async (req) => {
        const before = listenerCounts(req);
        const peek = peekBody(req, 64 * 1024);
        peeking.resolve();
        const error = await within(peek, 5_000, 'peekBody').then(
          () => undefined,
          (e: unknown) => e,
        );
        // Whatever the stream emits after the rejection ('close' after 'error') has happened by now.
        await delay(20);
        return { error, before, after: listenerCounts(req) };
      },
    );
    expect(result.error).toBeInstanceOf(Error);
    expect(result.after).toEqual(result.before);
  });

  // Destroyed without an error, the request emits 'close' but no 'error': the once('error') listener
  // must go too.
  it('rejects when the request is destroyed without an error, and leaves no listener behind', async () => {
    const result = await roundTrip(
      {
        headers: { 'content-length': 1024 * 1024 },
        // The client stays: the server side ends the request.
        body: (write) => write(randomBytes(10_000)),
      },
      async (req) => {
        const before = listenerCounts(req);
        const peek = peekBody(req, 64 * 1024);
        // What a timeout or an application giving up on the request does.
        setImmediate(() => req.destroy());
        const error = await within(peek, 5_000, 'peekBody').then(
          () => undefined,
          (e: unknown) => e,
        );
        await delay(20);
        return { error, before, after: listenerCounts(req) };
      },
    );
    expect(result.error).toBeInstanceOf(Error);
    expect(result.after).toEqual(result.before);
  });
});

describe('upstreamBody', () => {
  it('is the peeked buffer itself when the body is complete, undefined when empty', async () => {
    const json = Buffer.from('{"a":1}');
    const result = await roundTrip(
      { headers: { 'content-length': json.length }, body: (write) => write(json) },
      async (req) => {
        const peeked = await peekBody(req, 1024);
        return { peeked, body: upstreamBody(req, peeked) };
      },
    );
    expect(result.body).toBe(result.peeked.bytes);
    const empty: PeekedBody = { bytes: Buffer.alloc(0), complete: true };
    expect(upstreamBody({} as IncomingMessage, empty)).toBeUndefined();
  });

  it('yields the peeked bytes then the rest of the stream when the body is larger', async () => {
    const body = randomBytes(3 * 1024 * 1024);
    const result = await roundTrip(
      {
        headers: { 'content-length': body.length },
        body: async (write) => {
          for (let at = 0; at < body.length; at += 512 * 1024)
            await write(body.subarray(at, at + 512 * 1024));
        },
      },
      async (req) => {
        const peeked = await peekBody(req, 64 * 1024);
        const upstream = upstreamBody(req, peeked);
        if (upstream === undefined || Buffer.isBuffer(upstream)) throw new Error('expected a stream');
        const chunks: Buffer[] = [];
        for await (const chunk of upstream) chunks.push(chunk);
        return { complete: peeked.complete, sent: Buffer.concat(chunks) };
      },
    );
    expect(result.complete).toBe(false);
    expect(result.sent.length).toBe(body.length);
    expect(sha256(result.sent)).toBe(sha256(body));
  });
});
