// Responses: checking one against its operation (status, headers, JSON body), and taking it from the
// raw Node response however the framework writes it. Express's res.json/res.send/res.end, Koa's
// ctx.body (a string, a buffer, an object, a stream) and a hand-written stream all end in
// `res.write`/`res.end` on Node's ServerResponse, so watching those two (and `writeHead`, which both
// frameworks may call) is the one framework-neutral place to see every body; no adapter changes.
import type { OutgoingHttpHeaders, ServerResponse } from 'node:http';
import { brotliDecompressSync, gunzipSync, inflateSync } from 'node:zlib';
import { bodyKind, mediaRange, type Operation, pickMedia, type ResponseSpec } from './compile.js';
import { readHeader } from './parameters.js';
import type { ErrorObject } from './schemas.js';

/**
 * One thing wrong with a request or a response. `in` says where: a parameter location, `body`, or
 * for responses `status`, `header` and `body`; `name` names a parameter or header, `pointer` a place
 * in a body (RFC 6901, `''` for the whole body); `keyword` is the JSON Schema keyword (or `required`,
 * `unknown`, `parse`, `content-type`, `status`) that failed.
 */
export interface ValidationIssue {
  readonly in: 'path' | 'query' | 'header' | 'cookie' | 'body' | 'status';
  readonly name?: string;
  readonly pointer?: string;
  readonly keyword: string;
  readonly detail: string;
}

/** The contract field an issue names, as `/migration` counts it: `body:/user/email`, `status:418`. */
export function contractField(issue: ValidationIssue): string {
  return `${issue.in}:${issue.pointer !== undefined && issue.pointer !== '' ? issue.pointer : (issue.name ?? '')}`;
}

/** A response as written: status, headers (lower-case names), and its body when it was kept whole. */
export interface ResponseSample {
  readonly status: number;
  readonly headers: OutgoingHttpHeaders | Record<string, string | string[] | number | undefined>;
  /** undefined when the body was larger than the cap (then only status and headers are checked). */
  readonly body: Buffer | undefined;
  /** HEAD requests and 204/304 answers have no body to check. */
  readonly bodiless?: boolean;
}

/** ajv's first error as an issue on a body (pointer) or a parameter group (name). */
export function issueFromAjv(
  error: ErrorObject,
  where: ValidationIssue['in'],
  group: boolean,
): ValidationIssue {
  const params = error.params as Record<string, unknown>;
  let path = error.instancePath;
  if (error.keyword === 'required' && typeof params.missingProperty === 'string')
    path = `${path}/${params.missingProperty.replaceAll('~', '~0').replaceAll('/', '~1')}`;
  if (error.keyword === 'additionalProperties' && typeof params.additionalProperty === 'string')
    path = `${path}/${params.additionalProperty.replaceAll('~', '~0').replaceAll('/', '~1')}`;
  const message = describeAjv(error);
  if (group) {
    // A parameter group is one object keyed by parameter: the first segment is the parameter's name.
    const segments = path.split('/').slice(1);
    const name = (segments[0] ?? '').replaceAll('~1', '/').replaceAll('~0', '~');
    const rest = segments.slice(1);
    return {
      in: where,
      name,
      ...(rest.length > 0 ? { pointer: `/${rest.join('/')}` } : {}),
      keyword: error.keyword,
      detail: error.keyword === 'required' ? 'is required' : message,
    };
  }
  return { in: where, pointer: path, keyword: error.keyword, detail: message };
}

function describeAjv(error: ErrorObject): string {
  const params = error.params as Record<string, unknown>;
  switch (error.keyword) {
    case 'required':
      return `must have property '${String(params.missingProperty)}'`;
    case 'additionalProperties':
      return `property '${String(params.additionalProperty)}' is not allowed`;
    case 'enum':
      return `must be one of ${(params.allowedValues as unknown[]).map((v) => JSON.stringify(v)).join(', ')}`;
    default:
      return error.message ?? `fails '${error.keyword}'`;
  }
}

/** The documented response for a status: exact code, then its range (`2XX`), then `default`. */
export function responseFor(operation: Operation, status: number): ResponseSpec | undefined {
  const responses = operation.responses;
  return (
    responses.get(String(status)) ??
    responses.get(`${Math.floor(status / 100)}XX`) ??
    responses.get('DEFAULT')
  );
}

const DECODERS: Record<string, (body: Buffer, options: { maxOutputLength: number }) => Buffer> = {
  gzip: gunzipSync,
  'x-gzip': gunzipSync,
  deflate: inflateSync,
  br: brotliDecompressSync,
};

const headerText = (value: unknown): string | undefined =>
  value === undefined ? undefined : Array.isArray(value) ? value.join(', ') : String(value);

/**
 * Checks a response against the operation; returns at most `max` issues (none when it conforms).
 * Bodies are decoded when they carry a content coding zlib reads (a compression middleware mounted
 * inside the validator), up to `cap` bytes.
 */
export function checkResponse(
  operation: Operation,
  sample: ResponseSample,
  max: number,
  cap: number,
): ValidationIssue[] {
  const issues: ValidationIssue[] = [];
  const spec = responseFor(operation, sample.status);
  if (spec === undefined) {
    issues.push({
      in: 'status',
      name: String(sample.status),
      keyword: 'status',
      detail: `status ${sample.status} is not documented for ${operation.method} ${operation.template}`,
    });
    return issues;
  }
  const headers = sample.headers as Record<string, unknown>;
  if (spec.headers?.validate !== undefined) {
    const data: Record<string, unknown> = {};
    for (const h of spec.headers.specs) {
      const value = readHeader(headerText(headers[h.key]), h);
      if (value !== undefined) data[h.key] = value;
    }
    if (!spec.headers.validate(data)) {
      const first = spec.headers.validate.errors?.[0];
      if (first !== undefined) {
        const issue = issueFromAjv(first, 'header', true);
        const declared = spec.headers.specs.find((s) => s.key === issue.name);
        issues.push({ ...issue, name: declared?.name ?? issue.name ?? '' });
      }
    }
  }
  if (sample.bodiless === true || issues.length >= max) return issues.slice(0, max);
  const body = sample.body;
  if (body === undefined) return issues;
  if (spec.media.length === 0) {
    if (body.length > 0)
      issues.push({
        in: 'body',
        pointer: '',
        keyword: 'content',
        detail: `status ${sample.status} is documented without a body`,
      });
    return issues.slice(0, max);
  }
  const contentType = headerText(headers['content-type']);
  if (contentType === undefined) {
    if (body.length > 0)
      issues.push({
        in: 'header',
        name: 'Content-Type',
        keyword: 'content-type',
        detail: 'the response has a body but no Content-Type',
      });
    return issues.slice(0, max);
  }
  const range = mediaRange(contentType);
  const media = pickMedia(spec.media, range);
  if (media === undefined) {
    issues.push({
      in: 'header',
      name: 'Content-Type',
      keyword: 'content-type',
      detail: `'${range}' is not documented for status ${sample.status} (documented: ${spec.media.map((m) => m.range).join(', ')})`,
    });
    return issues.slice(0, max);
  }
  if (media.validate === undefined) return issues;
  let bytes = body;
  const coding = headerText(headers['content-encoding'])?.trim().toLowerCase();
  if (coding !== undefined && coding !== 'identity') {
    const decode = DECODERS[coding];
    if (decode === undefined) return issues;
    try {
      bytes = decode(body, { maxOutputLength: cap });
    } catch {
      return issues;
    }
  }
  const kind = bodyKind(range);
  let value: unknown;
  if (kind === 'json') {
    if (bytes.length === 0) {
      issues.push({ in: 'body', pointer: '', keyword: 'required', detail: 'the response has no body' });
      return issues.slice(0, max);
    }
    try {
      value = JSON.parse(bytes.toString('utf8'));
    } catch {
      issues.push({ in: 'body', pointer: '', keyword: 'parse', detail: 'the body is not valid JSON' });
      return issues.slice(0, max);
    }
  } else if (kind === 'text') value = bytes.toString('utf8');
  else return issues;
  if (!media.validate(value)) {
    const first = media.validate.errors?.[0];
    if (first !== undefined) issues.push(issueFromAjv(first, 'body', false));
  }
  return issues.slice(0, max);
}

// ---------------------------------------------------------------------------------------------
// Taking the response from Node's ServerResponse
// ---------------------------------------------------------------------------------------------

type WriteCallback = (error?: Error | null) => void;
type Chunk = string | Uint8Array;

function toBuffer(chunk: Chunk, encoding: unknown): Buffer {
  if (typeof chunk === 'string')
    return Buffer.from(chunk, typeof encoding === 'string' ? (encoding as BufferEncoding) : 'utf8');
  // A copy: the application may reuse its buffer once write() returns.
  return Buffer.from(chunk.buffer.slice(chunk.byteOffset, chunk.byteOffset + chunk.byteLength));
}

const isChunk = (value: unknown): value is Chunk => typeof value === 'string' || value instanceof Uint8Array;

/**
 * Watches what is written (report mode): the response goes out untouched while up to `cap` bytes of
 * it are copied; `done` gets the sample once `end()` has been called (body undefined past the cap).
 */
export function watchResponse(
  res: ServerResponse,
  cap: number,
  done: (sample: ResponseSample) => void,
): void {
  const chunks: Buffer[] = [];
  let size = 0;
  let over = false;
  const take = (chunk: unknown, encoding: unknown) => {
    if (over || !isChunk(chunk)) return;
    const bytes = toBuffer(chunk, encoding);
    size += bytes.length;
    if (size > cap) {
      over = true;
      chunks.length = 0;
      return;
    }
    chunks.push(bytes);
  };
  const write = res.write;
  const end = res.end;
  res.write = function watched(this: ServerResponse, chunk: unknown, ...rest: unknown[]) {
    take(chunk, rest[0]);
    return (write as (...args: unknown[]) => boolean).call(this, chunk, ...rest);
  } as ServerResponse['write'];
  res.end = function watched(this: ServerResponse, chunk?: unknown, ...rest: unknown[]) {
    take(chunk, rest[0]);
    res.write = write;
    res.end = end;
    const result = (end as (...args: unknown[]) => ServerResponse).call(this, chunk, ...rest);
    done({
      status: res.statusCode,
      headers: res.getHeaders(),
      body: over ? undefined : chunks.length === 1 ? chunks[0]! : Buffer.concat(chunks, size),
    });
    return result;
  } as ServerResponse['end'];
}

/** What {@link holdResponse}'s judge decides once the response is complete. */
export type Verdict =
  /** Send it as it is. */
  | undefined
  /** Send this instead (status, headers and body replace the application's). */
  | { status: number; headers: Readonly<Record<string, string>>; body: Buffer };

/**
 * Holds the response (enforce mode, mocks for unanswered operations): nothing reaches the socket
 * until `end()`, when `judge` sees the complete sample and may replace it. Past `cap` bytes the
 * response is released as it is and `judge` is told so (`body: undefined`) after the fact. A
 * `flushHeaders()` (server-sent events) releases it too: such a stream is never held.
 */
export function holdResponse(
  res: ServerResponse,
  cap: number,
  judge: (sample: ResponseSample, final: boolean) => Verdict,
): void {
  const originalWrite = res.write;
  const originalEnd = res.end;
  const originalWriteHead = res.writeHead;
  const originalFlush = res.flushHeaders;
  const chunks: Buffer[] = [];
  const callbacks: WriteCallback[] = [];
  let size = 0;
  let released = false;

  const restore = () => {
    res.write = originalWrite;
    res.end = originalEnd;
    // writeHead may have been replaced since (core's onResponse hooks): only undo our own.
    if (res.writeHead === heldWriteHead) res.writeHead = originalWriteHead;
    res.flushHeaders = originalFlush;
  };
  /** Lets the held bytes go as they are and stops holding. */
  const release = () => {
    released = true;
    restore();
    for (const chunk of chunks) (originalWrite as (chunk: Buffer) => boolean).call(res, chunk);
    chunks.length = 0;
    for (const cb of callbacks.splice(0)) process.nextTick(cb);
  };

  // Status and headers given to writeHead are kept on the response (statusCode, setHeader) until the
  // body is judged; the real writeHead runs when the response is released or replaced.
  const heldWriteHead = function heldWriteHead(this: ServerResponse, status: number, ...rest: unknown[]) {
    if (released)
      return (originalWriteHead as (...a: unknown[]) => ServerResponse).call(this, status, ...rest);
    this.statusCode = status;
    let headers = rest[0];
    if (typeof headers === 'string') {
      this.statusMessage = headers;
      headers = rest[1];
    }
    if (Array.isArray(headers)) {
      // [name, value, name, value] or [[name, value], …]
      if (Array.isArray(headers[0])) for (const [n, v] of headers as [string, string][]) this.setHeader(n, v);
      else
        for (let i = 0; i + 1 < headers.length; i += 2)
          this.setHeader(String(headers[i]), headers[i + 1] as string);
    } else if (typeof headers === 'object' && headers !== null) {
      for (const [n, v] of Object.entries(headers)) if (v !== undefined) this.setHeader(n, v as string);
    }
    return this;
  } as ServerResponse['writeHead'];

  res.writeHead = heldWriteHead;
  res.flushHeaders = function flushHeaders(this: ServerResponse) {
    if (!released) {
      release();
      judge({ status: res.statusCode, headers: res.getHeaders(), body: undefined }, false);
    }
    return originalFlush.call(this);
  };
  res.write = function held(this: ServerResponse, chunk: unknown, ...rest: unknown[]) {
    if (released) return (originalWrite as (...a: unknown[]) => boolean).call(this, chunk, ...rest);
    const cb = rest.find((r): r is WriteCallback => typeof r === 'function');
    if (isChunk(chunk)) {
      const bytes = toBuffer(chunk, rest[0]);
      size += bytes.length;
      chunks.push(bytes);
    }
    if (cb !== undefined) callbacks.push(cb);
    if (size > cap) {
      release();
      judge({ status: res.statusCode, headers: res.getHeaders(), body: undefined }, false);
    }
    return true;
  } as ServerResponse['write'];
  res.end = function held(this: ServerResponse, chunk?: unknown, ...rest: unknown[]) {
    if (released) return (originalEnd as (...a: unknown[]) => ServerResponse).call(this, chunk, ...rest);
    const cb = [chunk, ...rest].find((r): r is WriteCallback => typeof r === 'function');
    if (isChunk(chunk)) {
      const bytes = toBuffer(chunk, rest[0]);
      size += bytes.length;
      chunks.push(bytes);
    }
    const body = size > cap ? undefined : chunks.length === 1 ? chunks[0]! : Buffer.concat(chunks, size);
    const verdict = judge({ status: res.statusCode, headers: res.getHeaders(), body }, true);
    released = true;
    restore();
    for (const pending of callbacks.splice(0)) process.nextTick(pending);
    if (verdict === undefined) {
      // One end() with the whole body: Node sets Content-Length itself unless the application did.
      return (originalEnd as (...a: unknown[]) => ServerResponse).call(
        this,
        body ?? Buffer.concat(chunks),
        cb,
      );
    }
    for (const name of this.getHeaderNames()) {
      if (
        name.startsWith('content-') ||
        name === 'etag' ||
        name === 'last-modified' ||
        name === 'transfer-encoding'
      )
        this.removeHeader(name);
    }
    this.statusCode = verdict.status;
    this.statusMessage = '';
    for (const [name, value] of Object.entries(verdict.headers)) this.setHeader(name, value);
    return (originalEnd as (...a: unknown[]) => ServerResponse).call(this, verdict.body, cb);
  } as ServerResponse['end'];
}
