// API-key authentication: a key presented in a header or query parameter, found by its SHA-256 digest
// in inline configuration, a JSON file, a user lookup function or Redis. Plaintext keys are never kept.
import { hash, timingSafeEqual } from 'node:crypto';
import { readFileSync } from 'node:fs';
import {
  type CrossCheckReport,
  DependencyMonitor,
  type Exchange,
  functionOption,
  isHeaderName,
  objectOption,
  parseOptions,
  withCrossCheck,
} from '@gatehousejs/core';
import * as v from 'valibot';
import { AuthConflict, AuthFailed, AuthInvalid, AuthUnavailable, monitored, refuse } from './errors.js';
import { type ExpiringLru, expiringLru } from './expiring-lru.js';
import { messageOr, Problems, queryOption } from './options.js';
import { type Authenticator, type Principal, scopeList } from './principal.js';

/**
 * Who an API key belongs to and what it may do. Members other than `id`, `scopes`, `roles` and `tier`
 * are kept as metadata and become {@link Principal.claims}.
 */
export interface ApiKeyPrincipal {
  /** The key owner's stable identifier; becomes {@link Principal.id}. Required. */
  readonly id: string;
  /** Granted scopes. @default [] */
  readonly scopes?: readonly string[];
  /** Granted roles. @default [] */
  readonly roles?: readonly string[];
  /** Plan or tier for rate limiting (`'free'`, `'pro'`). */
  readonly tier?: string;
  /** Anything else: kept as metadata in {@link Principal.claims}. Must be plain (structured-cloneable) data. */
  readonly [metadata: string]: unknown;
}

/**
 * One configured key: the principal it identifies plus exactly one of `key` (plaintext, hashed when
 * the authenticator is created and then dropped) or `hash` (`'sha256:<hex>'`, see {@link hashApiKey}).
 *
 * @example
 *   { hash: 'sha256:9f86d081884c7d659a2feaa0c55ad015a3bf4f1b2b0b822cd15d6c15b0f00a08', id: 'billing-service', scopes: ['invoices:read'] }
 */
export type ApiKeyEntry = ApiKeyPrincipal &
  ({ readonly key: string; readonly hash?: undefined } | { readonly hash: string; readonly key?: undefined });

/**
 * The part of a Redis client the authenticator uses; an `ioredis` `Redis` instance fits. Typed
 * structurally so that `ioredis` stays an optional peer dependency.
 */
export interface ApiKeyRedisClient {
  /** Redis `GET`: the stored string, or `null` when the key does not exist. */
  get(key: string): Promise<string | null>;
}

/** Where lookup and Redis results are remembered. */
export interface ApiKeyCacheOptions {
  /** Most keys remembered (known and unknown together). @default 10_000 */
  max?: number;
  /** How long a found key is remembered, in ms: a revoked key keeps working up to this long. @default 60_000 */
  ttlMs?: number;
  /** How long an unknown key is remembered, in ms: a new key may be refused up to this long. @default 5_000 */
  negativeTtlMs?: number;
}

/**
 * Options of {@link apiKeyAuthenticator}. Give exactly one source: `keys`, `file`, `lookup` or `redis`.
 *
 * @example
 *   apiKeyAuthenticator({ keys: [{ hash: hashApiKey(process.env.PARTNER_KEY!), id: 'partner', tier: 'pro' }] })
 */
export interface ApiKeyOptions {
  /**
   * The request header carrying the key (case-insensitive); `false` to read only the query.
   * Sending it twice is a conflict (400).
   *
   * @default 'x-api-key'
   */
  header?: string | false;
  /**
   * A query parameter carrying the key, e.g. `'api_key'`. Off by default because URLs end up in logs,
   * histories and `Referer` headers. When both header and query carry a key, they must be equal.
   *
   * @default false
   */
  query?: string | false;
  /** Longest key accepted, in UTF-8 bytes; longer ones are refused without being hashed. @default 256 */
  maxKeyBytes?: number;
  /** Inline keys. */
  keys?: readonly ApiKeyEntry[];
  /** Path of a JSON file holding an array of {@link ApiKeyEntry}, read once when the authenticator is created. */
  file?: string;
  /**
   * Finds the principal for a key digest (`'sha256:<hex>'`, never the plaintext); resolves `undefined`
   * for an unknown key. A throw refuses the request with 503 (`AuthUnavailable`), never lets it in.
   * Results are cached (see `cache`).
   */
  lookup?: (hash: string) => Promise<ApiKeyPrincipal | undefined | null>;
  /**
   * Keys in Redis: `GET <prefix><hex digest>` holds the principal as JSON ({@link ApiKeyPrincipal}).
   * Any Redis error refuses the request with 503. Pass a client created with
   * `enableOfflineQueue: false` and a `commandTimeout` (e.g. 500 ms), so that a dead Redis fails fast
   * instead of queueing requests. The authenticator never closes the client. Results are cached.
   *
   * @example
   *   redis: { client: new Redis(url, { enableOfflineQueue: false, commandTimeout: 500 }) }
   */
  redis?: {
    client: ApiKeyRedisClient;
    /** Prefix of the Redis keys. @default 'gatehouse:apikey:' */
    prefix?: string;
  };
  /** Cache for `lookup` and `redis` results (unused for `keys` and `file`); `false` asks every time. */
  cache?: ApiKeyCacheOptions | false;
}

const PREFIX = 'apiKey';
const HASH = /^sha256:[0-9a-fA-F]{64}$/;
// Visible ASCII and inner spaces: header values reach us Latin-1 decoded and trimmed of surrounding
// whitespace, so a key outside this set, or with whitespace at either end, could never match.
const PRINTABLE_KEY = /^[\x21-\x7e](?:[\x20-\x7e]*[\x21-\x7e])?$/;
const SOURCES = ['keys', 'file', 'lookup', 'redis'] as const;

/**
 * The digest to store instead of a plaintext key: `'sha256:'` and 64 lower-case hex digits.
 *
 * @example
 *   hashApiKey('s3cr3t-key') // 'sha256:…'
 */
export function hashApiKey(key: string): string {
  if (typeof key !== 'string' || key.length === 0) {
    throw new TypeError('hashApiKey: key must be a non-empty string');
  }
  return `sha256:${digestOf(key).toString('hex')}`;
}

/**
 * Authenticates requests by API key. Returns `undefined` when the request carries none; refuses an
 * empty, oversized, unknown or twice-sent key. Options are validated here, once: every problem is
 * reported in one `ConfigError`.
 */
export function apiKeyAuthenticator(options: ApiKeyOptions): Authenticator {
  // One ConfigError for the options and for what the key file holds.
  const problems = new Problems(PREFIX);
  let o: v.InferOutput<typeof apiKeyOptionsSchema> | undefined;
  try {
    o = parseOptions(apiKeyOptionsSchema, options, { name: PREFIX });
  } catch (error) {
    problems.merge(error);
  }
  const file = (options as { file?: unknown } | null)?.file;
  const fromFile = typeof file === 'string' && file.length > 0 ? fileTable(problems, file) : undefined;
  problems.throwIfAny();
  const checked = o!;
  const header = checked.header === false ? undefined : (checked.header ?? 'x-api-key').toLowerCase();
  const query = checked.query === false ? undefined : checked.query;
  const maxKeyBytes = checked.maxKeyBytes ?? 256;
  const { resolve, cache, monitor } = keySource(checked, fromFile);
  let reporter: Exchange['runtime'] | undefined;

  return {
    name: 'api-key',
    scheme: 'ApiKey',
    authenticate(exchange) {
      // A store that cannot be asked is reported to the gateways whose requests this method sees.
      if (monitor !== undefined && exchange.runtime !== reporter) {
        reporter = exchange.runtime;
        monitor.reportTo(reporter);
      }
      const presented = presentedKey(exchange, header, query);
      if (presented === undefined) return undefined;
      if (presented.length === 0) throw refuse(new AuthInvalid('Empty API key'), 'malformed');
      if (presented.length > maxKeyBytes || Buffer.byteLength(presented) > maxKeyBytes) {
        throw refuse(new AuthInvalid(`API key longer than ${maxKeyBytes} bytes`), 'too_large');
      }
      return resolve(digestOf(presented));
    },
    close() {
      cache?.clear();
    },
  };
}

type Resolver = (digest: Buffer) => Principal | Promise<Principal>;

/**
 * The resolver of the configured source, and for lookup and Redis the cache it fills and the monitor
 * of the store.
 */
function keySource(
  options: v.InferOutput<typeof apiKeyOptionsSchema>,
  fromFile: Map<string, TableEntry> | undefined,
): { resolve: Resolver; cache?: ExpiringLru<Principal | typeof UNKNOWN>; monitor?: DependencyMonitor } {
  if (options.keys !== undefined || fromFile !== undefined) {
    const table = fromFile ?? tableOf(options.keys ?? []);
    return {
      resolve(digest) {
        const entry = table.get(digest.toString('hex'));
        // The map lookup is keyed by the digest, so its timing says nothing about the key itself; the
        // final comparison is constant-time all the same.
        if (entry === undefined || !timingSafeEqual(entry.digest, digest)) throw unknownKey();
        return entry.principal;
      },
    };
  }
  const fetchPrincipal =
    options.redis !== undefined ? redisSource(options.redis) : lookupSource(options.lookup!);
  // An unreachable store is reported once per outage with its cause, and its recovery once; not once
  // per refused request.
  const monitor =
    options.redis !== undefined
      ? new DependencyMonitor('redis', redisName(options.redis))
      : new DependencyMonitor('lookup', lookupName(options.lookup!));
  const cacheOptions = options.cache === false ? undefined : (options.cache ?? {});
  const cache =
    cacheOptions === undefined
      ? undefined
      : {
          // Monotonic time: a step of the wall clock neither shortens nor extends an entry.
          lru: expiringLru<Principal | typeof UNKNOWN>(cacheOptions.max ?? 10_000, () => performance.now()),
          ttlMs: cacheOptions.ttlMs ?? 60_000,
          negativeTtlMs: cacheOptions.negativeTtlMs ?? 5_000,
        };
  return {
    resolve: remoteResolver(fetchPrincipal, cache, monitor),
    ...(cache && { cache: cache.lru }),
    monitor,
  };
}

// ---------------------------------------------------------------------------------------------------
// Reading the key from the request

function presentedKey(
  exchange: Exchange,
  header: string | undefined,
  query: string | undefined,
): string | undefined {
  let fromHeader: string | undefined;
  if (header !== undefined) {
    const raw = exchange.rawHeader(header);
    if (Array.isArray(raw)) throw refuse(new AuthConflict('API key header sent more than once'), 'conflict');
    fromHeader = raw;
  }
  if (query === undefined) return fromHeader;
  const values = exchange.query.getAll(query);
  if (values.length > 1)
    throw refuse(new AuthConflict('API key query parameter sent more than once'), 'conflict');
  const fromQuery = values[0];
  if (fromHeader !== undefined && fromQuery !== undefined && fromHeader !== fromQuery) {
    throw refuse(new AuthConflict('Different API keys in header and query'), 'conflict');
  }
  return fromHeader ?? fromQuery;
}

// crypto.hash (Node >= 20.12) is the one-shot form: a fraction of createHash's cost for short input.
function digestOf(key: string): Buffer {
  return hash('sha256', key, 'buffer');
}

function unknownKey() {
  return refuse(new AuthInvalid('Unknown API key'), 'unknown_key');
}

// ---------------------------------------------------------------------------------------------------
// Options

const PRINCIPAL_MEMBERS = new Set(['id', 'scopes', 'roles', 'tier']);
const words = () => v.array(v.pipe(v.string(), v.minLength(1)));

/** The members other than the principal's own (and the key), kept as metadata. */
function metadataOf(record: Record<string, unknown>): Record<string, unknown> {
  // fromEntries defines own properties, so a `__proto__` member stays plain data.
  return Object.fromEntries(
    Object.entries(record).filter(
      ([name]) => !PRINCIPAL_MEMBERS.has(name) && name !== 'key' && name !== 'hash',
    ),
  );
}

const principalShape = {
  id: v.pipe(v.string(), v.minLength(1, 'must be a non-empty string')),
  scopes: v.optional(words()),
  roles: v.optional(words()),
  tier: v.optional(v.string()),
};

const plainMetadata = (record: unknown, report: CrossCheckReport) => {
  if (!isRecord(record)) return;
  try {
    structuredClone(metadataOf(record));
  } catch {
    report([], 'metadata must be plain data (structured-cloneable)');
  }
};

/**
 * The valibot schema of {@link ApiKeyPrincipal}: what a `lookup` function returns and a Redis key holds.
 * Members other than `id`, `scopes`, `roles` and `tier` are metadata (plain data).
 */
export const apiKeyPrincipalSchema = withCrossCheck(v.looseObject(principalShape), plainMetadata);

// Problems never quote a key: the messages of `key` are fixed. An empty key is only "non-empty"
// (the pattern lets it pass, so that it is reported once).
const keyText = v.pipe(
  v.string('must be a non-empty string'),
  v.minLength(1, 'must be a non-empty string'),
  v.regex(
    new RegExp(`^$|${PRINTABLE_KEY.source}`),
    'must be printable ASCII without leading or trailing whitespace (no request could present it)',
  ),
);

/** The valibot schema of one {@link ApiKeyEntry} (`keys`, and each entry of a key `file`). */
export const apiKeyEntrySchema = withCrossCheck(
  v.looseObject(
    {
      ...principalShape,
      key: v.optional(keyText),
      hash: v.optional(
        v.pipe(
          v.string("must be 'sha256:' followed by 64 hex digits (see hashApiKey())"),
          v.regex(HASH, "must be 'sha256:' followed by 64 hex digits (see hashApiKey())"),
        ),
      ),
    },
    // Never "received the string '…'": an entry that is a bare string may well be a key. (The
    // message is the object's own; a missing member keeps the default wording.)
    messageOr((issue) =>
      issue.path === undefined ? 'must be an object with id and key or hash' : undefined,
    ),
  ),
  (entry, report) => {
    if (!isRecord(entry)) return;
    if (entry.key !== undefined && entry.hash !== undefined) report([], 'give either key or hash, not both');
    else if (entry.key === undefined && entry.hash === undefined) report([], 'needs a key or a hash');
    plainMetadata(entry, report);
  },
);

/** The entries of `keys` or a key file: each valid, no key twice. */
const entryListSchema = (path: string) =>
  withCrossCheck(v.array(apiKeyEntrySchema), (entries, report) => {
    if (!Array.isArray(entries)) return;
    const firstSeen = new Map<string, number>();
    entries.forEach((entry: unknown, index: number) => {
      const digest = isRecord(entry) ? entryDigest(entry) : undefined;
      if (digest === undefined) return;
      const hex = digest.toString('hex');
      const earlier = firstSeen.get(hex);
      if (earlier !== undefined) report([index], `same key as ${PREFIX}.${path}[${earlier}]`);
      else firstSeen.set(hex, index);
    });
  });

/**
 * The valibot schema of {@link ApiKeyOptions}, checked by {@link apiKeyAuthenticator} (paths under
 * `apiKey`). `lookup` and `redis.client` are code only; a key file's entries are checked when it is
 * read, against {@link apiKeyEntrySchema}.
 */
export const apiKeyOptionsSchema = withCrossCheck(
  v.strictObject({
    header: v.optional(
      v.union([v.pipe(v.string(), v.check(isHeaderName, 'expected a header name')), v.literal(false)]),
    ),
    query: v.optional(queryOption()),
    maxKeyBytes: v.optional(v.pipe(v.number(), v.safeInteger(), v.gtValue(0))),
    keys: v.optional(entryListSchema('keys')),
    file: v.optional(v.pipe(v.string(), v.minLength(1))),
    lookup: v.optional(
      functionOption<NonNullable<ApiKeyOptions['lookup']>>(
        'a function (hash) => Promise<principal | undefined>',
      ),
    ),
    redis: v.optional(
      v.strictObject({
        client: objectOption<ApiKeyRedisClient>('a Redis client with get() (ioredis)', ['get']),
        prefix: v.optional(v.pipe(v.string(), v.minLength(1))),
      }),
    ),
    cache: v.optional(
      v.union([
        v.literal(false),
        v.strictObject({
          max: v.optional(v.pipe(v.number(), v.safeInteger(), v.gtValue(0))),
          ttlMs: v.optional(v.pipe(v.number(), v.safeInteger(), v.gtValue(0))),
          negativeTtlMs: v.optional(v.pipe(v.number(), v.safeInteger(), v.gtValue(0))),
        }),
      ]),
    ),
  }),
  (options, report) => {
    if (!isRecord(options)) return;
    const given = SOURCES.filter((name) => options[name] !== undefined);
    if (given.length !== 1) {
      report(
        [],
        given.length === 0
          ? 'needs a key source: one of keys, file, lookup or redis'
          : `give only one key source, not ${given.join(' and ')}`,
      );
    }
    if (options.header === false && (options.query === undefined || options.query === false))
      report([], 'header is off and no query parameter is set: keys could never be read');
  },
);

const isRecord = (value: unknown): value is Record<string, unknown> =>
  typeof value === 'object' && value !== null && !Array.isArray(value);

// ---------------------------------------------------------------------------------------------------
// Inline and file sources

interface TableEntry {
  readonly digest: Buffer;
  readonly principal: Principal;
}

/** The table of checked entries, by hex digest. */
function tableOf(entries: readonly Record<string, unknown>[]): Map<string, TableEntry> {
  const table = new Map<string, TableEntry>();
  for (const entry of entries) {
    const digest = entryDigest(entry)!;
    table.set(digest.toString('hex'), { digest, principal: principalFrom(entry) });
  }
  return table;
}

/** Reads and checks a key file; its problems are recorded under `file`. */
function fileTable(problems: Problems, file: string): Map<string, TableEntry> {
  let text: string;
  try {
    text = readFileSync(file, 'utf8');
  } catch (error) {
    problems.add('file', `cannot read '${file}': ${(error as NodeJS.ErrnoException).code ?? String(error)}`);
    return new Map();
  }
  let parsed: unknown;
  try {
    parsed = JSON.parse(text);
  } catch (error) {
    // V8's message quotes the text around the error, which may be a plaintext key: keep only where.
    const position = /position (\d+)/.exec(String((error as Error).message))?.[1];
    problems.add(
      'file',
      `'${file}' is not valid JSON${position === undefined ? '' : ` (${where(text, Number(position))})`}`,
    );
    return new Map();
  }
  if (!Array.isArray(parsed)) {
    problems.add('file', `'${file}' must hold a JSON array of key entries`);
    return new Map();
  }
  try {
    return tableOf(parseOptions(entryListSchema('file'), parsed, { name: `${PREFIX}.file` }));
  } catch (error) {
    problems.merge(error);
    return new Map();
  }
}

function where(text: string, position: number): string {
  const before = text.slice(0, position).split('\n');
  return `line ${before.length}, column ${before.at(-1)!.length + 1}`;
}

/** The digest of an entry's key or hash, when it has exactly one that is valid. */
function entryDigest(record: Record<string, unknown>): Buffer | undefined {
  const { key, hash } = record;
  if (key !== undefined && hash !== undefined) return undefined;
  if (typeof key === 'string' && PRINTABLE_KEY.test(key)) return digestOf(key);
  if (typeof hash === 'string' && HASH.test(hash)) return Buffer.from(hash.slice('sha256:'.length), 'hex');
  return undefined;
}

// ---------------------------------------------------------------------------------------------------
// Principals

/** The frozen Principal of a record checked against {@link apiKeyPrincipalSchema}. */
function principalFrom(record: Record<string, unknown>): Principal {
  return Object.freeze({
    id: record.id as string,
    method: 'api-key',
    scopes: Object.freeze(scopeList(record.scopes)),
    roles: Object.freeze(scopeList(record.roles)),
    ...(typeof record.tier === 'string' ? { tier: record.tier } : {}),
    // Copied so that freezing never reaches into the caller's objects.
    claims: deepFreeze(structuredClone(metadataOf(record))),
  });
}

function deepFreeze<T>(value: T): T {
  if (typeof value === 'object' && value !== null && !Object.isFrozen(value)) {
    Object.freeze(value);
    for (const member of Object.values(value)) deepFreeze(member);
  }
  return value;
}

// ---------------------------------------------------------------------------------------------------
// Lookup and Redis sources

/** What a remote source said about one digest; errors are turned into refusals per request. */
type Found =
  | { readonly kind: 'found'; readonly principal: Principal }
  | { readonly kind: 'unknown' }
  | { readonly kind: 'unavailable'; readonly cause: unknown }
  | { readonly kind: 'failed'; readonly cause: unknown };

const UNKNOWN = Symbol('unknown API key');

function lookupSource(lookup: NonNullable<ApiKeyOptions['lookup']>): (hex: string) => Promise<Found> {
  return async (hex) => {
    let record: unknown;
    try {
      record = await lookup(`sha256:${hex}`);
    } catch (cause) {
      return { kind: 'unavailable', cause };
    }
    return foundFrom(record, 'the lookup function');
  };
}

function redisSource(options: NonNullable<ApiKeyOptions['redis']>): (hex: string) => Promise<Found> {
  const prefix = options.prefix ?? 'gatehouse:apikey:';
  return async (hex) => {
    let text: string | null;
    try {
      text = await options.client.get(prefix + hex);
    } catch (cause) {
      return { kind: 'unavailable', cause };
    }
    if (text === null) return { kind: 'unknown' };
    let record: unknown;
    try {
      record = JSON.parse(text);
    } catch {
      return { kind: 'failed', cause: new Error(`Redis key ${prefix}${hex} does not hold JSON`) };
    }
    return foundFrom(record, `Redis key ${prefix}${hex}`);
  };
}

function foundFrom(record: unknown, origin: string): Found {
  if (record === undefined || record === null) return { kind: 'unknown' };
  try {
    const checked = parseOptions(apiKeyPrincipalSchema, record, { name: origin });
    return { kind: 'found', principal: principalFrom(checked) };
  } catch (cause) {
    // The ConfigError lists what is wrong with the record, for logs.
    return { kind: 'failed', cause };
  }
}

/** The Redis client's address as a dependency name (never its password), and the key prefix. */
function redisName(options: NonNullable<ApiKeyOptions['redis']>): string {
  const prefix = options.prefix ?? 'gatehouse:apikey:';
  // ioredis keeps what it connects to in `options`; another client may not say.
  const { host, port, path } =
    (options.client as { options?: { host?: unknown; port?: unknown; path?: unknown } }).options ?? {};
  const where =
    typeof path === 'string' && path !== ''
      ? `redis+unix://${path}`
      : typeof host === 'string' || typeof port === 'number'
        ? `redis://${String(host ?? '?')}:${String(port ?? '?')}`
        : 'redis';
  return `${where} ${prefix}*`;
}

/** The lookup function as a dependency name: its name when it has one. */
function lookupName(lookup: NonNullable<ApiKeyOptions['lookup']>): string {
  return lookup.name === '' || lookup.name === 'lookup' ? 'apiKey.lookup' : `apiKey.lookup (${lookup.name})`;
}

function remoteResolver(
  fetchPrincipal: (hex: string) => Promise<Found>,
  cache: { lru: ExpiringLru<Principal | typeof UNKNOWN>; ttlMs: number; negativeTtlMs: number } | undefined,
  monitor: DependencyMonitor,
): (digest: Buffer) => Promise<Principal> {
  // Requests presenting the same key while its lookup runs share that lookup.
  const pending = new Map<string, Promise<Found>>();
  return async (digest) => {
    const hex = digest.toString('hex');
    const cached = cache?.lru.get(hex);
    if (cached === UNKNOWN) throw unknownKey();
    if (cached !== undefined) return cached;
    let running = pending.get(hex);
    if (running === undefined) {
      running = fetchPrincipal(hex).then((found) => {
        // A malformed record ('failed') is an answer too: the store is up, the record is wrong.
        if (found.kind === 'unavailable') monitor.failed(found.cause);
        else monitor.succeeded();
        if (found.kind === 'found') cache?.lru.set(hex, found.principal, cache.ttlMs);
        else if (found.kind === 'unknown') cache?.lru.set(hex, UNKNOWN, cache.negativeTtlMs);
        return found;
      });
      const settled = running.finally(() => pending.delete(hex));
      pending.set(hex, settled);
      running = settled;
    }
    const found = await running;
    switch (found.kind) {
      case 'found':
        return found.principal;
      case 'unknown':
        throw unknownKey();
      case 'unavailable':
        // The cause travels with the refusal (spans, logs); the outage itself is reported once, by
        // the store's monitor.
        throw monitored(
          refuse(new AuthUnavailable('API key store unavailable', { cause: found.cause }), 'unavailable'),
        );
      default:
        throw refuse(
          new AuthFailed('API key store returned an invalid record', { cause: found.cause }),
          'error',
        );
    }
  };
}
