// A whole Express gateway from one configuration: a file (followed for changes), an etcd key, or an
// object of the same shape. The configuration's middleware is mounted with `gw.mount(app)`.
import type { Gateway } from '@gatehousejs/core';
import { configEntries, type EtcdConfigLocation, type FromConfigOptions } from '@gatehousejs/gateway';
import { ExpressGateway } from './express.js';

// The configuration's machinery is loaded when one of these is first called, not with the adapter.
const make = (core: Gateway) => new ExpressGateway(core);
const entries = configEntries(make);

/**
 * Builds the gateway a configuration file describes (`.yaml`, `.yml` or `.json`: services, routes,
 * auth, rate limits, tracing, versioning, OpenAPI, compositions, the admin), followed for changes
 * unless `watch: false`. Throws a `ConfigError` listing every problem with its file:line:col.
 *
 * @example
 *   const gw = await gatewayFromFile('gatehouse.yaml');
 *   const app = express();
 *   gw.mount(app);                                  // everything the file describes
 *   app.get('/hello', (req, res) => res.json({ hello: 'world' }));
 *   app.use(gw.errors());                           // last
 *   await gw.listen(app);                           // server.port from the file
 */
export async function gatewayFromFile(file: string, options?: FromConfigOptions): Promise<ExpressGateway> {
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
export function gatewayFromFileSync(file: string, options?: FromConfigOptions): ExpressGateway {
  return entries.fromFileSync(file, options);
}

/** Builds the gateway a configuration held in an etcd key describes (YAML or JSON), followed for changes. */
export async function gatewayFromEtcd(
  etcd: EtcdConfigLocation,
  options?: FromConfigOptions,
): Promise<ExpressGateway> {
  return entries.fromEtcd(etcd, options);
}

/** Builds the gateway a configuration object (the shape of a file) describes; `gw.configuration.apply()` changes it. */
export async function gatewayFromConfig(
  config: unknown,
  options?: FromConfigOptions,
): Promise<ExpressGateway> {
  return entries.fromConfig(config, options);
}
