// The client's circuit breaker: closed → open → half-open (one probe) → closed or open again.
//
// What counts as "too many failures" is cockatiel's: its ConsecutiveBreaker and SamplingBreaker (the
// public IBreaker interface) are fed every judged call. The states and the probe are kept here, by
// hand, for two reasons measured or met on this project:
// - cockatiel's policy only sees a call through `execute(fn)`, two async layers per call; on the
//   client's hot path that cost a relayed request about 5 % of its throughput (bench/RESULTS.md,
//   issues 6 and 7). Here a call asks `admit()` and reports `record()`, both synchronous.
// - the client must know when an open circuit's delay is over to make the endpoint eligible again for
//   the probe (cockatiel moves to half-open only inside execute() and does not expose the delay), and
//   a probe its caller cancelled says nothing about the endpoint (cockatiel closes the circuit on it).
import { CircuitState, ConsecutiveBreaker, type IBreaker, SamplingBreaker } from 'cockatiel';

/** Circuit breaker settings (per endpoint and per service). */
export interface BreakerOptions {
  /**
   * `'consecutive'`: open after `threshold` failures in a row. `'rate'`: open when the share of
   * failures over `windowMs` exceeds `threshold` (0–1) with at least `minimumRps` calls per second.
   *
   * @default 'consecutive'
   */
  mode?: 'consecutive' | 'rate';
  /** @default 5 (consecutive) or 0.5 (rate) */
  threshold?: number;
  /** Rate mode's sampling window. @default 10_000 */
  windowMs?: number;
  /** Rate mode's minimum traffic before it may open. @default 5 */
  minimumRps?: number;
  /**
   * How long the circuit stays open before a single probe call is let through (half-open); each
   * failed probe doubles it, up to `maxHalfOpenAfterMs`.
   *
   * @default 5_000
   */
  halfOpenAfterMs?: number;
  /** @default 60_000 */
  maxHalfOpenAfterMs?: number;
}

export type CircuitName = 'closed' | 'open' | 'half-open';

/** What `admit()` let through: a call of a closed circuit, or the single probe of a half-open one. */
export type Admission = 'closed' | 'probe';

export class Breaker {
  #state: CircuitName = 'closed';
  readonly #counter: IBreaker;
  readonly #halfOpenAfterMs: number;
  readonly #maxHalfOpenAfterMs: number;
  /** Consecutive openings (each failed probe doubles the delay) and when the last began (Date.now()). */
  #opens = 0;
  #openedAt = 0;
  #listeners: ((state: CircuitName) => void)[] = [];

  constructor(options: BreakerOptions = {}) {
    this.#counter =
      options.mode === 'rate'
        ? new SamplingBreaker({
            threshold: options.threshold ?? 0.5,
            duration: options.windowMs ?? 10_000,
            minimumRps: options.minimumRps ?? 5,
          })
        : new ConsecutiveBreaker(options.threshold ?? 5);
    this.#halfOpenAfterMs = options.halfOpenAfterMs ?? 5_000;
    this.#maxHalfOpenAfterMs = options.maxHalfOpenAfterMs ?? 60_000;
  }

  get state(): CircuitName {
    return this.#state;
  }

  /**
   * True while the circuit keeps calls away: open and its delay not over, or half-open with its probe
   * in flight. Once the delay is over this is false, so that the next call may carry the probe.
   */
  get blocked(): boolean {
    if (this.#state === 'closed') return false;
    if (this.#state === 'half-open') return true;
    return Date.now() - this.#openedAt < this.#delay();
  }

  /** Whether a call may go now: `'closed'`, `'probe'` (the half-open circuit's one call), or false. */
  admit(): Admission | false {
    if (this.#state === 'closed') return 'closed';
    if (this.blocked) return false;
    this.#set('half-open');
    return 'probe';
  }

  /**
   * The result of an admitted call: `true` a failure, `false` a success, `undefined` neither (its
   * caller cancelled it). A cancelled probe leaves the circuit open with its delay over, so that the
   * next call probes again.
   */
  record(admitted: Admission, failed: boolean | undefined): void {
    if (admitted === 'closed') {
      // A call admitted while closed that ends after the circuit opened is a late report: ignored.
      if (this.#state !== 'closed' || failed === undefined) return;
      if (!failed) this.#counter.success(CircuitState.Closed);
      else if (this.#counter.failure(CircuitState.Closed)) this.#open();
      return;
    }
    if (this.#state !== 'half-open') return;
    if (failed === undefined) {
      this.#set('open');
    } else if (failed) {
      this.#counter.failure(CircuitState.HalfOpen);
      this.#open();
    } else {
      this.#counter.success(CircuitState.HalfOpen);
      this.#opens = 0;
      this.#set('closed');
    }
  }

  /** Calls `listener` on every change of state. */
  onStateChange(listener: (state: CircuitName) => void): void {
    this.#listeners.push(listener);
  }

  #delay(): number {
    return Math.min(this.#maxHalfOpenAfterMs, this.#halfOpenAfterMs * 2 ** (this.#opens - 1));
  }

  #open(): void {
    this.#opens++;
    this.#openedAt = Date.now();
    this.#set('open');
  }

  #set(state: CircuitName): void {
    if (this.#state === state) return;
    this.#state = state;
    for (const listener of this.#listeners) listener(state);
  }
}
