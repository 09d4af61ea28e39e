// The migration controller: matches requests against the route table and serves each matched one in
// its route's mode (local, shadow, split, fallback, remote), keeps per-side windows, compares shadow
// answers, enforces gates, and swaps in new tables atomically.
import { channel } from 'node:diagnostics_channel';
import { EventEmitter } from 'node:events';
import { type IncomingMessage, ServerResponse } from 'node:http';
import type { Duplex, Readable } from 'node:stream';
import { type CallResponse, type Client, loadUndici } from '@gatehousejs/client';
import {
  ConfigError,
  didYouMean,
  type Exchange,
  ensureExchange,
  type Gateway,
  HANDLED,
  INTERNAL_REQUEST_HEADER,
  isGatehouseError,
  isThenable,
  type Middleware,
  parseOptions,
  type Reply,
  type RequestResult,
  renderProblem,
  renderReply,
  writeRenderedToSocket,
} from '@gatehousejs/core';
import { type Attributes, context, metrics, type ObservableResult } from '@opentelemetry/api';
import type { Agent } from 'undici';
import { hasBody, type PeekedBody, peekBody, restoreBody, upstreamBody } from './body.js';
import { captureResponse, decodeSample, readCapped } from './capture.js';
import { createDiffer, type Differ, type DiffRecord, type ResponseSample } from './diff.js';
import { RouteBodyConsumed } from './errors.js';
import {
  type Forwarding,
  forwardOmissions,
  type ResponseContext,
  requestHeaders,
  responseHeaders,
  shapeResponseHeaders,
  upstreamPath,
} from './forward.js';
import { type ContractReport, observedBodyBytes, type RemoteResponse, remoteObservers } from './observe.js';
import { routesOptionsSchema } from './options.js';
import {
  type CompiledPromotion,
  judgeStep,
  nextStep,
  type PromotionVerdict,
  previousStep,
  type Step,
  type StepEvidence,
  stepIndex,
} from './promotion.js';
import { etcdSource, fileSource, type TableDocument, type TableSource } from './source.js';
import {
  type CompiledRoute,
  compileTable,
  type FallbackReason,
  type HostPattern,
  hostMatches,
  MODES,
  type Mode,
  parseHostPattern,
  type RouteSpec,
  type RouteTable,
} from './table.js';
import { DiffWindow, LATENCY_SAMPLES, type SideCounts, type SideSnapshot, SideWindow } from './window.js';

/** Who may force a side with the override header. */
export interface OverrideOptions {
  /** The request header testers send, with `local` or `remote`. @default 'gatehouse-route' */
  header?: string;
  /** Scopes the principal (from `gw.auth()`) must all hold. @default ['gatehouse:route-override'] */
  scopes?: readonly string[];
  /** Roles the principal must all hold. @default [] */
  roles?: readonly string[];
  /** Decides instead of scopes and roles. */
  allow?: (exchange: Exchange) => boolean;
}

/** Options of `gw.routes()`. Give at most one of `table`, `file`, `etcd` and `source`. */
export interface RoutesOptions {
  /** Names this controller in events and admin output. @default 'routes' */
  name?: string;
  /** The table in code. */
  table?: RouteTable | readonly RouteSpec[];
  /** A YAML or JSON file holding the table, watched for changes. */
  file?: string;
  /** How the file is watched. */
  watch?: { intervalMs?: number; debounceMs?: number };
  /** An etcd key holding the table (YAML or JSON), watched. */
  etcd?: {
    hosts: string | string[];
    key: string;
    dialTimeoutMs?: number;
    auth?: { username: string; password: string };
  };
  /** Any other source of table documents. */
  source?: TableSource;
  /** The per-request override header for testers; `false` turns it off. */
  override?: OverrideOptions | false;
  /** How often gates are evaluated, in ms. @default 1_000 */
  gateIntervalMs?: number;
}

/** What the controller needs from the gateway around it. */
export interface RoutesContext {
  readonly core: Gateway;
  /** The mesh client for a service name; with `cache`, one whose GETs go through the response cache. */
  clientFor(service: string, options?: { readonly cache?: boolean }): Client;
  /**
   * A fresh answer the response cache holds for a GET on a `cache: true` route, found from the
   * incoming request before the forwarded one is built (`rewritten` names the headers the route
   * changes: an answer varying on one of them is not given); undefined otherwise.
   */
  cachedAnswer?(
    service: string,
    path: string,
    exchange: Exchange,
    rewritten: (name: string) => boolean,
  ): CallResponse | undefined;
  /** Service names routes may use. */
  readonly services: ReadonlySet<string>;
  /** Middleware run on upgrade requests before they are passed through (the gateway's auth). */
  upgradeGuards(): readonly Middleware[];
  /** Called when a table with a `websocket: true` route is applied (the gateway then listens for upgrades). */
  upgradesWanted?(): void;
}

/** A mode change: by the table, by `setMode()`, or by a gate. */
export interface ModeChange {
  readonly at: string;
  readonly route: string;
  readonly from: { mode: Mode; weight: number };
  readonly to: { mode: Mode; weight: number };
  readonly by: 'table' | 'api' | 'gate';
  /** For gates: which threshold, what was observed, and the limit. */
  readonly reason?: string;
  readonly observed?: number;
  readonly threshold?: number;
  /** For gated promotion's moves (`reason` `'promotion'` or `'promotion-fail'`): the verdict behind it. */
  readonly verdict?: PromotionVerdict;
}

/** Where a route's gated promotion stands, as `/migration` shows it. */
export interface PromotionReport {
  /** The walk's steps. */
  readonly steps: readonly Step[];
  /** Index in `steps` of the last step at or before where the route stands (−1: before the first). */
  readonly step: number;
  /** The step it moves to when the verdict passes; null once the walk is complete. */
  readonly next: Step | null;
  readonly holdMs: number;
  /** Time spent in the current step so far. */
  readonly heldMs: number;
  /**
   * `judging` (evidence gathering or not passing yet), `holding` (passing, hold time not over),
   * `awaiting-confirmation` (passing and held; a person must promote), `halted` (a gate stepped it back:
   * no automatic move until re-armed), `complete` (no step after this one).
   */
  readonly status: 'judging' | 'holding' | 'awaiting-confirmation' | 'halted' | 'complete';
  /** Why the walk stopped, while `halted`. */
  readonly halted?: { readonly at: string; readonly reason: string };
  /** The latest verdict over the current step (null before the first evaluation). */
  readonly verdict: PromotionVerdict | null;
}

/** A table that was refused; the old one stays. */
export interface Rejection {
  readonly at: string;
  readonly origin: string;
  readonly problems: readonly { path: string; message: string }[];
}

/**
 * One side of a route as `/migration` shows it, three ways. For the remote side of a `shadow` route,
 * the requests are the shadow copies.
 */
export interface SideReport {
  /** The last `gates.windowMs` of the current stage: what the gates judge. */
  readonly window: SideSnapshot;
  /** Since the last mode change (the report's `since`). */
  readonly stage: SideSnapshot;
  /** Since the route appeared, across every stage (no latency: stages are not comparable). */
  readonly total: SideCounts;
}

/** Counts by reason (shadow copies skipped, fallbacks taken): since the last mode change, and in total. */
export interface ReasonCounts {
  readonly stage: Readonly<Record<string, number>>;
  readonly total: Readonly<Record<string, number>>;
}

/** Shadow comparisons counted over some span. */
export interface ComparisonCounts {
  readonly compared: number;
  readonly equal: number;
  readonly different: number;
  /** Copies whose answers could not be compared (too large, failed to read). */
  readonly skipped: number;
  /** different / compared, 0 when none. */
  readonly rate: number;
}

/** The shadow comparisons of a route. */
export interface DiffReport {
  /** Over the gate window (what `maxDiffRate` judges). */
  readonly window: { readonly compared: number; readonly different: number; readonly rate: number };
  /** Since the last mode change, with the fields that differed (per field: comparisons). */
  readonly stage: ComparisonCounts & { readonly fields: Readonly<Record<string, number>> };
  /** Since the route appeared. */
  readonly total: ComparisonCounts;
  /** Learned noise fields and the local pairs they differed in (kept across stages). */
  readonly noise: Readonly<Record<string, number>>;
  /** Local pairs learned from. */
  readonly noiseSamples: number;
  /**
   * The noise baseline: of the local pairs, those that still differed once the noise learned before
   * them was ignored, and their rate — how often the application differs from itself as compared.
   */
  readonly baseline: { readonly pairs: number; readonly different: number; readonly rate: number };
}

/** A route as `/migration` shows it. */
export interface MigrationReport {
  readonly name: string;
  /** The route's path patterns (a group has several). */
  readonly paths: readonly string[];
  readonly mode: Mode;
  readonly weight: number;
  readonly service: string | undefined;
  /** When the current stage began: the last mode change, or when the route appeared (ISO time). */
  readonly since: string;
  /**
   * Share of the requests clients sent since the last mode change that each side answered (shadow
   * copies are not answers: a shadow route's share is all local).
   */
  readonly share: { local: number; remote: number };
  readonly local: SideReport;
  readonly remote: SideReport;
  /** How latency percentiles are computed: exactly (nearest rank), over each side's latest requests. */
  readonly percentiles: { readonly method: 'exact'; readonly maxSamples: number };
  readonly diff: DiffReport;
  readonly shadow: { inflight: number; skipped: ReasonCounts };
  readonly fallbacks: ReasonCounts;
  /** Override headers honoured and denied since the route appeared. */
  readonly overrides: { honoured: number; denied: number };
  readonly gates: CompiledRoute['gates'];
  /** The latest mode changes, newest first (at most 20). */
  readonly changes: readonly ModeChange[];
  /** The latest differing comparisons of this stage, newest first. */
  readonly latest: readonly DiffRecord[];
  /** Contract checks of the service's answers by observers (OpenAPI's contract guard), if any. */
  readonly contract: ContractReport;
  /** Gated promotion, for a route with `promotion`. */
  readonly promotion?: PromotionReport;
}

const IDEMPOTENT = new Set(['GET', 'HEAD', 'OPTIONS', 'PUT', 'DELETE', 'TRACE']);
/**
 * The one deadline of a proxied call when the route sets no `timeoutMs`: every try shares it and any
 * try may use all of it, so a slow service is tried once and answered 504 after 10 s (with the
 * client's own defaults, three tries of 5 s took 15 s), while a fast failure (a refused connection,
 * 502/503/504) is still retried on another endpoint within it.
 */
export const ROUTE_DEADLINE_MS = 10_000;
/** What `clientFor` is asked for on a `cache: true` route (one object, not one per request). */
const CACHED = { cache: true } as const;
/**
 * Where a client from the response cache keeps an answer's bytes on its body (`CACHED_BYTES` in
 * `@gatehousejs/aggregate`, a registered symbol so this package needs no import of it).
 */
const CACHED_BYTES = Symbol.for('gatehouse.cachedBytes');
/** `CLEAN_HEADERS` of `@gatehousejs/aggregate`: a cached answer whose headers need no hygiene pass. */
const CLEAN_HEADERS = Symbol.for('gatehouse.cleanHeaders');

/**
 * The bytes of an answer the response cache held whole: on the response itself (a cache hit, whose
 * body stream is then never made) or on its body.
 */
function heldBytes(response: CallResponse): Uint8Array | undefined {
  const own = (response as unknown as Record<symbol, unknown>)[CACHED_BYTES];
  if (own instanceof Uint8Array) return own;
  const onBody = (response.body as unknown as Record<symbol, unknown>)[CACHED_BYTES];
  return onBody instanceof Uint8Array ? onBody : undefined;
}
const demoteChannel = channel('gatehouse:routes:demote');
const promoteChannel = channel('gatehouse:routes:promote');
const verdictChannel = channel('gatehouse:routes:verdict');
const reloadChannel = channel('gatehouse:routes:reload');

/** Counters by key, since the stage began and in total. */
class Tally {
  stage: Record<string, number> = Object.create(null);
  readonly total: Record<string, number> = Object.create(null);

  add(key: string): void {
    this.stage[key] = (this.stage[key] ?? 0) + 1;
    this.total[key] = (this.total[key] ?? 0) + 1;
  }

  newStage(): void {
    this.stage = Object.create(null);
  }

  report(): ReasonCounts {
    return { stage: { ...this.stage }, total: { ...this.total } };
  }
}

function comparisons(counts: Readonly<Record<string, number>>): ComparisonCounts {
  const equal = counts.equal ?? 0;
  const different = counts.different ?? 0;
  const compared = equal + different;
  return {
    compared,
    equal,
    different,
    skipped: counts.skipped ?? 0,
    rate: compared === 0 ? 0 : different / compared,
  };
}

/** Run-time state of one route, kept across reloads while the route keeps its name. */
class RouteState {
  route: CompiledRoute;
  mode: Mode;
  weight: number;
  /** When the current stage began (the last mode change). */
  since = Date.now();
  readonly local: SideWindow;
  readonly remote: SideWindow;
  readonly diffs: DiffWindow;
  /** Compares shadow answers; its stats and latest differences are this stage's (reset on a change). */
  differ: Differ;
  diffKey: string;
  shadowInflight = 0;
  readonly skipped = new Tally();
  readonly fallbacks = new Tally();
  readonly overrides = { honoured: 0, denied: 0 };
  readonly changes: ModeChange[] = [];
  /** Shadow comparisons: equal, different, skipped (the totals are also the metrics). */
  readonly compared = new Tally();
  /** Remote answers judged by contract observers (`checked`), and the violating ones (`violations`). */
  readonly contract = new Tally();
  readonly contractFields = new Map<string, number>();
  readonly contracts: DiffWindow;
  /** Gated promotion: the latest verdict, what was last announced, a wait for a person, a stop. */
  verdict: PromotionVerdict | undefined;
  announced = '';
  awaiting = false;
  halted: { at: string; reason: string } | undefined;
  /** The local side of the latest step with local traffic: the control once local has none. */
  baseline: (StepEvidence['local'] & { mode: Mode; until: string }) | undefined;

  constructor(route: CompiledRoute) {
    this.route = route;
    this.mode = route.mode;
    this.weight = route.weight;
    this.local = new SideWindow(route.gates.windowMs, this.since);
    this.remote = new SideWindow(route.gates.windowMs, this.since);
    this.diffs = new DiffWindow(route.gates.windowMs);
    this.contracts = new DiffWindow(route.gates.windowMs);
    this.differ = createDiffer(route.diff);
    this.diffKey = JSON.stringify(route.diff);
  }

  /** Takes a new compiled route of the same name; keeps run-time changes unless the table changed them. */
  update(route: CompiledRoute): ModeChange | undefined {
    const previous = this.route;
    this.route = route;
    if (route.gates.windowMs !== previous.gates.windowMs) {
      this.local.resize(route.gates.windowMs);
      this.remote.resize(route.gates.windowMs);
      this.diffs.resize(route.gates.windowMs);
      this.contracts.resize(route.gates.windowMs);
    }
    const diffKey = JSON.stringify(route.diff);
    if (diffKey !== this.diffKey) {
      this.differ = createDiffer(route.diff);
      this.diffKey = diffKey;
    }
    if (route.fingerprint === previous.fingerprint) return undefined;
    return this.change({ mode: route.mode, weight: route.weight }, 'table');
  }

  change(
    to: { mode: Mode; weight: number },
    by: ModeChange['by'],
    detail: Partial<ModeChange> = {},
  ): ModeChange {
    const event: ModeChange = {
      at: new Date().toISOString(),
      route: this.route.name,
      from: { mode: this.mode, weight: this.weight },
      to,
      by,
      ...detail,
    };
    this.#keepBaseline();
    this.mode = to.mode;
    this.weight = to.weight;
    this.verdict = undefined;
    this.awaiting = false;
    // A new table mode or a re-arm starts the walk again; a person's setMode() does not.
    if (by === 'table' || detail.reason === 'rearm') this.halted = undefined;
    // The next stage is judged on its own traffic, and reported apart from the last one.
    const now = Date.now();
    this.since = now;
    this.local.newStage(now);
    this.remote.newStage(now);
    this.diffs.clear();
    this.contracts.clear();
    this.differ.resetStats();
    this.skipped.newStage();
    this.fallbacks.newStage();
    this.compared.newStage();
    this.contract.newStage();
    this.changes.unshift(event);
    if (this.changes.length > 20) this.changes.length = 20;
    return event;
  }

  /** Before a stage ends: its local side becomes the baseline if it answered enough requests. */
  #keepBaseline(): void {
    if (this.mode !== 'local' && this.mode !== 'shadow' && this.mode !== 'split') return;
    const stage = this.local.stage();
    if (stage.requests === 0) return;
    const needed = this.route.promotion?.minSamples ?? 1;
    if (this.baseline !== undefined && stage.requests < needed && this.baseline.requests >= needed) return;
    this.baseline = {
      requests: stage.requests,
      errors: stage.errors,
      samples: this.local.stageSamples(),
      mode: this.mode,
      until: new Date().toISOString(),
    };
  }

  /** What the current step's verdict is computed from. */
  evidence(): StepEvidence {
    const local = this.local.stage();
    const remote = this.remote.stage();
    const stats = this.differ.stats();
    return {
      mode: this.mode,
      local: { requests: local.requests, errors: local.errors, samples: this.local.stageSamples() },
      remote: { requests: remote.requests, errors: remote.errors, samples: this.remote.stageSamples() },
      baseline: this.baseline,
      diff: { events: this.compared.stage.different ?? 0, trials: comparisons(this.compared.stage).compared },
      noise: { events: stats.noiseDifferent, trials: stats.noiseSamples },
      contract: { events: this.contract.stage.violations ?? 0, trials: this.contract.stage.checked ?? 0 },
    };
  }
}

/** 32-bit FNV-1a: a stable, well-spread bucket for sticky splits. */
function fnv1a(text: string): number {
  let hash = 0x811c9dc5;
  for (let i = 0; i < text.length; i++) {
    hash ^= text.charCodeAt(i);
    hash = Math.imul(hash, 0x01000193);
  }
  return hash >>> 0;
}

function cookieValue(header: string | undefined, name: string): string | undefined {
  if (header === undefined) return undefined;
  for (const part of header.split(';')) {
    const eq = part.indexOf('=');
    if (eq !== -1 && part.slice(0, eq).trim() === name) return part.slice(eq + 1).trim();
  }
  return undefined;
}

type Principal = { id: string; scopes: readonly string[]; roles: readonly string[] };
const principalOf = (exchange: Exchange) => (exchange.state as { principal?: Principal }).principal;

/** Which fallback reason an upstream failure is, if it is one. */
function reasonOf(error: unknown): FallbackReason | undefined {
  if (!isGatehouseError(error)) return undefined;
  switch (error.code) {
    case 'GH_UPSTREAM_UNAVAILABLE':
    case 'GH_CLIENT_BULKHEAD_FULL':
    case 'GH_RETRY_BUDGET_EXHAUSTED':
      return 'connect';
    case 'GH_UPSTREAM_TIMEOUT':
      return 'timeout';
    case 'GH_CIRCUIT_OPEN':
      return 'circuit';
    case 'GH_UPSTREAM_BAD_RESPONSE':
    case 'GH_UPSTREAM_TLS':
      return '5xx';
    default:
      return undefined;
  }
}

/**
 * The routes controller: a neutral middleware (mount it before the application's handlers and body
 * parsers) with the run-time API (`setMode`, `reload`, reports, events).
 *
 * Events: `'change'` ({@link ModeChange}, including gate demotions), `'demote'` (gate demotions
 * only), `'reload'` ({ origin, revision, routes }), `'reject'` ({@link Rejection}).
 */
export class Routes extends EventEmitter implements Middleware {
  readonly name: string;
  readonly #context: RoutesContext;
  readonly #source: TableSource | undefined;
  /** What every forwarded request gets: omissions, the request id header. */
  readonly #forwarding: Forwarding;
  readonly #override: (Required<Omit<OverrideOptions, 'allow'>> & Pick<OverrideOptions, 'allow'>) | undefined;
  readonly #gateIntervalMs: number;
  #states: RouteState[] = [];
  #byName = new Map<string, RouteState>();
  #origin = 'code';
  #revision = 0;
  #rejection: Rejection | undefined;
  #timer: NodeJS.Timeout | undefined;
  #agent: Agent | undefined;
  #keepPercent: boolean;

  /** @throws ConfigError listing every problem in the options and in a table given in code. */
  constructor(options: RoutesOptions, context: RoutesContext) {
    super();
    const label = typeof options?.name === 'string' && options.name !== '' ? options.name : 'routes';
    // Checked against routesOptionsSchema (at most one of table, file, etcd and source, …); a `table`
    // given in code is checked by compileTable below.
    parseOptions(routesOptionsSchema, options, { name: label });
    this.name = options.name ?? 'routes';
    this.#context = context;
    this.#keepPercent = context.core.pathPolicy.encodedSlashes === 'keep';
    this.#gateIntervalMs = options.gateIntervalMs ?? 1_000;
    this.#source =
      options.source ??
      (options.file !== undefined
        ? fileSource(options.file, options.watch)
        : options.etcd !== undefined
          ? etcdSource(options.etcd)
          : undefined);
    const o = options.override;
    this.#override =
      o === false
        ? undefined
        : {
            header: (o?.header ?? 'gatehouse-route').toLowerCase(),
            scopes: o?.scopes ?? ['gatehouse:route-override'],
            roles: o?.roles ?? [],
            allow: o?.allow,
          };
    this.#forwarding = {
      omit: forwardOmissions(this.#override?.header),
      requestIdHeader: context.core.config.requestId.header.toLowerCase(),
    };
    if (options.table !== undefined) this.#apply(compileTable(options.table, this.#tableContext()), 'code');
  }

  #tableContext() {
    return { services: this.#context.services, pathPolicy: this.#context.core.pathPolicy };
  }

  /** Loads the first table from the source (failing loudly when it cannot) and starts watching. */
  async start(): Promise<void> {
    this.#source?.monitor?.reportTo(this.#context.core);
    if (this.#source !== undefined) {
      const first = await this.#source.start({
        onDocument: (doc) => this.#fromSource(doc),
        // An outage of a monitored source (etcd down) is reported once by its monitor, with its
        // return: recorded as the rejection /routes shows, not reported a second time.
        onError: (error) =>
          this.#reject(
            this.#source!.origin,
            [{ path: '', message: error.message }],
            !(error.outage && this.#source!.monitor !== undefined),
          ),
      });
      let compiled: CompiledRoute[];
      try {
        compiled = compileTable(first.value, this.#tableContext());
      } catch (error) {
        // The source names itself in every problem, so a start-up failure says which file or key.
        if (error instanceof ConfigError)
          throw new ConfigError(
            error.problems.map((p) => ({ ...p, message: `${p.message} (in ${first.origin})` })),
          );
        throw error;
      }
      this.#apply(compiled, first.origin);
    }
    this.#timer = setInterval(() => this.evaluateGates(), this.#gateIntervalMs);
    this.#timer.unref();
  }

  async close(): Promise<void> {
    clearInterval(this.#timer);
    await this.#source?.close();
    await this.#agent?.close();
  }

  #fromSource(doc: TableDocument): void {
    try {
      this.reload(doc.value, doc.origin);
    } catch {
      // reload() reported it.
    }
  }

  /**
   * Validates and applies a new table atomically: requests see the old table or the new one, never a
   * mix. Routes keep their windows, comparisons and run-time mode changes while the table leaves
   * their mode and weight as they were. An invalid table throws a `ConfigError`, emits `'reject'`
   * and leaves the current table in place.
   */
  reload(input: unknown, origin = 'code'): void {
    let compiled: CompiledRoute[];
    try {
      compiled = compileTable(input, this.#tableContext());
    } catch (error) {
      const problems =
        error instanceof ConfigError ? error.problems : [{ path: '', message: (error as Error).message }];
      this.#reject(origin, problems);
      throw error;
    }
    this.#apply(compiled, origin);
  }

  #reject(origin: string, problems: Rejection['problems'], report = true): void {
    const rejection: Rejection = { at: new Date().toISOString(), origin, problems };
    this.#rejection = rejection;
    if (report)
      this.#context.core.report(
        new Error(
          `${this.name}: rejected the route table from ${origin}, keeping the current one: ${problems
            .map((p) => `${p.path ? `${p.path}: ` : ''}${p.message}`)
            .join('; ')}`,
        ),
        undefined,
        'routes.reload',
      );
    this.emit('reject', rejection);
  }

  #apply(compiled: CompiledRoute[], origin: string): void {
    const next: RouteState[] = [];
    const byName = new Map<string, RouteState>();
    const changes: ModeChange[] = [];
    for (const route of compiled) {
      const existing = this.#byName.get(route.name);
      let state: RouteState;
      if (existing === undefined) state = new RouteState(route);
      else {
        state = existing;
        const change = state.update(route);
        if (change !== undefined) changes.push(change);
      }
      next.push(state);
      byName.set(route.name, state);
    }
    // Clients are made before the swap, so a table naming a service never fails on a request.
    for (const state of next)
      if (state.route.service !== undefined) this.#context.clientFor(state.route.service);
    this.#states = next;
    this.#byName = byName;
    this.#origin = origin;
    this.#revision++;
    this.#rejection = undefined;
    if (next.some((state) => state.route.websocket)) this.#context.upgradesWanted?.();
    const info = { origin, revision: this.#revision, routes: next.length };
    if (reloadChannel.hasSubscribers) reloadChannel.publish({ controller: this, ...info });
    this.emit('reload', info);
    for (const change of changes) this.emit('change', change);
  }

  /**
   * Switches a route's mode (and split weight) at run time, until the table changes that route's
   * mode or weight. Throws a TypeError for an unknown route or mode, or a mode the route cannot take.
   */
  setMode(name: string, mode: Mode, weight?: number): ModeChange {
    const state = this.#byName.get(name);
    if (state === undefined)
      throw new TypeError(
        `setMode(): no route named '${name}'${didYouMean(String(name), this.#byName.keys())}`,
      );
    if (!MODES.includes(mode))
      throw new TypeError(
        `setMode(): mode must be one of ${MODES.join(', ')}${didYouMean(String(mode), MODES)}`,
      );
    if (mode !== 'local' && state.route.service === undefined)
      throw new TypeError(`setMode(): route '${name}' has no service, so it can only be local`);
    if (weight !== undefined && !(typeof weight === 'number' && weight >= 0 && weight <= 100))
      throw new TypeError('setMode(): weight must be a percentage from 0 to 100');
    const change = state.change({ mode, weight: weight ?? state.weight }, 'api');
    this.emit('change', change);
    return change;
  }

  /**
   * Re-arms a route after a gate (or `setMode()`) moved it: applies the table's mode and weight again
   * and starts a new stage (empty windows, counters since the change; totals kept), so the gates judge
   * it afresh. The table's `rearm` field does the same from a file or etcd. Throws a TypeError for an
   * unknown route.
   */
  rearm(name: string): ModeChange {
    const state = this.#byName.get(name);
    if (state === undefined)
      throw new TypeError(
        `rearm(): no route named '${name}'${didYouMean(String(name), this.#byName.keys())}`,
      );
    const change = state.change({ mode: state.route.mode, weight: state.route.weight }, 'api', {
      reason: 'rearm',
    });
    this.emit('change', change);
    return change;
  }

  /**
   * Evaluates every route's gates now (also done every `gateIntervalMs`), then the promotion verdict
   * of every route with `promotion`; returns the changes made: demotions by gates, and the moves of
   * gated promotion (forward, or back on a failing verdict). `now` is the clock promotion's hold time
   * is read against.
   */
  evaluateGates(now = Date.now()): ModeChange[] {
    const made: ModeChange[] = [];
    for (const state of this.#states) {
      const breach = this.#breach(state, now);
      if (breach !== undefined) {
        const at = MODES.indexOf(state.mode);
        const to = { mode: MODES[at - 1]!, weight: state.weight };
        const change = state.change(to, 'gate', breach);
        made.push(change);
        // A route a gate moved back does not walk forward again on its own until re-armed.
        if (state.route.promotion !== undefined)
          state.halted = { at: change.at, reason: `gate ${breach.reason}` };
        this.#demoted(change);
        continue;
      }
      const promotion = state.route.promotion;
      if (promotion !== undefined) {
        const change = this.#walk(state, promotion, now);
        if (change !== undefined) made.push(change);
      }
    }
    return made;
  }

  #demoted(change: ModeChange): void {
    if (demoteChannel.hasSubscribers) demoteChannel.publish({ controller: this, change });
    this.emit('change', change);
    this.emit('demote', change);
  }

  /** One evaluation of gated promotion for a route: judge the step, then move on, hold or step back. */
  #walk(state: RouteState, promotion: CompiledPromotion, now: number): ModeChange | undefined {
    const current = { mode: state.mode, weight: state.weight };
    const verdict = judgeStep(state.evidence(), promotion, {
      route: state.route.name,
      weight: state.weight,
      now,
    });
    state.verdict = verdict;
    const next = nextStep(promotion.steps, current);
    let change: ModeChange | undefined;
    if (state.halted === undefined) {
      if (verdict.verdict === 'fail') {
        const back = previousStep(promotion.steps, current);
        const failed = verdict.gates.filter((g) => g.class === 'fail').map((g) => g.gate);
        change = state.change(
          { mode: back.mode, weight: back.mode === 'split' ? back.weight : state.weight },
          'gate',
          {
            reason: 'promotion-fail',
            verdict,
          },
        );
        state.halted = {
          at: change.at,
          reason: `verdict fail (${verdict.vetoedBy === undefined ? `score ${verdict.score}` : `${verdict.vetoedBy} vetoed`}; failing: ${failed.join(', ')})`,
        };
        this.#announce(state, verdict);
        this.#demoted(change);
        return change;
      }
      const held = now - state.since >= promotion.holdMs;
      if (verdict.verdict === 'pass' && held && next !== undefined) {
        if (promotion.confirm.has(next.mode)) state.awaiting = true;
        else {
          change = state.change(
            { mode: next.mode, weight: next.mode === 'split' ? next.weight : state.weight },
            'gate',
            { reason: 'promotion', verdict },
          );
          this.#announce(state, verdict);
          if (promoteChannel.hasSubscribers) promoteChannel.publish({ controller: this, change });
          this.emit('change', change);
          this.emit('promote', change);
          return change;
        }
      }
    }
    this.#announce(state, verdict);
    return undefined;
  }

  /** Emits `'verdict'` when a route's verdict or promotion status changed since it was last announced. */
  #announce(state: RouteState, verdict: PromotionVerdict): void {
    const status = this.#promotionStatus(state, Date.parse(verdict.at));
    const key = `${verdict.mode}:${verdict.weight}:${verdict.verdict}:${status}`;
    if (key === state.announced) return;
    state.announced = key;
    if (verdictChannel.hasSubscribers) verdictChannel.publish({ controller: this, verdict, status });
    this.emit('verdict', { verdict, status });
  }

  #promotionStatus(state: RouteState, now: number): PromotionReport['status'] {
    const promotion = state.route.promotion;
    if (promotion === undefined) return 'complete';
    if (state.halted !== undefined) return 'halted';
    if (nextStep(promotion.steps, { mode: state.mode, weight: state.weight }) === undefined)
      return 'complete';
    if (state.awaiting) return 'awaiting-confirmation';
    if (state.verdict?.verdict === 'pass' && now - state.since < promotion.holdMs) return 'holding';
    return 'judging';
  }

  #promotionReport(state: RouteState, now: number): PromotionReport | undefined {
    const promotion = state.route.promotion;
    if (promotion === undefined) return undefined;
    const current = { mode: state.mode, weight: state.weight };
    return {
      steps: promotion.steps,
      step: stepIndex(promotion.steps, current),
      next: nextStep(promotion.steps, current) ?? null,
      holdMs: promotion.holdMs,
      heldMs: Math.max(0, now - state.since),
      status: this.#promotionStatus(state, now),
      ...(state.halted === undefined ? {} : { halted: state.halted }),
      verdict: state.verdict ?? null,
    };
  }

  /**
   * Moves a route one step forward, as a person does (a confirmation too): to the next of its
   * `promotion.steps` when it has them, else the next stage of `local → shadow → split → fallback →
   * remote` (a split at `weight`, the route's current weight, or 10 %). Throws a TypeError for an
   * unknown route, or one already at its last step.
   */
  promote(name: string, weight?: number): ModeChange {
    const state = this.#state(name, 'promote');
    const current = { mode: state.mode, weight: state.weight };
    const steps = state.route.promotion?.steps;
    let to: { mode: Mode; weight: number } | undefined;
    if (steps !== undefined) {
      const next = nextStep(steps, current);
      if (next !== undefined)
        to = { mode: next.mode, weight: next.mode === 'split' ? (weight ?? next.weight) : state.weight };
    } else {
      const mode = MODES[MODES.indexOf(state.mode) + 1];
      if (mode !== undefined)
        to = {
          mode,
          weight: mode === 'split' ? (weight ?? (state.weight > 0 ? state.weight : 10)) : state.weight,
        };
    }
    if (to === undefined) throw new TypeError(`promote(): route '${name}' is at its last step already`);
    return this.setMode(name, to.mode, to.weight);
  }

  /**
   * Moves a route one step back, as a person does: to the previous of its `promotion.steps` (local
   * before the first), else the previous stage. Throws a TypeError for an unknown route, or a local one.
   */
  rollback(name: string): ModeChange {
    const state = this.#state(name, 'rollback');
    if (state.mode === 'local') throw new TypeError(`rollback(): route '${name}' is local already`);
    const steps = state.route.promotion?.steps;
    // Back to a split without steps: its weight, or 10 % as promote() starts one (callers on both sides).
    const back =
      steps !== undefined
        ? previousStep(steps, { mode: state.mode, weight: state.weight })
        : { mode: MODES[MODES.indexOf(state.mode) - 1]!, weight: state.weight > 0 ? state.weight : 10 };
    return this.setMode(name, back.mode, back.mode === 'split' ? back.weight : state.weight);
  }

  #state(name: string, method: string): RouteState {
    const state = this.#byName.get(name);
    if (state === undefined)
      throw new TypeError(
        `${method}(): no route named '${name}'${didYouMean(String(name), this.#byName.keys())}`,
      );
    return state;
  }

  /** Per route with `promotion`: its latest verdict and status (for metrics). */
  verdicts(
    now = Date.now(),
  ): Array<{ route: string; status: PromotionReport['status']; verdict: PromotionVerdict | undefined }> {
    return this.#states
      .filter((state) => state.route.promotion !== undefined)
      .map((state) => ({
        route: state.route.name,
        status: this.#promotionStatus(state, now),
        verdict: state.verdict,
      }));
  }

  #breach(state: RouteState, now: number): Pick<ModeChange, 'reason' | 'observed' | 'threshold'> | undefined {
    const g = state.route.gates;
    if (state.mode === 'local') return undefined;
    if (g.maxDiffRate !== undefined && state.mode === 'shadow') {
      const d = state.diffs.snapshot(now);
      if (d.compared >= g.minRequests && d.rate > g.maxDiffRate)
        return { reason: 'diff-rate', observed: d.rate, threshold: g.maxDiffRate };
    }
    const remote = state.remote.snapshot(now);
    if (remote.requests < g.minRequests) return undefined;
    const local = state.local.snapshot(now);
    if (local.requests >= g.minRequests) {
      const delta = remote.errorRate - local.errorRate;
      if (g.maxErrorRateDelta !== undefined && delta > g.maxErrorRateDelta)
        return { reason: 'error-rate-delta', observed: delta, threshold: g.maxErrorRateDelta };
      const p99 = remote.latency.p99Ms - local.latency.p99Ms;
      if (g.maxP99DeltaMs !== undefined && p99 > g.maxP99DeltaMs)
        return { reason: 'p99-delta', observed: p99, threshold: g.maxP99DeltaMs };
    }
    if (g.maxContractViolationRate !== undefined) {
      const c = state.contracts.snapshot(now);
      if (c.compared >= g.minRequests && c.rate > g.maxContractViolationRate)
        return { reason: 'contract-violation-rate', observed: c.rate, threshold: g.maxContractViolationRate };
    }
    if (g.maxErrorRate !== undefined && remote.errorRate > g.maxErrorRate)
      return { reason: 'error-rate', observed: remote.errorRate, threshold: g.maxErrorRate };
    return undefined;
  }

  // ------------------------------------------------------------------------------------------
  // The request path
  // ------------------------------------------------------------------------------------------

  #match(exchange: Exchange): RouteState | undefined {
    const states = this.#states;
    const method = exchange.method;
    let path: string | undefined;
    for (let i = 0; i < states.length; i++) {
      const state = states[i]!;
      const route = state.route;
      if (route.methods !== undefined && !route.methods.has(method)) continue;
      path ??= exchange.path;
      if (!route.matchPath(path)) continue;
      if (route.hosts !== undefined) {
        const host = exchange.host;
        if (host === undefined || !route.hosts.some((pattern) => hostMatches(pattern, host))) continue;
      }
      if (route.headers.length > 0 && !route.headers.every(([n, v]) => matches(exchange.header(n), v)))
        continue;
      if (route.query.length > 0) {
        const query = exchange.query;
        if (!route.query.every(([n, v]) => matches(query.get(n) ?? undefined, v))) continue;
      }
      if (route.version !== undefined) {
        const requested = exchange.stateIfSet?.apiVersion;
        if (requested === undefined || !route.version(requested.version)) continue;
      }
      return state;
    }
    return undefined;
  }

  onRequest(exchange: Exchange): RequestResult | Promise<RequestResult> {
    if (this.#states.length === 0) return undefined;
    // A noise sample (the gateway asking itself for a second local answer): the application answers.
    if (exchange.internal) return undefined;
    const state = this.#match(exchange);
    if (state === undefined) return undefined;
    const route = state.route;
    exchange.annotate('gatehouse.route', route.name);
    exchange.annotate('gatehouse.migration.mode', state.mode);
    const forced = this.#forced(exchange, state);
    if (forced !== undefined)
      return forced === 'local' ? this.#local(exchange, state) : this.#remote(exchange, state, false);
    switch (state.mode) {
      case 'local':
        return this.#local(exchange, state);
      case 'remote':
        return this.#remote(exchange, state, false);
      case 'fallback':
        return this.#remote(exchange, state, true);
      case 'split':
        return this.#side(exchange, state) === 'remote'
          ? this.#remote(exchange, state, false)
          : this.#local(exchange, state);
      case 'shadow':
        return this.#shadow(exchange, state);
    }
  }

  #forced(exchange: Exchange, state: RouteState): 'local' | 'remote' | undefined {
    const o = this.#override;
    if (o === undefined) return undefined;
    const value = exchange.req.headers[o.header];
    if (value === undefined) return undefined;
    if (value !== 'local' && value !== 'remote') return undefined;
    if (value === 'remote' && state.route.service === undefined) return undefined;
    let allowed: boolean;
    if (o.allow !== undefined) {
      try {
        allowed = o.allow(exchange) === true;
      } catch (error) {
        exchange.runtime.report(error, exchange, `${this.name}.override`);
        allowed = false;
      }
    } else {
      const principal = principalOf(exchange);
      allowed =
        principal !== undefined &&
        o.scopes.every((s) => principal.scopes.includes(s)) &&
        o.roles.every((r) => principal.roles.includes(r));
    }
    if (!allowed) {
      state.overrides.denied++;
      exchange.annotate('gatehouse.migration.override', 'denied');
      return undefined;
    }
    state.overrides.honoured++;
    exchange.annotate('gatehouse.migration.override', value);
    return value;
  }

  /** The side of a split this caller is on: the same caller stays on the same side for a weight. */
  #side(exchange: Exchange, state: RouteState): 'local' | 'remote' {
    if (state.weight <= 0) return 'local';
    if (state.weight >= 100) return 'remote';
    const sticky = state.route.sticky;
    if (sticky === 'none') return Math.random() * 100 < state.weight ? 'remote' : 'local';
    let key: string | undefined;
    if (sticky === 'principal') key = principalOf(exchange)?.id;
    else if (sticky !== 'ip') {
      key =
        'cookie' in sticky
          ? cookieValue(exchange.header('cookie'), sticky.cookie)
          : exchange.header(sticky.header);
    }
    key ??= `ip:${exchange.clientIp}`;
    // Buckets 0..9999 against the weight in hundredths of a percent: raising the weight only ever moves
    // callers from local to remote.
    const bucket = fnv1a(`${state.route.name}\u0000${key}`) % 10_000;
    return bucket < state.weight * 100 ? 'remote' : 'local';
  }

  #local(exchange: Exchange, state: RouteState): undefined {
    exchange.annotate('gatehouse.migration.side', 'local');
    // One label per route whichever side answers: the framework's own template (`/api/tags/`, or a
    // finer `/api/articles/:slug`) would make the two sides of one route two series.
    exchange.matchedRoute = state.route.label(exchange.path);
    const started = performance.now();
    const res = exchange.res;
    res.on('close', () => {
      state.local.record(performance.now() - started, res.statusCode >= 500 || !res.writableFinished);
    });
    return undefined;
  }

  #remote(exchange: Exchange, state: RouteState, fallback: boolean): RequestResult | Promise<RequestResult> {
    const req = exchange.req;
    if (hasBody(req) && (req.readableEnded || (req as { _body?: unknown })._body === true)) {
      throw new RouteBodyConsumed(
        `The body of this request was read before route '${state.route.name}': mount gw.routes() before body parsers`,
      );
    }
    if (fallback && hasBody(req)) {
      return peekBody(req, state.route.maxReplayBytes).then((peeked) =>
        this.#call(exchange, state, peeked, true),
      );
    }
    return this.#call(exchange, state, undefined, fallback);
  }

  #call(
    exchange: Exchange,
    state: RouteState,
    peeked: PeekedBody | undefined,
    fallback: boolean,
  ): RequestResult | Promise<RequestResult> {
    const route = state.route;
    const req = exchange.req;
    exchange.annotate('gatehouse.migration.side', 'remote');
    exchange.annotate('gatehouse.upstream', route.service!);
    exchange.matchedRoute = route.label(exchange.path);
    // A cache hit is answered here, before the forwarding headers and the call are made: on a hit that
    // path is most of the cost (bench/RESULTS.md, cache-cpu). Synchronously: a promise here cost the
    // adapter's asynchronous path on every hit. A Range request is the upstream's to answer (the
    // caching client sends it past the cache too).
    if (
      route.cache &&
      peeked === undefined &&
      exchange.method === 'GET' &&
      !hasBody(req) &&
      req.headers.range === undefined
    ) {
      const hit = this.#context.cachedAnswer?.(
        route.service!,
        upstreamPath(exchange, route, this.#keepPercent),
        exchange,
        (name) => route.requestRemove.has(name) || route.requestSet.some(([set]) => set === name),
      );
      if (hit !== undefined) {
        const flow: Flow = {
          cancel: undefined,
          body: undefined,
          status: 0,
          state,
          route,
          started: performance.now(),
        };
        this.#respond(exchange, state, hit, flow);
        return HANDLED;
      }
    }
    const client = this.#context.clientFor(route.service!, route.cache ? CACHED : undefined);
    const headers = requestHeaders(exchange, route, this.#forwarding);
    const body = peeked !== undefined ? upstreamBody(req, peeked) : hasBody(req) ? req : undefined;
    const replayable = peeked === undefined || peeked.complete;
    // A write that may have reached the service is not replayed locally: it could apply twice.
    const fallbackOn = IDEMPOTENT.has(exchange.method) ? route.fallbackOn : route.fallbackOnNonIdempotent;
    const started = performance.now();
    // One 'close' listener serves the whole exchange: a client that goes away cancels the call while
    // it waits for the service and stops the body once it flows. (An AbortSignal per request costs
    // EventTarget listeners: measurably more, bench/RESULTS.md.)
    const res = exchange.res;
    const flow: Flow = { cancel: undefined, body: undefined, status: 0, state, route, started };
    res.on('close', () => closeFlow(res, flow));
    // A promise chain, not an async function: one layer fewer on every proxied request.
    return client
      .request({
        method: exchange.method,
        path: upstreamPath(exchange, route, this.#keepPercent),
        headers,
        headersOwned: true,
        body,
        bindCancel: (cancel) => {
          flow.cancel = cancel;
        },
        exchange,
        timeoutMs: route.timeoutMs ?? ROUTE_DEADLINE_MS,
        perTryTimeoutMs: route.timeoutMs ?? ROUTE_DEADLINE_MS,
        bodyTimeoutMs: route.bodyTimeoutMs,
      })
      .then(
        (response): RequestResult => {
          if (fallback && replayable && response.statusCode >= 500 && fallbackOn.has('5xx')) {
            state.remote.record(performance.now() - started, true);
            response.body.dump().catch(() => {});
            return this.#fallBack(exchange, state, peeked, '5xx');
          }
          flow.cancel = undefined;
          this.#respond(exchange, state, response, flow);
          return HANDLED;
        },
        (error: unknown): RequestResult => {
          flow.cancel = undefined;
          // The client left: there is no one to answer, and nothing went wrong on the gateway's side.
          if (error === CLIENT_GONE) return HANDLED;
          state.remote.record(performance.now() - started, true);
          const reason = reasonOf(error);
          if (
            fallback &&
            replayable &&
            reason !== undefined &&
            fallbackOn.has(reason) &&
            !exchange.res.headersSent
          ) {
            return this.#fallBack(exchange, state, peeked, reason);
          }
          throw error;
        },
      );
  }

  #fallBack(
    exchange: Exchange,
    state: RouteState,
    peeked: PeekedBody | undefined,
    reason: FallbackReason,
  ): undefined {
    if (peeked !== undefined) restoreBody(exchange.req, peeked);
    state.fallbacks.add(reason);
    exchange.annotate('gatehouse.migration.fallback', reason);
    return this.#local(exchange, state);
  }

  #respond(exchange: Exchange, state: RouteState, response: CallResponse, flow: Flow): void {
    const res = exchange.res;
    const route = flow.route;
    const status = response.statusCode;
    const started = flow.started;
    if (res.destroyed) {
      // The client left while the service answered.
      response.body.destroy();
      state.remote.record(performance.now() - started, status >= 500);
      return;
    }
    const contextOf = () => this.#responseContext(exchange, route, response);
    let headers: Record<string, string | string[]>;
    if ((response as unknown as Record<symbol, unknown>)[CLEAN_HEADERS] === true) {
      // The answer's own object, shaped in place unless observers (below) are to see it as it came.
      const own = response.headers as Record<string, string | string[]>;
      const observed = remoteObservers(this.#context.core).length > 0;
      headers = shapeResponseHeaders(observed ? { ...own } : own, route, contextOf);
    } else headers = responseHeaders(response.headers, exchange, route, contextOf);
    try {
      res.writeHead(status, headers);
    } catch (error) {
      // A status Node refuses (below 100 or above 999): nothing was written yet.
      response.body.destroy();
      exchange.runtime.report(error, exchange, `${this.name}.respond`);
      res.destroy();
      state.remote.record(performance.now() - started, true);
      return;
    }
    if (exchange.method === 'HEAD' || status === 204 || status === 304) {
      response.body.dump().catch(() => {});
      res.end();
      state.remote.record(performance.now() - started, status >= 500);
      // No body, but a status and headers the contract guard still judges.
      this.#observe(state, state.mode, exchange, { status, headers: response.headers, body: NO_BODY });
      return;
    }
    // An answer the response cache holds whole is written in one go, without streaming it.
    const held = heldBytes(response);
    if (held !== undefined) {
      res.end(held);
      state.remote.record(performance.now() - started, status >= 500);
      // The sample is made only for someone to see it (most hits have no observer).
      if (remoteObservers(this.#context.core).length > 0) {
        this.#observe(state, state.mode, exchange, {
          status,
          headers: response.headers,
          body: Buffer.isBuffer(held) ? held : Buffer.from(held.buffer, held.byteOffset, held.byteLength),
        });
      }
      return;
    }
    const type = headers['content-type'];
    if (typeof type === 'string' && type.startsWith('text/event-stream')) res.flushHeaders();
    flow.status = status;
    flow.body = response.body;
    const observers = remoteObservers(this.#context.core);
    if (observers.length > 0) this.#teeForObservers(exchange, state, response, observers);
    relay(response.body, res);
  }

  #responseContext(exchange: Exchange, route: CompiledRoute, response: CallResponse): ResponseContext {
    const host = exchange.host;
    const endpoint = response.endpoint;
    const internal: HostPattern[] = [...route.internalHosts];
    for (const name of [endpoint.host, endpoint.hostname]) {
      if (name === undefined) continue;
      const pattern = parseHostPattern(name.includes(':') ? `[${name}]` : name);
      if (pattern !== undefined) internal.push(pattern);
    }
    return {
      publicOrigin: host === undefined ? undefined : `${exchange.protocol}://${host}`,
      publicHostname:
        host === undefined
          ? undefined
          : host.startsWith('[')
            ? host.slice(0, host.indexOf(']') + 1)
            : host.replace(/:\d+$/, ''),
      internal,
    };
  }

  // ------------------------------------------------------------------------------------------
  // Shadow
  // ------------------------------------------------------------------------------------------

  #shadow(exchange: Exchange, state: RouteState): RequestResult | Promise<RequestResult> {
    const spec = state.route.shadow;
    const skip = (reason: string) => {
      state.skipped.add(reason);
      return this.#local(exchange, state);
    };
    // Reads only by default: a copied write on a database both sides share would apply twice.
    if (!spec.methods.has(exchange.method)) return skip('method');
    if (spec.sampleRate < 1 && Math.random() >= spec.sampleRate) return skip('sampled-out');
    if (state.shadowInflight >= spec.maxConcurrent) return skip('concurrency');
    state.shadowInflight++;
    const req = exchange.req;
    if (!hasBody(req)) {
      this.#prepareShadow(exchange, state, undefined);
      return this.#local(exchange, state);
    }
    return peekBody(req, spec.maxBodyBytes).then(
      (peeked) => {
        restoreBody(req, peeked);
        if (!peeked.complete) {
          state.shadowInflight--;
          return skip('body-too-large');
        }
        this.#prepareShadow(exchange, state, peeked.bytes);
        return this.#local(exchange, state);
      },
      () => {
        // The client went away mid-body: no copy; the application sees the same broken request.
        state.shadowInflight--;
        return skip('client-aborted');
      },
    );
  }

  /** Captures the local answer; the copy is sent once the client has its response, never before. */
  #prepareShadow(exchange: Exchange, state: RouteState, body: Buffer | undefined): void {
    const route = state.route;
    const res = exchange.res;
    const sampleLocal = captureResponse(res, route.shadow.maxBodyBytes);
    const method = exchange.method;
    // Read now: a socket closed by then no longer knows its peer, which the copy's X-Forwarded-For needs.
    void exchange.clientIp;
    void exchange.peerAddress;
    const learn =
      (method === 'GET' || method === 'HEAD') &&
      route.shadow.noiseSampleRate > 0 &&
      Math.random() < route.shadow.noiseSampleRate;
    const original = learn
      ? { url: exchange.req.url ?? '/', headers: { ...exchange.req.headers } }
      : undefined;
    const url = exchange.req.url ?? '';
    const q = url.indexOf('?');
    const request = {
      method,
      path: exchange.path,
      query: q === -1 ? undefined : url.slice(q + 1),
      requestId: exchange.requestId || undefined,
    };
    // The copy's client span is a child of this request's span, though it starts after the response.
    const active = context.active();
    res.once('close', () => {
      const local = res.writableFinished ? sampleLocal() : undefined;
      setImmediate(() => {
        // Built now, not before the local handler ran: nothing the copy needs is on the latency path.
        const headers = requestHeaders(exchange, route, this.#forwarding);
        // The service can tell a copy from real traffic (and keep its side effects and metrics apart).
        if (route.shadow.marker !== undefined) headers[route.shadow.marker] = '1';
        const path = upstreamPath(exchange, route, this.#keepPercent);
        context
          .with(active, () =>
            this.#runShadow(
              state,
              route,
              { method, path, headers, body, exchange },
              local,
              request,
              original,
            ),
          )
          .finally(() => {
            state.shadowInflight--;
          });
      });
    });
  }

  async #runShadow(
    state: RouteState,
    route: CompiledRoute,
    call: {
      method: string;
      path: string;
      headers: Record<string, string | string[]>;
      body: Buffer | undefined;
      exchange: Exchange;
    },
    local: ResponseSample | undefined,
    request: { method: string; path: string; query: string | undefined; requestId: string | undefined },
    original: { url: string; headers: NodeJS.Dict<string | string[]> } | undefined,
  ): Promise<void> {
    if (local === undefined) {
      state.skipped.add('local-incomplete');
      return;
    }
    const started = performance.now();
    let remote: ResponseSample;
    try {
      const response = await this.#context.clientFor(route.service!).request({
        ...call,
        timeoutMs: route.timeoutMs,
        // A copy is never worth a retry: it would add load for a comparison.
        idempotent: false,
      });
      const read = await readCapped(response.body, route.shadow.maxBodyBytes);
      // Compared as the client would have received it: hygiene, Location and cookies mapped to the
      // public host, the route's own response header changes.
      const seen = responseHeaders(response.headers, call.exchange, route, () =>
        this.#responseContext(call.exchange, route, response),
      );
      remote = { status: response.statusCode, headers: seen, ...read };
      this.#observe(state, 'shadow', request, {
        status: remote.status,
        headers: response.headers,
        body: read.body,
      });
    } catch (error) {
      const status = isGatehouseError(error) ? error.status : 502;
      remote = { status, headers: {}, body: undefined };
    }
    state.remote.record(performance.now() - started, remote.status >= 500);
    // Compared as content: either side may compress (a compression middleware, a service's own).
    const cap = route.shadow.maxBodyBytes;
    const mine = decodeSample(local, cap);
    if (original !== undefined) {
      const second = await this.#sampleLocal(request.method, original, cap);
      if (second !== undefined) state.differ.learn(mine, decodeSample(second, cap));
    }
    const result = state.differ.compare(mine, decodeSample(remote, cap), request);
    if (result.skipped !== undefined) {
      state.skipped.add(result.skipped);
      state.compared.add('skipped');
      return;
    }
    state.diffs.record(!result.equal);
    state.compared.add(result.equal ? 'equal' : 'different');
  }

  /** A second local answer to the same request, over loopback, marked so it is served locally only. */
  async #sampleLocal(
    method: string,
    original: { url: string; headers: NodeJS.Dict<string | string[]> },
    cap: number,
  ): Promise<ResponseSample | undefined> {
    const server = this.#context.core.servers.find((s) => s.listening);
    const address = server?.address();
    if (
      address === undefined ||
      address === null ||
      typeof address === 'string' ||
      !original.url.startsWith('/')
    )
      return undefined;
    const host =
      address.address === '::' || address.address === '0.0.0.0'
        ? '127.0.0.1'
        : address.family === 'IPv6'
          ? `[${address.address}]`
          : address.address;
    const headers = this.#context.core.headerHygiene.forward(original.headers, 'request');
    delete headers.host;
    headers[INTERNAL_REQUEST_HEADER] = this.#context.core.internalSecret;
    this.#agent ??= new (loadUndici().Agent)({ connections: 4, keepAliveTimeout: 5_000 });
    try {
      const response = await loadUndici().request(`http://${host}:${address.port}${original.url}`, {
        method: method as 'GET',
        headers,
        dispatcher: this.#agent,
        headersTimeout: 10_000,
        bodyTimeout: 10_000,
      });
      const read = await readCapped(response.body, cap);
      return { status: response.statusCode, headers: response.headers, ...read };
    } catch {
      return undefined;
    }
  }

  /**
   * Keeps a copy of a relayed service body (up to the observers' cap) beside the relay, and hands the
   * answer to the contract observers once it has ended. Only when observers are registered.
   */
  #teeForObservers(
    exchange: Exchange,
    state: RouteState,
    response: CallResponse,
    observers: ReturnType<typeof remoteObservers>,
  ): void {
    const cap = observedBodyBytes(observers);
    const chunks: Buffer[] = [];
    let size = 0;
    const request = { method: exchange.method, path: exchange.path };
    const mode = state.mode;
    response.body.on('data', (chunk: Buffer) => {
      size += chunk.length;
      if (size <= cap) chunks.push(chunk);
    });
    response.body.on('end', () => {
      const body = size > cap ? undefined : Buffer.concat(chunks, size);
      this.#observe(state, mode, request, { status: response.statusCode, headers: response.headers, body });
    });
  }

  /** Hands a remote answer to the contract observers and counts what they found, per field. */
  #observe(
    state: RouteState,
    mode: RemoteResponse['mode'],
    request: { method: string; path: string },
    sample: { status: number; headers: RemoteResponse['headers']; body: Buffer | undefined },
  ): void {
    const observers = remoteObservers(this.#context.core);
    if (observers.length === 0) return;
    let judged = false;
    const broken = new Set<string>();
    for (const observer of observers) {
      let fields: readonly string[] | undefined;
      try {
        fields = observer.observe({
          route: state.route.name,
          mode,
          method: request.method,
          path: request.path,
          status: sample.status,
          headers: sample.headers,
          body:
            sample.body !== undefined && sample.body.length > observer.maxBodyBytes ? undefined : sample.body,
        });
      } catch (error) {
        this.#context.core.report(error, undefined, `${this.name}.observe(${observer.name})`);
        continue;
      }
      if (fields === undefined) continue;
      judged = true;
      for (const field of fields) broken.add(field);
    }
    if (!judged) return;
    state.contract.add('checked');
    if (broken.size > 0) state.contract.add('violations');
    state.contracts.record(broken.size > 0);
    const counts = state.contractFields;
    for (const field of broken) {
      // Bounded: a service answering with endless distinct fields cannot grow the map without limit.
      if (!counts.has(field) && counts.size >= 1_000) continue;
      counts.set(field, (counts.get(field) ?? 0) + 1);
    }
  }

  // ------------------------------------------------------------------------------------------
  // Upgrades (WebSocket)
  // ------------------------------------------------------------------------------------------

  /**
   * Passes an `Upgrade` request through when a route with `websocket: true` sends it to its service;
   * returns false when no such route takes it (another listener, or the application, may).
   */
  handleUpgrade(
    req: IncomingMessage,
    socket: Duplex,
    head: Buffer,
    res: ServerResponse = new ServerResponse(req),
  ): boolean {
    const core = this.#context.core;
    const exchange = ensureExchange(req, res, core);
    if (exchange.rejection !== undefined) {
      this.#refuseUpgrade(socket, exchange, { error: exchange.rejection });
      return true;
    }
    const state = this.#match(exchange);
    if (state === undefined || !state.route.websocket || state.route.service === undefined) return false;
    const forced = this.#forced(exchange, state);
    const side =
      forced ??
      (state.mode === 'remote' || state.mode === 'fallback'
        ? 'remote'
        : state.mode === 'split'
          ? this.#side(exchange, state)
          : 'local');
    if (side === 'local') return false;
    void this.#upgrade(exchange, state, socket, head).catch((error: unknown) =>
      this.#refuseUpgrade(socket, exchange, { error }),
    );
    return true;
  }

  /**
   * Answers an upgrade request on its socket (there is no ServerResponse), with a request id: a
   * problem for an error, or a guard's own reply.
   */
  #refuseUpgrade(socket: Duplex, exchange: Exchange, answer: { error: unknown } | { reply: Reply }): void {
    const core = this.#context.core;
    const id = exchange.requestId || core.config.requestId.generate();
    // The application's renderer decides by the exchange (its path, Accept) here as for any refusal.
    const options = core.problems.render === undefined ? core.problems : { ...core.problems, exchange };
    const rendered = 'reply' in answer ? renderReply(answer.reply) : renderProblem(answer.error, id, options);
    writeRenderedToSocket(socket, rendered, { [core.config.requestId.header]: id });
  }

  async #upgrade(exchange: Exchange, state: RouteState, socket: Duplex, head: Buffer): Promise<void> {
    for (const guard of this.#context.upgradeGuards()) {
      let result = guard.onRequest?.(exchange);
      if (isThenable<RequestResult>(result)) result = await result;
      if (result !== undefined && result !== HANDLED) {
        this.#refuseUpgrade(socket, exchange, { reply: result as Reply });
        return;
      }
    }
    const route = state.route;
    const headers = requestHeaders(exchange, route, this.#forwarding);
    const controller = new AbortController();
    const onClose = () => controller.abort();
    socket.once('close', onClose);
    const started = performance.now();
    let upstream: Awaited<ReturnType<Client['upgrade']>>;
    try {
      upstream = await this.#context.clientFor(route.service!).upgrade({
        path: upstreamPath(exchange, route, this.#keepPercent),
        protocol: String(exchange.req.headers.upgrade ?? 'websocket'),
        headers,
        signal: controller.signal,
      });
    } catch (error) {
      state.remote.record(performance.now() - started, true);
      throw error;
    } finally {
      socket.off('close', onClose);
    }
    state.remote.record(performance.now() - started, false);
    const out = exchange.runtime.headerHygiene.forward(upstream.headers, 'response');
    let text = 'HTTP/1.1 101 Switching Protocols\r\nconnection: Upgrade\r\n';
    text += `upgrade: ${String(upstream.headers.upgrade ?? exchange.req.headers.upgrade ?? 'websocket')}\r\n`;
    for (const [name, value] of Object.entries(out)) {
      for (const line of Array.isArray(value) ? value : [value]) text += `${name}: ${line}\r\n`;
    }
    socket.write(`${text}\r\n`);
    if (head.length > 0) upstream.socket.write(head);
    const both = () => {
      socket.destroy();
      upstream.socket.destroy();
    };
    socket.on('error', both).on('close', both);
    upstream.socket.on('error', both).on('close', both);
    socket.pipe(upstream.socket);
    upstream.socket.pipe(socket);
  }

  // ------------------------------------------------------------------------------------------
  // Reports
  // ------------------------------------------------------------------------------------------

  /** The table as `/routes` shows it. */
  describe(): {
    name: string;
    origin: string;
    revision: number;
    rejection: Rejection | undefined;
    routes: object[];
  } {
    return {
      name: this.name,
      origin: this.#origin,
      revision: this.#revision,
      rejection: this.#rejection,
      routes: this.#states.map((state) => {
        const spec = state.route.spec;
        return {
          name: state.route.name,
          path: spec.path,
          methods: spec.methods ?? null,
          host: spec.host ?? null,
          service: state.route.service ?? null,
          mode: state.mode,
          weight: state.weight,
          table: { mode: state.route.mode, weight: state.route.weight },
          sticky: state.route.sticky,
          websocket: state.route.websocket,
        };
      }),
    };
  }

  /** Per route: mode, traffic share, requests, error rate and latency per side, diffs, changes. */
  migration(now = Date.now()): MigrationReport[] {
    return this.#states.map((state) => {
      const localStage = state.local.stage();
      const remoteStage = state.remote.stage();
      // Shadow copies are not traffic the service served: its share is of answers clients got.
      const served = state.mode === 'shadow' ? 0 : remoteStage.requests;
      const answered = localStage.requests + served;
      const stats = state.differ.stats();
      const contract = state.contract;
      return {
        name: state.route.name,
        paths: state.route.paths,
        mode: state.mode,
        weight: state.weight,
        service: state.route.service,
        since: new Date(state.since).toISOString(),
        share: {
          local: answered === 0 ? 0 : localStage.requests / answered,
          remote: answered === 0 ? 0 : served / answered,
        },
        local: { window: state.local.snapshot(now), stage: localStage, total: state.local.totals() },
        remote: { window: state.remote.snapshot(now), stage: remoteStage, total: state.remote.totals() },
        percentiles: { method: 'exact', maxSamples: LATENCY_SAMPLES },
        diff: {
          window: state.diffs.snapshot(now),
          stage: { ...comparisons(state.compared.stage), fields: stats.fields },
          total: comparisons(state.compared.total),
          noise: stats.noise,
          noiseSamples: stats.noiseSamples,
          baseline: {
            pairs: stats.noiseSamples,
            different: stats.noiseDifferent,
            rate: stats.noiseSamples === 0 ? 0 : stats.noiseDifferent / stats.noiseSamples,
          },
        },
        shadow: { inflight: state.shadowInflight, skipped: state.skipped.report() },
        fallbacks: state.fallbacks.report(),
        overrides: { ...state.overrides },
        gates: state.route.gates,
        changes: [...state.changes],
        latest: state.differ.latest(),
        contract: {
          window: state.contracts.snapshot(now),
          stage: { checked: contract.stage.checked ?? 0, violations: contract.stage.violations ?? 0 },
          total: { checked: contract.total.checked ?? 0, violations: contract.total.violations ?? 0 },
          fields: Object.fromEntries([...state.contractFields].sort((a, b) => b[1] - a[1]).slice(0, 50)),
        },
        ...(state.route.promotion === undefined ? {} : { promotion: this.#promotionReport(state, now) }),
      };
    });
  }

  /** Totals per route since start, for metrics (not windowed). */
  counters(): Array<{
    route: string;
    local: { total: number; errors: number };
    remote: { total: number; errors: number };
    compared: { equal: number; different: number };
  }> {
    return this.#states.map((state) => ({
      route: state.route.name,
      local: { total: state.local.total, errors: state.local.totalErrors },
      remote: { total: state.remote.total, errors: state.remote.totalErrors },
      compared: { equal: state.compared.total.equal ?? 0, different: state.compared.total.different ?? 0 },
    }));
  }
}

/**
 * Registers the migration counters with the OpenTelemetry metrics API once, for every controller
 * `controllers()` returns (observed at collection time; the request path only counts):
 * `gatehouse.migration.requests` (per route, side, and errors) and `gatehouse.shadow.comparisons`.
 */
export function observeMigration(
  controllers: () => readonly Routes[],
  meterName = '@gatehousejs/routes',
): void {
  const meter = metrics.getMeter(meterName);
  const requests = meter.createObservableCounter('gatehouse.migration.requests', {
    description:
      'Requests answered per route and side (local, remote incl. shadow copies), and how many failed',
    unit: '{request}',
  });
  const comparisons = meter.createObservableCounter('gatehouse.shadow.comparisons', {
    description: 'Shadow comparisons per route: equal or different',
    unit: '{comparison}',
  });
  requests.addCallback((result: ObservableResult<Attributes>) => {
    for (const routes of controllers()) {
      for (const { route, local, remote } of routes.counters()) {
        for (const [side, counts] of [
          ['local', local],
          ['remote', remote],
        ] as const) {
          result.observe(counts.total, { 'gatehouse.route': route, side, outcome: 'all' });
          result.observe(counts.errors, { 'gatehouse.route': route, side, outcome: 'error' });
        }
      }
    }
  });
  comparisons.addCallback((result: ObservableResult<Attributes>) => {
    for (const routes of controllers()) {
      for (const { route, compared } of routes.counters()) {
        result.observe(compared.equal, { 'gatehouse.route': route, result: 'equal' });
        result.observe(compared.different, { 'gatehouse.route': route, result: 'different' });
      }
    }
  });
  // Gated promotion, for routes that have it, in the shape canary tools read (Flagger's and Argo
  // Rollouts' Prometheus metric templates): one series per value, 1 for the current one.
  const score = meter.createObservableGauge('gatehouse.promotion.score', {
    description:
      "Gated promotion: the latest verdict's score per route (0-100; absent while samples are short)",
  });
  const verdict = meter.createObservableGauge('gatehouse.promotion.verdict', {
    description:
      'Gated promotion: 1 for the latest verdict of the route (pass, marginal, fail, insufficient) and status',
  });
  const gate = meter.createObservableGauge('gatehouse.promotion.gate', {
    description:
      'Gated promotion: 1 for the class of each gate of the latest verdict (pass, marginal, fail, insufficient)',
  });
  const CLASSES = ['pass', 'marginal', 'fail', 'insufficient'] as const;
  score.addCallback((result: ObservableResult<Attributes>) => {
    for (const routes of controllers())
      for (const { route, verdict: v } of routes.verdicts())
        if (v?.score !== null && v?.score !== undefined)
          result.observe(v.score, { 'gatehouse.route': route });
  });
  verdict.addCallback((result: ObservableResult<Attributes>) => {
    for (const routes of controllers()) {
      for (const { route, status, verdict: v } of routes.verdicts()) {
        for (const c of CLASSES)
          result.observe(v?.verdict === c ? 1 : 0, { 'gatehouse.route': route, verdict: c, status });
      }
    }
  });
  gate.addCallback((result: ObservableResult<Attributes>) => {
    for (const routes of controllers()) {
      for (const { route, verdict: v } of routes.verdicts()) {
        for (const g of v?.gates ?? [])
          for (const c of CLASSES)
            result.observe(g.class === c ? 1 : 0, { 'gatehouse.route': route, gate: g.gate, class: c });
      }
    }
  });
}

/** One proxied exchange's moving parts, for the response's 'close' listener. */
interface Flow {
  cancel: ((reason?: unknown) => void) | undefined;
  body: Readable | undefined;
  status: number;
  readonly state: RouteState;
  /** The route as the table had it when the request arrived: a reload meanwhile does not change its answer. */
  readonly route: CompiledRoute;
  readonly started: number;
}

const CLIENT_GONE = new Error('the client closed the connection');
/** The body observers get for an answer that has none (HEAD, 204, 304). */
const NO_BODY = Buffer.alloc(0);

/** The client's response closed: record how the relay ended, or stop what is still under way. */
function closeFlow(res: ServerResponse, flow: Flow): void {
  if (res.writableFinished) {
    if (flow.body !== undefined)
      flow.state.remote.record(performance.now() - flow.started, flow.status >= 500);
    return;
  }
  flow.cancel?.(CLIENT_GONE);
  if (flow.body !== undefined) {
    flow.body.destroy();
    flow.state.remote.record(performance.now() - flow.started, true);
  }
}

/**
 * Streams the service's body to the client with backpressure. Hand-written rather than
 * stream.pipeline(): pipeline makes an AbortController per call and aborts it at the end, which builds
 * a DOMException with a stack trace, about 8 % of a proxied request's CPU (bench/RESULTS.md). A body
 * that breaks off (the service resets, a body timeout) destroys the client's response: it sees an
 * incomplete message, never a complete-looking one.
 */
function relay(body: Readable, res: ServerResponse): void {
  // A 'drain' listener only while paused: most bodies fit the socket's buffer and never need one.
  const resume = () => body.resume();
  body.on('data', (chunk: Buffer) => {
    if (!res.write(chunk)) {
      body.pause();
      res.once('drain', resume);
    }
  });
  // 'end' and 'error' are emitted at most once each: plain listeners, no once() wrappers.
  body.on('end', () => {
    res.off('drain', resume);
    res.end();
  });
  body.on('error', () => {
    res.off('drain', resume);
    res.destroy();
  });
}

function matches(actual: string | undefined, wanted: string | true): boolean {
  return wanted === true ? actual !== undefined : actual === wanted;
}
