// Deadline propagation: a call tells its callee how much time is left (a header, as gRPC's
// grpc-timeout), and a service that receives one makes its own outbound calls within it.
import { AsyncLocalStorage } from 'node:async_hooks';
import { type Exchange, type Middleware, parseOptions, type TypesAgree } from '@gatehousejs/core';
import * as v from 'valibot';

/**
 * The header carrying the caller's remaining budget in whole milliseconds. Not an `x-gatehouse-*`
 * name, which core strips from every client: anyone may send a deadline, since it can only shorten the
 * sender's own wait (and `maxMs` caps it).
 */
export const DEADLINE_HEADER = 'x-deadline-ms';

const store = new AsyncLocalStorage<number>();

declare module '@gatehousejs/core' {
  interface ExchangeState {
    /** When the caller stops waiting (`performance.now()` clock), from an incoming deadline header. */
    deadline?: number;
  }
}

/** The deadline in force for the current async context (`performance.now()` clock), if any. */
export function currentDeadline(): number | undefined {
  return store.getStore();
}

/** Runs `fn` with a deadline `ms` from now, tightening (never extending) any deadline already in force. */
export function withDeadline<T>(ms: number, fn: () => T): T {
  const at = performance.now() + ms;
  const outer = store.getStore();
  return store.run(outer === undefined ? at : Math.min(outer, at), fn);
}

/** Options of {@link deadline}. */
export interface DeadlineOptions {
  /** The header to read. @default 'x-deadline-ms' */
  header?: string;
  /** The longest deadline accepted from a caller; longer ones are cut to it. @default 60_000 */
  maxMs?: number;
}

const DIGITS = /^\d{1,9}$/;

/** The valibot schema {@link deadline} checks its options against. */
export const deadlineOptionsSchema = v.strictObject({
  header: v.optional(v.pipe(v.string(), v.regex(/^[!#$%&'*+.^_`|~0-9A-Za-z-]+$/, 'expected a header name'))),
  maxMs: v.optional(v.pipe(v.number(), v.safeInteger(), v.gtValue(0))),
});

const typesAgree: TypesAgree<v.InferInput<typeof deadlineOptionsSchema>, DeadlineOptions> = true;
void typesAgree;

/**
 * Middleware honouring a received deadline: the rest of the request (and every `@gatehousejs/client`
 * call made within it) runs with the caller's remaining budget. A caller can only shorten its own
 * wait; a malformed value is ignored.
 *
 * @throws ConfigError listing every problem in the options.
 */
export function deadline(options: DeadlineOptions = {}): Middleware {
  const checked = parseOptions(deadlineOptionsSchema, options, { name: 'deadline' });
  const header = (checked.header ?? DEADLINE_HEADER).toLowerCase();
  const maxMs = checked.maxMs ?? 60_000;
  const scope = <T>(fn: () => T, exchange: Exchange): T => store.run(exchange.state.deadline!, fn);
  return {
    name: 'deadline',
    onRequest(exchange) {
      const value = exchange.req.headers[header];
      if (typeof value !== 'string' || !DIGITS.test(value)) return;
      exchange.state.deadline = exchange.startTime + Math.min(Number(value), maxMs);
      exchange.enterScope(scope);
    },
  };
}
