// The whole showcase in one process: the two Koa services on their ports, and the monolith with
// Gatehouse in front, whose configuration is pointed at the services' actual addresses.
import { generateKeyPairSync, type KeyObject } from 'node:crypto';
import type { GatewayConfig, ResolvedConfig } from '@gatehousejs/core';
import type { Database } from '@gatehousejs/example-realworld-core';
import { createService, SERVICE_GROUPS, type Service } from '@gatehousejs/example-realworld-services';
import type { OpenApiOptions } from '@gatehousejs/openapi';
import type { RateLimitOptions } from '@gatehousejs/rate-limit';
import type { RoutesOptions } from '@gatehousejs/routes';
import type { AccessLogOptions } from '@gatehousejs/tracing';
import { createMonolith, type Monolith } from './monolith.js';

export interface StackOptions {
  db: Database;
  tokenSecret: Uint8Array;
  /** The gateway configuration; its `services` are replaced by the services started here. */
  config: GatewayConfig | ResolvedConfig;
  routes: RoutesOptions;
  adminKeyHash: string;
  /** Ports to listen on (0: any free one). Default: all 0; no operators' listener (`admin`). */
  ports?: { monolith?: number; articles?: number; profiles?: number; admin?: number };
  host?: string;
  accessLog?: { monolith?: AccessLogOptions; services?: AccessLogOptions };
  rateLimit?: RateLimitOptions;
  /** OpenAPI validation in the gateway. Default: off. */
  openapi?: OpenApiOptions;
  onError?: (error: unknown) => void;
  /** The Ed25519 pair that signs (gateway) and verifies (services) the forwarded identity. Default: a new one. */
  identity?: { publicKey: KeyObject; privateKey: KeyObject };
}

export type ServiceName = keyof typeof SERVICE_GROUPS;

export interface Stack {
  /** `operators`: the admin listener's base URL, when there is one. */
  readonly urls: { monolith: string; articles: string; profiles: string; operators?: string };
  readonly monolith: Monolith;
  /** The services now running (a restarted one is a new instance). */
  readonly services: { articles: Service; profiles: Service };
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

  const monolith = createMonolith({
    db: options.db,
    tokenSecret: options.tokenSecret,
    gatehouse: {
      config: { ...options.config, services: { articles: { url: articles }, profiles: { url: profiles } } },
      routes: options.routes,
      identityKey: identity.privateKey,
      adminKeyHash: options.adminKeyHash,
      ...(options.ports?.admin === undefined ? {} : { adminPort: options.ports.admin }),
      ...(options.accessLog?.monolith ? { accessLog: options.accessLog.monolith } : {}),
      ...(options.rateLimit ? { rateLimit: options.rateLimit } : {}),
      ...(options.openapi ? { openapi: options.openapi } : {}),
    },
    ...(options.onError ? { onError: options.onError } : {}),
  });
  const url = await monolith.listen(options.ports?.monolith ?? 0, host);
  const urls = {
    monolith: url,
    articles,
    profiles,
    ...(options.ports?.admin === undefined ? {} : { operators: `http://${host}:${options.ports.admin}` }),
  };
  const killed = new Set<ServiceName>();
  return {
    urls,
    monolith,
    services,
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
