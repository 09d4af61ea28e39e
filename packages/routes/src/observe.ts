// The extension point for watching services' responses on migrated routes: a capability registers an
// observer for a gateway (OpenAPI's contract guard does), and every controller of that gateway hands
// it each remote answer (shadow copies, split, remote and fallback traffic) with its body up to the
// observer's cap. The observer says which contract fields the answer broke; the controller counts them
// per route and field for `/migration` and the `maxContractViolationRate` gate. Routes depends on no
// observer: the contract lives on the other side of this interface.
import type { Gateway } from '@gatehousejs/core';
import type { Mode } from './table.js';

/** A service's answer on a migrated route, as an observer sees it. */
export interface RemoteResponse {
  /** The route's name. */
  readonly route: string;
  /** The route's mode when the request was served (`shadow` for copies). */
  readonly mode: Mode;
  readonly method: string;
  /** The request's normalized path, as the gateway (and the route table) saw it. */
  readonly path: string;
  readonly status: number;
  /** Response headers, lower-case names, as the service sent them. */
  readonly headers: Readonly<Record<string, string | string[] | undefined>>;
  /** The body as received (still content-coded), or undefined when it was larger than the cap. */
  readonly body: Buffer | undefined;
}

/** Watches remote answers; registered with {@link observeRemoteResponses}. */
export interface RemoteResponseObserver {
  /** Names the observer in reports. */
  readonly name: string;
  /** The most body bytes it wants; a larger body is given as undefined. */
  readonly maxBodyBytes: number;
  /**
   * Looks at one answer. Returns the contract fields it breaks (`'body:/user/email'`,
   * `'status:418'`; empty when it conforms), or undefined when the observer has nothing to say about
   * it (no contract for that operation). Must not throw; it runs after the client has its answer.
   */
  observe(response: RemoteResponse): readonly string[] | undefined;
}

const observers = new WeakMap<Gateway, RemoteResponseObserver[]>();
const NONE: readonly RemoteResponseObserver[] = Object.freeze([]);

/**
 * Registers `observer` for every routes controller of `core` (made before or after). Returns a
 * function that unregisters it.
 */
export function observeRemoteResponses(core: Gateway, observer: RemoteResponseObserver): () => void {
  let list = observers.get(core);
  if (list === undefined) {
    list = [];
    observers.set(core, list);
  }
  list.push(observer);
  return () => {
    const at = list.indexOf(observer);
    if (at !== -1) list.splice(at, 1);
  };
}

/** The observers registered for `core` (a shared empty list when none: no allocation per request). */
export function remoteObservers(core: Gateway): readonly RemoteResponseObserver[] {
  return observers.get(core) ?? NONE;
}

/** The largest cap any of `list` asks for. */
export function observedBodyBytes(list: readonly RemoteResponseObserver[]): number {
  let cap = 0;
  for (const observer of list) cap = Math.max(cap, observer.maxBodyBytes);
  return cap;
}

/** Remote answers an observer judged (`checked`), and of those the ones that broke the contract. */
export interface ContractCounts {
  readonly checked: number;
  readonly violations: number;
}

/** Contract findings of one route: over the gate window, since the last mode change, and in total. */
export interface ContractReport {
  /** Over the gate window (what `maxContractViolationRate` judges): answers judged, violating, their share. */
  readonly window: { readonly compared: number; readonly different: number; readonly rate: number };
  /** Since the last mode change. */
  readonly stage: ContractCounts;
  /** Since the route appeared. */
  readonly total: ContractCounts;
  /** Violations per contract field (`'body:/user/email'`) since the route appeared, most frequent first, at most 50. */
  readonly fields: Readonly<Record<string, number>>;
}
