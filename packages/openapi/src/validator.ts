// The validator: a neutral middleware that finds each request's operation in the compiled document,
// validates its parameters and body, and watches (or holds) its response; plus the reference page,
// mocks, and the check the routes' contract guard runs on services' responses.
import { channel } from 'node:diagnostics_channel';
import { EventEmitter } from 'node:events';
import {
  ConfigError,
  DEFAULT_PATH_POLICY,
  type Exchange,
  isGatehouseError,
  MethodNotAllowed,
  type Middleware,
  type PathPolicy,
  problem,
  type Reply,
  type RequestResult,
} from '@gatehousejs/core';
import { type Counter, metrics } from '@opentelemetry/api';
import { announcesBody, declaredLength, parseForm, parseMultipart, readBody } from './body.js';
import {
  bodyKind,
  type CompiledDocument,
  compileDocument,
  mediaRange,
  type Operation,
  type ParamGroup,
  pickMedia,
} from './compile.js';
import { type LoadedDocument, loadDocument } from './document.js';
import {
  BodyMalformed,
  BodyTooLarge,
  NotLoaded,
  RequestInvalid,
  ResponseInvalid,
  UnknownOperation,
  UnsupportedMediaType,
} from './errors.js';
import { type OpenApiOptions, type ResolvedOptions, resolveOptions } from './options.js';
import { parseCookies, type Raw, readCookie, readHeader, readPath, readQuery } from './parameters.js';
import { createReference, type ReferenceSite } from './reference.js';
import {
  checkResponse,
  holdResponse,
  issueFromAjv,
  type ResponseSample,
  type ValidationIssue,
  watchResponse,
} from './response.js';
import { OperationRouter } from './router.js';
import type { Validator } from './schemas.js';

/** What the validator leaves on the exchange for the application (`exchange.state.openapi`). */
export interface OpenApiRequest {
  /** `operationId`, or `METHOD /template` when the operation has none. */
  readonly operation: string;
  /** The path template as written in the document (`/articles/{slug}`). */
  readonly template: string;
  /** Parameters after OpenAPI deserialization and coercion to their schemas' types, by location. */
  readonly params: {
    readonly path: Record<string, unknown>;
    readonly query: Record<string, unknown>;
    readonly header: Record<string, unknown>;
    readonly cookie: Record<string, unknown>;
  };
  /**
   * The parsed body (JSON value, form fields, multipart fields with files as `'<file>'`), when the
   * operation has one and it was read. The raw stream is left for the application's own parser too.
   */
  readonly body?: unknown;
}

declare module '@gatehousejs/core' {
  interface ExchangeState {
    /** The OpenAPI operation of the request and its validated values (set by `gw.validate()`). */
    openapi?: OpenApiRequest;
  }
}

/** A response that broke the contract, as events and the channel carry it. */
export interface ResponseViolation {
  readonly validator: string;
  readonly operation: string;
  readonly method: string;
  readonly path: string;
  readonly status: number;
  readonly requestId: string;
  readonly issues: readonly ValidationIssue[];
  /** `'report'` (sent as it was) or `'enforce'` (replaced by a 500 problem). */
  readonly mode: 'report' | 'enforce';
}

/** Counts since start, for `stats()`. */
export interface OpenApiStats {
  readonly requests: { validated: number; rejected: number };
  readonly responses: { checked: number; invalid: number; skipped: number };
  readonly mocked: number;
}

/** What the validator needs from the gateway around it (all optional for standalone use). */
export interface OpenApiContext {
  /** How the gateway normalizes and compares paths (case sensitivity). @default DEFAULT_PATH_POLICY */
  readonly pathPolicy?: Pick<PathPolicy, 'caseSensitive' | 'encodedSlashes'>;
}

const responseChannel = channel('gatehouse:openapi:response-invalid');

interface Ready {
  readonly compiled: CompiledDocument;
  readonly router: OperationRouter;
  readonly reference: ReferenceSite | undefined;
  readonly basePaths: readonly string[];
}

const EMPTY: Record<string, unknown> = Object.freeze({}) as Record<string, unknown>;

/**
 * Request and response validation against an OpenAPI 3.0/3.1 document. Loading starts when it is
 * made; {@link start} (which `gw.serve()` / `gw.start()` call) resolves when every validator is
 * compiled, or rejects with a ConfigError listing every problem of the document. A request that
 * arrives earlier waits for the load.
 *
 * Events: `'response-invalid'` ({@link ResponseViolation}).
 */
export class OpenApiValidator extends EventEmitter implements Middleware {
  readonly name: string;
  readonly options: ResolvedOptions;
  readonly #policy: Pick<PathPolicy, 'caseSensitive' | 'encodedSlashes'>;
  readonly #loading: Promise<Ready>;
  #ready: Ready | undefined;
  #failure: unknown;
  #startedAt = 0;
  #startMs = 0;
  readonly #stats = {
    requests: { validated: 0, rejected: 0 },
    responses: { checked: 0, invalid: 0, skipped: 0 },
    mocked: 0,
  };
  #violations: Counter | undefined;

  constructor(options: OpenApiOptions, context: OpenApiContext = {}) {
    super();
    this.options = resolveOptions(options);
    this.name = this.options.name;
    this.#policy = context.pathPolicy ?? DEFAULT_PATH_POLICY;
    this.#startedAt = performance.now();
    this.#loading = this.#load();
    // Kept for start() and requests; never an unhandled rejection.
    this.#loading.catch((error: unknown) => {
      this.#failure = error;
    });
  }

  async #load(): Promise<Ready> {
    const loaded: LoadedDocument = await loadDocument(this.options.document);
    const compiled = compileDocument(loaded, {
      responses: this.options.responses.mode !== 'off' || this.options.contractGuard,
    });
    const basePaths = this.options.basePath ?? serverPaths(loaded.document);
    const router = new OperationRouter(compiled.paths, basePaths, this.#policy);
    const problems = [...compiled.problems, ...router.problems];
    if (problems.length > 0) {
      throw new ConfigError(
        problems.slice(0, 100).map((p) => ({ path: `${loaded.origin} ${p.pointer}`, message: p.message })),
      );
    }
    const reference =
      this.options.reference === undefined
        ? undefined
        : createReference(this.options.reference, loaded.document);
    const ready: Ready = { compiled, router, reference, basePaths };
    this.#ready = ready;
    this.#startMs = performance.now() - this.#startedAt;
    return ready;
  }

  /** Resolves once the document is loaded and every validator compiled; rejects with a ConfigError. */
  async start(): Promise<void> {
    await this.#loading;
  }

  /** Whether the document is loaded and compiled. */
  get ready(): boolean {
    return this.#ready !== undefined;
  }

  /** What was compiled, once ready: operations, validators, base paths, and how long it took. */
  describe():
    | {
        operations: number;
        validators: number;
        basePaths: readonly string[];
        startMs: number;
        version: string;
      }
    | undefined {
    const r = this.#ready;
    if (r === undefined) return undefined;
    return {
      operations: r.compiled.operations.length,
      validators: r.compiled.validators,
      basePaths: r.basePaths,
      startMs: Math.round(this.#startMs * 10) / 10,
      version: r.compiled.loaded.version,
    };
  }

  /** Counts since start. */
  stats(): OpenApiStats {
    const s = this.#stats;
    return { requests: { ...s.requests }, responses: { ...s.responses }, mocked: s.mocked };
  }

  /** The operation a method and (normalized) path name, or undefined (also before the document is loaded). */
  operation(method: string, path: string): Operation | undefined {
    const match = this.#ready?.router.match(path);
    if (match === undefined) return undefined;
    const ops = match.entry.operations;
    return ops.get(method) ?? (method === 'HEAD' ? ops.get('GET') : undefined);
  }

  /**
   * Checks a response another party produced (a migrated route's service) against the operation of
   * `method` and `path`. Returns its issues (empty when it conforms), or undefined when the document
   * does not describe that operation (or is not loaded yet).
   */
  checkResponse(
    request: { method: string; path: string },
    response: ResponseSample,
  ): readonly ValidationIssue[] | undefined {
    const operation = this.operation(request.method, request.path);
    if (operation === undefined) return undefined;
    const sample = request.method === 'HEAD' ? { ...response, bodiless: true } : response;
    return checkResponse(
      operation,
      bodilessStatus(sample),
      this.#maxErrors(),
      this.options.responses.maxBodyBytes,
    );
  }

  #maxErrors(): number {
    return this.options.requests === false ? 10 : this.options.requests.maxErrors;
  }

  onRequest(exchange: Exchange): RequestResult | Promise<RequestResult> {
    const ready = this.#ready;
    if (ready !== undefined) return this.#handle(exchange, ready);
    if (this.#failure !== undefined)
      throw new NotLoaded(`The API description failed to load`, { cause: this.#failure });
    return this.#loading.then(
      (r) => this.#handle(exchange, r),
      (error: unknown) => {
        throw new NotLoaded('The API description failed to load', { cause: error });
      },
    );
  }

  #handle(exchange: Exchange, ready: Ready): RequestResult | Promise<RequestResult> {
    const method = exchange.method;
    const path = exchange.path;
    if (ready.reference !== undefined && (method === 'GET' || method === 'HEAD')) {
      const page = ready.reference.serve(path);
      if (page !== undefined) return page;
    }
    const match = ready.router.match(path);
    const requests = this.options.requests;
    if (match === undefined) {
      if (requests !== false && requests.unknownPath === 'reject') {
        this.#stats.requests.rejected++;
        throw new UnknownOperation(`${method} ${path} is not in the API description`);
      }
      return undefined;
    }
    const ops = match.entry.operations;
    const operation = ops.get(method) ?? (method === 'HEAD' ? ops.get('GET') : undefined);
    if (operation === undefined) {
      // CORS preflights are answered by whatever handles OPTIONS, documented or not.
      if (method === 'OPTIONS' || requests === false || requests.unknownMethod === 'pass') return undefined;
      this.#stats.requests.rejected++;
      throw new MethodNotAllowed(`${method} is not allowed on ${match.entry.template}`, {
        headers: { allow: match.entry.allow },
      });
    }
    const name = operation.name;
    exchange.annotate('gatehouse.openapi.operation', name);

    const mock = this.options.mock;
    if (mock === 'always' && operation.mock !== undefined) {
      this.#stats.mocked++;
      return mockReply(operation);
    }

    const params = { path: EMPTY, query: EMPTY, header: EMPTY, cookie: EMPTY };
    if (requests !== false) {
      const issues = this.#parameters(
        exchange,
        operation,
        match.params,
        params,
        requests.maxErrors,
        requests.unknownQuery === 'reject',
      );
      if (issues !== undefined) {
        this.#stats.requests.rejected++;
        throw invalid(issues);
      }
    }
    const state: { -readonly [K in keyof OpenApiRequest]: OpenApiRequest[K] } = {
      operation: name,
      template: operation.template,
      params,
    };
    exchange.state.openapi = state;

    const body = operation.body;
    if (requests === false || body === undefined) return this.#accepted(exchange, operation);
    if (!announcesBody(exchange.req)) {
      if (body.required) {
        this.#stats.requests.rejected++;
        throw invalid([
          { in: 'body', pointer: '', keyword: 'required', detail: 'a request body is required' },
        ]);
      }
      return this.#accepted(exchange, operation);
    }
    const contentType = exchange.req.headers['content-type'];
    const range = contentType === undefined ? undefined : mediaRange(contentType);
    const media = range === undefined ? undefined : pickMedia(body.media, range);
    if (media === undefined || range === undefined) {
      this.#stats.requests.rejected++;
      const accepted = body.media.map((m) => m.range).join(', ');
      throw new UnsupportedMediaType(
        contentType === undefined
          ? `The request has a body but no Content-Type; accepted: ${accepted}`
          : `'${range}' is not accepted here; accepted: ${accepted}`,
        { extensions: { accepted: body.media.map((m) => m.range) } },
      );
    }
    const max = requests.maxBodyBytes;
    const length = declaredLength(exchange.req);
    if (length !== undefined && length > max) {
      this.#stats.requests.rejected++;
      throw tooLarge(max);
    }
    const kind = bodyKind(range);
    if (kind === 'binary' || media.validate === undefined) return this.#accepted(exchange, operation);
    const consume = requests.body === 'parsed' && kind !== 'multipart';
    return readBody(exchange.req, max, !consume).then((read): RequestResult | Promise<RequestResult> => {
      if (!read.complete) {
        this.#stats.requests.rejected++;
        throw tooLarge(max);
      }
      // Multipart parsing is a stream (busboy); everything else is parsed in this turn.
      if (kind === 'multipart') {
        return parseMultipart(read.bytes, contentType!, media.arrays, requests.maxParts).then(
          (parts) => this.#checkBody(exchange, operation, state, parts.fields, media.validateFields!, true),
          (error: unknown) => {
            this.#stats.requests.rejected++;
            throw new BodyMalformed(`The multipart body cannot be read: ${(error as Error).message}`);
          },
        );
      }
      let value: unknown;
      try {
        value =
          kind === 'json'
            ? JSON.parse(read.bytes.toString('utf8'))
            : kind === 'form'
              ? parseForm(read.bytes, media.arrays)
              : read.bytes.toString('utf8');
      } catch {
        this.#stats.requests.rejected++;
        throw new BodyMalformed(kind === 'json' ? 'The body is not valid JSON' : 'The body cannot be read');
      }
      const coerced = kind === 'form';
      if (consume) {
        // The body parsers' own marks of a parsed request (Express 4's body-parser reads `_body`;
        // Express 5's sees the finished stream; @koa/bodyparser takes `req.body` with enableRawChecking).
        const req = exchange.req as { body?: unknown; _body?: boolean };
        req.body = value;
        req._body = true;
      }
      return this.#checkBody(
        exchange,
        operation,
        state,
        value,
        coerced ? media.validateFields! : media.validate!,
        coerced,
      );
    }, bodyFailed);
  }

  /** Validates a parsed body; on success the request is accepted. */
  #checkBody(
    exchange: Exchange,
    operation: Operation,
    state: { body?: unknown },
    value: unknown,
    validate: Validator,
    coerced: boolean,
  ): RequestResult {
    state.body = value;
    if (!validate(value)) {
      this.#stats.requests.rejected++;
      const first = validate.errors?.[0];
      throw invalid(first === undefined ? [] : [issueFromAjv(first, 'body', false)]);
    }
    const overflow = coerced ? nonFinite(value, '') : undefined;
    if (overflow !== undefined) {
      this.#stats.requests.rejected++;
      throw invalid([overflowIssue(overflow, 'body', false)]);
    }
    return this.#accepted(exchange, operation);
  }

  /**
   * A request that passed: counted, and its response watched (checks, mocks). Only now: the
   * validator's own rejections are never checked against the document.
   */
  #accepted(exchange: Exchange, operation: Operation): undefined {
    this.#stats.requests.validated++;
    this.#watch(exchange, operation);
    return undefined;
  }

  /**
   * Validates every parameter location; fills `out` with the coerced values. Returns the issues, or
   * undefined when there is none (the common case allocates no list).
   */
  #parameters(
    exchange: Exchange,
    operation: Operation,
    pathValues: Record<string, string>,
    out: Record<'path' | 'query' | 'header' | 'cookie', Record<string, unknown>>,
    max: number,
    strictQuery: boolean,
  ): ValidationIssue[] | undefined {
    let issues: ValidationIssue[] | undefined;
    let cookies: Map<string, string> | undefined;
    const groups = operation.groups;
    for (let g = 0; g < groups.length; g++) {
      const group = groups[g]!;
      const data: Record<string, unknown> = {};
      const specs = group.specs;
      for (let i = 0; i < specs.length; i++) {
        const spec = specs[i]!;
        let raw: Raw;
        switch (group.location) {
          case 'path': {
            const text = pathValues[spec.routeKey!];
            raw = text === undefined ? undefined : readPath(text, spec);
            break;
          }
          case 'query':
            raw = readQuery(exchange.query, spec);
            break;
          case 'header':
            raw = readHeader(exchange.req.headers[spec.key], spec);
            break;
          case 'cookie':
            cookies ??= parseCookies(exchange.req.headers.cookie);
            raw = readCookie(cookies, spec);
            break;
        }
        if (raw === undefined) continue;
        if (spec.json && typeof raw === 'string') {
          try {
            data[spec.key] = JSON.parse(raw);
          } catch {
            issues ??= [];
            issues.push({
              in: group.location,
              name: spec.name,
              keyword: 'parse',
              detail: 'is not valid JSON',
            });
          }
        } else data[spec.key] = raw;
      }
      if (group.validate !== undefined && !group.validate(data)) {
        const first = group.validate.errors?.[0];
        issues ??= [];
        if (first !== undefined) issues.push(named(issueFromAjv(first, group.location, true), group));
      } else {
        const overflow = nonFinite(data, '');
        if (overflow !== undefined) {
          issues ??= [];
          issues.push(named(overflowIssue(overflow, group.location, true), group));
        }
      }
      out[group.location] = data;
      if (issues !== undefined && issues.length >= max) return issues.slice(0, max);
    }
    const known = operation.queryKeys;
    if (strictQuery && known !== undefined && (exchange.req.url ?? '').includes('?')) {
      for (const key of exchange.query.keys()) {
        if (known.has(key)) continue;
        if (operation.deepObjects.some((d) => key.startsWith(`${d}[`) && key.endsWith(']'))) continue;
        issues ??= [];
        // A key given twice is one issue.
        if (issues.some((i) => i.in === 'query' && i.name === key && i.keyword === 'unknown')) continue;
        issues.push({
          in: 'query',
          name: key,
          keyword: 'unknown',
          detail: 'is not a parameter of this operation',
        });
        if (issues.length >= max) break;
      }
    }
    return issues === undefined ? undefined : issues.slice(0, max);
  }

  /** Sets up the response check (report or enforce, sampled) and mocks for unanswered operations. */
  #watch(exchange: Exchange, operation: Operation): void {
    const responses = this.options.responses;
    const checking =
      responses.mode !== 'off' && (responses.sampleRate >= 1 || Math.random() < responses.sampleRate);
    const mockUnhandled = this.options.mock === 'unhandled' && operation.mock !== undefined;
    if (!checking && !mockUnhandled) return;
    const res = exchange.res;
    const cap = responses.maxBodyBytes;
    const bodiless = exchange.method === 'HEAD';
    if (checking && responses.mode === 'report') {
      watchResponse(res, cap, (sample) => {
        // A problem Gatehouse rendered (a handler's error through gw.errors(), a later middleware's
        // refusal) is not the application's answer to check.
        if (exchange.problemCode !== undefined) return;
        if (sample.body === undefined && !bodiless) this.#stats.responses.skipped++;
        this.#judge(exchange, operation, bodiless ? { ...sample, bodiless } : sample, 'report');
      });
    }
    if (!mockUnhandled && !(checking && responses.mode === 'enforce')) return;
    const enforce = checking && responses.mode === 'enforce';
    holdResponse(res, enforce ? cap : Number.POSITIVE_INFINITY, (sample, final) => {
      if (mockUnhandled && final && sample.status === 404 && exchange.problemCode === 'GH_NOT_FOUND') {
        this.#stats.mocked++;
        exchange.problemCode = undefined;
        exchange.failure = undefined;
        const reply = mockReply(operation);
        const body =
          reply.body === undefined
            ? Buffer.alloc(0)
            : Buffer.from(typeof reply.body === 'string' ? reply.body : JSON.stringify(reply.body));
        return {
          status: reply.status,
          headers: { ...reply.headers, 'content-length': String(body.length) },
          body: bodiless ? Buffer.alloc(0) : body,
        };
      }
      if (!enforce || exchange.problemCode !== undefined) return undefined;
      if (!final || sample.body === undefined) {
        if (!bodiless) this.#stats.responses.skipped++;
        // Released unchecked (too large, or a stream that flushed its headers): status and headers
        // are still checked, after the fact.
        this.#judge(exchange, operation, { ...sample, bodiless: true }, 'report');
        return undefined;
      }
      const issues = this.#judge(exchange, operation, bodiless ? { ...sample, bodiless } : sample, 'enforce');
      if (issues.length === 0) return undefined;
      const rendered = problem(
        exchange,
        new ResponseInvalid(
          `${issues.length} problem(s) in the response of ${operation.method} ${operation.template}`,
        ),
        this,
      );
      return { status: rendered.status, headers: rendered.headers, body: rendered.body };
    });
  }

  /** Checks a sample and counts, emits and publishes a violation. */
  #judge(
    exchange: Exchange,
    operation: Operation,
    sample: ResponseSample,
    mode: 'report' | 'enforce',
  ): readonly ValidationIssue[] {
    this.#stats.responses.checked++;
    const issues = checkResponse(
      operation,
      bodilessStatus(sample),
      this.#maxErrors(),
      this.options.responses.maxBodyBytes,
    );
    if (issues.length === 0) return issues;
    this.#stats.responses.invalid++;
    const violation: ResponseViolation = {
      validator: this.name,
      operation: operation.name,
      method: exchange.method,
      path: exchange.path,
      status: sample.status,
      requestId: exchange.requestId,
      issues,
      mode,
    };
    this.#counter().add(1, {
      'gatehouse.openapi.validator': this.name,
      'gatehouse.openapi.operation': violation.operation,
      mode,
    });
    if (responseChannel.hasSubscribers) responseChannel.publish(violation);
    if (this.listenerCount('response-invalid') > 0) {
      try {
        this.emit('response-invalid', violation);
      } catch (error) {
        exchange.runtime.report(error, exchange, `${this.name}.response-invalid`);
      }
    }
    return issues;
  }

  #counter(): Counter {
    this.#violations ??= metrics
      .getMeter('@gatehousejs/openapi')
      .createCounter('gatehouse.openapi.response.violations', {
        description: 'Responses that did not match the API description, per operation and mode',
        unit: '{response}',
      });
    return this.#violations;
  }
}

/** 204, 304 and 1xx answers carry no body, whatever the handler wrote. */
function bodilessStatus(sample: ResponseSample): ResponseSample {
  const s = sample.status;
  return s === 204 || s === 304 || (s >= 100 && s < 200) ? { ...sample, bodiless: true } : sample;
}

/**
 * The pointer of the first number that is not finite, if any: ajv's type coercion turns text such as
 * `1e400` into Infinity and then accepts it as a number (even an integer). Found by the property test
 * over hostile headers; JSON has no such number, so it is refused as the type it claims to be.
 */
function nonFinite(value: unknown, at: string): string | undefined {
  if (typeof value === 'number') return Number.isFinite(value) ? undefined : at;
  if (typeof value !== 'object' || value === null) return undefined;
  // for…in, not Object.keys(): this runs on every validated request and must not allocate.
  for (const key in value) {
    const inner = (value as Record<string, unknown>)[key];
    if (typeof inner === 'number') {
      if (!Number.isFinite(inner)) return `${at}/${key.replaceAll('~', '~0').replaceAll('/', '~1')}`;
    } else if (typeof inner === 'object' && inner !== null) {
      const found = nonFinite(inner, `${at}/${key.replaceAll('~', '~0').replaceAll('/', '~1')}`);
      if (found !== undefined) return found;
    }
  }
  return undefined;
}

function overflowIssue(pointer: string, where: ValidationIssue['in'], group: boolean): ValidationIssue {
  return issueFromAjv(
    {
      instancePath: pointer,
      keyword: 'type',
      params: {},
      message: 'must be a finite number',
      schemaPath: '',
    },
    where,
    group,
  );
}

function named(issue: ValidationIssue, group: ParamGroup): ValidationIssue {
  if (group.location !== 'header') return issue;
  const spec = group.specs.find((s) => s.key === issue.name);
  return spec === undefined ? issue : { ...issue, name: spec.name };
}

function invalid(issues: readonly ValidationIssue[]) {
  const first = issues[0];
  const where =
    first === undefined
      ? ''
      : first.name !== undefined
        ? `${first.in} parameter '${first.name}'`
        : `${first.in}${first.pointer ? ` at ${first.pointer}` : ''}`;
  const detail =
    first === undefined
      ? 'The request does not match the API description'
      : `${where}: ${first.detail}${issues.length > 1 ? ` (and ${issues.length - 1} more)` : ''}`;
  return new RequestInvalid(detail, { extensions: { errors: issues } });
}

/**
 * The body could not be read: the client went away or broke the framing (Node's parser aborts the
 * request). Not the server's fault, so a 400 rather than a reported 500; the socket is usually gone.
 */
function bodyFailed(error: unknown): never {
  if (isGatehouseError(error)) throw error;
  throw new BodyMalformed('The body could not be read (the connection broke while it was sent)', {
    cause: error,
  });
}

function tooLarge(max: number) {
  return new BodyTooLarge(`The body is larger than ${max} bytes`, {
    headers: { connection: 'close' },
    extensions: { maxBytes: max },
  });
}

function mockReply(operation: Operation): Reply & { headers: Record<string, string> } {
  const mock = operation.mock!;
  const headers: Record<string, string> = { 'x-gatehouse-mock': 'true' };
  if (mock.contentType !== undefined) headers['content-type'] = mock.contentType;
  let body: Reply['body'];
  if (mock.body === undefined) body = undefined;
  else if (
    typeof mock.body === 'string' &&
    mock.contentType !== undefined &&
    bodyKind(mock.contentType) !== 'json'
  )
    body = mock.body;
  else {
    body = JSON.stringify(mock.body);
    headers['content-type'] ??= 'application/json';
  }
  return { status: mock.status, headers, body };
}

/** The path of each `servers[].url` (variables at their defaults), deduplicated; `['']` without servers. */
export function serverPaths(document: Record<string, unknown>): string[] {
  const servers = Array.isArray(document.servers) ? document.servers : [];
  const out = new Set<string>();
  for (const server of servers) {
    if (typeof server !== 'object' || server === null) continue;
    const s = server as { url?: unknown; variables?: Record<string, { default?: unknown }> };
    if (typeof s.url !== 'string') continue;
    const url = s.url.replace(/\{([^}]+)\}/g, (_, name: string) =>
      String(s.variables?.[name]?.default ?? ''),
    );
    let path: string;
    try {
      path = new URL(url, 'http://localhost').pathname;
    } catch {
      continue;
    }
    out.add(decodeURI(path).replace(/\/+$/, ''));
  }
  return out.size === 0 ? [''] : [...out];
}

/**
 * Creates the validator (`gw.validate()` is this, bound to the gateway). Options are checked now;
 * the document loads in the background and {@link OpenApiValidator.start} reports its problems.
 *
 * @example
 *   const validator = openapi({ document: 'openapi.yaml', responses: { mode: 'report' } });
 *   await validator.start(); // a ConfigError lists every problem of the document
 *   app.use(toExpress(validator));
 */
export function openapi(options: OpenApiOptions, context?: OpenApiContext): OpenApiValidator {
  return new OpenApiValidator(options, context);
}

/** Like {@link openapi}, resolved once the document is loaded and compiled. */
export async function createOpenApi(
  options: OpenApiOptions,
  context?: OpenApiContext,
): Promise<OpenApiValidator> {
  const validator = new OpenApiValidator(options, context);
  await validator.start();
  return validator;
}
