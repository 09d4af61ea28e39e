// Reading a request body ahead of the application without taking it away: shadow copies and local
// fallbacks need the bytes twice. No library does this for a live IncomingMessage (they consume the
// stream), so it is written here on public stream APIs only: `read(n)` with an explicit length never
// ends the stream, so the bytes can be `unshift`ed back and the handler reads the body as if nothing
// had happened, 'end' included.
import type { IncomingMessage } from 'node:http';

/** What {@link peekBody} read. */
export interface PeekedBody {
  /** The bytes read, at most `limit` of them unless `complete`. */
  readonly bytes: Buffer;
  /** True when `bytes` is the whole body; false when the limit was reached first (the rest is unread). */
  readonly complete: boolean;
}

/** Whether the request announces a body (a length other than 0, or chunked transfer coding). */
export function hasBody(req: IncomingMessage): boolean {
  const length = req.headers['content-length'];
  if (length !== undefined) return length !== '0';
  return req.headers['transfer-encoding'] !== undefined;
}

/**
 * Reads the request body up to `limit` bytes (the whole body when it is shorter) and leaves the stream
 * as it found it: call {@link restoreBody} with the result before the application reads. Rejects when
 * the client goes away or the body fails.
 */
export function peekBody(req: IncomingMessage, limit: number): Promise<PeekedBody> {
  // An empty body that has already arrived: listening for 'readable' would end the stream (Node reads
  // 0 bytes and emits 'end'), and the application must still see it end.
  if (!hasBody(req) || req.readableEnded || (req.complete && req.readableLength === 0))
    return Promise.resolve({ bytes: Buffer.alloc(0), complete: true });
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    let size = 0;
    const finish = (complete: boolean) => {
      req.off('readable', onReadable);
      req.off('error', onError);
      req.off('close', onClose);
      resolve({ bytes: chunks.length === 1 ? chunks[0]! : Buffer.concat(chunks, size), complete });
    };
    const onReadable = () => {
      for (;;) {
        const available = req.readableLength;
        if (available === 0) break;
        // An explicit length: read(undefined) at the end of the data would end the stream.
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
      req.off('readable', onReadable);
      req.off('error', onError);
      req.off('close', onClose);
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

/**
 * Puts peeked bytes back in front of the stream, so the application reads the whole body. The stream
 * returns to its initial (non-flowing, no listener) mode, as a body parser expects it.
 */
export function restoreBody(req: IncomingMessage, peeked: PeekedBody): void {
  if (peeked.bytes.length > 0) req.unshift(peeked.bytes);
}

/**
 * The body to send upstream after a peek: the bytes when they are the whole body (replayable, so the
 * mesh client may retry), else the bytes followed by the rest of the stream.
 */
export function upstreamBody(
  req: IncomingMessage,
  peeked: PeekedBody,
): Buffer | AsyncIterable<Buffer> | undefined {
  if (peeked.complete) return peeked.bytes.length === 0 ? undefined : peeked.bytes;
  return (async function* rest() {
    yield peeked.bytes;
    for await (const chunk of req) yield chunk as Buffer;
  })();
}
