// A retry budget, as Finagle and Linkerd keep one: retries may add at most `ratio` of the requests
// seen in the last `ttlMs`, plus a floor of `minPerSecond` so a quiet client can still retry. Written
// here because no Node library has one (cockatiel's retry policy counts attempts per call, not load
// across calls): without it, every retry policy multiplies load on a failing upstream.

/** Options of a {@link RetryBudget}. */
export interface RetryBudgetOptions {
  /** Retries allowed as a share of requests. @default 0.2 */
  ratio?: number;
  /** Retries allowed per second regardless of traffic. @default 10 */
  minPerSecond?: number;
  /** The window requests and retries are counted over. @default 10_000 */
  ttlMs?: number;
}

const SLOTS = 10;

/**
 * Counts requests and retries in a ring of `SLOTS` time slots covering `ttlMs`, so old traffic
 * stops counting without a timer.
 */
export class RetryBudget {
  readonly #ratio: number;
  readonly #floor: number;
  readonly #slotMs: number;
  readonly #requests = new Float64Array(SLOTS);
  readonly #retries = new Float64Array(SLOTS);
  #slot = 0;
  #slotStart = 0;
  #exhausted = 0;

  constructor(options: RetryBudgetOptions = {}) {
    this.#ratio = options.ratio ?? 0.2;
    const ttlMs = options.ttlMs ?? 10_000;
    this.#floor = (options.minPerSecond ?? 10) * (ttlMs / 1000);
    this.#slotMs = ttlMs / SLOTS;
  }

  /** Records a first attempt (it earns `ratio` of a retry). */
  request(now = performance.now()): void {
    this.#advance(now);
    this.#requests[this.#slot]!++;
  }

  /** Takes a retry from the budget: false when it is spent (then do not retry). */
  tryRetry(now = performance.now()): boolean {
    this.#advance(now);
    let requests = 0;
    let retries = 0;
    for (let i = 0; i < SLOTS; i++) {
      requests += this.#requests[i]!;
      retries += this.#retries[i]!;
    }
    if (retries + 1 > requests * this.#ratio + this.#floor) {
      this.#exhausted++;
      return false;
    }
    this.#retries[this.#slot]!++;
    return true;
  }

  /** How many retries were refused since creation. */
  get exhausted(): number {
    return this.#exhausted;
  }

  #advance(now: number): void {
    if (this.#slotStart === 0) this.#slotStart = now;
    let elapsed = now - this.#slotStart;
    if (elapsed < this.#slotMs) return;
    // Move forward one slot per elapsed slot length, clearing what falls out of the window.
    let steps = Math.min(SLOTS, Math.floor(elapsed / this.#slotMs));
    this.#slotStart += Math.floor(elapsed / this.#slotMs) * this.#slotMs;
    while (steps-- > 0) {
      this.#slot = (this.#slot + 1) % SLOTS;
      this.#requests[this.#slot] = 0;
      this.#retries[this.#slot] = 0;
    }
    elapsed = 0;
  }
}
