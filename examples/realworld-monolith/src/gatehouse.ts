// Gatehouse in the monolith, as a user sets it up: the whole gateway is gatehouse.yaml (tracing, request
// ids, an access log, Conduit's JWTs verified by gw.auth() with the caller's identity signed for the
// services, the admin behind its access policy, rate limits, API versions, OpenAPI validation, the
// migration routes, a BFF screen and the dashboard), loaded with gatewayFromFile() and followed for
// changes. What stays in code is what a file cannot hold: how the app reads the principal and the API
// version Gatehouse found.
import { readFile } from 'node:fs/promises';
import type { IncomingMessage } from 'node:http';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { exchangeOf, type GatewayOptions, readConfigText } from '@gatehousejs/core';
import { userIdOf } from '@gatehousejs/example-realworld-core';
import { type ExpressGateway, gatewayFromConfig, gatewayFromFile } from '@gatehousejs/express';

/** The workspace directory (this file runs from src/ in tests and from dist/ after a build). */
export const WORKSPACE = join(dirname(fileURLToPath(import.meta.url)), '..');
/** The monolith's Gatehouse configuration. */
export const CONFIG_FILE = join(WORKSPACE, 'gatehouse.yaml');
/** The admin prefix (`admin.prefix` in the file): Gatehouse's own endpoints stay clear of Conduit's `/api`. */
export const ADMIN_PREFIX = '/_gatehouse';

/** The variables gatehouse.yaml reads (`${NAME}`); see the file's header. */
export interface GatehouseEnv {
  /** Conduit's HS256 secret, base64url. */
  JWT_SECRET: string;
  /** `hashApiKey()` of the admin key. */
  ADMIN_API_KEY_HASH: string;
  /** The Ed25519 private key (PKCS#8 PEM) that signs the forwarded identity. */
  IDENTITY_PRIVATE_KEY: string;
  ARTICLES_URL?: string;
  PROFILES_URL?: string;
  /** The operators' port: there the admin endpoints need no key. */
  ADMIN_PORT?: string;
  OPENAPI_FILE?: string;
  /** Where access-log lines go (a file path). */
  ACCESS_LOG?: string;
}

/** An access logger given in code (the tests read the lines). */
export interface AccessLogger {
  info(line: object, message?: string): void;
}

export interface GatehouseOptions {
  env: GatehouseEnv;
  /** Default: {@link CONFIG_FILE}. */
  file?: string;
  /** Follow the file and apply its changes. Default: true (checked every 500 ms). */
  watch?: boolean;
  /**
   * For the tests: the file's access log writing to this logger instead of its destination (the tests
   * read the lines), and OpenAPI validation left out (`false`). Either builds the gateway from the
   * file's contents so changed (`gatewayFromConfig`: a logger is code, which a file cannot hold), which
   * is then not followed.
   */
  accessLogger?: AccessLogger;
  openapi?: false;
  onError?: GatewayOptions['onError'];
  /** The gateway's own log (audited admin changes, reloads, outages). Default: JSON lines on stderr/stdout. */
  logger?: GatewayOptions['logger'];
}

/** The gateway gatehouse.yaml describes. */
export async function gatehouseFromFile(options: GatehouseOptions): Promise<ExpressGateway> {
  const file = options.file ?? CONFIG_FILE;
  const env = options.env as unknown as Record<string, string | undefined>;
  const onError = {
    ...(options.onError === undefined ? {} : { onError: options.onError }),
    ...(options.logger === undefined ? {} : { logger: options.logger }),
  };
  if (options.accessLogger === undefined && options.openapi !== false) {
    return gatewayFromFile(file, {
      env,
      watch: options.watch === false ? false : { intervalMs: 500 },
      ...onError,
    });
  }
  const config = await readGatehouseFile(file);
  if (options.accessLogger !== undefined) {
    // The file's access log, in its place in the gateway's order, with the logger where it writes.
    const { destination: _destination, ...written } = (config.accessLog ?? {}) as Record<string, unknown>;
    config.accessLog = { ...written, logger: options.accessLogger };
  }
  if (options.openapi === false) delete config.openapi;
  return gatewayFromConfig(config, { env, baseDir: dirname(file), ...onError });
}

/** gatehouse.yaml as written (`${…}` not yet replaced): for the tests and the code-only replacements. */
export async function readGatehouseFile(file = CONFIG_FILE): Promise<Record<string, unknown>> {
  const read = readConfigText(await readFile(file, 'utf8'), file);
  if (read.fatal || typeof read.value !== 'object' || read.value === null)
    throw new Error(`${file}: ${read.findings.map((f) => f.message).join('; ') || 'not a mapping'}`);
  return { ...(read.value as Record<string, unknown>) };
}

/** The API version of a request as gw.version() resolved it (1 or 2), or undefined. */
export function requestedApiVersion(req: IncomingMessage): number | undefined {
  const text = exchangeOf(req)?.stateIfSet?.apiVersion?.text;
  return text === undefined ? undefined : Number(text);
}

/** Who is calling, as gw.auth() found it: a Conduit user id, or undefined when anonymous. */
export function principalUserId(req: IncomingMessage): number | undefined {
  const principal = exchangeOf(req)?.state.principal;
  if (principal === undefined || principal.method !== 'jwt') return undefined;
  return userIdOf(principal.id);
}
