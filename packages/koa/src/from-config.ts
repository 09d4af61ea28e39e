// A whole Koa gateway from one configuration: a file (followed for changes), an etcd key, or an object
// of the same shape. The configuration's middleware is mounted with `gw.mount(app)`, errors() first.
import type { Gateway } from '@gatehousejs/core';
import { configEntries, type EtcdConfigLocation, type FromConfigOptions } from '@gatehousejs/gateway';
import { KoaGateway, type KoaMiddleware } from './koa.js';

/** Koa renders errors from a middleware mounted first: `mount()` puts `errors()` in front of the chain. */
class ConfiguredKoaGateway extends KoaGateway {
  protected override mountOn(app: { use(mw: KoaMiddleware): unknown }, chain: KoaMiddleware): void {
    app.use(this.errors());
    app.use(chain);
  }
}

// The configuration's machinery is loaded when one of these is first called, not with the adapter.
const make = (core: Gateway): KoaGateway => new ConfiguredKoaGateway(core);
const entries = configEntries(make);

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
export async function gatewayFromFile(file: string, options?: FromConfigOptions): Promise<KoaGateway> {
  return entries.fromFile(file, options);
}

/**
 * Like {@link gatewayFromFile}, synchronously: the file is read and checked now (a `ConfigError`
 * lists every problem); what it describes is built when the gateway starts (`gw.serve()`), and
 * requests that arrive before wait for it. For CommonJS apps, and apps built at module load.
 *
 * @example
 *   const gw = gatewayFromFileSync('gatehouse.yaml');
 *   gw.mount(app);
 *   gw.serve(app.listen(3000));
 */
export function gatewayFromFileSync(file: string, options?: FromConfigOptions): KoaGateway {
  return entries.fromFileSync(file, options);
}

/** Builds the gateway a configuration held in an etcd key describes (YAML or JSON), followed for changes. */
export async function gatewayFromEtcd(
  etcd: EtcdConfigLocation,
  options?: FromConfigOptions,
): Promise<KoaGateway> {
  return entries.fromEtcd(etcd, options);
}

/** Builds the gateway a configuration object (the shape of a file) describes; `gw.configuration.apply()` changes it. */
export async function gatewayFromConfig(config: unknown, options?: FromConfigOptions): Promise<KoaGateway> {
  return entries.fromConfig(config, options);
}
