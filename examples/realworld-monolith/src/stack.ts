// The whole showcase in one process: the two Koa services on their ports, and the monolith with the
// gateway gatehouse.yaml describes in front, its variables pointing at the services' actual addresses
// and carrying this run's secrets.
import { generateKeyPairSync, type KeyObject } from 'node:crypto';
import { hashApiKey } from '@gatehousejs/auth';
import type { Database } from '@gatehousejs/example-realworld-core';
import { createService, SERVICE_GROUPS, type Service } from '@gatehousejs/example-realworld-services';
import type { Mode } from '@gatehousejs/routes';
import type { AccessLogOptions } from '@gatehousejs/tracing';
import { type AccessLogger, ADMIN_PREFIX, type GatehouseEnv, gatehouseFromFile } from './gatehouse.js';
import { createMonolith, type Monolith } from './monolith.js';

export interface StackOptions {
  db: Database;
  /** Conduit's HS256 secret (at least 32 bytes): the monolith signs with it, the gateway verifies. */
  tokenSecret: Uint8Array;
  /** The admin key (its hash goes to the configuration). */
  adminKey: string;
  /** Default: the example's gatehouse.yaml. */
  configFile?: string;
  /** Follow the file for changes. Default: true. */
  watch?: boolean;
  /** Ports to listen on (0: any free one). Default: all 0; no operators' listener (`admin`). */
  ports?: { monolith?: number; articles?: number; profiles?: number; admin?: number };
  host?: string;
  /**
   * The gateway's access log (gatehouse.yaml's `accessLog`) written to a logger given in code or to a
   * file (ACCESS_LOG); the services' access-log options.
   */
  accessLog?: { monolith?: AccessLogger | string; services?: AccessLogOptions };
  /** The OpenAPI document (OPENAPI_FILE), or `false` for none. Default: the file's own default. */
  openapi?: string | false;
  onError?: (error: unknown) => void;
  /** The gateway's own log (audit lines, reloads). Default: the gateway's default. */
  logger?: { info(obj: object, msg: string): void; error(obj: object, msg: string): void };
  /** The Ed25519 pair that signs (gateway) and verifies (services) the forwarded identity. Default: a new one. */
  identity?: { publicKey: KeyObject; privateKey: KeyObject };
}

export type ServiceName = keyof typeof SERVICE_GROUPS;

/** A route's line in `/migration`, as far as the showcase reads it. */
export type MigrationLine = import('@gatehousejs/routes').MigrationReport;

export interface Stack {
  /** `operators`: the operators' listener's base URL, when there is one. */
  readonly urls: { monolith: string; articles: string; profiles: string; operators?: string };
  readonly monolith: Monolith;
  /** The services now running (a restarted one is a new instance). */
  readonly services: { articles: Service; profiles: Service };
  /** Sets a route's (or group's) mode through the admin API, with the admin key (audited). */
  setMode(route: string, mode: Mode, options?: { weight?: number; reason?: string }): Promise<void>;
  /** `/migration` through the admin API: every route's line, and the audited history. */
  migration(): Promise<{ routes: MigrationLine[]; history: Array<Record<string, unknown>> }>;
  /** Stops a service as a crash would (connections cut, nothing drained); its port stays free. */
  killService(name: ServiceName): Promise<void>;
  /** Starts a new instance of a killed service on the port it had, so the gateway finds it again. */
  restartService(name: ServiceName): Promise<void>;
  close(): Promise<void>;
}

export async function startStack(options: StackOptions): Promise<Stack> {
  const host = options.host ?? '127.0.0.1';
  // The gateway signs the caller's identity with the private half; the services hold the public one.
  const identity = options.identity ?? generateKeyPairSync('ed25519');
  const service = (name: ServiceName) =>
    createService({
      name,
      groups: SERVICE_GROUPS[name],
      db: options.db,
      identityKey: identity.publicKey,
      ...(options.accessLog?.services ? { accessLog: options.accessLog.services } : {}),
      ...(options.onError ? { onError: options.onError } : {}),
    });
  const services = { articles: service('articles'), profiles: service('profiles') };
  const articles = await services.articles.listen(options.ports?.articles ?? 0, host);
  const profiles = await services.profiles.listen(options.ports?.profiles ?? 0, host);

  const monolithLog = options.accessLog?.monolith;
  const env: GatehouseEnv = {
    JWT_SECRET: Buffer.from(options.tokenSecret).toString('base64url'),
    ADMIN_API_KEY_HASH: hashApiKey(options.adminKey),
    IDENTITY_PRIVATE_KEY: identity.privateKey.export({ type: 'pkcs8', format: 'pem' }) as string,
    ARTICLES_URL: articles,
    PROFILES_URL: profiles,
    ...(options.ports?.admin === undefined ? {} : { ADMIN_PORT: String(options.ports.admin) }),
    ...(typeof options.openapi === 'string' ? { OPENAPI_FILE: options.openapi } : {}),
    ...(typeof monolithLog === 'string' ? { ACCESS_LOG: monolithLog } : {}),
  };
  const onError = options.onError;
  let gw: Awaited<ReturnType<typeof gatehouseFromFile>>;
  try {
    gw = await gatehouseFromFile({
      env,
      ...(options.configFile === undefined ? {} : { file: options.configFile }),
      ...(options.watch === undefined ? {} : { watch: options.watch }),
      ...(monolithLog !== undefined && typeof monolithLog !== 'string' ? { accessLogger: monolithLog } : {}),
      ...(options.openapi === false ? { openapi: false as const } : {}),
      ...(options.logger === undefined ? {} : { logger: options.logger }),
      ...(onError === undefined
        ? {}
        : {
            onError: (error, { exchange, phase }) =>
              onError(
                Object.assign(
                  new Error(`monolith: gatehouse ${phase} ${exchange?.method ?? ''} ${exchange?.path ?? ''}`),
                  { cause: error },
                ),
              ),
          }),
    });
  } catch (error) {
    await Promise.all([services.articles.close(), services.profiles.close()]);
    throw error;
  }
  const monolith = createMonolith({
    db: options.db,
    tokenSecret: options.tokenSecret,
    gw,
    ...(options.ports?.admin === undefined ? {} : { adminPort: options.ports.admin }),
    ...(onError ? { onError } : {}),
  });
  const url = await monolith.listen(options.ports?.monolith ?? 0, host);
  const urls = {
    monolith: url,
    articles,
    profiles,
    ...(options.ports?.admin === undefined ? {} : { operators: `http://${host}:${options.ports.admin}` }),
  };
  const admin = async (path: string, body?: object) => {
    const res = await fetch(`${url}${ADMIN_PREFIX}${path}`, {
      method: body === undefined ? 'GET' : 'POST',
      headers: {
        'x-api-key': options.adminKey,
        ...(body === undefined ? {} : { 'content-type': 'application/json' }),
      },
      ...(body === undefined ? {} : { body: JSON.stringify(body) }),
    });
    const text = await res.text();
    if (res.status !== 200) throw new Error(`admin ${path}: ${res.status} ${text}`);
    return JSON.parse(text) as unknown;
  };
  const killed = new Set<ServiceName>();
  return {
    urls,
    monolith,
    services,
    async setMode(route, mode, { weight, reason } = {}) {
      await admin('/migration/mode', {
        route,
        mode,
        ...(weight === undefined ? {} : { weight }),
        ...(reason === undefined ? {} : { reason }),
      });
    },
    migration: () => admin('/migration') as ReturnType<Stack['migration']>,
    async killService(name) {
      if (killed.has(name)) return;
      killed.add(name);
      await services[name].kill();
    },
    async restartService(name) {
      if (!killed.has(name)) return;
      const fresh = service(name);
      await fresh.listen(Number(new URL(urls[name]).port), host);
      services[name] = fresh;
      killed.delete(name);
    },
    async close() {
      await monolith.close();
      await Promise.all(
        (Object.keys(services) as ServiceName[])
          .filter((n) => !killed.has(n))
          .map((n) => services[n].close()),
      );
    },
  };
}
