// Optional peer dependencies, loaded the first time a feature asks for them. What only some options
// need (ioredis for a Redis store, etcd3, pino, the OpenTelemetry metrics SDK, a capability package
// the gateway object loads when its method is called) is neither installed with Gatehouse nor loaded
// by an app that never asks for it; an app that asks without having installed it gets a ConfigError
// naming the package to install instead of Node's MODULE_NOT_FOUND from deep inside a library.
//
// Loading is synchronous (`require`, which also loads ES modules without top-level await on the
// Node versions Gatehouse supports) because the factories that need a peer validate their options
// and return at once; none of them is async.
import { createRequire } from 'node:module';
import { ConfigError } from './config/validate.js';

/** Who asks for an optional peer, and what to tell a user who has not installed it. */
export interface PeerRequest {
  /**
   * `import.meta.url` of the module that needs the peer: it is resolved from there, as that
   * module's own `import` would resolve it.
   */
  readonly from: string;
  /** What needs it, as the problem's path: `'redisStore.url'`, `'gw.validate()'`. */
  readonly path: string;
  /** What it is needed for, said in the message: `'a Redis store'`. */
  readonly feature?: string;
  /** What to install when it is more than the package itself: `'pino@10'`. Default: the name. */
  readonly install?: string;
}

const provided = new Map<string, unknown>();
const requirers = new Map<string, NodeJS.Require>();

function requirerFor(from: string): NodeJS.Require {
  let requirer = requirers.get(from);
  if (requirer === undefined) {
    requirer = createRequire(from);
    requirers.set(from, requirer);
  }
  return requirer;
}

/**
 * The package a failed `require()` or `import()` could not find: require's `Cannot find module 'x'`
 * and the ES module loader's `Cannot find package 'x' imported from …` (what a missing import inside
 * an ES module gives, through either). Undefined for any other failure.
 */
export function missingPackageOf(error: unknown): string | undefined {
  const { code, message } = (error ?? {}) as { code?: unknown; message?: unknown };
  if (typeof message !== 'string') return undefined;
  const found =
    code === 'MODULE_NOT_FOUND'
      ? /^Cannot find module '([^']+)'/.exec(message)
      : code === 'ERR_MODULE_NOT_FOUND'
        ? /^Cannot find package '([^']+)'/.exec(message)
        : null;
  return found?.[1];
}

/**
 * What is missing, when it is something to install: `name` itself, or a Gatehouse package it needs
 * (an optional peer too: the configuration machinery needs every capability package). A module that
 * `name` needs from elsewhere is a broken install, reported as it is.
 */
function missingPeerOf(error: unknown, name: string): string | undefined {
  const missing = missingPackageOf(error);
  if (missing === undefined) return undefined;
  if (missing === name) return name;
  return missing.startsWith('@gatehousejs/') ? missing.split('/').slice(0, 2).join('/') : undefined;
}

/** The ConfigError an app gets when it asks for a feature whose package is not installed. */
export function missingPeer(name: string, request: Omit<PeerRequest, 'from'>, cause?: unknown): ConfigError {
  const feature = request.feature === undefined ? '' : ` for ${request.feature}`;
  return new ConfigError(
    [
      {
        path: request.path,
        message: `needs the package '${name}'${feature}, an optional peer dependency that is not installed: npm install ${request.install ?? name}`,
      },
    ],
    cause === undefined ? undefined : { cause },
  );
}

/**
 * Loads the optional peer `name` (once; Node caches it), or throws a {@link ConfigError} saying what
 * to install when it is not installed, or when a Gatehouse package it needs is not. Any other failure
 * (the package is there but broken, or needs some other package that is missing) is thrown as it is.
 *
 * @example
 *   const Redis = loadPeer<typeof import('ioredis')>('ioredis', {
 *     from: import.meta.url, path: 'redisStore.url', feature: 'a Redis store',
 *   });
 */
export function loadPeer<T>(name: string, request: PeerRequest): T {
  if (provided.has(name)) return provided.get(name) as T;
  try {
    return requirerFor(request.from)(name) as T;
  } catch (error) {
    const missing = missingPeerOf(error, name);
    if (missing === undefined) throw error;
    throw missingPeer(missing, missing === name ? request : { path: request.path }, error);
  }
}

/**
 * Whether the optional peer `name` can be loaded from `from` (an `import.meta.url`), without loading
 * it: for checks made while options are validated, before anything is started.
 */
export function peerInstalled(name: string, from: string): boolean {
  if (provided.has(name)) return true;
  try {
    requirerFor(from).resolve(name);
    return true;
  } catch (error) {
    if (missingPackageOf(error) === name) return false;
    throw error;
  }
}

/**
 * Gives {@link loadPeer} the module to use for `name` instead of requiring it: for a bundled app
 * whose bundler cannot follow a lazy `require`, and for tests that run Gatehouse from its TypeScript
 * sources (where `require` would load a second copy). Call it before the feature is first used.
 *
 * @example providePeer('ioredis', await import('ioredis'));
 */
export function providePeer(name: string, module: unknown): void {
  provided.set(name, module);
}
