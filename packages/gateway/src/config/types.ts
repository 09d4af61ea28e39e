// The configuration's types that the gateway object and the adapters name, in a module that loads
// nothing: what the rest of config/ declares refers to every capability package's options, and
// TypeScript would need them all installed (TS2307 with skipLibCheck: false) to read
// @gatehousejs/gateway's or an adapter's declarations, though only the configuration needs them.
import type { EventEmitter } from 'node:events';
import type { ConfigProblem, GatewayOptions } from '@gatehousejs/core';

/** Options of `parseGatehouseConfig`, `loadGatehouseConfig` and `checkGatehouseConfig`. */
export interface LoadOptions {
  /** Environment variables for `${NAME}`. @default process.env */
  env?: Readonly<Record<string, string | undefined>>;
  /** Directory relative paths are read from. @default the file's directory, or the working directory */
  baseDir?: string;
}

/** Where a configuration comes from, and how it is followed. */
export interface ConfigSourceOptions {
  /** How a file is followed: polled every `intervalMs`, read once quiet for `debounceMs`. `false`: not followed. */
  watch?: boolean | { intervalMs?: number; debounceMs?: number };
}

/** Options of `gatewayFromFile()` / `gatewayFromConfig()`: the gateway's own options, and loading. */
export interface FromConfigOptions extends GatewayOptions, LoadOptions, ConfigSourceOptions {}

/** What a reload did. */
export interface ReloadResult {
  /** `applied`: the new configuration is in force; `unchanged`: the same as the one in force; `rejected`: nothing changed. */
  readonly outcome: 'applied' | 'unchanged' | 'rejected';
  /** The revision in force afterwards. */
  readonly revision: number;
  /** Top-level keys that changed and were applied. */
  readonly changed: readonly string[];
  /** Keys that changed but cannot change at run time: the running values stay until a restart. */
  readonly restartRequired: readonly string[];
  /** For a rejection: every problem, with file:line:col when the source is a file. */
  readonly problems?: readonly ConfigProblem[];
}

/** The configuration state `/config` shows. */
export interface ConfigStatus {
  readonly origin: string;
  readonly revision: number;
  readonly appliedAt: string;
  /** Keys whose new values wait for a restart. */
  readonly restartRequired: readonly string[];
  readonly warnings: readonly ConfigProblem[];
  /** The last reload attempt (absent before the first). */
  readonly lastReload: (ReloadResult & { readonly at: string; readonly origin: string }) | undefined;
}

/**
 * The configuration of a gateway built from one, as `gw.configuration` gives it: the
 * `ConfigRuntime` of `@gatehousejs/gateway/config` (import that type from there for the rest, such
 * as `loaded`), named here without the configuration's own types.
 */
export interface GatewayConfiguration {
  /** The revision in force (1 for the first). */
  readonly revision: number;
  /** What `/config` shows: the origin, the revision, warnings and the last reload. */
  status(): ConfigStatus;
  /** Reads the source again and applies what changed (a rejected one changes nothing). */
  reload(): Promise<ReloadResult>;
  /** Applies a configuration object of the file's shape. */
  apply(config: unknown): Promise<ReloadResult>;
  /** `'reload'` (a ReloadResult) and `'reject'` (`{ problems }`) events. */
  on(event: string, listener: Parameters<EventEmitter['on']>[1]): this;
}
