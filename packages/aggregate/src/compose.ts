// The composition engine: named calls run as a DAG (each as soon as what it depends on is done, all
// in parallel otherwise), under one deadline and one cancellation, with a per-call policy that decides
// whether a failure fails the answer (required) or leaves a hole the answer admits to (optional).
import { type Client, currentDeadline } from '@gatehousejs/client';
import {
  type Exchange,
  type GatehouseErrorClass,
  isGatehouseError,
  Problems,
  type Reply,
} from '@gatehousejs/core';
import { readBody, type StoredResponse } from './body.js';
import { type HttpCache, scopeOf } from './cache.js';
import {
  AggregateBadValue,
  AggregateBodyTooLarge,
  AggregateForbidden,
  AggregateInvalidJson,
  AggregateNotFound,
  AggregateTimeout,
  AggregateTooManyRequests,
  AggregateUnauthorized,
  AggregateUnavailable,
  AggregateUpstreamFailed,
  AggregateUpstreamStatus,
} from './errors.js';
import type { CompositionContext, ResolvedAggregateOptions, ResolvedCall } from './options.js';
import { deleteTokens, parsePointer, resolveTokens, setTokens } from './pointer.js';
import type { SingleFlight } from './single-flight.js';
import {
  compileTemplate,
  renderHeader,
  renderPath,
  renderText,
  type Template,
  UnsafeValue,
} from './template.js';

/** Sources a reference may name besides calls. */
const RESERVED = new Set(['params', 'query', 'headers', 'principal', 'item']);
const REQUEST_SOURCES = new Set(['params', 'query', 'headers', 'principal']);

/** What a composition needs from the gateway it runs in. */
export interface CompositionRuntime {
  clientFor(service: string): Client;
  readonly flights: SingleFlight;
  /** The gateway's response cache, when calls may use it. */
  cache(): HttpCache | undefined;
}

/** One failed call, as reported in the `errors` member. */
export interface CallError {
  call: string;
  service: string;
  required: boolean;
  /** The upstream's status, when it answered. */
  status?: number;
  code: string;
  detail: string;
}

interface CompiledCall {
  readonly name: string;
  readonly spec: ResolvedCall;
  readonly path: Template;
  readonly query: ReadonlyArray<readonly [string, Template]>;
  readonly headers: ReadonlyArray<readonly [string, Template]>;
  readonly needs: readonly string[];
  readonly when: ((context: CompositionContext) => boolean) | undefined;
  readonly forEach: readonly string[] | undefined;
  readonly body: readonly string[] | undefined;
  readonly extract: readonly string[] | undefined;
  readonly pick: ReadonlyArray<readonly string[]> | undefined;
  readonly omit: ReadonlyArray<readonly string[]> | undefined;
  readonly rename: ReadonlyArray<readonly [readonly string[], readonly string[]]> | undefined;
  readonly batchValue: readonly string[];
  /** Whether every value of its path, query and headers comes from the request (else from results). */
  readonly requestOnly: boolean;
}

/** A composition compiled at start. */
export interface Composition {
  readonly options: ResolvedAggregateOptions;
  readonly calls: readonly CompiledCall[];
  /** Whether anything reads the request's query or headers (else they are never parsed). */
  readonly reads: { readonly query: boolean; readonly headers: boolean };
}

const sourceOf = (pointer: string): string => parsePointer(pointer)[0] ?? '';

/**
 * Compiles the calls: templates parsed, dependencies found (explicit and from references), unknown
 * references and cycles refused. Throws one ConfigError listing every problem.
 */
export function compileComposition(
  options: ResolvedAggregateOptions,
  services: ((name: string) => boolean) | undefined,
  label: string,
): Composition {
  const problems = new Problems(label);
  const names = Object.keys(options.calls);
  const calls: CompiledCall[] = [];
  for (const name of names) {
    const spec = options.calls[name]!;
    const at = `calls.${name}`;
    if (RESERVED.has(name))
      problems.add(at, `'${name}' is reserved (params, query, headers, principal, item)`);
    if (services !== undefined && !services(spec.service))
      problems.add(`${at}.service`, `unknown service '${spec.service}'`);
    const needs = new Set<string>(spec.dependsOn);
    for (const [i, dep] of spec.dependsOn.entries()) {
      if (!names.includes(dep)) problems.add(`${at}.dependsOn[${i}]`, `unknown call '${dep}'`);
    }
    const refer = (where: string, source: string, allowItem: boolean) => {
      if (source === 'item' && !allowItem)
        problems.add(where, `'/item' is only defined in a call with 'forEach' or 'batch'`);
      else if (RESERVED.has(source)) return;
      else if (!names.includes(source)) problems.add(where, `references unknown call or source '${source}'`);
      else needs.add(source);
    };
    const template = (where: string, source: string): Template | undefined => {
      try {
        const compiled = compileTemplate(source);
        for (const s of compiled.sources)
          refer(where, s, spec.forEach !== undefined && spec.batch === undefined);
        return compiled;
      } catch (error) {
        problems.add(where, (error as Error).message);
        return undefined;
      }
    };
    const path = template(`${at}.path`, spec.path);
    const query = Object.entries(spec.query ?? {}).map(
      ([key, value]) => [key, template(`${at}.query.${key}`, value)] as const,
    );
    const headers = Object.entries(spec.headers ?? {}).map(
      ([key, value]) => [key.toLowerCase(), template(`${at}.headers.${key}`, value)] as const,
    );
    if (spec.batch !== undefined && spec.forEach === undefined)
      problems.add(`${at}.batch`, "needs 'forEach' (the collection)");
    if (spec.batch !== undefined) {
      for (const s of path?.sources ?? [])
        if (s === 'item') problems.add(`${at}.path`, "a batched call has no '/item' in its path");
    }
    if (spec.forEach !== undefined) refer(`${at}.forEach`, sourceOf(spec.forEach), false);
    if (typeof spec.when === 'string') refer(`${at}.when`, sourceOf(spec.when), false);
    if (spec.body !== undefined) refer(`${at}.body`, sourceOf(spec.body), spec.forEach !== undefined);
    const all = [path, ...query.map((q) => q[1]), ...headers.map((h) => h[1])];
    const requestOnly = all.every(
      (t) => t === undefined || [...t.sources].every((s) => REQUEST_SOURCES.has(s)),
    );
    calls.push({
      name,
      spec,
      path: path ?? compileTemplate('/'),
      query: query.filter((q): q is readonly [string, Template] => q[1] !== undefined),
      headers: headers.filter((h): h is readonly [string, Template] => h[1] !== undefined),
      needs: [...needs],
      when:
        typeof spec.when === 'function'
          ? spec.when
          : typeof spec.when === 'string'
            ? present(parsePointer(spec.when))
            : undefined,
      forEach: spec.forEach === undefined ? undefined : parsePointer(spec.forEach),
      body: spec.body === undefined ? undefined : parsePointer(spec.body),
      extract: spec.extract === undefined ? undefined : parsePointer(spec.extract),
      pick: spec.pick?.map(parsePointer),
      omit: spec.omit?.map(parsePointer),
      rename:
        spec.rename === undefined
          ? undefined
          : Object.entries(spec.rename).map(([from, to]) => [parsePointer(from), parsePointer(to)] as const),
      batchValue: spec.batch === undefined ? [] : parsePointer(spec.batch.value),
      requestOnly,
    });
  }
  // Cycles: a depth-first walk; the first cycle found is reported as a path through the calls.
  const byName = new Map(calls.map((c) => [c.name, c]));
  const state = new Map<string, 'visiting' | 'done'>();
  const walk = (name: string, trail: string[]): void => {
    const now = state.get(name);
    if (now === 'done') return;
    if (now === 'visiting') {
      const cycle = [...trail.slice(trail.indexOf(name)), name];
      problems.add(`calls.${name}.dependsOn`, `dependency cycle: ${cycle.join(' → ')}`);
      return;
    }
    state.set(name, 'visiting');
    for (const dep of byName.get(name)?.needs ?? []) if (byName.has(dep)) walk(dep, [...trail, name]);
    state.set(name, 'done');
  };
  for (const call of calls) walk(call.name, []);
  if (calls.length === 0) problems.add('calls', 'needs at least one call');
  problems.throwIfAny();
  // Code (a predicate, a shape function) may read anything; templates and pointers say what they read.
  const opaque = options.shape !== undefined || calls.some((c) => typeof c.spec.when === 'function');
  const reads = (source: string) =>
    opaque ||
    calls.some(
      (c) =>
        [c.path, ...c.query.map((q) => q[1]), ...c.headers.map((h) => h[1])].some((t) =>
          t.sources.has(source),
        ) ||
        [c.spec.forEach, typeof c.spec.when === 'string' ? c.spec.when : undefined, c.spec.body].some(
          (p) => p !== undefined && sourceOf(p) === source,
        ),
    );
  return {
    options,
    calls: topological(calls),
    reads: {
      query: reads('query'),
      headers: reads('headers') || calls.some((c) => c.spec.forward.length > 0),
    },
  };
}

function topological(calls: CompiledCall[]): CompiledCall[] {
  const out: CompiledCall[] = [];
  const seen = new Set<string>();
  const byName = new Map(calls.map((c) => [c.name, c]));
  const visit = (call: CompiledCall) => {
    if (seen.has(call.name)) return;
    seen.add(call.name);
    for (const dep of call.needs) visit(byName.get(dep)!);
    out.push(call);
  };
  for (const call of calls) visit(call);
  return out;
}

const present = (tokens: readonly string[]) => (context: CompositionContext) => {
  const value = resolveTokens(templateScope(context, undefined), tokens);
  return value !== undefined && value !== null && value !== false && value !== '';
};

/** What templates resolve against: request sources, the fan-out item, and results by call name. */
function templateScope(context: CompositionContext, item: unknown): Record<string, unknown> {
  return {
    ...context.results,
    params: context.params,
    query: context.query,
    headers: context.headers,
    principal: context.principal,
    ...(item === undefined ? {} : { item }),
  };
}

type Outcome = { kind: 'done'; value: unknown } | { kind: 'failed'; error: CallError } | { kind: 'skipped' };

/** A call's failure, with the status and code the `errors` entry carries. */
class CallFailure extends Error {
  constructor(
    readonly code: string,
    readonly status: number | undefined,
    detail: string,
    readonly kind: 'status' | 'timeout' | 'unavailable' | 'bad-value' | 'other' = 'other',
  ) {
    super(detail);
  }
}

const EMPTY: Readonly<Record<string, string>> = Object.freeze({});
const TIMEOUT = Symbol('timeout');
const GONE = Symbol('client gone');
const FAILED = Symbol('required call failed');

/** Runs `composition` for one request; resolves with the reply (a problem is thrown as a GatehouseError). */
export async function runComposition(
  composition: Composition,
  exchange: Exchange,
  params: Record<string, string>,
  runtime: CompositionRuntime,
): Promise<Reply> {
  const options = composition.options;
  // The deadline counts from the request's arrival: time spent in middleware before this one is spent.
  const started = exchange.startTime;
  let budget = options.timeoutMs - (performance.now() - started);
  const inherited = currentDeadline() ?? exchange.stateIfSet?.deadline;
  if (inherited !== undefined) budget = Math.min(budget, inherited - performance.now());
  const deadlineAt = performance.now() + budget;
  const controller = new AbortController();
  const context: CompositionContext = {
    params,
    // Parsed only for compositions that read them (found when compiled).
    query: composition.reads.query ? Object.fromEntries(exchange.query) : EMPTY,
    headers: composition.reads.headers ? flatHeaders(exchange.req.headers) : EMPTY,
    principal: principalOf(exchange),
    results: {},
    exchange,
  };
  const results = context.results as Record<string, unknown>;
  const outcomes = new Map<string, Promise<Outcome>>();
  const settled = new Map<string, Outcome>();
  let firstRequiredFailure: CallError | undefined;
  let stop!: (why: symbol) => void;
  const stopped = new Promise<symbol>((resolve) => {
    stop = resolve;
  });
  const timer = setTimeout(
    () => {
      controller.abort(TIMEOUT);
      stop(TIMEOUT);
    },
    Math.max(0, budget),
  );
  // The client leaving is seen on the response's 'close' (cheaper than the exchange's AbortSignal,
  // which costs a controller and EventTarget listeners per request).
  const res = exchange.res;
  const onGone = () => {
    if (res.writableFinished) return;
    controller.abort(GONE);
    stop(GONE);
  };
  if (res.destroyed) onGone();
  else res.on('close', onGone);

  for (const call of composition.calls) {
    const deps = call.needs.map((dep) => outcomes.get(dep)!);
    const outcome = Promise.all(deps).then(async (depOutcomes): Promise<Outcome> => {
      if (controller.signal.aborted) return { kind: 'skipped' };
      const failedDep = call.needs.find((_, i) => depOutcomes[i]!.kind === 'failed');
      // An optional call without what it needs is left out; a required one fails the answer.
      if (failedDep !== undefined && call.spec.policy === 'optional') return { kind: 'skipped' };
      if (failedDep !== undefined) {
        return {
          kind: 'failed',
          error: {
            call: call.name,
            service: call.spec.service,
            required: call.spec.policy === 'required',
            code: AggregateUpstreamFailed.spec.code,
            detail: `not called: it depends on '${failedDep}', which failed`,
          },
        };
      }
      if (depOutcomes.some((o) => o.kind === 'skipped')) return { kind: 'skipped' };
      if (call.when !== undefined && !call.when(context)) return { kind: 'skipped' };
      try {
        const value = await runCall(call, context, runtime, controller.signal, deadlineAt, options);
        results[call.name] = value;
        return { kind: 'done', value };
      } catch (error) {
        if (controller.signal.aborted && !(error instanceof CallFailure)) return { kind: 'skipped' };
        return { kind: 'failed', error: describe(call, error) };
      }
    });
    outcomes.set(call.name, outcome);
    void outcome.then((o) => {
      settled.set(call.name, o);
      if (o.kind === 'failed' && o.error.required && firstRequiredFailure === undefined) {
        firstRequiredFailure = o.error;
        // Nothing else can make this answer a success: cancel everything outstanding. A required
        // call that timed out ends the composition as its deadline does (the same answer whichever
        // of the timers, the call's, the client's or the composition's, fired first).
        const why = o.error.code === AggregateTimeout.spec.code ? TIMEOUT : FAILED;
        controller.abort(why);
        stop(why);
      }
    });
  }
  const all = Promise.all(outcomes.values()).then(() => undefined);
  const why = await Promise.race([all, stopped]);
  clearTimeout(timer);
  res.off('close', onGone);
  // In declaration order, whatever order they failed in: the same answer every time.
  const errors = Object.keys(options.calls).flatMap((name) => {
    const o = settled.get(name);
    return o?.kind === 'failed' ? [o.error] : [];
  });
  if (why === GONE) {
    // Nobody to answer; the adapter notices the closed connection.
    throw new AggregateTimeout('The client went away');
  }
  if (why === TIMEOUT) {
    controller.abort(TIMEOUT);
    // Every call not done is listed as timed out, in declaration order, like one that timed out itself.
    const entries: CallError[] = Object.keys(options.calls).flatMap((name): CallError[] => {
      const o = settled.get(name);
      if (o?.kind === 'failed') return [o.error];
      if (o !== undefined) return [];
      const spec = options.calls[name]!;
      return [
        {
          call: name,
          service: spec.service,
          required: spec.policy === 'required',
          status: 504,
          code: AggregateTimeout.spec.code,
          detail: `no answer within ${configuredTimeout(spec, options)} ms`,
        },
      ];
    });
    const late = entries.find((e) => e.required && e.code === AggregateTimeout.spec.code);
    throw new AggregateTimeout(
      late === undefined
        ? `'${options.name}' did not complete within ${options.timeoutMs} ms`
        : `Required call '${late.call}' failed: ${late.detail}`,
      { extensions: { errors: entries }, headers: { 'cache-control': 'no-store' } },
    );
  }
  if (firstRequiredFailure !== undefined) {
    const ErrorClass = errorClassFor(firstRequiredFailure);
    throw new ErrorClass(
      `Required call '${firstRequiredFailure.call}' failed: ${firstRequiredFailure.detail}`,
      {
        extensions: { errors },
        headers: { 'cache-control': 'no-store' },
      },
    );
  }
  const included: Record<string, unknown> = {};
  for (const call of composition.calls) {
    const outcome = settled.get(call.name);
    if (!call.spec.include || outcome === undefined) continue;
    if (outcome.kind === 'done') included[call.spec.as ?? call.name] = outcome.value;
    else if (call.spec.fallback !== undefined) included[call.spec.as ?? call.name] = call.spec.fallback;
  }
  let body: unknown;
  if (options.shape !== undefined) body = options.shape(included, context);
  else if (options.combine === 'merge') {
    const merged: Record<string, unknown> = {};
    for (const value of Object.values(included)) {
      if (value !== null && typeof value === 'object' && !Array.isArray(value)) Object.assign(merged, value);
    }
    body = merged;
  } else body = included;
  const failed = errors.filter((e) => !e.required);
  const headers: Record<string, string> = { 'content-type': 'application/json' };
  if (failed.length > 0) {
    headers['x-gatehouse-partial'] = failed.map((e) => e.call).join(', ');
    headers['cache-control'] = 'no-store';
    if (options.partialKey !== false && isPlainObject(body)) {
      (body as Record<string, unknown>)[options.partialKey] = {
        calls: failed.map((e) => e.call),
        errors: failed,
      };
    }
  } else headers['cache-control'] = options.cacheControl;
  return { status: 200, headers, body: JSON.stringify(body ?? null) };
}

/** A call's deadline as configured (its own, or the composition's): what its timeout entry names. */
function configuredTimeout(spec: ResolvedCall, options: ResolvedAggregateOptions): number {
  return Math.min(spec.timeoutMs ?? options.timeoutMs, options.timeoutMs);
}

function isPlainObject(value: unknown): value is Record<string, unknown> {
  return value !== null && typeof value === 'object' && !Array.isArray(value);
}

function flatHeaders(headers: Record<string, string | string[] | undefined>): Record<string, string> {
  const out: Record<string, string> = {};
  for (const name in headers) {
    const value = headers[name];
    if (value !== undefined) out[name] = Array.isArray(value) ? value.join(', ') : value;
  }
  return out;
}

function principalOf(exchange: Exchange): Record<string, unknown> | undefined {
  const principal = (exchange.stateIfSet as { principal?: Record<string, unknown> } | undefined)?.principal;
  if (principal === undefined) return undefined;
  const { id, method, scopes, roles, tier, clientId } = principal;
  return { id, method, scopes, roles, tier, clientId };
}

function errorClassFor(error: CallError): GatehouseErrorClass {
  if (error.code === AggregateBadValue.spec.code) return AggregateBadValue;
  switch (error.status) {
    case 401:
      return AggregateUnauthorized;
    case 403:
      return AggregateForbidden;
    case 404:
      return AggregateNotFound;
    case 429:
      return AggregateTooManyRequests;
    case 503:
      return AggregateUnavailable;
    case 504:
      return AggregateTimeout;
    default:
      return AggregateUpstreamFailed;
  }
}

/** The `errors` entry for a call that failed with `error`. */
function describe(call: CompiledCall, error: unknown): CallError {
  const base = { call: call.name, service: call.spec.service, required: call.spec.policy === 'required' };
  if (error instanceof CallFailure) {
    return {
      ...base,
      ...(error.status === undefined ? {} : { status: error.status }),
      code: error.code,
      detail: error.message,
    };
  }
  if (isGatehouseError(error)) {
    // The client's own errors: GH_UPSTREAM_TIMEOUT (504), GH_UPSTREAM_UNAVAILABLE (503), …
    return {
      ...base,
      status: error.status,
      code: error.code,
      detail: error.expose ? error.message : error.title,
    };
  }
  return {
    ...base,
    status: 502,
    code: 'GH_UPSTREAM_BAD_RESPONSE',
    detail: 'the answer broke off before its end',
  };
}

/** One call (or its fan-out), its answer parsed and shaped. Throws a CallFailure or the client's error. */
async function runCall(
  call: CompiledCall,
  context: CompositionContext,
  runtime: CompositionRuntime,
  signal: AbortSignal,
  deadlineAt: number,
  options: ResolvedAggregateOptions,
): Promise<unknown> {
  const spec = call.spec;
  const scope = templateScope(context, undefined);
  if (call.forEach === undefined)
    return shapeResult(call, await send(call, context, scope, runtime, signal, deadlineAt, options));
  const items = resolveTokens(scope, call.forEach);
  if (!Array.isArray(items)) {
    throw new CallFailure(AggregateUpstreamFailed.spec.code, undefined, `'${spec.forEach}' is not an array`);
  }
  if (items.length > spec.maxItems) {
    throw new CallFailure(
      AggregateUpstreamFailed.spec.code,
      undefined,
      `'${spec.forEach}' has ${items.length} elements, over maxItems ${spec.maxItems}`,
    );
  }
  if (spec.batch !== undefined) {
    const values = items.map((item) => resolveTokens(item, call.batchValue));
    for (const value of values) {
      if (typeof value !== 'string' && typeof value !== 'number') {
        throw new CallFailure(
          AggregateUpstreamFailed.spec.code,
          undefined,
          `an element of '${spec.forEach}' has no usable value`,
        );
      }
    }
    if (values.length === 0) return spec.flatten ? [] : shapeResult(call, []);
    const extra: Array<[string, string]> =
      spec.batch.separator === 'repeat'
        ? values.map((v) => [spec.batch!.query, String(v)])
        : [[spec.batch.query, values.map(String).join(spec.batch.separator)]];
    return shapeResult(call, await send(call, context, scope, runtime, signal, deadlineAt, options, extra));
  }
  // One call per element, at most `concurrency` at once, answers in the elements' order.
  const out: unknown[] = new Array(items.length);
  let next = 0;
  const worker = async () => {
    while (next < items.length) {
      const i = next++;
      const itemScope = { ...scope, item: items[i] };
      out[i] = shapeResult(call, await send(call, context, itemScope, runtime, signal, deadlineAt, options));
    }
  };
  await Promise.all(Array.from({ length: Math.min(spec.concurrency, items.length) }, worker));
  return spec.flatten ? out.flatMap((v) => (Array.isArray(v) ? v : [v])) : out;
}

/** extract → pick → omit → rename, on a copy. */
function shapeResult(call: CompiledCall, value: unknown): unknown {
  let out = call.extract === undefined ? value : resolveTokens(value, call.extract);
  if (call.pick === undefined && call.omit === undefined && call.rename === undefined) return out;
  if (Array.isArray(out)) return out.map((element) => shapeOne(call, element));
  out = shapeOne(call, out);
  return out;
}

function shapeOne(call: CompiledCall, value: unknown): unknown {
  if (!isPlainObject(value)) return value;
  let out: Record<string, unknown>;
  if (call.pick !== undefined) {
    out = {};
    for (const tokens of call.pick) {
      const picked = resolveTokens(value, tokens);
      if (picked !== undefined) setTokens(out, tokens, structuredClone(picked));
    }
  } else out = structuredClone(value);
  for (const tokens of call.omit ?? []) deleteTokens(out, tokens);
  for (const [from, to] of call.rename ?? []) {
    const moved = resolveTokens(out, from);
    if (moved === undefined) continue;
    deleteTokens(out, from);
    setTokens(out, to, moved);
  }
  return out;
}

/** Builds and sends one upstream request; resolves with its parsed JSON (null when empty). */
async function send(
  call: CompiledCall,
  context: CompositionContext,
  scope: Record<string, unknown>,
  runtime: CompositionRuntime,
  signal: AbortSignal,
  deadlineAt: number,
  options: ResolvedAggregateOptions,
  extraQuery: ReadonlyArray<[string, string]> = [],
): Promise<unknown> {
  const spec = call.spec;
  let path: string;
  const headers: Record<string, string> = {};
  let body: string | undefined;
  try {
    path = renderPath(call.path, scope);
    if (call.query.length > 0 || extraQuery.length > 0) {
      const query = new URLSearchParams();
      for (const [key, template] of call.query) query.append(key, renderText(template, scope));
      for (const [key, value] of extraQuery) query.append(key, value);
      const text = query.toString();
      if (text !== '') path += `?${text}`;
    }
    for (const name of spec.forward) {
      const value = context.headers[name.toLowerCase()];
      if (value !== undefined) headers[name.toLowerCase()] = value;
    }
    const identity = context.exchange.stateIfSet?.forwardHeaders as Record<string, string> | undefined;
    if (identity !== undefined) for (const name in identity) headers[name.toLowerCase()] = identity[name]!;
    for (const [name, template] of call.headers) headers[name] = renderHeader(template, scope);
    if (call.body !== undefined) {
      body = JSON.stringify(resolveTokens(scope, call.body) ?? null);
      headers['content-type'] = 'application/json';
    }
  } catch (error) {
    if (error instanceof UnsafeValue) {
      const fromRequest =
        call.requestOnly &&
        !('item' in scope && call.forEach !== undefined && !REQUEST_SOURCES.has(sourceOf(spec.forEach!)));
      throw fromRequest
        ? new CallFailure(
            AggregateBadValue.spec.code,
            400,
            `a request value is not usable upstream: ${error.message}`,
            'bad-value',
          )
        : new CallFailure(
            AggregateUpstreamFailed.spec.code,
            undefined,
            `a value from an earlier answer is not usable: ${error.message}`,
          );
    }
    throw error;
  }
  const remaining = deadlineAt - performance.now();
  const timeoutMs = Math.max(1, Math.floor(Math.min(remaining, spec.timeoutMs ?? remaining)));
  // The call's own deadline, covering its body too (the client's timers stop at the headers), only
  // when it is shorter than the composition's: otherwise the composition's signal ends the call, and a
  // timer, a controller and a listener per call are saved.
  const own = spec.timeoutMs !== undefined && spec.timeoutMs < remaining;
  const local = own ? new AbortController() : undefined;
  const callSignal = local?.signal ?? signal;
  const timer = own
    ? setTimeout(
        () =>
          local!.abort(
            new CallFailure(
              AggregateTimeout.spec.code,
              504,
              `no answer within ${configuredTimeout(spec, options)} ms`,
              'timeout',
            ),
          ),
        timeoutMs,
      )
    : undefined;
  const onAbort = () => local!.abort(signal.reason);
  if (own) signal.addEventListener('abort', onAbort, { once: true });
  const maxBytes = spec.maxBodyBytes ?? options.maxBodyBytes;
  const client = runtime.clientFor(spec.service);
  const origin = (sendHeaders: Record<string, string>, sendSignal: AbortSignal): Promise<StoredResponse> =>
    client
      .request({
        method: spec.method,
        path,
        headers: sendHeaders,
        body,
        signal: sendSignal,
        timeoutMs,
        exchange: context.exchange,
      })
      .then((response) =>
        readBody(response, maxBytes, sendSignal).then((bytes) => ({
          status: response.statusCode,
          headers: definedHeaders(response.headers),
          body: bytes,
        })),
      );
  let response: StoredResponse;
  try {
    const who = scopeOf(context.principal?.id as string | undefined, headers);
    const useCache = spec.method === 'GET' && (spec.cache ?? options.cache) ? runtime.cache() : undefined;
    if (useCache !== undefined) {
      response = await useCache.fetch(
        { service: spec.service, method: 'GET', path, headers, scope: who, signal: callSignal },
        origin,
      );
    } else if (spec.method === 'GET' && options.coalesce) {
      const key = `${spec.service}\u0000GET\u0000${path}\u0000${Object.keys(headers)
        .sort()
        .map((k) => `${k}:${headers[k]}`)
        .join('\n')}`;
      response = (
        await runtime.flights.run(key, { scope: who, headers, signal: callSignal }, (s) => origin(headers, s))
      ).response;
    } else response = await origin(headers, callSignal);
  } catch (error) {
    if (local?.signal.aborted && local.signal.reason instanceof CallFailure) throw local.signal.reason;
    if (error === TIMEOUT || error === GONE || error === FAILED) throw error;
    // The client's deadline and this call's are the same instant: one reason, whichever timer won.
    if (isGatehouseError(error) && error.code === 'GH_UPSTREAM_TIMEOUT') {
      throw new CallFailure(
        AggregateTimeout.spec.code,
        504,
        `no answer within ${configuredTimeout(spec, options)} ms`,
        'timeout',
      );
    }
    if (isGatehouseError(error) && error.code === AggregateBodyTooLarge.spec.code) {
      throw new CallFailure(error.code, undefined, error.message);
    }
    throw error;
  } finally {
    if (own) {
      clearTimeout(timer);
      signal.removeEventListener('abort', onAbort);
    }
  }
  if (response.status < 200 || response.status > 299) {
    throw new CallFailure(
      AggregateUpstreamStatus.spec.code,
      response.status,
      `'${spec.service}' answered ${response.status}`,
      'status',
    );
  }
  if (response.body.length === 0 || spec.method === 'HEAD') return null;
  try {
    return JSON.parse(response.body.toString('utf8')) as unknown;
  } catch {
    throw new CallFailure(
      AggregateInvalidJson.spec.code,
      undefined,
      `'${spec.service}' answered invalid JSON`,
    );
  }
}

export function definedHeaders(
  headers: Record<string, string | string[] | undefined>,
): Record<string, string | string[]> {
  const out: Record<string, string | string[]> = {};
  for (const name in headers) {
    const value = headers[name];
    if (value !== undefined) out[name] = value;
  }
  return out;
}
