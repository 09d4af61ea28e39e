// Reading an upstream body whole, within a byte cap and a signal, and giving a buffered body back the
// shape of undici's (json, text, arrayBuffer, dump) so a cached or coalesced answer reads like a live one.
import { Readable } from 'node:stream';
import type { CallResponse } from '@gatehousejs/client';
import { AggregateBodyTooLarge } from './errors.js';

/** An upstream answer held in memory. Header names are lower case. */
export interface StoredResponse {
  readonly status: number;
  readonly headers: Readonly<Record<string, string | string[]>>;
  readonly body: Buffer;
}

/**
 * Reads `response`'s body into one buffer. Rejects with `GH_AGGREGATE_BODY_TOO_LARGE` past `maxBytes`
 * (the rest is not read: the stream is destroyed), with the stream's own error on a reset, and with
 * `signal`'s reason when it aborts first.
 */
export function readBody(response: CallResponse, maxBytes: number, signal?: AbortSignal): Promise<Buffer> {
  const stream = response.body as unknown as Readable;
  const declared = Number(firstHeader(response.headers['content-length']));
  if (Number.isFinite(declared) && declared > maxBytes) {
    stream.destroy();
    return Promise.reject(
      new AggregateBodyTooLarge(`the answer declares ${declared} bytes, over ${maxBytes}`),
    );
  }
  return new Promise<Buffer>((resolve, reject) => {
    const chunks: Buffer[] = [];
    let size = 0;
    let settled = false;
    const finish = (error: unknown, value?: Buffer) => {
      if (settled) return;
      settled = true;
      signal?.removeEventListener('abort', onAbort);
      stream.off('data', onData);
      stream.off('end', onEnd);
      stream.off('error', onError);
      stream.off('close', onClose);
      // undici errors a body whose request is aborted: nobody reads it any more, and an 'error'
      // without a listener would be thrown.
      stream.on('error', ignore);
      if (error !== undefined) {
        stream.destroy();
        reject(error);
      } else resolve(value!);
    };
    const onData = (chunk: Buffer) => {
      size += chunk.length;
      if (size > maxBytes) finish(new AggregateBodyTooLarge(`the answer exceeds ${maxBytes} bytes`));
      else chunks.push(chunk);
    };
    const onEnd = () => finish(undefined, chunks.length === 1 ? chunks[0]! : Buffer.concat(chunks, size));
    const onError = (error: unknown) => finish(error ?? new Error('the body failed'));
    // A stream destroyed without an error (an abort elsewhere) would otherwise never settle.
    const onClose = () => finish(new Error('the body closed before its end'));
    const onAbort = () => finish(signal!.reason);
    if (signal?.aborted) return finish(signal.reason);
    signal?.addEventListener('abort', onAbort, { once: true });
    stream.on('data', onData);
    stream.once('end', onEnd);
    stream.once('error', onError);
    stream.once('close', onClose);
  });
}

const ignore = () => {};

export function firstHeader(value: string | string[] | undefined): string | undefined {
  return Array.isArray(value) ? value[0] : value;
}

/** undici's body methods over bytes already in memory. */
export type BufferedBody = Readable & {
  json(): Promise<unknown>;
  text(): Promise<string>;
  arrayBuffer(): Promise<ArrayBuffer>;
  bytes(): Promise<Uint8Array>;
  blob(): Promise<Blob>;
  dump(): Promise<void>;
};

/** A readable stream of `bytes` with undici's `BodyReadable` consumers. */
export function bufferedBody(bytes: Buffer): BufferedBody {
  const stream = new Readable({
    read() {
      this.push(bytes.length === 0 ? null : bytes);
      if (bytes.length > 0) this.push(null);
    },
  }) as BufferedBody;
  const consume = () => {
    stream.destroy();
    return bytes;
  };
  stream.json = async () => JSON.parse(consume().toString('utf8')) as unknown;
  stream.text = async () => consume().toString('utf8');
  stream.arrayBuffer = async () => {
    const b = consume();
    return b.buffer.slice(b.byteOffset, b.byteOffset + b.byteLength) as ArrayBuffer;
  };
  stream.bytes = async () => new Uint8Array(consume());
  stream.blob = async () => new Blob([consume()]);
  stream.dump = async () => {
    consume();
  };
  return stream;
}

/** A body that went past the cap: what was read, and the rest of the stream, still flowing. */
export class BodyOverCap extends Error {
  claimed = false;
  constructor(
    readonly response: CallResponse,
    readonly head: Buffer,
  ) {
    super('the answer is larger than the cache takes');
    this.name = 'BodyOverCap';
  }

  /** The whole body as one stream (once: a second caller must make its own call). */
  stream(): BufferedBody {
    this.claimed = true;
    const rest = this.response.body as unknown as Readable;
    const head = this.head;
    return withConsumers(
      Readable.from(
        (async function* () {
          yield head;
          for await (const chunk of rest) yield chunk as Buffer;
        })(),
      ),
    );
  }
}

/**
 * Reads `response`'s body whole when it is at most `maxBytes`; past that, rejects with a
 * {@link BodyOverCap} holding what was read and the rest of the stream (paused), so the answer can
 * still be passed on, uncached.
 */
export function readOrOverflow(
  response: CallResponse,
  maxBytes: number,
  signal?: AbortSignal,
): Promise<Buffer> {
  const stream = response.body as unknown as Readable;
  return new Promise<Buffer>((resolve, reject) => {
    const chunks: Buffer[] = [];
    let size = 0;
    let settled = false;
    const finish = (error: unknown, value?: Buffer) => {
      if (settled) return;
      settled = true;
      signal?.removeEventListener('abort', onAbort);
      stream.off('data', onData);
      stream.off('end', onEnd);
      stream.off('error', onError);
      stream.off('close', onClose);
      stream.on('error', ignore);
      if (error instanceof BodyOverCap) {
        stream.pause();
        reject(error);
      } else if (error !== undefined) {
        stream.destroy();
        reject(error);
      } else resolve(value!);
    };
    const onData = (chunk: Buffer) => {
      size += chunk.length;
      chunks.push(chunk);
      if (size > maxBytes) finish(new BodyOverCap(response, Buffer.concat(chunks, size)));
    };
    const onEnd = () => finish(undefined, chunks.length === 1 ? chunks[0]! : Buffer.concat(chunks, size));
    const onError = (error: unknown) => finish(error ?? new Error('the body failed'));
    const onClose = () => finish(new Error('the body closed before its end'));
    const onAbort = () => finish(signal!.reason);
    if (signal?.aborted) return finish(signal.reason);
    signal?.addEventListener('abort', onAbort, { once: true });
    stream.on('data', onData);
    stream.once('end', onEnd);
    stream.once('error', onError);
    stream.once('close', onClose);
  });
}

/** undici's consumers on any readable (they read it to the end). */
export function withConsumers(stream: Readable): BufferedBody {
  const body = stream as BufferedBody;
  const all = async () => {
    const chunks: Buffer[] = [];
    for await (const chunk of stream) chunks.push(chunk as Buffer);
    return Buffer.concat(chunks);
  };
  body.json = async () => JSON.parse((await all()).toString('utf8')) as unknown;
  body.text = async () => (await all()).toString('utf8');
  body.arrayBuffer = async () => {
    const b = await all();
    return b.buffer.slice(b.byteOffset, b.byteOffset + b.byteLength) as ArrayBuffer;
  };
  body.bytes = async () => new Uint8Array(await all());
  body.blob = async () => new Blob([await all()]);
  body.dump = async () => {
    stream.destroy();
  };
  return body;
}
