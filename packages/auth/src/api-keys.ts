// API-key authentication: a key presented in a header or query parameter, found by its SHA-256 digest
// in inline configuration, a JSON file, a user lookup function or Redis. Plaintext keys are never kept.
import { hash, timingSafeEqual } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { type Exchange, isHeaderName } from '@gatehousejs/core';
import { LRUCache } from 'lru-cache';
import { AuthConflict, AuthFailed, AuthInvalid, AuthUnavailable, refuse } from './errors.js';
import { nonEmptyString, Problems, positiveInt, unknownKeys } from './options.js';
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
const KNOWN_OPTIONS = new Set(['header', 'query', 'maxKeyBytes', 'keys', 'file', 'lookup', 'redis', 'cache']);
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
  const problems = new Problems(PREFIX);
  if (typeof options !== 'object' || options === null) {
    problems.add('', 'options must be an object');
    problems.throwIfAny();
  }
  unknownKeys(problems, '', options, [...KNOWN_OPTIONS]);

  const header = headerOption(problems, options.header);
  let query: string | undefined;
  if (
    options.query !== undefined &&
    options.query !== false &&
    nonEmptyString(problems, 'query', options.query)
  ) {
    query = options.query;
  }
  if (header === undefined && query === undefined && options.header === false) {
    problems.add('', 'header is off and no query parameter is set: keys could never be read');
  }
  const maxKeyBytes = positiveInt(problems, 'maxKeyBytes', options.maxKeyBytes, 256);

  const given = SOURCES.filter((name) => options[name] !== undefined);
  if (given.length !== 1) {
    problems.add(
      '',
      given.length === 0
        ? 'needs a key source: one of keys, file, lookup or redis'
        : `give only one key source, not ${given.join(' and ')}`,
    );
  }

  const { resolve, cache } = keySource(problems, options);
  problems.throwIfAny();

  return {
    name: 'api-key',
    scheme: 'ApiKey',
    authenticate(exchange) {
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

/** The resolver of the configured source, and the cache it fills (lookup and Redis only). */
function keySource(
  problems: Problems,
  options: ApiKeyOptions,
): { resolve: Resolver; cache?: LRUCache<string, Principal | typeof UNKNOWN> } {
  if (options.keys !== undefined || options.file !== undefined) {
    const table =
      options.keys !== undefined ? inlineTable(problems, options.keys) : fileTable(problems, options.file);
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
  if (options.redis !== undefined || options.lookup !== undefined) {
    const fetchPrincipal =
      options.redis !== undefined
        ? redisSource(problems, options.redis)
        : lookupSource(problems, options.lookup);
    const cache = cacheOption(problems, options.cache);
    return { resolve: remoteResolver(fetchPrincipal, cache), ...(cache && { cache: cache.lru }) };
  }
  // No source: already a problem, so the authenticator is never built.
  return {
    resolve() {
      throw unknownKey();
    },
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

function headerOption(problems: Problems, value: unknown): string | undefined {
  if (value === false) return undefined;
  if (value === undefined) return 'x-api-key';
  if (typeof value !== 'string' || !isHeaderName(value)) {
    problems.add('header', `must be a header name or false, got ${JSON.stringify(value) ?? String(value)}`);
    return undefined;
  }
  // rawHeader() compares against a lower-case name.
  return value.toLowerCase();
}

function cacheOption(
  problems: Problems,
  value: ApiKeyCacheOptions | false | undefined,
): { lru: LRUCache<string, Principal | typeof UNKNOWN>; negativeTtlMs: number } | undefined {
  if (value === false) return undefined;
  if (value !== undefined && (typeof value !== 'object' || value === null)) {
    problems.add('cache', 'must be an object or false');
    return undefined;
  }
  const max = positiveInt(problems, 'cache.max', value?.max, 10_000);
  const ttl = positiveInt(problems, 'cache.ttlMs', value?.ttlMs, 60_000);
  const negativeTtlMs = positiveInt(problems, 'cache.negativeTtlMs', value?.negativeTtlMs, 5_000);
  return { lru: new LRUCache({ max, ttl }), negativeTtlMs };
}

// ---------------------------------------------------------------------------------------------------
// Inline and file sources

interface TableEntry {
  readonly digest: Buffer;
  readonly principal: Principal;
}

function inlineTable(problems: Problems, keys: unknown): Map<string, TableEntry> {
  if (!Array.isArray(keys)) {
    problems.add('keys', 'must be an array of key entries');
    return new Map();
  }
  return buildTable(problems, 'keys', keys);
}

function fileTable(problems: Problems, file: unknown): Map<string, TableEntry> {
  if (!nonEmptyString(problems, 'file', file)) return new Map();
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
  return buildTable(problems, 'file', parsed);
}

function where(text: string, position: number): string {
  const before = text.slice(0, position).split('\n');
  return `line ${before.length}, column ${before.at(-1)!.length + 1}`;
}

function buildTable(problems: Problems, path: string, entries: readonly unknown[]): Map<string, TableEntry> {
  const table = new Map<string, TableEntry>();
  const firstSeen = new Map<string, number>();
  entries.forEach((entry, index) => {
    const at = `${path}[${index}]`;
    if (typeof entry !== 'object' || entry === null || Array.isArray(entry)) {
      problems.add(at, 'must be an object with id and key or hash');
      return;
    }
    const record = entry as Record<string, unknown>;
    const digest = entryDigest(problems, at, record);
    const principal = principalOf(problems, at, record);
    if (digest === undefined || principal === undefined) return;
    const hex = digest.toString('hex');
    const earlier = firstSeen.get(hex);
    if (earlier !== undefined) {
      problems.add(at, `same key as ${PREFIX}.${path}[${earlier}]`);
      return;
    }
    firstSeen.set(hex, index);
    table.set(hex, { digest, principal });
  });
  return table;
}

function entryDigest(problems: Problems, at: string, record: Record<string, unknown>): Buffer | undefined {
  const { key, hash } = record;
  if (key !== undefined && hash !== undefined) {
    problems.add(at, 'give either key or hash, not both');
    return undefined;
  }
  if (key === undefined && hash === undefined) {
    problems.add(at, 'needs a key or a hash');
    return undefined;
  }
  if (key !== undefined) {
    // Messages never quote the key.
    if (typeof key !== 'string' || key.length === 0) problems.add(`${at}.key`, 'must be a non-empty string');
    else if (!PRINTABLE_KEY.test(key)) {
      problems.add(
        `${at}.key`,
        'must be printable ASCII without leading or trailing whitespace (no request could present it)',
      );
    } else return digestOf(key);
    return undefined;
  }
  if (typeof hash !== 'string' || !HASH.test(hash)) {
    problems.add(`${at}.hash`, "must be 'sha256:' followed by 64 hex digits (see hashApiKey())");
    return undefined;
  }
  return Buffer.from(hash.slice('sha256:'.length), 'hex');
}

// ---------------------------------------------------------------------------------------------------
// Principals

/** Checks principal data and builds the frozen Principal, or records problems and returns undefined. */
function principalOf(problems: Problems, at: string, record: Record<string, unknown>): Principal | undefined {
  const before = problems.count;
  const join = (name: string) => (at === '' ? name : `${at}.${name}`);
  nonEmptyString(problems, join('id'), record.id);
  const scopes = stringList(problems, join('scopes'), record.scopes);
  const roles = stringList(problems, join('roles'), record.roles);
  if (record.tier !== undefined && typeof record.tier !== 'string')
    problems.add(join('tier'), 'must be a string');
  // fromEntries defines own properties, so a `__proto__` member stays plain data.
  const metadata = Object.fromEntries(
    Object.entries(record).filter(
      ([name]) => !PRINCIPAL_MEMBERS.has(name) && name !== 'key' && name !== 'hash',
    ),
  );
  let claims: Record<string, unknown> | undefined;
  try {
    // Copied so that freezing never reaches into the caller's objects.
    claims = deepFreeze(structuredClone(metadata));
  } catch {
    problems.add(at, 'metadata must be plain data (structured-cloneable)');
  }
  if (problems.count > before || claims === undefined) return undefined;
  return Object.freeze({
    id: record.id as string,
    method: 'api-key',
    scopes: Object.freeze(scopes),
    roles: Object.freeze(roles),
    ...(typeof record.tier === 'string' ? { tier: record.tier } : {}),
    claims,
  });
}

const PRINCIPAL_MEMBERS = new Set(['id', 'scopes', 'roles', 'tier']);

function stringList(problems: Problems, path: string, value: unknown): string[] {
  if (value === undefined) return [];
  if (!Array.isArray(value)) {
    problems.add(path, 'must be an array of strings');
    return [];
  }
  value.forEach((item, index) => {
    if (typeof item !== 'string' || item.length === 0)
      problems.add(`${path}[${index}]`, 'must be a non-empty string');
  });
  return scopeList(value);
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

function lookupSource(problems: Problems, lookup: unknown): (hex: string) => Promise<Found> {
  if (typeof lookup !== 'function')
    problems.add('lookup', 'must be a function (hash) => Promise<principal | undefined>');
  const fn = lookup as NonNullable<ApiKeyOptions['lookup']>;
  return async (hex) => {
    let record: unknown;
    try {
      record = await fn(`sha256:${hex}`);
    } catch (cause) {
      return { kind: 'unavailable', cause };
    }
    return foundFrom(record, 'the lookup function');
  };
}

function redisSource(problems: Problems, redis: unknown): (hex: string) => Promise<Found> {
  const options = (typeof redis === 'object' && redis !== null ? redis : {}) as NonNullable<
    ApiKeyOptions['redis']
  >;
  if (typeof options.client?.get !== 'function')
    problems.add('redis.client', 'must be a Redis client (ioredis)');
  unknownKeys(problems, 'redis', options, ['client', 'prefix']);
  let prefix = 'gatehouse:apikey:';
  if (options.prefix !== undefined && nonEmptyString(problems, 'redis.prefix', options.prefix))
    prefix = options.prefix;
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
  const problems = new Problems(origin);
  const principal =
    typeof record === 'object' && !Array.isArray(record)
      ? principalOf(problems, '', record as Record<string, unknown>)
      : undefined;
  if (principal !== undefined) return { kind: 'found', principal };
  if (problems.count === 0) problems.add('', 'must be an object with an id');
  try {
    problems.throwIfAny();
  } catch (cause) {
    // The ConfigError lists what is wrong with the record, for logs.
    return { kind: 'failed', cause };
  }
  return { kind: 'failed', cause: undefined };
}

function remoteResolver(
  fetchPrincipal: (hex: string) => Promise<Found>,
  cache: { lru: LRUCache<string, Principal | typeof UNKNOWN>; negativeTtlMs: number } | undefined,
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
        if (found.kind === 'found') cache?.lru.set(hex, found.principal);
        else if (found.kind === 'unknown') cache?.lru.set(hex, UNKNOWN, { ttl: cache.negativeTtlMs });
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
        throw refuse(new AuthUnavailable('API key store unavailable', { cause: found.cause }), 'unavailable');
      default:
        throw refuse(
          new AuthFailed('API key store returned an invalid record', { cause: found.cause }),
          'error',
        );
    }
  };
}
