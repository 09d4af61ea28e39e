// A gateway run from a configuration: everything it describes built once, mounted as ONE middleware,
// and rebuilt on reload as a new generation that replaces the old one atomically between requests.
//
// A request runs on the generation that was current when it arrived, to its end (its onResponse and
// onFinish hooks, its upstream call): a generation is retired (what it alone used is closed) once the
// last request on it finished. Parts whose configuration did not change are carried over, not rebuilt:
// a reload that only moves a route keeps rate-limit counters, JWKS caches, clients and their breakers.
// The route table is the one controller's (`Routes.reload()`), so run-time changes made through the
// admin API survive reloads that leave that route's mode and weight as they were.
import { createHash, createPrivateKey, type KeyObject } from 'node:crypto';
import { EventEmitter } from 'node:events';
import { type FSWatcher, readFileSync, type StatsListener, unwatchFile, watch, watchFile } from 'node:fs';
import { readFile } from 'node:fs/promises';
import { basename, dirname, isAbsolute, resolve } from 'node:path';
import type { Aggregate } from '@gatehousejs/aggregate';
import {
  type ApiKeyOptions,
  type Auth,
  type Authenticator,
  type AuthOptions,
  apiKeyAuthenticator,
  auth,
  type IdentityAuthenticatorOptions,
  identityAuthenticator,
  introspectionAuthenticator,
  type JwtOptions,
  jwtAuthenticator,
  mtlsAuthenticator,
} from '@gatehousejs/auth';
import { type Client, type ClientOptions, deadline } from '@gatehousejs/client';
import {
  type AdminView,
  ConfigError,
  type ConfigProblem,
  compose,
  Gateway,
  type Middleware,
  type Reply,
} from '@gatehousejs/core';
import { dnsResolver, etcdResolver } from '@gatehousejs/discovery';
import { contractField, OpenApiValidator } from '@gatehousejs/openapi';
import { memoryStore, type RateLimit, rateLimit, redisStore } from '@gatehousejs/rate-limit';
import {
  compileTable,
  etcdSource,
  observeRemoteResponses,
  type Routes,
  type TableSource,
} from '@gatehousejs/routes';
import { accessLog, tracingFor } from '@gatehousejs/tracing';
import { type Versioning, versioning } from '@gatehousejs/versioning';
import { ConfigReloadRejected } from '../errors.js';
import { type FrameworkGateway, type GatewayAdminOptions, gatewaySlots } from '../framework-gateway.js';
import { attachRuntime } from './attach.js';
import { configText } from './code-values.js';
import {
  checkGatehouseConfig,
  type LoadedConfig,
  type LoadOptions,
  loadGatehouseConfig,
  parseGatehouseConfig,
} from './load.js';
import { type GatehouseConfig, RESTART_ONLY } from './schema.js';

export type { ConfigSourceOptions, ConfigStatus, FromConfigOptions, ReloadResult } from './types.js';

import type {
  ConfigSourceOptions,
  ConfigStatus,
  FromConfigOptions,
  GatewayConfiguration,
  ReloadResult,
} from './types.js';

// ---------------------------------------------------------------------------------------------
// Sources
// ---------------------------------------------------------------------------------------------

interface SourceHandlers {
  onLoaded(loaded: LoadedConfig): void;
  onRejected(problems: readonly ConfigProblem[]): void;
}

interface ConfigSource {
  readonly origin: string;
  /** Starts following (the first configuration is already loaded). */
  follow(handlers: SourceHandlers): void;
  /** Reads the source again now (a manual reload). */
  reread(): Promise<LoadedConfig>;
  close(): Promise<void>;
}

const problemsOf = (error: unknown): readonly ConfigProblem[] =>
  error instanceof ConfigError ? error.problems : [{ path: '', message: (error as Error).message }];

/**
 * A file, polled (and watched through its directory), read once it stopped changing; and the files it
 * names (the OpenAPI document, API-key files, `${file:…}` secrets: LoadedConfig.files), followed the
 * same way, so that a changed document or a rotated secret is read as a new version of the whole.
 */
class FileConfigSource implements ConfigSource {
  readonly origin: string;
  readonly #options: LoadOptions;
  /** Undefined: not followed (read again only on request). */
  readonly #watching: { intervalMs: number; debounceMs: number } | undefined;
  readonly #debounceMs: number;
  #handlers: SourceHandlers | undefined;
  #lastText: string | undefined;
  /** The named files' contents when last read (a digest), and which they are. */
  #lastFiles: string;
  #files: readonly string[];
  /** Polled files (the configuration and what it names), and the directories watched for them. */
  readonly #polled = new Set<string>();
  readonly #directories = new Map<string, { watcher: FSWatcher | undefined; names: Set<string> }>();
  #timer: NodeJS.Timeout | undefined;
  /** When the first change not yet read was seen. */
  #pendingSince: number | undefined;
  #reading: Promise<void> | undefined;
  #again = false;
  #closed = false;
  readonly #onStat: StatsListener = () => this.#changed();

  constructor(
    file: string,
    text: string,
    options: LoadOptions,
    watching: { intervalMs: number; debounceMs: number } | undefined,
    files: readonly string[] = [],
  ) {
    this.origin = file;
    this.#lastText = text;
    this.#options = options;
    this.#watching = watching;
    this.#debounceMs = watching?.debounceMs ?? 100;
    this.#files = files;
    this.#lastFiles = filesDigest(files);
  }

  follow(handlers: SourceHandlers): void {
    this.#handlers = handlers;
    if (this.#watching === undefined) return;
    this.#follow([this.origin, ...this.#files]);
  }

  /** Follows exactly `files` (the configuration first): polled, and through their directories. */
  #follow(files: readonly string[]): void {
    if (this.#watching === undefined || this.#closed) return;
    const wanted = new Set(files.map((f) => resolve(f)));
    for (const file of [...this.#polled]) {
      if (wanted.has(file)) continue;
      unwatchFile(file, this.#onStat);
      this.#polled.delete(file);
      const entry = this.#directories.get(dirname(file));
      entry?.names.delete(basename(file));
      if (entry !== undefined && entry.names.size === 0) {
        entry.watcher?.close();
        this.#directories.delete(dirname(file));
      }
    }
    for (const file of wanted) {
      if (this.#polled.has(file)) continue;
      this.#polled.add(file);
      watchFile(file, { interval: this.#watching.intervalMs }, this.#onStat);
      const directory = dirname(file);
      let entry = this.#directories.get(directory);
      if (entry === undefined) {
        const names = new Set<string>();
        let watcher: FSWatcher | undefined;
        try {
          // Only the files themselves, or a Kubernetes ConfigMap's (Secret's) '..data' swap: a busy
          // directory (an access log beside the configuration) must not keep a file from being read.
          watcher = watch(directory, (_event, changed) => {
            if (changed === null || names.has(String(changed)) || String(changed).startsWith('..'))
              this.#changed();
          });
          watcher.on('error', () => watcher?.close());
        } catch {
          // Polling alone (a directory that does not exist yet, a platform without watch).
        }
        entry = { watcher, names };
        this.#directories.set(directory, entry);
      }
      entry.names.add(basename(file));
    }
  }

  async reread(): Promise<LoadedConfig> {
    const [text] = await Promise.all([this.#stableText(), this.#stableFiles()]);
    const loaded = parseGatehouseConfig(text, this.origin, this.#options);
    this.#took(text, loaded);
    return loaded;
  }

  /** Remembers what was read, and follows the files this version names (it may name others). */
  #took(text: string, loaded: LoadedConfig): void {
    this.#lastText = text;
    this.#files = loaded.files;
    this.#lastFiles = filesDigest(loaded.files);
    this.#follow([this.origin, ...loaded.files]);
  }

  async close(): Promise<void> {
    this.#closed = true;
    for (const file of this.#polled) unwatchFile(file, this.#onStat);
    this.#polled.clear();
    for (const { watcher } of this.#directories.values()) watcher?.close();
    this.#directories.clear();
    clearTimeout(this.#timer);
    await this.#reading;
  }

  #changed(): void {
    if (this.#closed) return;
    // Read once things were quiet for debounceMs, and at the latest 10 debounce periods after the
    // first change not yet read: changes that never stop do not postpone reading for ever.
    const now = Date.now();
    this.#pendingSince ??= now;
    const latest = this.#pendingSince + this.#debounceMs * 10;
    clearTimeout(this.#timer);
    this.#timer = setTimeout(
      () => {
        this.#pendingSince = undefined;
        this.#check();
      },
      Math.max(0, Math.min(this.#debounceMs, latest - now)),
    );
  }

  #check(): void {
    if (this.#closed) return;
    if (this.#reading !== undefined) {
      this.#again = true;
      return;
    }
    this.#reading = Promise.all([this.#stableText(), this.#stableFiles()])
      .then(
        ([text, files]) => {
          if (this.#closed || (text === this.#lastText && files === this.#lastFiles)) return;
          let loaded: LoadedConfig;
          try {
            loaded = parseGatehouseConfig(text, this.origin, this.#options);
          } catch (error) {
            // Not taken: the same text and files are not read again until one of them changes.
            this.#lastText = text;
            this.#lastFiles = files;
            this.#handlers?.onRejected(problemsOf(error));
            return;
          }
          this.#took(text, loaded);
          this.#handlers?.onLoaded(loaded);
        },
        (error: unknown) => {
          if (!this.#closed) this.#handlers?.onRejected(problemsOf(error));
        },
      )
      .finally(() => {
        this.#reading = undefined;
        if (this.#again) {
          this.#again = false;
          this.#check();
        }
      });
  }

  /**
   * The file's text once two reads `debounceMs` apart agree: a file still being written (an editor
   * saving in place, a script appending) is never taken half-written.
   */
  async #stableText(): Promise<string> {
    let previous = await this.#read();
    for (let i = 0; i < 20; i++) {
      await new Promise((done) => setTimeout(done, this.#debounceMs));
      const text = await this.#read();
      if (text === previous) return text;
      previous = text;
    }
    throw new ConfigError([
      { path: '', message: `${this.origin} kept changing for ${20 * this.#debounceMs} ms: not read` },
    ]);
  }

  /** The named files' contents (a digest) once two reads `debounceMs` apart agree, as for the text. */
  async #stableFiles(): Promise<string> {
    let previous = filesDigest(this.#files);
    for (let i = 0; i < 20; i++) {
      await new Promise((done) => setTimeout(done, this.#debounceMs));
      const now = filesDigest(this.#files);
      if (now === previous) return now;
      previous = now;
    }
    throw new ConfigError([
      {
        path: '',
        message: `a file ${this.origin} names kept changing for ${20 * this.#debounceMs} ms: not read`,
      },
    ]);
  }

  async #read(): Promise<string> {
    try {
      return await readFile(this.origin, 'utf8');
    } catch (error) {
      const code = (error as NodeJS.ErrnoException).code ?? String(error);
      throw new ConfigError([{ path: '', message: `cannot read ${this.origin}: ${code}` }], { cause: error });
    }
  }
}

/** One digest of what `files` hold now (a missing file counts as its error). */
function filesDigest(files: readonly string[]): string {
  const hash = createHash('sha256');
  for (const file of files) {
    hash.update(file).update('\0');
    try {
      hash.update(readFileSync(file));
    } catch (error) {
      hash.update(`missing:${(error as NodeJS.ErrnoException).code ?? 'unreadable'}`);
    }
    hash.update('\0');
  }
  return hash.digest('base64url');
}

/** An etcd key, read and watched by the routes package's etcd source (outages reported once each). */
class EtcdConfigSource implements ConfigSource {
  readonly origin: string;
  readonly #source: TableSource;
  readonly #options: LoadOptions;
  #latest: LoadedConfig | undefined;
  /** The key's latest value as read: checked again by reread(), so the files it names are read again. */
  #latestValue: unknown;

  constructor(source: TableSource, options: LoadOptions) {
    this.#source = source;
    this.origin = source.origin;
    this.#options = options;
  }

  /** Reads the key, and calls `handlers` for every later change. */
  async start(handlers: SourceHandlers): Promise<LoadedConfig> {
    const first = await this.#source.start({
      onDocument: (doc) => {
        let loaded: LoadedConfig;
        try {
          loaded = this.#check(doc.value);
        } catch (error) {
          handlers.onRejected(problemsOf(error));
          return;
        }
        this.#latest = loaded;
        this.#latestValue = doc.value;
        handlers.onLoaded(loaded);
      },
      onError: (error) => handlers.onRejected([{ path: '', message: error.message }]),
    });
    this.#latest = this.#check(first.value);
    this.#latestValue = first.value;
    return this.#latest;
  }

  #check(value: unknown): LoadedConfig {
    try {
      return checkGatehouseConfig(value, this.#options);
    } catch (error) {
      if (!(error instanceof ConfigError)) throw error;
      throw new ConfigError(
        error.problems.map((p) => ({ ...p, message: `${p.message} (in ${this.origin})` })),
      );
    }
  }

  follow(): void {
    // start() follows already.
  }

  async reread(): Promise<LoadedConfig> {
    // The key is watched: the latest value it held is the one to apply, checked again (the files it
    // names, an OpenAPI document or a secret, are read again).
    if (this.#latest === undefined)
      throw new ConfigError([{ path: '', message: `${this.origin} was never read` }]);
    this.#latest = this.#check(this.#latestValue);
    return this.#latest;
  }

  close(): Promise<void> {
    return this.#source.close();
  }
}

// ---------------------------------------------------------------------------------------------
// Generations
// ---------------------------------------------------------------------------------------------

/** A part of a generation: its middleware and what closes it. Carried over while its digest holds. */
interface Part {
  readonly middleware?: Middleware;
  readonly close?: () => unknown;
  /** Live generations holding it. */
  holders: number;
}

interface Generation {
  readonly revision: number;
  readonly loaded: LoadedConfig;
  readonly chain: Middleware;
  /** By key (`auth:<digest>`, `client:orders:<digest>`, …). */
  readonly parts: ReadonlyMap<string, Part>;
  readonly clients: ReadonlyMap<string, Client>;
  readonly auth: Auth | undefined;
  readonly versioning: Versioning | undefined;
  readonly release: Middleware;
  inflight: number;
  superseded: boolean;
  retired: boolean;
  timer?: NodeJS.Timeout;
}

const isObject = (value: unknown): value is Record<string, unknown> =>
  typeof value === 'object' && value !== null && !Array.isArray(value);

/**
 * The configuration behind a gateway built from one: what is in force, `reload()`, its status, and
 * events: `'reload'` ({@link ReloadResult} of an applied reload), `'reject'` (one rejected: its
 * problems), `'restart-required'` (keys that changed and cannot change at run time).
 */
export class ConfigRuntime extends EventEmitter implements GatewayConfiguration {
  /** The one middleware `gw.mount()` mounts: it runs each request on the current generation. */
  readonly middleware: Middleware;
  readonly #gw: FrameworkGateway<unknown>;
  readonly #source: ConfigSource | undefined;
  /** The configuration the running restart-only parts were built from. */
  readonly #base: LoadedConfig;
  #current!: Generation;
  #revision = 0;
  #appliedAt = new Date().toISOString();
  #restartRequired: readonly string[] = [];
  /** `admin.dashboard` was added (once per gateway: restart-only). */
  #dashboard = false;
  #lastReload: ConfigStatus['lastReload'];
  #routes: Routes | undefined;
  #fixed: Middleware[] = [];
  #queue: Promise<unknown> = Promise.resolve();
  #starting: Promise<void> | undefined;
  #closed = false;
  /** Where apply() looks `${NAME}` up: where the first configuration's references were. */
  readonly #env: LoadOptions['env'];

  constructor(
    gw: FrameworkGateway<unknown>,
    loaded: LoadedConfig,
    source: ConfigSource | undefined,
    env?: LoadOptions['env'],
  ) {
    super();
    this.#gw = gw;
    this.#base = loaded;
    this.#source = source;
    this.#env = env;
    const runtime = this;
    this.middleware = {
      name: 'config',
      // Request ids, tracing and the access log run for refused requests too (runFrom skips the rest).
      alwaysRun: true,
      onRequest(exchange) {
        // Built from a file read synchronously, the first generation is made when the gateway starts.
        if (runtime.#current === undefined) return runtime.start().then(() => runtime.#enter(exchange));
        return runtime.#enter(exchange);
      },
    };
  }

  #enter(exchange: Parameters<NonNullable<Middleware['onRequest']>>[0]) {
    const generation = this.#current;
    generation.inflight++;
    exchange.track(generation.release);
    return generation.chain.onRequest!(exchange) as ReturnType<NonNullable<Middleware['onRequest']>>;
  }

  /** The configuration in force. */
  get loaded(): LoadedConfig {
    return this.#current.loaded;
  }

  /** The revision in force: 1 for the first configuration, one more per applied reload. */
  get revision(): number {
    return this.#revision;
  }

  /** What `/config` shows besides the configuration. */
  status(): ConfigStatus {
    return {
      origin: this.#current.loaded.origin,
      revision: this.#revision,
      appliedAt: this.#appliedAt,
      restartRequired: this.#restartRequired,
      warnings: this.#current.loaded.warnings,
      lastReload: this.#lastReload,
    };
  }

  /** Builds the first generation: every part made and started (an OpenAPI document compiled). Once. */
  start(): Promise<void> {
    this.#starting ??= this.#start();
    return this.#starting;
  }

  async #start(): Promise<void> {
    const core = this.#gw.core;
    const config = this.#base.config;
    // What cannot change at run time, made once.
    if (config.tracing !== undefined) this.#fixed.push(tracingFor(core, config.tracing).middleware());
    this.#fixed.push(core.requestId());
    if (config.cache !== undefined) this.#gw.responseCache(config.cache);
    const generation = await this.#build(this.#base, undefined);
    this.#revision = 1;
    this.#swap(generation, undefined);
    this.#registerAdmin();
    this.#source?.follow({
      onLoaded: (loaded) => void this.#enqueue(() => this.#apply(loaded)),
      onRejected: (problems) => this.#rejected(this.#source!.origin, problems),
    });
    core.onClose(() => this.close());
  }

  /**
   * Reads the source again and applies it (a file; an etcd key is followed already, so its latest
   * value is applied). Never throws: a rejection is in the result, and reported.
   */
  reload(): Promise<ReloadResult> {
    return this.#enqueue(async () => {
      if (this.#source === undefined) {
        return this.#rejected('code', [
          { path: '', message: 'this gateway was built from an object: use apply(config) to change it' },
        ]);
      }
      let loaded: LoadedConfig;
      try {
        loaded = await this.#source.reread();
      } catch (error) {
        return this.#rejected(this.#source.origin, problemsOf(error));
      }
      return this.#apply(loaded);
    });
  }

  /** Checks and applies a configuration given as an object (the shape of a file). */
  apply(config: unknown): Promise<ReloadResult> {
    return this.#enqueue(async () => {
      let loaded: LoadedConfig;
      try {
        loaded = checkGatehouseConfig(config, { baseDir: this.#base.baseDir, env: this.#env });
      } catch (error) {
        return this.#rejected('code', problemsOf(error));
      }
      return this.#apply(loaded);
    });
  }

  /** Stops following the source; parts are closed with the gateway. */
  async close(): Promise<void> {
    if (this.#closed) return;
    this.#closed = true;
    await this.#source?.close();
    await this.#queue.catch(() => undefined);
    for (const part of this.#current.parts.values()) await closePart(part);
  }

  #enqueue<T>(work: () => Promise<T>): Promise<T> {
    const next = this.#queue.then(work, work);
    this.#queue = next.catch(() => undefined);
    return next;
  }

  async #apply(loaded: LoadedConfig): Promise<ReloadResult> {
    if (this.#closed) return this.#rejected(loaded.origin, [{ path: '', message: 'the gateway is closed' }]);
    const running = this.#current.loaded;
    const changed = Object.keys({ ...running.digests, ...loaded.digests }).filter(
      (key) => running.digests[key] !== loaded.digests[key],
    );
    const restartRequired = RESTART_ONLY.filter((key) => this.#base.digests[key] !== loaded.digests[key]);
    const applied = changed.filter((key) => !RESTART_ONLY.includes(key));
    if (applied.length === 0) {
      this.#restartRequired = restartRequired;
      return this.#finish(loaded.origin, {
        outcome: 'unchanged',
        revision: this.#revision,
        changed: [],
        restartRequired,
      });
    }
    // Restart-only keys keep the values the running parts were built from.
    const effective: LoadedConfig = {
      ...loaded,
      config: withKeys(loaded.config, this.#base.config, RESTART_ONLY),
      digests: withDigests(loaded.digests, this.#base.digests, RESTART_ONLY),
    };
    let next: Generation;
    try {
      next = await this.#build(effective, this.#current);
      this.#swap(next, this.#current);
    } catch (error) {
      return this.#rejected(loaded.origin, problemsOf(error));
    }
    this.#revision = next.revision;
    this.#appliedAt = new Date().toISOString();
    this.#restartRequired = restartRequired;
    const result: ReloadResult = {
      outcome: 'applied',
      revision: this.#revision,
      changed: applied,
      restartRequired,
    };
    this.#gw.core.log(
      { config: { origin: loaded.origin, revision: this.#revision, changed: applied, restartRequired } },
      `gatehouse: configuration revision ${this.#revision} from ${loaded.origin} applied (${applied.join(', ')})`,
    );
    this.emit('reload', result);
    return this.#finish(loaded.origin, result);
  }

  #finish(origin: string, result: ReloadResult): ReloadResult {
    this.#lastReload = { ...result, at: new Date().toISOString(), origin };
    if (result.restartRequired.length > 0) {
      this.#gw.core.log(
        { config: { origin, restartRequired: result.restartRequired } },
        `gatehouse: ${result.restartRequired.join(', ')} changed in ${origin} and cannot change at run time: restart to apply`,
      );
      this.emit('restart-required', { keys: result.restartRequired });
    }
    return result;
  }

  #rejected(origin: string, problems: readonly ConfigProblem[]): ReloadResult {
    const result: ReloadResult = {
      outcome: 'rejected',
      revision: this.#revision,
      changed: [],
      restartRequired: [],
      problems,
    };
    this.#lastReload = { ...result, at: new Date().toISOString(), origin };
    const error = new ConfigError(problems);
    this.#gw.core.report(
      new Error(
        `rejected the configuration from ${origin}, keeping revision ${this.#revision}: ${error.message}`,
      ),
      undefined,
      'config.reload',
    );
    this.emit('reject', { origin, problems });
    return result;
  }

  // ------------------------------------------------------------------------------------------
  // Building
  // ------------------------------------------------------------------------------------------

  async #build(loaded: LoadedConfig, previous: Generation | undefined): Promise<Generation> {
    const gw = this.#gw;
    const core = gw.core;
    const { config, baseDir, digests } = loaded;
    const parts = new Map<string, Part>();
    const made: Part[] = [];
    /** The part for `key`: the previous generation's when it has one, else made now. */
    const part = async (key: string, make: () => Part | Promise<Part>): Promise<Part> => {
      const reused = previous?.parts.get(key);
      const found = reused ?? (await make());
      if (reused === undefined) made.push(found);
      parts.set(key, found);
      return found;
    };
    try {
      // Services first: routes and compositions are checked against them.
      const clients = new Map<string, Client>();
      for (const [name, service] of Object.entries(config.services ?? {})) {
        const key = `client:${name}:${digest(service)}`;
        const found = await part(key, () => {
          const client = gw.createServiceClient(name, clientOptions(service));
          return { close: () => client.close(), holders: 0, client } as Part & { client: Client };
        });
        clients.set(name, (found as Part & { client: Client }).client);
      }

      const chain: Middleware[] = [...this.#fixed];
      if (config.accessLog !== undefined) {
        const options = config.accessLog === true ? {} : config.accessLog;
        const destination = options.destination;
        const found = await part(`accessLog:${digests.accessLog}`, () => {
          const made = accessLog(
            typeof destination === 'string' && !isAbsolute(destination)
              ? { ...options, destination: resolve(baseDir, destination) }
              : options,
          );
          return { middleware: made, close: () => made.close(), holders: 0 };
        });
        chain.push(found.middleware!);
      }

      let authInstance: Auth | undefined;
      if (config.auth !== undefined) {
        const found = await part(`auth:${digests.auth}`, async () => {
          const made = auth(await authOptions(config.auth!, baseDir));
          return { middleware: made, close: () => made.close(), holders: 0 };
        });
        authInstance = found.middleware as Auth;
      }
      // The admin first: its endpoints answer before auth and limits apply to the rest.
      // The extended admin schema's output is the options gw.admin() takes.
      const admin = (config.admin ?? {}) as GatewayAdminOptions;
      chain.push(
        gw.adminMiddleware(
          {
            ...(admin.prefix === undefined ? {} : { prefix: admin.prefix }),
            ...(admin.access === undefined ? {} : { access: admin.access }),
            ...(admin.reveal === undefined ? {} : { reveal: admin.reveal }),
          },
          authInstance,
        ),
      );
      // The dashboard's endpoints are registered once, with the first generation (restart-only).
      const dashboard = config.admin?.dashboard;
      if (!this.#dashboard && dashboard !== undefined && dashboard !== false) {
        gw.dashboard(dashboard === true ? {} : dashboard);
        this.#dashboard = true;
      }
      if (authInstance !== undefined) chain.push(authInstance);

      const limiters =
        config.rateLimit === undefined
          ? []
          : Array.isArray(config.rateLimit)
            ? config.rateLimit
            : [config.rateLimit];
      for (const options of limiters) {
        const found = await part(`rateLimit:${digest(options)}`, () => {
          const { store, ...rest } = options;
          const made = rateLimit({
            ...rest,
            ...(store === undefined || store === 'memory'
              ? {}
              : 'memory' in store
                ? { store: memoryStore(store.memory) }
                : { store: redisStore(store.redis) }),
          });
          return { middleware: made, close: () => made.close(), holders: 0 };
        });
        chain.push(found.middleware as RateLimit);
      }

      if (config.deadline !== undefined)
        chain.push(deadline(config.deadline === true ? {} : config.deadline));

      let versioningInstance: Versioning | undefined;
      if (config.versioning !== undefined) {
        const found = await part(`versioning:${digests.versioning}`, () => ({
          middleware: versioning(config.versioning!, {
            meterProviders: () => [tracingFor(core).prometheusMeterProvider],
          }),
          holders: 0,
        }));
        versioningInstance = found.middleware as Versioning;
        chain.push(versioningInstance);
      }

      if (config.openapi !== undefined) {
        const found = await part(`openapi:${digests.openapi}`, async () => {
          const options = config.openapi!;
          const document =
            typeof options.document === 'string' &&
            !/^[a-z][a-z0-9+.-]*:/i.test(options.document) &&
            !isAbsolute(options.document)
              ? resolve(baseDir, options.document)
              : options.document;
          const validator = new OpenApiValidator({ ...options, document }, { pathPolicy: core.pathPolicy });
          await validator.start();
          const stop = validator.options.contractGuard
            ? observeRemoteResponses(core, {
                name: validator.name,
                maxBodyBytes: validator.options.responses.maxBodyBytes,
                observe: (response) => validator.checkResponse(response, response)?.map(contractField),
              })
            : undefined;
          return { middleware: validator, close: () => stop?.(), holders: 0 };
        });
        chain.push(found.middleware!);
      }

      // The route table: checked now against the new services, applied by the swap.
      const table = config.routes ?? [];
      compileTable(table, { services: new Set(clients.keys()), pathPolicy: core.pathPolicy });
      if (this.#routes === undefined) {
        this.#routes = gw.router({
          name: 'config',
          ...(config.routing?.override === undefined ? {} : { override: config.routing.override }),
          ...(config.routing?.gateIntervalMs === undefined
            ? {}
            : { gateIntervalMs: config.routing.gateIntervalMs }),
        });
      }
      chain.push(this.#routes);

      // A composition checks its services against the gateway's clients: made (synchronously) while
      // this generation's clients stand in for the running ones, which no request can see.
      const compositions = this.#withClients(clients, () =>
        (config.aggregate ?? []).map((options) => {
          const key = `aggregate:${digest(options)}`;
          const reused = previous?.parts.get(key);
          const found: Part = reused ?? { middleware: gw.aggregator(options) as Aggregate, holders: 0 };
          if (reused === undefined) made.push(found);
          parts.set(key, found);
          return found.middleware!;
        }),
      );
      chain.push(...compositions);

      const revision = (previous?.revision ?? 0) + 1;
      const generation: Generation = {
        revision,
        loaded,
        chain: compose(chain),
        parts,
        clients,
        auth: authInstance,
        versioning: versioningInstance,
        release: {
          name: 'config.release',
          onFinish: () => {
            generation.inflight--;
            if (generation.superseded) this.#retireWhenDrained(generation);
          },
        },
        inflight: 0,
        superseded: false,
        retired: false,
      };
      return generation;
    } catch (error) {
      // Nothing of a generation that failed to build stays open.
      for (const fresh of made) await closePart(fresh);
      throw error;
    }
  }

  /** Runs `work` (synchronous) with `clients` as the gateway's clients, then puts the running ones back. */
  #withClients<T>(clients: ReadonlyMap<string, Client>, work: () => T): T {
    const slots = this.#gw.core.shared;
    const running = slots.get(gatewaySlots.clients) as Map<string, Client> | undefined;
    slots.set(gatewaySlots.clients, new Map(clients));
    try {
      return work();
    } finally {
      if (running === undefined) slots.delete(gatewaySlots.clients);
      else slots.set(gatewaySlots.clients, running);
    }
  }

  /** Puts `next` in force, between two requests (synchronous). */
  #swap(next: Generation, previous: Generation | undefined): void {
    const core = this.#gw.core;
    const slots = core.shared;
    let clients = slots.get(gatewaySlots.clients) as Map<string, Client> | undefined;
    const before = clients === undefined ? undefined : new Map(clients);
    if (clients === undefined) {
      clients = new Map();
      slots.set(gatewaySlots.clients, clients);
    }
    for (const name of previous?.clients.keys() ?? []) if (!next.clients.has(name)) clients.delete(name);
    for (const [name, client] of next.clients) clients.set(name, client);
    try {
      this.#routes!.reload(next.loaded.config.routes ?? [], next.loaded.origin);
    } catch (error) {
      // Checked before; should the controller still refuse it, nothing changes.
      clients.clear();
      for (const [name, client] of before ?? []) clients.set(name, client);
      throw error;
    }
    if (next.auth === undefined) slots.delete(gatewaySlots.auth);
    else slots.set(gatewaySlots.auth, next.auth);
    if (next.versioning === undefined) slots.delete(gatewaySlots.versioning);
    else slots.set(gatewaySlots.versioning, next.versioning);
    for (const part of next.parts.values()) part.holders++;
    this.#current = next;
    if (previous !== undefined) {
      previous.superseded = true;
      this.#retireWhenDrained(previous);
      // A request that never finishes must not keep the old parts open for ever.
      const graceMs = Math.max(30_000, this.#base.core.shutdown.drainTimeoutMs);
      previous.timer = setTimeout(() => this.#retire(previous), graceMs);
      previous.timer.unref();
    }
  }

  #retireWhenDrained(generation: Generation): void {
    if (generation.inflight <= 0) this.#retire(generation);
  }

  #retire(generation: Generation): void {
    if (generation.retired) return;
    generation.retired = true;
    clearTimeout(generation.timer);
    for (const part of generation.parts.values()) {
      part.holders--;
      if (part.holders <= 0) void closePart(part);
    }
  }

  // ------------------------------------------------------------------------------------------
  // Admin: GET /config, POST /config/reload
  // ------------------------------------------------------------------------------------------

  #shown(view: AdminView): object {
    return shownStatus(this.status(), this.#current.loaded.shown, view);
  }

  #registerAdmin(): void {
    const core = this.#gw.core;
    core.addAdminEndpoint('/config', (_exchange, view) => ({
      status: 200,
      headers: { 'cache-control': 'no-store' },
      body: this.#shown(view),
    }));
    core.addAdminEndpoint(
      '/config/reload',
      async (_exchange, view): Promise<Reply> => {
        const result = await this.reload();
        if (result.outcome === 'rejected') {
          const shown = this.#shown(view) as { origin: string; lastReload?: { problems?: unknown } };
          throw new ConfigReloadRejected(
            `The configuration from ${shown.origin} was rejected (${plural(result.problems?.length ?? 0, 'problem')}): revision ${result.revision} stays in force`,
            {
              extensions: { problems: shown.lastReload?.problems },
              headers: { 'cache-control': 'no-store' },
            },
          );
        }
        return { status: 200, headers: { 'cache-control': 'no-store' }, body: result };
      },
      { methods: ['POST'] },
    );
  }
}

/** `/config`'s body: status and configuration, file paths as `admin.reveal.filePaths` allows. */
function shownStatus(status: ConfigStatus, config: unknown, view: AdminView): object {
  const files = [status.origin, status.lastReload?.origin ?? ''].filter(
    (f) => f !== 'code' && !f.startsWith('etcd:'),
  );
  const file = (origin: string) => (files.includes(origin) ? view.file(origin) : origin);
  const problems = (list: readonly ConfigProblem[] | undefined) =>
    list?.map((p) => ({
      ...p,
      message: view.redactFiles(p.message, files),
      ...(p.source === undefined ? {} : { source: { ...p.source, file: file(p.source.file) } }),
    }));
  return {
    ...status,
    origin: file(status.origin),
    warnings: problems(status.warnings),
    lastReload:
      status.lastReload === undefined
        ? undefined
        : {
            ...status.lastReload,
            origin: file(status.lastReload.origin),
            ...(status.lastReload.problems === undefined
              ? {}
              : { problems: problems(status.lastReload.problems) }),
          },
    config,
  };
}

const plural = (n: number, noun: string) => `${n} ${noun}${n === 1 ? '' : 's'}`;

async function closePart(part: Part): Promise<void> {
  try {
    await part.close?.();
  } catch {
    // Closing is best effort; the part is out of service either way.
  }
}

/** `digests` with the entries of `keys` as `from` has them (absent when it has none). */
function withDigests(
  digests: Readonly<Record<string, string>>,
  from: Readonly<Record<string, string>>,
  keys: readonly string[],
): Record<string, string> {
  const out = { ...digests };
  for (const key of keys) {
    if (from[key] === undefined) delete out[key];
    else out[key] = from[key];
  }
  return out;
}

/** `config` with the values of `keys` (top-level, or `section.part`) as `from` has them. */
function withKeys(config: GatehouseConfig, from: GatehouseConfig, keys: readonly string[]): GatehouseConfig {
  const out: Record<string, unknown> = { ...config };
  for (const key of keys) {
    const [section, part] = key.split('.') as [string, string | undefined];
    const source = (from as Record<string, unknown>)[section];
    if (part === undefined) {
      if (source === undefined) delete out[section];
      else out[section] = source;
      continue;
    }
    const value = (source as Record<string, unknown> | undefined)?.[part];
    const target = { ...((out[section] as Record<string, unknown> | undefined) ?? {}) };
    if (value === undefined) delete target[part];
    else target[part] = value;
    // A section that held only the part is left out, as it was written.
    if (Object.keys(target).length === 0 && out[section] === undefined) continue;
    out[section] = target;
  }
  return out as GatehouseConfig;
}

// Code values (an aggregate's shape, a limiter's key function) count by identity: another function is
// another part.
const digest = configText;

// ---------------------------------------------------------------------------------------------
// From the file's form to the factories' options
// ---------------------------------------------------------------------------------------------

type ServiceConfig = NonNullable<GatehouseConfig['services']>[string];

function clientOptions(service: ServiceConfig): Omit<ClientOptions, 'name'> {
  const { url, endpoints, dns, etcd, ...rest } = service;
  const where =
    url !== undefined
      ? { endpoints: [url] }
      : endpoints !== undefined
        ? { endpoints }
        : dns !== undefined
          ? { resolver: dnsResolver(dns) }
          : { resolver: etcdResolver(etcd!) };
  return { ...rest, ...where } as Omit<ClientOptions, 'name'>;
}

type AuthConfig = NonNullable<GatehouseConfig['auth']>;

/** A key written in a file: PEM text stays text; a JWK object becomes a key object. */
function keyFrom(
  key: string | Record<string, unknown>,
  kind: 'public' | 'private',
): string | KeyObject | Record<string, unknown> {
  if (typeof key === 'string') return kind === 'private' ? createPrivateKey(key) : key;
  return kind === 'private' ? createPrivateKey({ key: key as never, format: 'jwk' }) : key;
}

async function authOptions(config: AuthConfig, baseDir: string): Promise<AuthOptions> {
  const methods: Authenticator[] = [];
  for (const method of config.methods) {
    if (method.jwt !== undefined) {
      // The file's form is the authenticator's own (PEM text or JWKs, an 'oct' JWK for HS*).
      methods.push(jwtAuthenticator(method.jwt as JwtOptions));
    } else if (method.apiKey !== undefined) {
      const { file, redis, ...rest } = method.apiKey;
      const options: ApiKeyOptions = { ...(rest as ApiKeyOptions) };
      if (file !== undefined) options.file = isAbsolute(file) ? file : resolve(baseDir, file);
      if (redis !== undefined) {
        const { Redis } = (await import('ioredis')) as unknown as {
          Redis: new (url: string, options: object) => { get(key: string): Promise<string | null> };
        };
        options.redis = {
          client: new Redis(redis.url, {
            enableOfflineQueue: false,
            commandTimeout: 500,
            maxRetriesPerRequest: 1,
          }),
          ...(redis.prefix === undefined ? {} : { prefix: redis.prefix }),
        };
      }
      methods.push(apiKeyAuthenticator(options));
    } else if (method.introspection !== undefined) {
      methods.push(introspectionAuthenticator(method.introspection));
    } else if (method.mtls !== undefined) {
      methods.push(mtlsAuthenticator(method.mtls));
    } else if (method.identity !== undefined) {
      // The verifier takes an HS* secret as bytes; PEM text and JWKs as written.
      const { secret, key, ...rest } = method.identity;
      methods.push(
        identityAuthenticator({
          ...rest,
          key: secret !== undefined ? Buffer.from(secret) : key!,
        } as IdentityAuthenticatorOptions),
      );
    }
  }
  const forward = config.forward;
  const token = forward?.token;
  return {
    methods,
    ...(config.combine === undefined ? {} : { combine: config.combine }),
    ...(config.rules === undefined ? {} : { rules: config.rules }),
    ...(config.default === undefined ? {} : { default: config.default }),
    ...(config.realm === undefined ? {} : { realm: config.realm }),
    ...(forward === undefined
      ? {}
      : {
          forward: {
            ...(forward.headers === undefined ? {} : { headers: forward.headers }),
            ...(token === undefined
              ? {}
              : {
                  // The signer takes the key itself: HS* bytes, or a private key made from PEM or a JWK.
                  token: (({ secret, key, ...rest }) => ({
                    ...rest,
                    key: secret !== undefined ? Buffer.from(secret) : keyFrom(key!, 'private'),
                  }))(token) as never,
                }),
          },
        }),
  } as AuthOptions;
}

// ---------------------------------------------------------------------------------------------
// Entry points (the adapters' gatewayFromFile / gatewayFromConfig call these)
// ---------------------------------------------------------------------------------------------

/** Makes an adapter's gateway object around a core gateway. */
export type GatewayMaker<G extends FrameworkGateway<unknown>> = (core: Gateway) => G;

function watchSettings(options: ConfigSourceOptions): { intervalMs: number; debounceMs: number } | undefined {
  if (options.watch === false) return undefined;
  const given = isObject(options.watch) ? options.watch : {};
  return { intervalMs: given.intervalMs ?? 1_000, debounceMs: given.debounceMs ?? 100 };
}

async function assemble<G extends FrameworkGateway<unknown>>(
  make: GatewayMaker<G>,
  loaded: LoadedConfig,
  source: ConfigSource | undefined,
  options: FromConfigOptions,
): Promise<G> {
  const { env: _env, baseDir: _baseDir, watch: _watch, ...gatewayOptions } = options;
  const gw = make(new Gateway(loaded.core, gatewayOptions));
  const runtime = new ConfigRuntime(gw as FrameworkGateway<unknown>, loaded, source, options.env);
  attachRuntime(gw, runtime);
  try {
    await runtime.start();
  } catch (error) {
    await source?.close();
    await gw.close({ deadlineMs: 0 });
    throw error;
  }
  return gw;
}

/**
 * Like {@link fromConfigFile}, synchronously: the file is read and checked now (a `ConfigError`
 * lists every problem), everything it describes is built when the gateway starts (`gw.serve()` or
 * `gw.start()`), and requests that arrive first wait for it. For an application that cannot await
 * (CommonJS, or where the app is built at module load).
 */
export function fromConfigFileSync<G extends FrameworkGateway<unknown>>(
  make: GatewayMaker<G>,
  file: string,
  options: FromConfigOptions = {},
): G {
  if (!EXTENSIONS_RE.test(file)) {
    throw new ConfigError([
      { path: '', message: `cannot read '${file}': configuration files end in .yaml, .yml or .json` },
    ]);
  }
  let text: string;
  try {
    text = readFileSync(file, 'utf8');
  } catch (error) {
    const reason = (error as NodeJS.ErrnoException).code ?? String(error);
    throw new ConfigError([{ path: '', message: `cannot read '${file}': ${reason}` }], { cause: error });
  }
  const loaded = parseGatehouseConfig(text, file, { baseDir: dirname(resolve(file)), ...options });
  const source = new FileConfigSource(
    file,
    text,
    { baseDir: loaded.baseDir, ...(options.env === undefined ? {} : { env: options.env }) },
    watchSettings(options),
    loaded.files,
  );
  const { env: _env, baseDir: _baseDir, watch: _watch, ...gatewayOptions } = options;
  const gw = make(new Gateway(loaded.core, gatewayOptions));
  const runtime = new ConfigRuntime(gw as FrameworkGateway<unknown>, loaded, source, options.env);
  attachRuntime(gw, runtime);
  gw.core.onStart(() => runtime.start());
  return gw;
}

const EXTENSIONS_RE = /\.(?:ya?ml|json)$/i;

/**
 * Builds a gateway from a configuration file (`.yaml`, `.yml`, `.json`), followed for changes unless
 * `watch: false`. Throws a `ConfigError` listing every problem with its file:line:col.
 */
export async function fromConfigFile<G extends FrameworkGateway<unknown>>(
  make: GatewayMaker<G>,
  file: string,
  options: FromConfigOptions = {},
): Promise<G> {
  // One read for the first configuration and for the source's "last seen" text.
  let text: string;
  try {
    text = await readFile(file, 'utf8');
  } catch {
    await loadGatehouseConfig(file, options); // throws the ConfigError that names the file and why
    throw new Error('unreachable');
  }
  const loaded = parseGatehouseConfig(text, file, { baseDir: dirname(resolve(file)), ...options });
  const watching = watchSettings(options);
  const source = new FileConfigSource(
    file,
    text,
    { baseDir: loaded.baseDir, ...(options.env === undefined ? {} : { env: options.env }) },
    watching,
    loaded.files,
  );
  return assemble(make, loaded, source, options);
}

/** Builds a gateway from a configuration in an etcd key (YAML or JSON), followed for changes. */
export async function fromConfigEtcd<G extends FrameworkGateway<unknown>>(
  make: GatewayMaker<G>,
  etcd: {
    hosts: string | string[];
    key: string;
    dialTimeoutMs?: number;
    auth?: { username: string; password: string };
  },
  options: FromConfigOptions = {},
): Promise<G> {
  const source = new EtcdConfigSource(etcdSource(etcd), {
    baseDir: options.baseDir ?? process.cwd(),
    ...(options.env ? { env: options.env } : {}),
  });
  let handlers: SourceHandlers | undefined;
  const loaded = await source.start({
    onLoaded: (l) => handlers?.onLoaded(l),
    onRejected: (p) => handlers?.onRejected(p),
  });
  const followed: ConfigSource = {
    origin: source.origin,
    follow: (h) => {
      handlers = h;
    },
    reread: () => source.reread(),
    close: () => source.close(),
  };
  return assemble(make, loaded, followed, options);
}

/** Builds a gateway from a configuration object (the shape of a file); `apply()` changes it later. */
export async function fromConfigObject<G extends FrameworkGateway<unknown>>(
  make: GatewayMaker<G>,
  config: unknown,
  options: FromConfigOptions = {},
): Promise<G> {
  const loaded = checkGatehouseConfig(config, options);
  return assemble(make, loaded, undefined, options);
}
