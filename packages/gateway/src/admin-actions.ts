// The admin API that acts: set a route's (or a group's) mode and weight, promote or roll back one
// stage, re-arm after a gate. Every write goes through the admin access policy (the endpoints are
// core admin endpoints), takes application/json only, is serialized per route, and is audited: an
// entry (who, when, what, from where, why) in a bounded history that /migration shows, a log line,
// an 'entry' event and the `gatehouse:admin:audit` diagnostics channel.
import { channel } from 'node:diagnostics_channel';
import { EventEmitter } from 'node:events';
import {
  ConfigError,
  didYouMean,
  type Exchange,
  type Gateway,
  isGatehouseError,
  parseOptions,
  type Reply,
} from '@gatehousejs/core';
import type { Mode, ModeChange, Routes } from '@gatehousejs/gateway/optional/routes';
import * as v from 'valibot';
import { AdminBadRequest, AdminConflict, AdminUnknownRoute, AdminUnsupportedMediaType } from './errors.js';

/** The stages, in order (the routes package's, restated: this module loads without it). */
const MODES: readonly Mode[] = ['local', 'shadow', 'split', 'fallback', 'remote'];

/** Every audited change, as it happens: `{ entry }`. */
export const auditChannel = channel('gatehouse:admin:audit');

/** One audited change. */
export interface AuditEntry {
  /** When, ISO 8601. */
  readonly at: string;
  /** What: `mode`, `promote`, `rollback`, `rearm` (admin writes), `purge` (the response cache), or `table` / `gate` / `code` for changes the admin API did not make. */
  readonly action: 'mode' | 'promote' | 'rollback' | 'rearm' | 'purge' | 'table' | 'gate' | 'code';
  /** The route (or group) changed. */
  readonly route?: string;
  readonly from?: { readonly mode: Mode; readonly weight: number };
  readonly to?: { readonly mode: Mode; readonly weight: number };
  /** Who: the principal `gw.auth()` found (its id), else `anonymous`; `table`, `gate` or `code` otherwise. */
  readonly who: string;
  /** From where: the client address (through trusted proxies) and its user agent; absent when not a request. */
  readonly where?: { readonly ip: string; readonly userAgent?: string; readonly requestId?: string };
  /** Why: the `reason` the caller gave, or the gate's breach. */
  readonly reason?: string;
  /** Anything else the action did (the purge's key or prefix and count). */
  readonly detail?: Readonly<Record<string, unknown>>;
}

/** The bounded audit history of a gateway, newest first; emits `'entry'` for each new one. */
export class AdminAudit extends EventEmitter {
  readonly #entries: AuditEntry[] = [];
  readonly #max: number;
  readonly #core: Gateway;
  readonly #watched = new WeakSet<Routes>();
  /** An admin write is being applied: its 'change' event is recorded with the caller's entry, not again. */
  #applying = false;

  constructor(core: Gateway, max = 200) {
    super();
    this.#core = core;
    this.#max = max;
  }

  /** Records an entry: history, log line, event, diagnostics channel. */
  record(entry: AuditEntry): AuditEntry {
    this.#entries.unshift(entry);
    if (this.#entries.length > this.#max) this.#entries.length = this.#max;
    const what = entry.route === undefined ? entry.action : `${entry.action} ${entry.route}`;
    const move = entry.from && entry.to ? ` ${show(entry.from)} → ${show(entry.to)}` : '';
    this.#core.log({ audit: entry }, `gatehouse admin: ${what}${move} by ${entry.who}`);
    if (auditChannel.hasSubscribers) auditChannel.publish({ entry });
    this.emit('entry', entry);
    return entry;
  }

  /** The history, newest first. */
  history(): readonly AuditEntry[] {
    return [...this.#entries];
  }

  /** Records the changes a controller makes that no admin write made: a reloaded table, a gate, `setMode()` in code. */
  watch(routes: Routes): void {
    if (this.#watched.has(routes)) return;
    this.#watched.add(routes);
    routes.on('change', (change: ModeChange) => {
      if (this.#applying) return;
      const by = change.by === 'api' ? 'code' : change.by;
      this.record({
        at: change.at,
        action: by,
        route: change.route,
        from: change.from,
        to: change.to,
        who: by,
        ...(change.reason === undefined
          ? {}
          : {
              reason:
                change.observed === undefined
                  ? change.reason
                  : `${change.reason}: ${round(change.observed)} > ${round(change.threshold)}`,
            }),
      });
    });
  }

  /** Runs an admin write's change, which the caller records itself. */
  applying<T>(work: () => T): T {
    this.#applying = true;
    try {
      return work();
    } finally {
      this.#applying = false;
    }
  }
}

const show = (s: { mode: Mode; weight: number }) => (s.mode === 'split' ? `split ${s.weight}%` : s.mode);

const kAudit = Symbol('gatehouse.audit');

/** The gateway's audit history, made on first use. */
export function auditOf(core: Gateway): AdminAudit {
  let audit = core.shared.get(kAudit) as AdminAudit | undefined;
  if (audit === undefined) {
    audit = new AdminAudit(core);
    core.shared.set(kAudit, audit);
  }
  return audit;
}

/** Who made a request and from where, for an entry. */
export function actorOf(exchange: Exchange): Pick<AuditEntry, 'who' | 'where'> {
  const principal = (exchange.stateIfSet as { principal?: { id?: unknown } } | undefined)?.principal;
  const agent = exchange.req.headers['user-agent'];
  return {
    who: typeof principal?.id === 'string' ? principal.id : 'anonymous',
    where: {
      ip: exchange.clientIp,
      ...(typeof agent === 'string' ? { userAgent: agent.slice(0, 200) } : {}),
      ...(exchange.requestId ? { requestId: exchange.requestId } : {}),
    },
  };
}

// ---------------------------------------------------------------------------------------------
// Bodies
// ---------------------------------------------------------------------------------------------

const MAX_BODY_BYTES = 16_384;
const reason = v.optional(v.pipe(v.string(), v.maxLength(500)));
const expect = v.optional(v.picklist(MODES));
const weight = v.pipe(v.number(), v.minValue(0), v.maxValue(100));
const routeName = v.pipe(v.string(), v.minLength(1));

const modeBody = v.strictObject({
  route: routeName,
  mode: v.picklist(MODES),
  weight: v.optional(weight),
  expect,
  reason,
});
const promoteBody = v.strictObject({ route: routeName, weight: v.optional(weight), expect, reason });
const stepBody = v.strictObject({ route: routeName, expect, reason });

/** The JSON object body of an admin write; refusals are problems. */
export async function readJsonBody(exchange: Exchange): Promise<unknown> {
  const type = exchange.req.headers['content-type'] ?? '';
  if (!/^application\/(?:[\w.+-]+\+)?json\s*(?:;|$)/i.test(type)) {
    throw new AdminUnsupportedMediaType(
      `Send the body as application/json (received ${type === '' ? 'no content type' : `'${type.slice(0, 80)}'`})`,
    );
  }
  const chunks: Buffer[] = [];
  let size = 0;
  for await (const chunk of exchange.req as AsyncIterable<Buffer>) {
    size += chunk.length;
    if (size > MAX_BODY_BYTES) throw new AdminBadRequest(`The body is larger than ${MAX_BODY_BYTES} bytes`);
    chunks.push(chunk);
  }
  try {
    return JSON.parse(Buffer.concat(chunks).toString('utf8') || 'null');
  } catch {
    throw new AdminBadRequest('The body is not valid JSON');
  }
}

function checked<S extends v.GenericSchema>(schema: S, body: unknown): v.InferOutput<S> {
  try {
    return parseOptions(schema, body, { name: '' });
  } catch (error) {
    if (!(error instanceof ConfigError)) throw error;
    const problems = error.problems.map((p) => ({ path: p.path, message: p.message }));
    throw new AdminBadRequest(
      problems.map((p) => (p.path === '' ? p.message : `${p.path}: ${p.message}`)).join('; '),
      {
        extensions: { problems },
      },
    );
  }
}

// ---------------------------------------------------------------------------------------------
// The endpoints
// ---------------------------------------------------------------------------------------------

/** What the gateway keeps for the admin write API; `history()` is what /migration shows. */
export interface AdminActions {
  history(): readonly AuditEntry[];
}

const NO_STORE = { 'cache-control': 'no-store' };

/**
 * Registers the admin write endpoints on `core` (POST, behind the admin access policy):
 * `/migration/mode` `{ route, mode, weight?, expect?, reason? }`, `/migration/promote`
 * `{ route, weight?, expect?, reason? }`, `/migration/rollback` and `/migration/rearm`
 * `{ route, expect?, reason? }`. Each answers `{ change, entry }`, or a problem: 400, 404 (unknown
 * route, with a suggestion), 409 (`expect` is not the current mode; nothing to promote or roll back
 * to; a mode the route cannot take), 415 (not JSON). Changes the admin API did not make (a reloaded
 * table, a gate, `setMode()` in code) are recorded too.
 */
export function addAdminActions(core: Gateway, controllers: () => readonly Routes[]): AdminActions {
  const audit = auditOf(core);
  const locks = new Map<string, Promise<unknown>>();

  const find = (name: string): { routes: Routes; mode: Mode; weight: number } => {
    const known: string[] = [];
    for (const routes of controllers()) {
      for (const route of routes.describe().routes as { name: string; mode: Mode; weight: number }[]) {
        if (route.name === name) return { routes, mode: route.mode, weight: route.weight };
        known.push(route.name);
      }
    }
    throw new AdminUnknownRoute(
      `No route named '${name}'${didYouMean(name, known)}${known.length === 0 ? ' (the table is empty)' : ''}`,
      { extensions: { routes: known } },
    );
  };

  /** Runs `work` after every earlier write to the same route. */
  const serialized = <T>(route: string, work: () => T): Promise<T> => {
    const previous = locks.get(route) ?? Promise.resolve();
    const next = previous.then(work, work);
    const settled = next.then(
      () => undefined,
      () => undefined,
    );
    locks.set(route, settled);
    void settled.then(() => {
      if (locks.get(route) === settled) locks.delete(route);
    });
    return next;
  };

  const act = (
    action: 'mode' | 'promote' | 'rollback' | 'rearm',
    schema: v.GenericSchema,
    apply: (routes: Routes, body: Body, current: { mode: Mode; weight: number }) => ModeChange,
  ) => {
    return async (exchange: Exchange): Promise<Reply> => {
      const body = checked(schema, await readJsonBody(exchange)) as Body;
      const actor = actorOf(exchange);
      return serialized(body.route, () => {
        const { routes, mode, weight } = find(body.route);
        if (body.expect !== undefined && body.expect !== mode) {
          throw new AdminConflict(
            `Route '${body.route}' is in ${mode} mode, not ${body.expect} (someone changed it since): nothing changed`,
            { extensions: { route: body.route, mode, weight } },
          );
        }
        let change: ModeChange;
        try {
          change = audit.applying(() => apply(routes, body, { mode, weight }));
        } catch (error) {
          if (isGatehouseError(error)) throw error;
          throw new AdminConflict(`${(error as Error).message.replace(/^\w+\(\): /, '')}: nothing changed`);
        }
        const entry = audit.record({
          at: change.at,
          action,
          route: change.route,
          from: change.from,
          to: change.to,
          ...actor,
          ...(body.reason === undefined ? {} : { reason: body.reason }),
        });
        return { status: 200, headers: NO_STORE, body: { change, entry } };
      });
    };
  };

  /** The ends of every walk, said plainly (the controller's own refusal covers the rest). */
  const atEnd = (current: { mode: Mode }, by: 1 | -1, route: string): void => {
    if (by === 1 && current.mode === 'remote')
      throw new AdminConflict(`Route '${route}' is already remote: there is no stage after it`);
    if (by === -1 && current.mode === 'local')
      throw new AdminConflict(`Route '${route}' is already local: there is no stage before it`);
  };
  /** A split needs callers on both sides: keep the weight it has, or start at 10 %. */
  const splitWeight = (given: number | undefined, current: number) => given ?? (current > 0 ? current : 10);

  core.addAdminEndpoint(
    '/migration/mode',
    act('mode', modeBody, (routes, body, current) =>
      routes.setMode(
        body.route,
        body.mode!,
        body.mode === 'split' ? splitWeight(body.weight, current.weight) : (body.weight ?? current.weight),
      ),
    ),
    { methods: ['POST'] },
  );
  // One step as the controller takes it: the next (previous) of the route's promotion steps when it
  // has them, so a person lands where the automatic walk would; else the next stage of the mode order.
  core.addAdminEndpoint(
    '/migration/promote',
    act('promote', promoteBody, (routes, body, current) => {
      atEnd(current, 1, body.route);
      return routes.promote(body.route, body.weight);
    }),
    { methods: ['POST'] },
  );
  core.addAdminEndpoint(
    '/migration/rollback',
    act('rollback', stepBody, (routes, body, current) => {
      atEnd(current, -1, body.route);
      return routes.rollback(body.route);
    }),
    { methods: ['POST'] },
  );
  core.addAdminEndpoint(
    '/migration/rearm',
    act('rearm', stepBody, (routes, body) => routes.rearm(body.route)),
    { methods: ['POST'] },
  );
  return { history: () => audit.history() };
}

interface Body {
  route: string;
  mode?: Mode;
  weight?: number;
  expect?: Mode;
  reason?: string;
}

function round(value: number | undefined): string {
  return value === undefined ? '?' : String(Math.round(value * 10_000) / 10_000);
}

/** The response cache's purge endpoint, each successful purge audited (`purge`, with its key or prefix). */
export function auditedPurge(
  core: Gateway,
  handler: (exchange: Exchange) => Promise<Reply>,
): (exchange: Exchange) => Promise<Reply> {
  return async (exchange) => {
    const reply = await handler(exchange);
    const key = exchange.query.get('key');
    const prefix = exchange.query.get('prefix');
    const reason = exchange.query.get('reason');
    auditOf(core).record({
      at: new Date().toISOString(),
      action: 'purge',
      ...actorOf(exchange),
      ...(reason === null ? {} : { reason: reason.slice(0, 500) }),
      detail: {
        ...(key === null ? {} : { key }),
        ...(prefix === null ? {} : { prefix }),
        purged: (reply.body as { purged?: unknown } | undefined)?.purged ?? 0,
      },
    });
    return reply;
  };
}
