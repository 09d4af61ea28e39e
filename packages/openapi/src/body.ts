// Reading a request body for validation without taking it from the application: the bytes are read
// from the raw Node request with explicit-length `read(n)` calls (which never end the stream) and put
// back with `unshift`, so express.json(), @koa/bodyparser, multer or anything else that reads the
// stream afterwards sees the whole body and its 'end' as if nothing had happened. The same technique
// as @gatehousejs/routes' peekBody (shadow copies), with a Content-Length check first so an oversized
// body is refused without reading a byte. Then parsing by media type: JSON, form-urlencoded and
// multipart (@fastify/busboy).
import type { IncomingMessage } from 'node:http';
import { Readable } from 'node:stream';
import { Busboy, type BusboyInstance } from '@fastify/busboy';

/** The body read ahead of the application. */
export interface ReadBody {
  readonly bytes: Buffer;
  /** False when the body is larger than the limit (the bytes are then a prefix, already put back). */
  readonly complete: boolean;
}

/** Whether the request announces a body (a length other than 0, or chunked transfer coding). */
export function announcesBody(req: IncomingMessage): boolean {
  const length = req.headers['content-length'];
  if (length !== undefined) return length !== '0';
  return req.headers['transfer-encoding'] !== undefined;
}

/** The declared length, or undefined (chunked, or malformed: Node refuses those before us). */
export function declaredLength(req: IncomingMessage): number | undefined {
  const length = req.headers['content-length'];
  if (length === undefined) return undefined;
  const n = Number(length);
  return Number.isSafeInteger(n) && n >= 0 ? n : undefined;
}

const EMPTY: ReadBody = { bytes: Buffer.alloc(0), complete: true };
const SETTLED = Promise.resolve();

/**
 * Reads up to `limit` bytes of the body and puts them back in front of the stream (`replay`, the
 * default). Resolves with `complete: false` as soon as more than `limit` bytes arrived; rejects when
 * the client goes away. Without `replay` a complete body is consumed instead: the promise resolves
 * once the stream has ended, so whatever runs next sees a finished request.
 */
export function readBody(req: IncomingMessage, limit: number, replay = true): Promise<ReadBody> {
  // An empty body that already arrived: a 'readable' listener would end the stream (Node reads 0
  // bytes and emits 'end') before the application could.
  if (!announcesBody(req) || req.readableEnded || (req.complete && req.readableLength === 0))
    return Promise.resolve(EMPTY);
  // A middleware runs while Node's parser is still inside the packet that held the headers; a small
  // body sent with them is pushed by the parser's next callback, and microtasks run right after it.
  // So one microtask later such a body is usually waiting in the stream's buffer, and is taken (and
  // put back) at once, without the 'readable' listener, its ticks and the three listeners of the
  // general path. A body sent after the headers (undici's fetch writes them separately) takes that
  // general path.
  // Measured with callgrind on the express-openapi benchmark's POST/PUT requests: see the README.
  return SETTLED.then(() => takeArrived(req, limit, replay) ?? awaitBody(req, limit, replay));
}

/** The body, when all of it has arrived and nobody has read any of it; otherwise undefined. */
function takeArrived(
  req: IncomingMessage,
  limit: number,
  replay: boolean,
): ReadBody | Promise<ReadBody> | undefined {
  // Flowing: someone before us reads the body; readableEnded: the application already had it.
  if (req.readableEnded || req.readableFlowing === true) return undefined;
  const available = req.readableLength;
  // With a Content-Length, all of it is there once that many bytes are (Node's parser never pushes
  // more): `complete` is only set by the parser's next callback, and microtasks run in between.
  const length = declaredLength(req);
  if (length === undefined ? !req.complete : available !== length) return undefined;
  if (available === 0) return EMPTY;
  // An explicit length: read() without one at the end of the data would end the stream.
  const bytes = req.read(available) as Buffer | null;
  if (bytes === null) return undefined;
  const complete = bytes.length <= limit;
  if (replay || !complete) {
    req.unshift(bytes);
    return { bytes, complete };
  }
  return consumed(req, { bytes, complete });
}

/**
 * Resolves once the stream has emitted 'end'. Every byte has been read; resume() lets the stream
 * end as soon as the parser has pushed the end of the body (which may still be to come: see
 * takeArrived).
 */
function consumed(req: IncomingMessage, read: ReadBody): Promise<ReadBody> {
  return new Promise((resolve) => {
    req.once('end', () => resolve(read));
    req.resume();
  });
}

/** The general path: the body arrives over several packets (or later); read it as it comes. */
function awaitBody(req: IncomingMessage, limit: number, replay: boolean): Promise<ReadBody> {
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    let size = 0;
    const detach = () => {
      req.off('readable', onReadable);
      req.off('error', onError);
      req.off('close', onClose);
    };
    const finish = (complete: boolean) => {
      detach();
      const bytes = chunks.length === 1 ? chunks[0]! : Buffer.concat(chunks, size);
      if (replay || !complete) {
        if (bytes.length > 0) req.unshift(bytes);
        resolve({ bytes, complete });
        return;
      }
      resolve(consumed(req, { bytes, complete }));
    };
    const onReadable = () => {
      for (;;) {
        const available = req.readableLength;
        if (available === 0) break;
        // An explicit length: read() without one at the end of the data would end the stream.
        const chunk = req.read(available) as Buffer | null;
        if (chunk === null) break;
        chunks.push(chunk);
        size += chunk.length;
        if (size > limit) {
          finish(false);
          return;
        }
      }
      // `complete` is set before the parser pushes the end of the body.
      if (req.complete) finish(true);
    };
    const onError = (error: Error) => {
      detach();
      reject(error);
    };
    const onClose = () => {
      if (!req.complete) onError(new Error('the client closed the connection while sending the body'));
    };
    req.on('readable', onReadable);
    req.once('error', onError);
    req.once('close', onClose);
  });
}

/** Form fields (`a=1&a=2&b=3`): repeated names collect into arrays where the schema has an array. */
export function parseForm(bytes: Buffer, arrays: ReadonlySet<string>): Record<string, unknown> {
  const out: Record<string, unknown> = Object.create(null);
  for (const [name, value] of new URLSearchParams(bytes.toString('utf8'))) addField(out, name, value, arrays);
  return out;
}

function addField(
  out: Record<string, unknown>,
  name: string,
  value: string,
  arrays: ReadonlySet<string>,
): void {
  const existing = out[name];
  if (arrays.has(name)) {
    if (Array.isArray(existing)) existing.push(value);
    else out[name] = [value];
  } else if (existing === undefined) out[name] = value;
  else if (Array.isArray(existing)) existing.push(value);
  // A second value of a scalar field: an array, which the schema's type then refuses.
  else out[name] = [existing, value];
}

/** What a multipart body held: fields as text, files as placeholders (their content is not kept). */
export interface Multipart {
  readonly fields: Record<string, unknown>;
  readonly files: number;
}

/** Stands for an uploaded file in the validated object: `format: binary` strings accept it. */
export const FILE_PLACEHOLDER = '<file>';

/**
 * Parses a multipart/form-data body already in memory (read up to `maxBodyBytes`). At most `maxParts`
 * parts; a malformed body, or more parts, rejects.
 */
export function parseMultipart(
  bytes: Buffer,
  contentType: string,
  arrays: ReadonlySet<string>,
  maxParts: number,
): Promise<Multipart> {
  return new Promise((resolve, reject) => {
    let parser: BusboyInstance;
    try {
      parser = Busboy({
        headers: { 'content-type': contentType },
        limits: { parts: maxParts, fields: maxParts, files: maxParts, fieldSize: bytes.length + 1 },
      });
    } catch (error) {
      reject(error);
      return;
    }
    const fields: Record<string, unknown> = Object.create(null);
    let files = 0;
    let limited = false;
    parser.on('field', (name: string, value: string) => addField(fields, name, value, arrays));
    parser.on('file', (name: string, stream: NodeJS.ReadableStream) => {
      files++;
      addField(fields, name, FILE_PLACEHOLDER, arrays);
      stream.resume();
    });
    const limit = () => {
      limited = true;
    };
    parser.on('partsLimit', limit);
    parser.on('filesLimit', limit);
    parser.on('fieldsLimit', limit);
    parser.on('error', (error: Error) => reject(error));
    parser.on('finish', () => {
      if (limited) reject(new Error(`more than ${maxParts} parts`));
      else resolve({ fields, files });
    });
    Readable.from([bytes]).pipe(parser);
  });
}
