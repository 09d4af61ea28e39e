// The admin surface: liveness and readiness for load balancers (open to all), and every other admin
// endpoint (`/metrics`, `/routes`, `/migration`, whatever a capability adds) behind one access policy
// that denies by default, since those pages describe the deployment and its traffic. Writes (any method
// but GET and HEAD: promote a route, reload the configuration, purge the cache) need an admission of
// their own: `dangerouslyPublic` opens reads only, and `access.write` can narrow writes further.
import { basename } from 'node:path';
import { createAddressMatcher, foldMappedIPv4 } from './client-ip.js';
import { ConfigError } from './config/validate.js';
import { AdminForbidden, MethodNotAllowed, NotReady } from './errors.js';
import type { Exchange } from './exchange.js';
import { type HANDLED, isThenable, type Middleware, type Reply, type RequestResult } from './middleware.js';
import { Problems, unknownKeys } from './options.js';
import { createPathMatcher, type PathPolicy } from './path.js';

/**
 * Who may reach the admin endpoints other than `/health` and `/ready`. Any one entry that matches
 * grants access; with none, those endpoints answer 403 `GH_ADMIN_FORBIDDEN` to everyone. Writes
 * (every method but GET and HEAD) are admitted by `write` when it is given, else by `peers`, `ports`
 * and `guard` — never by `dangerouslyPublic`, which opens reads only.
 */
export interface AdminAccess {
  /**
   * Socket peers allowed (the connection's address; forwarded headers are never read): addresses,
   * CIDR ranges, `'loopback'`, `'private'`, `'linklocal'`, `'uniquelocal'`. Behind a reverse proxy on
   * the same host every request comes from loopback: use `ports` or `guard` there. Default `[]`.
   */
  peers?: readonly string[];
  /** Local ports (a separate listener) on which anyone who can connect is allowed. Default `[]`. */
  ports?: readonly number[];
  /** Everyone may read, from anywhere; never admits a write. Default `false`. */
  dangerouslyPublic?: boolean;
  /**
   * Code only: a neutral middleware the request must pass (auth's `require({ roles: ['ops'] })`, a
   * token check). Its refusal is the answer (a 401 with its challenge, a 403); continuing admits.
   */
  guard?: Middleware;
  /**
   * Who may write (POST, DELETE, …: the admin write API, `/config/reload`, `/cache/purge`), instead
   * of `peers`, `ports` and `guard`. Default: those three (and never `dangerouslyPublic`).
   * @example { peers: ['loopback'] } // anyone on the private network reads, only this host writes
   */
  write?: AdminWriteAccess;
}

/**
 * Who may use the admin endpoints that change something, when not the readers' `peers`, `ports`
 * and `guard`. Any one entry that matches grants access; `{}` admits no writer.
 */
export interface AdminWriteAccess {
  /** Socket peers allowed to write (see {@link AdminAccess.peers}). Default `[]`. */
  peers?: readonly string[];
  /** Local ports on which anyone who can connect may write. Default `[]`. */
  ports?: readonly number[];
  /** Everyone may write, from anywhere. Default `false`. */
  dangerouslyPublic?: boolean;
  /** Code only: a neutral middleware a writer must pass (auth's `require({ roles: ['ops'] })`). */
  guard?: Middleware;
}

/** What admin endpoints may show besides counts and names. */
export interface AdminReveal {
  /** Absolute file paths; otherwise a file's base name. Default `false`. */
  filePaths?: boolean;
  /** Other callers' request data (paths, request ids, response values). Default `false`. */
  requestData?: boolean;
}

/** What an admin endpoint may show to the caller, from the gateway's `admin.reveal`. */
export interface AdminView {
  readonly filePaths: boolean;
  readonly requestData: boolean;
  /** A file path as it may be shown: as given with `filePaths`, else only its base name. */
  file(path: string): string;
  /** `text` with every occurrence of each path in `paths` shown as {@link AdminView.file} shows it. */
  redactFiles(text: string, paths: readonly string[]): string;
}

/**
 * An admin endpoint a capability contributes. It runs only for requests the access policy admitted,
 * and shows only what `view` allows. It answers with a {@link Reply}, or writes the response itself on
 * `exchange.res` and returns `HANDLED` (a stream, such as the dashboard's server-sent events).
 */
export type AdminEndpoint = (
  exchange: Exchange,
  view: AdminView,
) => Reply | typeof HANDLED | Promise<Reply | typeof HANDLED>;

/** Options of an endpoint registered with `Gateway.addAdminEndpoint`. */
export interface AdminEndpointOptions {
  /**
   * The methods it answers (upper case). GET implies HEAD. Others get 405 with `Allow`.
   * @default ['GET']
   */
  methods?: readonly string[];
}

/** A registered admin endpoint. */
export interface AdminEndpointEntry {
  readonly handle: AdminEndpoint;
  /** Methods answered, HEAD included when GET is. */
  readonly methods: ReadonlySet<string>;
}

/** The access decision every protected admin endpoint goes through. */
export interface AdminPolicy {
  /**
   * `undefined` to admit; an answer (the guard's reply) or a thrown refusal otherwise. A GET or HEAD
   * is a read; any other method a write, judged by the write admission. Synchronous unless the guard
   * is asynchronous.
   */
  check(exchange: Exchange): RequestResult | Promise<RequestResult>;
  /** What admitted callers may see. */
  readonly view: AdminView;
  /** False for the default, which admits nobody. */
  readonly configured: boolean;
}

const ACCESS_KEYS = ['peers', 'ports', 'dangerouslyPublic', 'guard', 'write'];
const WRITE_KEYS = ['peers', 'ports', 'dangerouslyPublic', 'guard'];
const REVEAL_KEYS = ['filePaths', 'requestData'];

/** One admission compiled: who it lets in, checked in the order of cost. */
interface Admission {
  readonly open: boolean;
  readonly ports: ReadonlySet<number>;
  readonly isPeer: (address: string) => boolean;
  readonly guard: Middleware | undefined;
  /** An entry other than `dangerouslyPublic` (peers, ports or a guard). */
  readonly others: boolean;
}

/** Checks and compiles `peers`, `ports`, `dangerouslyPublic` and `guard` found at `at` (`access`, `access.write`). */
function admission(given: AdminWriteAccess, at: string, problems: Problems): Admission {
  const peers = Array.isArray(given.peers) ? given.peers : [];
  if (given.peers !== undefined && !Array.isArray(given.peers))
    problems.add(`${at}.peers`, 'must be an array');
  let isPeer: (address: string) => boolean = () => false;
  if (peers.length > 0) {
    try {
      isPeer = createAddressMatcher(peers, `admin.${at}.peers`);
    } catch (error) {
      if (!(error instanceof ConfigError)) throw error;
      for (const problem of error.problems) problems.add(`${at}.peers`, problem.message);
    }
  }
  const portList = Array.isArray(given.ports) ? given.ports : [];
  if (given.ports !== undefined && !Array.isArray(given.ports))
    problems.add(`${at}.ports`, 'must be an array');
  portList.forEach((port, i) => {
    if (!Number.isInteger(port) || port < 1 || port > 65_535)
      problems.add(`${at}.ports[${i}]`, `expected a port number from 1 to 65535, received ${String(port)}`);
  });
  const guard = given.guard;
  if (
    guard !== undefined &&
    (typeof guard !== 'object' || guard === null || typeof guard.name !== 'string')
  ) {
    problems.add(`${at}.guard`, 'expected a Gatehouse middleware (an object with a name and onRequest)');
  }
  if (given.dangerouslyPublic !== undefined && typeof given.dangerouslyPublic !== 'boolean')
    problems.add(`${at}.dangerouslyPublic`, 'expected true or false');
  const open = given.dangerouslyPublic === true;
  const ports = new Set(portList);
  return { open, ports, isPeer, guard, others: peers.length > 0 || ports.size > 0 || guard !== undefined };
}

/** `undefined` to admit, the guard's verdict, or a thrown refusal. */
function admit(
  entry: Admission,
  exchange: Exchange,
  refused: () => Error,
): RequestResult | Promise<RequestResult> {
  if (entry.open) return undefined;
  const socket = exchange.req.socket;
  if (entry.ports.size > 0 && socket.localPort !== undefined && entry.ports.has(socket.localPort))
    return undefined;
  const peer = socket.remoteAddress;
  if (peer !== undefined && entry.isPeer(foldMappedIPv4(peer))) return undefined;
  if (entry.guard?.onRequest === undefined) throw refused();
  return entry.guard.onRequest(exchange) as RequestResult | Promise<RequestResult>;
}

/**
 * Compiles an access policy once.
 *
 * @throws ConfigError listing every problem (paths under `admin.access` and `admin.reveal`)
 * @example createAdminPolicy({ peers: ['loopback'] }, { filePaths: false })
 */
export function createAdminPolicy(access: AdminAccess = {}, reveal: AdminReveal = {}): AdminPolicy {
  const problems = new Problems('admin');
  if (typeof access !== 'object' || access === null) problems.add('access', 'must be an object');
  else unknownKeys(problems, 'access', access, ACCESS_KEYS);
  if (typeof reveal !== 'object' || reveal === null) problems.add('reveal', 'must be an object');
  else unknownKeys(problems, 'reveal', reveal, REVEAL_KEYS);
  const given: AdminAccess = typeof access === 'object' && access !== null ? access : {};
  const shown: AdminReveal = typeof reveal === 'object' && reveal !== null ? reveal : {};
  const read = admission(given, 'access', problems);
  let write: Admission;
  // Without write entries of their own, writers are the readers' peers, ports and guard.
  if (given.write === undefined) write = { ...read, open: false };
  else if (typeof given.write !== 'object' || given.write === null) {
    problems.add('access.write', 'must be an object');
    write = admission({}, 'access.write', problems);
  } else {
    unknownKeys(problems, 'access.write', given.write, WRITE_KEYS);
    write = admission(given.write, 'access.write', problems);
  }
  for (const [path, value] of [
    ['reveal.filePaths', shown.filePaths],
    ['reveal.requestData', shown.requestData],
  ] as const) {
    if (value !== undefined && typeof value !== 'boolean') problems.add(path, 'expected true or false');
  }
  problems.throwIfAny();
  const configured = read.open || read.others;
  const view = adminView(shown);
  const refusedRead = configured
    ? () => new AdminForbidden('This admin endpoint is not accessible to this caller')
    : () =>
        new AdminForbidden(
          'Admin endpoints need an access policy (admin.access: peers, ports, an auth requirement or dangerouslyPublic)',
        );
  const refusedWrite =
    write.open || write.others
      ? () => new AdminForbidden('This caller may not change anything through the admin endpoints')
      : given.write === undefined && read.open
        ? () =>
            new AdminForbidden(
              'dangerouslyPublic admits reads only: admin writes need admin.access peers, ports, an auth requirement, or admin.access.write',
            )
        : refusedRead;

  return {
    view,
    configured,
    check(exchange) {
      const method = exchange.method;
      return method === 'GET' || method === 'HEAD'
        ? admit(read, exchange, refusedRead)
        : admit(write, exchange, refusedWrite);
    },
  };
}

function adminView(reveal: AdminReveal): AdminView {
  const filePaths = reveal.filePaths === true;
  const file = (path: string) => (filePaths ? path : basename(path));
  return {
    filePaths,
    requestData: reveal.requestData === true,
    file,
    redactFiles(text, paths) {
      if (filePaths) return text;
      let out = text;
      for (const path of paths)
        if (path !== '' && path !== file(path)) out = out.split(path).join(file(path));
      return out;
    },
  };
}

/** What the admin endpoints read from the gateway. */
export interface AdminTarget {
  readonly state: string;
  readonly ready: boolean;
  /** Matching follows the gateway's case policy. */
  readonly pathPolicy?: Pick<PathPolicy, 'caseSensitive'>;
  /** Endpoints capabilities add under the prefix (`/metrics`, `/routes`), by path (lower case unless case-sensitive). */
  readonly adminEndpoints?: ReadonlyMap<string, AdminEndpointEntry>;
}

/** Options of {@link admin}. */
export interface AdminOptions {
  /** Path prefix of the endpoints, '' or starting with '/'. Default: the gateway's `admin.prefix` (''). */
  prefix?: string;
  /**
   * Who may reach the endpoints besides `/health` and `/ready`; replaces the gateway's `admin.access`
   * key by key. Default: the gateway's (which admits nobody unless configured).
   */
  access?: AdminAccess;
  /** What they may show; replaces the gateway's `admin.reveal` key by key. */
  reveal?: AdminReveal;
}

const NO_STORE = { 'cache-control': 'no-store' };
const READ = new Set(['GET', 'HEAD']);
const READ_ENTRY_METHODS = 'GET, HEAD';

/**
 * `GET {prefix}/health` answers 200 while the process runs; `GET {prefix}/ready` answers 200 once the
 * gateway has started and 503 (GH_NOT_READY) before that and while it drains; both are open to
 * everyone. Every endpoint in `target.adminEndpoints` first goes through the access policy (403
 * GH_ADMIN_FORBIDDEN by default). Matched on the normalized path; a method an endpoint does not answer
 * gets 405 (GH_METHOD_NOT_ALLOWED); every other path passes through.
 */
export function admin(target: AdminTarget, options: AdminOptions = {}): Middleware {
  const prefix = options.prefix ?? '';
  if (typeof prefix !== 'string' || (prefix !== '' && (!prefix.startsWith('/') || prefix.endsWith('/')))) {
    const text = String(prefix);
    const fixed = text.replace(/\/+$/, '').replace(/^(?!\/)/, '/');
    const hint =
      typeof prefix === 'string' && fixed !== '/' && fixed !== text ? ` — did you mean '${fixed}'?` : '';
    throw new ConfigError([
      {
        path: 'admin.prefix',
        message: `expected '' or a path that starts with '/' and does not end with '/', received ${JSON.stringify(prefix)}${hint}`,
      },
    ]);
  }
  const policy = createAdminPolicy(options.access, options.reveal);
  const isHealth = createPathMatcher(`${prefix}/health`, target.pathPolicy);
  const isReady = createPathMatcher(`${prefix}/ready`, target.pathPolicy);
  const caseSensitive = target.pathPolicy?.caseSensitive ?? false;
  const extraEndpoint = (path: string): AdminEndpointEntry | undefined => {
    const endpoints = target.adminEndpoints;
    if (endpoints === undefined || endpoints.size === 0 || !startsWith(path, prefix, caseSensitive))
      return undefined;
    const rest = path.slice(prefix.length);
    return endpoints.get(caseSensitive ? rest : rest.toLowerCase());
  };
  const serve = (exchange: Exchange, entry: AdminEndpointEntry): RequestResult | Promise<RequestResult> =>
    entry.handle(exchange, policy.view);
  const middleware: Middleware & { handles(path: string): boolean } = {
    name: 'admin',
    /** Whether `path` (normalized) is one of this admin's endpoints, for routers that dispatch by path. */
    handles: (path) => isHealth(path) || isReady(path) || extraEndpoint(path) !== undefined,
    onRequest(exchange) {
      const path = exchange.path;
      const health = isHealth(path);
      const ready = !health && isReady(path);
      const entry = health || ready ? undefined : extraEndpoint(path);
      if (!health && !ready && entry === undefined) return undefined;
      const method = exchange.method;
      const methods = entry?.methods ?? READ;
      if (!methods.has(method)) {
        const allow = entry === undefined ? READ_ENTRY_METHODS : [...methods].join(', ');
        throw new MethodNotAllowed(`${path} answers ${allow} only`, { headers: { allow } });
      }
      if (health) return { status: 200, headers: NO_STORE, body: { status: 'ok' } };
      if (entry !== undefined) {
        const verdict = policy.check(exchange);
        if (verdict === undefined) return serve(exchange, entry);
        if (isThenable<RequestResult>(verdict)) {
          return Promise.resolve(verdict).then((value) =>
            value === undefined ? serve(exchange, entry) : value,
          );
        }
        return verdict;
      }
      if (!target.ready) {
        throw new NotReady(`The gateway is ${target.state}`, { headers: { 'retry-after': '1' } });
      }
      return { status: 200, headers: NO_STORE, body: { status: 'ready' } };
    },
  };
  return middleware;
}

function startsWith(path: string, prefix: string, caseSensitive: boolean): boolean {
  if (prefix === '') return true;
  return caseSensitive
    ? path.startsWith(prefix)
    : path.slice(0, prefix.length).toLowerCase() === prefix.toLowerCase();
}

/** The methods an endpoint answers, from its options: upper case, HEAD with GET. */
export function endpointMethods(options: AdminEndpointOptions = {}): ReadonlySet<string> {
  const given = options.methods ?? ['GET'];
  const methods = new Set<string>();
  for (const method of given) {
    if (typeof method !== 'string' || !/^[A-Z]+$/.test(method))
      throw new TypeError(`addAdminEndpoint: invalid method '${String(method)}'`);
    methods.add(method);
    if (method === 'GET') methods.add('HEAD');
  }
  if (methods.size === 0) throw new TypeError('addAdminEndpoint: methods must not be empty');
  return methods;
}
