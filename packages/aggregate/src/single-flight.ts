// Single-flight coalescing of identical upstream GETs across requests (the idea of Go's singleflight
// and DataLoader's per-tick batching, applied to HTTP): the first caller leads, later identical
// callers wait for its answer. Written here because the answer may be shared only after it is seen —
// with another principal only when the upstream marked it public, and only with callers whose headers
// agree on everything the upstream's Vary names — which no general-purpose library checks.
import type { StoredResponse } from './body.js';

/** One caller's view of a coalescible request. */
export interface FlightCaller {
  /** Who asks: a principal key, or undefined for an anonymous request. */
  readonly scope: string | undefined;
  /** The request headers sent upstream, lower case. */
  readonly headers: Readonly<Record<string, string>>;
  readonly signal?: AbortSignal;
}

interface Flight {
  readonly leader: FlightCaller;
  readonly controller: AbortController;
  readonly result: Promise<StoredResponse>;
  waiters: number;
}

/** Whether a response may be given to another principal than the one it was fetched for. */
export function isPublic(headers: Readonly<Record<string, string | string[]>>): boolean {
  const cc = headers['cache-control'];
  if (cc === undefined) return false;
  const text = (Array.isArray(cc) ? cc.join(',') : cc).toLowerCase();
  return /(?:^|[\s,])(?:public|s-maxage\s*=)/.test(text) && !/(?:^|[\s,])private\b/.test(text);
}

/** The header names a response's `Vary` lists, lower case; `['*']` for `Vary: *`. */
export function varyNames(headers: Readonly<Record<string, string | string[]>>): string[] {
  const vary = headers.vary;
  if (vary === undefined) return [];
  const text = Array.isArray(vary) ? vary.join(',') : vary;
  return text
    .split(',')
    .map((name) => name.trim().toLowerCase())
    .filter((name) => name !== '');
}

/** Whether `follower` may receive the answer fetched for `leader`. */
export function shareable(response: StoredResponse, leader: FlightCaller, follower: FlightCaller): boolean {
  if (leader.scope !== follower.scope && !isPublic(response.headers)) return false;
  for (const name of varyNames(response.headers)) {
    if (name === '*') return false;
    if ((leader.headers[name] ?? '') !== (follower.headers[name] ?? '')) return false;
  }
  return true;
}

/** Counters of a {@link SingleFlight}. */
export interface FlightStats {
  /** Calls sent upstream. */
  led: number;
  /** Calls answered by another caller's flight. */
  joined: number;
}

/** Identical calls in flight at once share one upstream call. */
export class SingleFlight {
  readonly #flights = new Map<string, Flight>();
  readonly stats: FlightStats = { led: 0, joined: 0 };

  /** Flights in progress (for tests and diagnostics). */
  get size(): number {
    return this.#flights.size;
  }

  /**
   * Runs `send` for `key` unless a flight for it is already out, then waits for that one. The flight
   * is cancelled only when every caller waiting on it has gone. A caller the answer may not be
   * shared with (another principal, different Vary headers) sends its own call.
   */
  run(
    key: string,
    caller: FlightCaller,
    send: (signal: AbortSignal) => Promise<StoredResponse>,
  ): Promise<{ response: StoredResponse; collapsed: boolean }> {
    const existing = this.#flights.get(key);
    if (existing !== undefined) {
      this.stats.joined++;
      return this.#wait(existing, caller).then((response) => {
        if (shareable(response, existing.leader, caller)) return { response, collapsed: true };
        // Not for this caller: its own call, not coalesced again (so it cannot chase flights for ever).
        this.stats.joined--;
        this.stats.led++;
        return send(caller.signal ?? new AbortController().signal).then((own) => ({
          response: own,
          collapsed: false,
        }));
      });
    }
    const controller = new AbortController();
    this.stats.led++;
    let result: Promise<StoredResponse>;
    try {
      result = send(controller.signal);
    } catch (error) {
      result = Promise.reject(error);
    }
    const flight: Flight = { leader: caller, controller, result, waiters: 0 };
    this.#flights.set(key, flight);
    const forget = () => {
      if (this.#flights.get(key) === flight) this.#flights.delete(key);
    };
    result.then(forget, forget);
    return this.#wait(flight, caller).then((response) => ({ response, collapsed: false }));
  }

  /** Waits for `flight` on behalf of one caller, who may leave (its signal) before it lands. */
  #wait(flight: Flight, caller: FlightCaller): Promise<StoredResponse> {
    flight.waiters++;
    const signal = caller.signal;
    if (signal === undefined) {
      return flight.result.finally(() => {
        flight.waiters--;
      });
    }
    return new Promise<StoredResponse>((resolve, reject) => {
      let done = false;
      const leave = () => {
        if (done) return;
        done = true;
        flight.waiters--;
        signal.removeEventListener('abort', onAbort);
      };
      const onAbort = () => {
        leave();
        // The last one out turns off the light: nobody waits for this answer any more.
        if (flight.waiters === 0) {
          flight.controller.abort(signal.reason);
          if (this.#flights.get(this.#keyOf(flight)) === flight) this.#flights.delete(this.#keyOf(flight));
        }
        reject(signal.reason);
      };
      if (signal.aborted) {
        onAbort();
        return;
      }
      signal.addEventListener('abort', onAbort, { once: true });
      flight.result.then(
        (value) => {
          if (done) return;
          leave();
          resolve(value);
        },
        (error: unknown) => {
          if (done) return;
          leave();
          reject(error);
        },
      );
    });
  }

  #keyOf(flight: Flight): string {
    for (const [key, value] of this.#flights) if (value === flight) return key;
    return '';
  }
}
