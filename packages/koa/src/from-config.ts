// A whole Koa gateway from one configuration: a file (followed for changes), an etcd key, or an object
// of the same shape. The configuration's middleware is mounted with `gw.mount(app)`, errors() first.
import type { Gateway } from '@gatehousejs/core';
import {
  type FromConfigOptions,
  fromConfigEtcd,
  fromConfigFile,
  fromConfigObject,
} from '@gatehousejs/gateway';
import { KoaGateway, type KoaMiddleware } from './koa.js';

/** Koa renders errors from a middleware mounted first: `mount()` puts `errors()` in front of the chain. */
class ConfiguredKoaGateway extends KoaGateway {
  protected override mountOn(app: { use(mw: KoaMiddleware): unknown }, chain: KoaMiddleware): void {
    app.use(this.errors());
    app.use(chain);
  }
}

const make = (core: Gateway): KoaGateway => new ConfiguredKoaGateway(core);

/**
 * Builds the gateway a configuration file describes (`.yaml`, `.yml` or `.json`: services, routes,
 * auth, rate limits, tracing, versioning, OpenAPI, compositions, the admin), followed for changes
 * unless `watch: false`. Throws a `ConfigError` listing every problem with its file:line:col.
 *
 * @example
 *   const gw = await gatewayFromFile('gatehouse.yaml');
 *   const app = new Koa();
 *   gw.mount(app);                                  // errors() first, then everything the file describes
 *   app.use(router.routes());
 *   await gw.listen(app);                           // server.port from the file
 */
export function gatewayFromFile(file: string, options?: FromConfigOptions): Promise<KoaGateway> {
  return fromConfigFile(make, file, options);
}

/** Builds the gateway a configuration held in an etcd key describes (YAML or JSON), followed for changes. */
export function gatewayFromEtcd(
  etcd: {
    hosts: string | string[];
    key: string;
    dialTimeoutMs?: number;
    auth?: { username: string; password: string };
  },
  options?: FromConfigOptions,
): Promise<KoaGateway> {
  return fromConfigEtcd(make, etcd, options);
}

/** Builds the gateway a configuration object (the shape of a file) describes; `gw.configuration.apply()` changes it. */
export function gatewayFromConfig(config: unknown, options?: FromConfigOptions): Promise<KoaGateway> {
  return fromConfigObject(make, config, options);
}
