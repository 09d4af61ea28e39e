// Capturing responses for comparison: the local handler's (by watching what it writes, without
// delaying it) and a service's (reading its body up to a cap).
import type { ServerResponse } from 'node:http';
import type { Readable } from 'node:stream';
import { brotliDecompressSync, gunzipSync, inflateSync } from 'node:zlib';
import type { ResponseSample } from './diff.js';

/** Watches what the application writes to `res`, keeping at most `cap` bytes of body. */
export function captureResponse(res: ServerResponse, cap: number): () => ResponseSample {
  const chunks: Buffer[] = [];
  let size = 0;
  let truncated = false;
  const take = (chunk: unknown, encoding: unknown) => {
    if (chunk === undefined || chunk === null || typeof chunk === 'function' || truncated) return;
    let bytes: Buffer;
    if (typeof chunk === 'string')
      bytes = Buffer.from(chunk, typeof encoding === 'string' ? (encoding as BufferEncoding) : 'utf8');
    else if (chunk instanceof Uint8Array)
      bytes = Buffer.from(chunk.buffer, chunk.byteOffset, chunk.byteLength);
    else return;
    if (size + bytes.length > cap) {
      truncated = true;
      chunks.length = 0;
      return;
    }
    // A copy: the application may reuse its buffer once write() returns.
    chunks.push(Buffer.from(bytes));
    size += bytes.length;
  };
  const write = res.write;
  const end = res.end;
  res.write = function captured(this: ServerResponse, chunk: unknown, ...rest: unknown[]) {
    take(chunk, rest[0]);
    return (write as (...args: unknown[]) => boolean).call(this, chunk, ...rest);
  } as ServerResponse['write'];
  res.end = function captured(this: ServerResponse, chunk?: unknown, ...rest: unknown[]) {
    take(chunk, rest[0]);
    return (end as (...args: unknown[]) => ServerResponse).call(this, chunk, ...rest);
  } as ServerResponse['end'];
  return () => ({
    status: res.statusCode,
    headers: res.getHeaders() as ResponseSample['headers'],
    body: truncated ? undefined : Buffer.concat(chunks, size),
    truncated,
  });
}

/** Reads a body up to `cap` bytes; past the cap the rest is discarded and the sample is truncated. */
export async function readCapped(
  body: Readable,
  cap: number,
): Promise<{ body: Buffer | undefined; truncated: boolean }> {
  const chunks: Buffer[] = [];
  let size = 0;
  for await (const chunk of body) {
    const bytes = chunk as Buffer;
    size += bytes.length;
    if (size > cap) {
      body.destroy();
      return { body: undefined, truncated: true };
    }
    chunks.push(bytes);
  }
  return { body: Buffer.concat(chunks, size), truncated: false };
}

type Decoder = (body: Buffer, options: { maxOutputLength: number }) => Buffer;
const DECODERS: Record<string, Decoder> = {
  gzip: gunzipSync,
  'x-gzip': gunzipSync,
  deflate: inflateSync,
  br: brotliDecompressSync,
};

/**
 * The sample with its body decoded when it carries one content coding zlib reads (gzip, deflate, br):
 * a local app behind compression and a service that does not compress (or compresses otherwise) must
 * compare equal when what they say is. Headers are left as they are. A decoded body over `cap` makes
 * the sample truncated (not compared); a body that does not decode, or another coding, stays as bytes.
 */
export function decodeSample(sample: ResponseSample, cap: number): ResponseSample {
  const header = sample.headers['content-encoding'];
  if (typeof header !== 'string' || sample.body === undefined || sample.body.length === 0) return sample;
  const decode = DECODERS[header.trim().toLowerCase()];
  if (decode === undefined) return sample;
  try {
    return { ...sample, body: decode(sample.body, { maxOutputLength: cap }) };
  } catch (error) {
    if ((error as { code?: unknown }).code === 'ERR_BUFFER_TOO_LARGE')
      return { ...sample, body: undefined, truncated: true };
    // Not what its header says: the bytes are compared, and differ from a well-formed answer.
    return sample;
  }
}
