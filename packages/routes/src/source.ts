// Where a route table comes from at run time: a YAML/JSON file or an etcd key, read at start-up and
// then followed. A source only delivers parsed documents and errors; the controller validates each
// document and applies it atomically, keeping the old table when a document or the source fails.
import { type FSWatcher, type StatsListener, unwatchFile, watch, watchFile } from 'node:fs';
import { readFile } from 'node:fs/promises';
import { dirname, extname, resolve } from 'node:path';
import {
  DependencyMonitor,
  dependencyName,
  missingPeer,
  Problems,
  parseOptions,
  peerInstalled,
} from '@gatehousejs/core';
import { createEtcdClient } from '@gatehousejs/discovery';
import type { Etcd3, Watcher } from 'etcd3';
import { type Document, isScalar, LineCounter, parseDocument, visit } from 'yaml';
import { etcdSourceOptionsSchema, fileSourceOptionsSchema } from './options.js';

/**
 * A parsed document from a source: `value` is the parsed YAML/JSON (unknown shape), `origin` names
 * where it came from for messages (`'routes.yaml'`, `'etcd:/gatehouse/routes'`), `revision` counts
 * the deliveries of this source (1 for the document `start()` resolves with).
 */
export interface TableDocument {
  value: unknown;
  origin: string;
  revision: number;
}

/** What a source calls after `start()` resolved. Neither is called once `close()` was called. */
export interface TableSourceHandlers {
  /**
   * A new document: its text differs from the last one delivered, or the source had reported an
   * error since (the same text after a deleted file or an etcd outage is delivered again, so that
   * the controller learns the source is healthy).
   */
  onDocument(doc: TableDocument): void;
  /**
   * The source could not deliver: unreadable or deleted file, syntax error (the message has
   * line:column), etcd key deleted or empty, etcd unavailable. The same error is not reported twice
   * in a row; the controller keeps the old table and reports it.
   */
  onError(error: SourceError): void;
}

/** Why a source could not deliver a document. The message starts with `origin` (and `:line:column`). */
export class SourceError extends Error {
  /** Where the text came from: the file path or `etcd:<key>`. */
  readonly origin: string;
  /** For syntax errors and duplicate keys: the 1-based line of the problem. */
  readonly line?: number;
  /** For syntax errors and duplicate keys: the 1-based column of the problem. */
  readonly column?: number;
  /** The source could not be reached at all (etcd down), rather than holding a bad or no table. */
  readonly outage: boolean;

  constructor(
    origin: string,
    reason: string,
    options?: { line?: number; column?: number; cause?: unknown; outage?: boolean },
  ) {
    const where = options?.line === undefined ? origin : `${origin}:${options.line}:${options.column ?? 1}`;
    super(`${where}: ${reason}`, options?.cause === undefined ? undefined : { cause: options.cause });
    this.name = 'SourceError';
    this.origin = origin;
    this.outage = options?.outage === true;
    if (options?.line !== undefined) {
      this.line = options.line;
      this.column = options.column ?? 1;
    }
  }
}

/** A route table that can change at run time. */
export interface TableSource {
  readonly origin: string;
  /**
   * Loads the first document (resolves with it; rejects with a SourceError when it cannot, so that
   * start-up fails loudly), then follows the source and calls `handlers` for later changes. May be
   * called again after it rejected, not while it runs.
   */
  start(handlers: TableSourceHandlers): Promise<TableDocument>;
  /** Stops following; releases timers, watchers and the etcd client, so the process can exit. */
  close(): Promise<void>;
  /**
   * A remote source's availability (etcd): its outage and its return are reported once each to the
   * gateways given to `monitor.reportTo()` (`gw.routes()` does that for its source).
   */
  readonly monitor?: DependencyMonitor;
}

// ---------------------------------------------------------------------------------------------
// Parsing

/** The most aliases a YAML document may expand: enough for any table, not for a billion laughs. */
const MAX_ALIAS_COUNT = 100;
/** Text JSON allows unquoted: what tells a JSON literal from a YAML plain word such as `tru`. */
const JSON_LITERAL = /^(?:true|false|null|-?(?:0|[1-9]\d*)(?:\.\d+)?(?:[eE][+-]?\d+)?)$/;

/**
 * Parses YAML or JSON text into a value.
 *
 * @param origin - names the text in error messages (`'routes.yaml'`)
 * @throws SourceError with `line`/`column` for a syntax error or a duplicate key (YAML and JSON
 *   alike); without them for an empty document or one whose aliases expand beyond 100 nodes (a
 *   "billion laughs" document).
 * @example
 *   parseTableText('routes:\n  - path: /orders/*\n', 'routes.yaml', 'yaml');
 */
export function parseTableText(text: string, origin: string, format: 'yaml' | 'json'): unknown {
  const body = text.charCodeAt(0) === 0xfeff ? text.slice(1) : text;
  const lines = new LineCounter();
  const at = (offset: number) => {
    const { line, col } = lines.linePos(offset);
    return { line, column: col };
  };
  // JSON text is YAML too, so the YAML parser finds duplicate keys (and positions) for both formats.
  const doc = parseDocument(body, { lineCounter: lines, prettyErrors: false, uniqueKeys: true });
  if (doc.contents === null && (format === 'yaml' || body.trim() === '')) {
    throw new SourceError(origin, 'the document is empty');
  }
  const duplicate = doc.errors.find((error) => error.code === 'DUPLICATE_KEY');
  const duplicateError = () => {
    const start = duplicate!.pos[0];
    let name = '';
    visit(doc, {
      Pair(_, pair) {
        if (!isScalar(pair.key) || pair.key.range?.[0] !== start) return;
        name = ` '${String(pair.key.value)}'`;
        return visit.BREAK;
      },
    });
    return new SourceError(origin, `duplicate key${name}`, at(start));
  };
  if (format === 'json') {
    let value: unknown;
    try {
      value = JSON.parse(body);
    } catch (error) {
      throw jsonSyntaxError(origin, (error as Error).message, { body, doc, at });
    }
    // JSON.parse keeps the last of duplicate keys without a word.
    if (duplicate !== undefined) throw duplicateError();
    return value;
  }
  const first = doc.errors[0];
  if (first !== undefined) {
    if (first === duplicate) throw duplicateError();
    throw new SourceError(origin, `syntax error: ${firstLine(first.message)}`, at(first.pos[0]));
  }
  try {
    return doc.toJS({ maxAliasCount: MAX_ALIAS_COUNT });
  } catch (error) {
    // An alias bomb, or an alias to an anchor that does not exist.
    throw new SourceError(origin, firstLine((error as Error).message), { cause: error });
  }
}

function firstLine(message: string): string {
  return message.split('\n')[0]!;
}

function jsonSyntaxError(
  origin: string,
  message: string,
  ctx: {
    body: string;
    doc: Document.Parsed;
    at: (offset: number) => { line: number; column: number };
  },
): SourceError {
  let reason = message
    .replace(/ in JSON at position \d+.*$/s, '')
    .replace(/, ".*" is not valid JSON$/s, '')
    .replace(/^Unexpected end of JSON input$/, 'unexpected end of input');
  reason = `syntax error: ${reason.charAt(0).toLowerCase()}${reason.slice(1)}`;
  const offset = /at position (\d+)/.exec(message)?.[1];
  if (offset !== undefined) return new SourceError(origin, reason, ctx.at(Number(offset)));
  if (/end of JSON input/.test(message)) return new SourceError(origin, reason, ctx.at(ctx.body.length));
  const yamlError = ctx.doc.errors.find((error) => error.code !== 'DUPLICATE_KEY');
  if (yamlError !== undefined) return new SourceError(origin, reason, ctx.at(yamlError.pos[0]));
  // V8 names some bad tokens without their position ("Unexpected token 'x', … is not valid JSON");
  // the YAML reading of the text finds the first word JSON does not allow.
  let bad: { offset: number; text: string } | undefined;
  visit(ctx.doc, {
    Scalar(_, node) {
      const range = node.range;
      if (range === undefined || range === null || node.type === 'QUOTE_DOUBLE') return;
      const text = ctx.body.slice(range[0], range[1]);
      if (node.type === 'PLAIN' && JSON_LITERAL.test(text)) return;
      bad = { offset: range[0], text };
      return visit.BREAK;
    },
  });
  if (bad === undefined) return new SourceError(origin, reason);
  return new SourceError(origin, `syntax error: '${bad.text}' is not a JSON value`, ctx.at(bad.offset));
}

// ---------------------------------------------------------------------------------------------
// What both sources share: the first load, delivery of changed text only, and errors once each.

abstract class BaseSource implements TableSource {
  readonly origin: string;
  protected closed = false;
  #handlers: TableSourceHandlers | undefined;
  #starting = false;
  #closing: Promise<void> | undefined;
  /** The text of the last delivery. */
  #text: string | undefined;
  /** An error was reported since the last delivery. */
  #failing = false;
  /** The message of the last error reported, to report each error once. */
  #reported: string | undefined;
  #revision = 0;

  constructor(origin: string) {
    this.origin = origin;
  }

  /** Reads the first text; throws a SourceError. */
  protected abstract load(): Promise<string>;
  /** Starts following the source, after a successful load. */
  protected abstract follow(): void;
  /** Stops following and frees everything; may run more than once. */
  protected abstract release(): Promise<void>;
  protected abstract formatOf(text: string): 'yaml' | 'json';

  async start(handlers: TableSourceHandlers): Promise<TableDocument> {
    if (
      typeof handlers !== 'object' ||
      handlers === null ||
      typeof handlers.onDocument !== 'function' ||
      typeof handlers.onError !== 'function'
    ) {
      throw new TypeError(`${this.origin}: start() needs { onDocument(doc), onError(error) }`);
    }
    if (this.closed) throw new SourceError(this.origin, 'start() after close()');
    if (this.#starting || this.#handlers !== undefined) {
      throw new SourceError(this.origin, 'start() was called already');
    }
    this.#starting = true;
    try {
      const text = await this.load();
      const value = parseTableText(text, this.origin, this.formatOf(text));
      if (this.closed) throw new SourceError(this.origin, 'closed while starting');
      this.#text = text;
      this.#handlers = handlers;
      this.follow();
      return { value, origin: this.origin, revision: ++this.#revision };
    } catch (error) {
      this.#handlers = undefined;
      await this.release();
      throw error instanceof SourceError
        ? error
        : new SourceError(this.origin, (error as Error).message, { cause: error });
    } finally {
      this.#starting = false;
    }
  }

  close(): Promise<void> {
    this.closed = true;
    this.#closing ??= this.release();
    return this.#closing;
  }

  /** New text from the source: delivered when it differs from the last, or after an error. */
  protected offer(text: string): void {
    if (this.closed || this.#handlers === undefined) return;
    if (text === this.#text && !this.#failing) return;
    let value: unknown;
    try {
      value = parseTableText(text, this.origin, this.formatOf(text));
    } catch (error) {
      this.fail(error as SourceError);
      return;
    }
    this.#text = text;
    this.#failing = false;
    this.#reported = undefined;
    const doc = { value, origin: this.origin, revision: ++this.#revision };
    const { onDocument } = this.#handlers;
    call(() => onDocument(doc));
  }

  protected fail(error: SourceError): void {
    if (this.closed || this.#handlers === undefined || error.message === this.#reported) return;
    this.#failing = true;
    this.#reported = error.message;
    const { onError } = this.#handlers;
    call(() => onError(error));
  }
}

/**
 * Calls a handler. One that throws has a bug the source cannot handle; it surfaces as an uncaught
 * exception (as an EventEmitter listener's would) instead of breaking the source.
 */
function call(handler: () => void): void {
  try {
    handler();
  } catch (error) {
    process.nextTick(() => {
      throw error;
    });
  }
}

// ---------------------------------------------------------------------------------------------
// File

/** Options of {@link fileSource}. */
export interface FileSourceOptions {
  /** How often the file's status is polled. @default 1000 */
  intervalMs?: number;
  /**
   * How long the file must stay unchanged after a change before it is read, so that a file being
   * written is read once complete. @default 50
   */
  debounceMs?: number;
}

const FORMATS: Record<string, 'yaml' | 'json'> = { '.yaml': 'yaml', '.yml': 'yaml', '.json': 'json' };
/** Changes that never stop (a busy directory) delay a read by at most this many debounce periods. */
const MAX_WAIT_FACTOR = 10;

class FileSource extends BaseSource {
  readonly #path: string;
  readonly #format: 'yaml' | 'json';
  readonly #intervalMs: number;
  readonly #debounceMs: number;
  #watching = false;
  #directory: FSWatcher | undefined;
  #timer: NodeJS.Timeout | undefined;
  /** When the first change not yet read was seen. */
  #pendingSince: number | undefined;
  #reading: Promise<void> | undefined;
  /** A change came while reading: read again afterwards. */
  #again = false;
  readonly #onStat: StatsListener = () => this.#changed();

  constructor(path: string, format: 'yaml' | 'json', intervalMs: number, debounceMs: number) {
    super(path);
    this.#path = path;
    this.#format = format;
    this.#intervalMs = intervalMs;
    this.#debounceMs = debounceMs;
  }

  protected formatOf(): 'yaml' | 'json' {
    return this.#format;
  }

  protected async load(): Promise<string> {
    return await this.#read();
  }

  protected follow(): void {
    // Polling sees every kind of replacement, since it stats the path (through symlinks) afresh:
    // in-place writes, rename-replace by editors, and Kubernetes' swap of a ConfigMap's ..data link.
    watchFile(this.#path, { interval: this.#intervalMs }, this.#onStat);
    this.#watching = true;
    // Watching the directory (not the file, whose inode a rename replaces) is the fast path. Any event
    // in it may be the one: a ConfigMap swap renames '..data', not the file.
    try {
      const directory = watch(dirname(resolve(this.#path)), () => this.#changed());
      directory.on('error', () => {
        directory.close();
        if (this.#directory === directory) this.#directory = undefined;
      });
      this.#directory = directory;
    } catch {
      // No watch on this platform or file system: polling alone.
    }
    // The file may have changed between the first read and the first poll.
    this.#changed();
  }

  protected async release(): Promise<void> {
    if (this.#watching) unwatchFile(this.#path, this.#onStat);
    this.#watching = false;
    this.#directory?.close();
    this.#directory = undefined;
    clearTimeout(this.#timer);
    this.#timer = undefined;
    await this.#reading;
  }

  async #read(): Promise<string> {
    try {
      return await readFile(this.#path, 'utf8');
    } catch (error) {
      const code = (error as NodeJS.ErrnoException).code;
      const reason = code === 'ENOENT' ? 'the file does not exist' : (error as Error).message;
      throw new SourceError(this.origin, `cannot read: ${reason}`, { cause: error });
    }
  }

  /** Something may have changed: read once things have been quiet for debounceMs. */
  #changed(): void {
    if (this.closed) return;
    const now = Date.now();
    this.#pendingSince ??= now;
    const latest = this.#pendingSince + this.#debounceMs * MAX_WAIT_FACTOR;
    clearTimeout(this.#timer);
    this.#timer = setTimeout(() => this.#check(), Math.max(0, Math.min(this.#debounceMs, latest - now)));
  }

  #check(): void {
    this.#timer = undefined;
    this.#pendingSince = undefined;
    if (this.closed) return;
    if (this.#reading !== undefined) {
      this.#again = true;
      return;
    }
    this.#reading = this.#read()
      .then(
        (text) => this.offer(text),
        (error: SourceError) => this.fail(error),
      )
      .finally(() => {
        this.#reading = undefined;
        if (this.#again) {
          this.#again = false;
          this.#check();
        }
      });
  }
}

/**
 * A route table in a YAML (`.yaml`, `.yml`) or JSON (`.json`) file, followed for changes by polling
 * its status every `intervalMs` and, faster, by watching its directory where the platform allows.
 * Changes are read once the file has been quiet for `debounceMs`; a text equal to the last one
 * delivered is not delivered again.
 *
 * @param path - the file; error messages name it as given
 * @throws ConfigError listing every problem: a path not ending in .yaml, .yml or .json, invalid options
 * @example
 *   const source = fileSource('config/routes.yaml');
 *   const first = await source.start({ onDocument: apply, onError: report });
 */
export function fileSource(path: string, options: FileSourceOptions = {}): TableSource {
  const problems = new Problems('fileSource');
  let format: 'yaml' | 'json' = 'yaml';
  if (typeof path !== 'string' || path === '') {
    problems.add('path', `expected a non-empty file path, received ${JSON.stringify(path) ?? String(path)}`);
  } else {
    const known = FORMATS[extname(path).toLowerCase()];
    if (known === undefined) problems.add('path', `'${path}' must end in .yaml, .yml or .json`);
    else format = known;
  }
  let checked: FileSourceOptions = {};
  try {
    checked = parseOptions(fileSourceOptionsSchema, options, { name: 'fileSource' });
  } catch (error) {
    problems.merge(error);
  }
  problems.throwIfAny();
  const intervalMs = checked.intervalMs ?? 1_000;
  const debounceMs = checked.debounceMs ?? 50;
  return new FileSource(path, format, intervalMs, debounceMs);
}

// ---------------------------------------------------------------------------------------------
// etcd

/** Options of {@link etcdSource}. */
export interface EtcdSourceOptions {
  /** etcd endpoints, `'http://127.0.0.1:2379'` or a list of them. */
  hosts: string | string[];
  /** The key holding the table, e.g. `'/gatehouse/routes'`. */
  key: string;
  /** The deadline of each read from etcd, connecting included. @default 5000 */
  dialTimeoutMs?: number;
  /** etcd user and password, when etcd has authentication enabled. */
  auth?: { username: string; password: string };
}

/** After a failure, read again after about this long, doubling on each further failure… */
const RETRY_INITIAL_MS = 100;
/** …up to this. */
const RETRY_MAX_MS = 2_000;
interface EtcdSettings {
  hosts: string[];
  key: string;
  dialTimeoutMs: number;
  auth?: { username: string; password: string };
}

/** etcd3 (loaded when a source first needs it, so users without etcd never install it), tuned as discovery tunes it. */
async function createClient(origin: string, o: EtcdSettings): Promise<Etcd3> {
  try {
    return (await createEtcdClient(o.hosts, {
      timeoutMs: o.dialTimeoutMs,
      retryInitialMs: RETRY_INITIAL_MS,
      retryMaxMs: RETRY_MAX_MS,
      ...(o.auth === undefined ? {} : { auth: o.auth }),
    })) as unknown as Etcd3;
  } catch (error) {
    const missing = (error as { code?: unknown }).code === 'ERR_MODULE_NOT_FOUND';
    throw new SourceError(
      origin,
      missing
        ? 'etcdSource needs the etcd3 package: npm install etcd3'
        : `cannot make an etcd client: ${(error as Error).message}`,
      { cause: error },
    );
  }
}

// The key is read, then watched from the revision after the read. When the watch breaks (etcd down or
// restarted) it is not resumed where it stopped: the key is read again and a new watch starts after
// that read. A change made meanwhile is thus seen even when etcd kept no history of it (a member
// restored from a snapshot, a fresh cluster whose revisions restart below the old watch's).
class EtcdSource extends BaseSource {
  readonly #o: EtcdSettings;
  #client: Etcd3 | undefined;
  /** The etcd revision of the read `load()` made, where the first watch starts. */
  #loadedAt = '0';
  #watcher: Watcher | undefined;
  /** Bumped by every new watch and every break, so events of a replaced watch are ignored. */
  #generation = 0;
  #failures = 0;
  /** An outage was reported and etcd has not answered since. */
  #down = false;
  #timer: NodeJS.Timeout | undefined;
  #resyncing: Promise<void> | undefined;
  readonly #cancels = new Set<Promise<void>>();
  readonly monitor: DependencyMonitor;

  constructor(o: EtcdSettings) {
    super(`etcd:${o.key}`);
    this.#o = o;
    this.monitor = new DependencyMonitor('etcd', `${o.hosts.map(dependencyName).join(',')} ${o.key}`);
  }

  protected formatOf(text: string): 'yaml' | 'json' {
    return /^\s*[[{]/.test(text) ? 'json' : 'yaml';
  }

  protected async load(): Promise<string> {
    if (this.#client === undefined) {
      const client = await createClient(this.origin, this.#o);
      if (this.closed) {
        client.close();
        throw new SourceError(this.origin, 'closed while starting');
      }
      this.#client = client;
    }
    const { text, revision } = await this.#read(this.#client);
    if (text === undefined) throw this.#missing();
    this.#loadedAt = revision;
    return text;
  }

  protected follow(): void {
    this.#watch(this.#client!, this.#loadedAt);
  }

  protected async release(): Promise<void> {
    this.#generation++;
    clearTimeout(this.#timer);
    this.#timer = undefined;
    await this.#resyncing;
    this.#dropWatcher();
    // Cancelling tells etcd to drop the watch; bounded, since etcd may be the thing that is down.
    let timer: NodeJS.Timeout | undefined;
    await Promise.race([
      Promise.allSettled([...this.#cancels]),
      new Promise((done) => {
        timer = setTimeout(done, this.#o.dialTimeoutMs);
      }),
    ]);
    clearTimeout(timer);
    this.#client?.close();
    this.#client = undefined;
  }

  async #read(client: Etcd3): Promise<{ text: string | undefined; revision: string }> {
    try {
      const response = await client
        .get(this.#o.key)
        .options({ deadline: Date.now() + this.#o.dialTimeoutMs })
        .exec();
      return { text: response.kvs[0]?.value.toString('utf8'), revision: response.header.revision };
    } catch (error) {
      throw new SourceError(this.origin, `etcd is unavailable: ${(error as Error).message}`, {
        cause: error,
        outage: true,
      });
    }
  }

  #missing(): SourceError {
    return new SourceError(this.origin, `the key '${this.#o.key}' does not exist`);
  }

  #watch(client: Etcd3, revision: string): void {
    const generation = ++this.#generation;
    const current = () => !this.closed && generation === this.#generation;
    const watcher = client
      .watch()
      .key(this.#o.key)
      .startRevision((BigInt(revision) + 1n).toString())
      .watcher();
    this.#watcher = watcher;
    watcher.on('connected', () => {
      if (current()) this.#failures = 0;
    });
    watcher.on('put', (kv) => {
      if (current()) this.offer(kv.value.toString('utf8'));
    });
    watcher.on('delete', () => {
      if (current()) this.fail(this.#missing());
    });
    // The stream broke: etcd died, restarted, or the connection was lost. Whether etcd is really
    // away is for the next read to tell.
    watcher.on('disconnected', () => this.#broken(generation));
    // etcd cancelled the watch (its start revision compacted away, permission withdrawn).
    watcher.on('error', (error) => {
      if (generation !== this.#generation) return;
      this.fail(new SourceError(this.origin, `etcd cancelled the watch: ${error.message}`, { cause: error }));
      this.#broken(generation);
    });
  }

  #broken(generation: number): void {
    if (this.closed || generation !== this.#generation) return;
    this.#generation++;
    this.#dropWatcher();
    this.#retry();
  }

  /** Reads again: at once after the first failure, then backing off. */
  #retry(): void {
    const failures = this.#failures++;
    const delay =
      failures === 0
        ? 0
        : Math.min(RETRY_MAX_MS, RETRY_INITIAL_MS * 2 ** (failures - 1)) * (0.8 + Math.random() * 0.4);
    this.#timer = setTimeout(() => {
      this.#timer = undefined;
      this.#resyncing = this.#resync().finally(() => {
        this.#resyncing = undefined;
      });
    }, delay);
    // The client keeps a process alive while it is connected; waiting for etcd to return need not.
    this.#timer.unref();
  }

  async #resync(): Promise<void> {
    const client = this.#client;
    if (this.closed || client === undefined) return;
    let read: { text: string | undefined; revision: string };
    try {
      read = await this.#read(client);
    } catch (error) {
      if (this.closed) return;
      if (!this.#down) {
        this.#down = true;
        this.monitor.failed(error);
        this.fail(error as SourceError);
      }
      this.#retry();
      return;
    }
    if (this.closed) return;
    this.#down = false;
    this.monitor.succeeded();
    if (read.text === undefined) this.fail(this.#missing());
    else this.offer(read.text);
    this.#watch(client, read.revision);
  }

  #dropWatcher(): void {
    const watcher = this.#watcher;
    if (watcher === undefined) return;
    this.#watcher = undefined;
    watcher.removeAllListeners();
    watcher.on('error', () => {}); // an unheard 'error' would throw
    const cancel = watcher.cancel().catch(() => {});
    this.#cancels.add(cancel);
    void cancel.finally(() => this.#cancels.delete(cancel));
  }
}

/**
 * A route table in an etcd v3 key, as YAML or JSON (JSON when the value starts with `{` or `[`). The
 * key is read at start (a missing key makes `start()` reject), then watched: a put delivers the new
 * document, a delete is reported as an error (the old table stays). When etcd goes away that is
 * reported once, and the key is read and watched again as soon as etcd answers, so a change made in
 * the meantime is delivered. Needs the `etcd3` package, loaded when `start()` runs.
 *
 * @throws ConfigError listing every problem in the options
 * @example
 *   const source = etcdSource({ hosts: 'http://127.0.0.1:2379', key: '/gatehouse/routes' });
 */
export function etcdSource(options: EtcdSourceOptions): TableSource {
  const checked = parseOptions(etcdSourceOptionsSchema, options, { name: 'etcdSource' });
  // etcd3 is an optional peer dependency: a missing one is a ConfigError now, not a failure at start.
  if (!peerInstalled('etcd3', import.meta.url)) {
    throw missingPeer('etcd3', { path: 'etcdSource.hosts', feature: 'a route table kept in etcd' });
  }
  const { key, auth } = checked;
  const hosts = typeof checked.hosts === 'string' ? [checked.hosts] : [...checked.hosts];
  const dialTimeoutMs = checked.dialTimeoutMs ?? 5_000;
  return new EtcdSource({ hosts, key, dialTimeoutMs, ...(auth === undefined ? {} : { auth }) });
}
