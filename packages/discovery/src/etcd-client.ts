// The etcd client that discovery makes when given `hosts` instead of a client: etcd3 (an optional peer
// dependency, loaded only here) with fault handling tuned for recovery within seconds of etcd's return
// rather than etcd3's defaults (a 5 s open breaker, watch reconnects backing off to 30 s).
import {
  ConsecutiveBreaker,
  circuitBreaker,
  ExponentialBackoff,
  handleWhen,
  type IBackoff,
  noop,
  retry,
} from 'cockatiel';

/**
 * An etcd3 client (`new Etcd3(…)`) or a namespace of one. Declared here rather than imported from
 * etcd3, an optional peer dependency: declaration files importing it failed to compile (TS2307) in
 * TypeScript apps without it.
 */
export interface EtcdClient {
  getAll(...args: never[]): unknown;
  watch(...args: never[]): unknown;
  lease(...args: never[]): unknown;
}

/** Options shared by etcdResolver and registerWithEtcd for reaching etcd. */
export interface EtcdConnectionOptions {
  /**
   * An etcd3 client (or a namespace of one) to use; it stays open when discovery closes. Give this
   * or `hosts`.
   */
  client?: EtcdClient;
  /**
   * etcd endpoints (`'http://127.0.0.1:2379'`) for a client that discovery makes and closes. Needs
   * the `etcd3` package installed. Give this or `client`.
   */
  hosts?: string | readonly string[];
}

/** Makes a client for `hosts`. */
export async function createEtcdClient(
  hosts: readonly string[],
  options: {
    timeoutMs: number;
    retryInitialMs: number;
    retryMaxMs: number;
    auth?: { username: string; password: string };
  },
): Promise<EtcdClient & { close(): void }> {
  const { Etcd3, isRecoverableError } = await import('etcd3');
  return new Etcd3({
    hosts: [...hosts],
    dialTimeout: options.timeoutMs,
    ...(options.auth === undefined
      ? {}
      : { auth: { username: options.auth.username, password: options.auth.password } }),
    // HTTP/2 pings find a connection whose peer vanished without a reset (a partition, a dead host),
    // which would otherwise leave a watch looking healthy forever. etcd allows one every 5 s.
    grpcOptions: {
      'grpc.keepalive_time_ms': 10_000,
      'grpc.keepalive_timeout_ms': 5_000,
      'grpc.keepalive_permit_without_calls': 1,
    },
    faultHandling: {
      host: () =>
        circuitBreaker(handleWhen(isRecoverableError), {
          halfOpenAfter: Math.min(1_000, options.retryMaxMs),
          breaker: new ConsecutiveBreaker(3),
        }),
      // Retrying once per other member is useful in a cluster; with one member, discovery's own
      // backoff is the retry.
      global:
        hosts.length > 1 ? retry(handleWhen(isRecoverableError), { maxAttempts: hosts.length - 1 }) : noop,
      // etcd3 declares IBackoff but calls .next() on it, i.e. uses it as the factory cockatiel 3 makes.
      watchBackoff: new ExponentialBackoff({
        initialDelay: options.retryInitialMs,
        maxDelay: options.retryMaxMs,
      }) as unknown as IBackoff<unknown>,
    },
  });
}

/** A deadline `ms` from now, as gRPC call options. */
export function deadline(ms: number): { deadline: Date } {
  return { deadline: new Date(Date.now() + ms) };
}
