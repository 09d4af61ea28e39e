// A whole Express gateway from one configuration: a file (followed for changes), an etcd key, or an
// object of the same shape. The configuration's middleware is mounted with `gw.mount(app)`.
import type { Gateway } from '@gatehousejs/core';
import {
  type FromConfigOptions,
  fromConfigEtcd,
  fromConfigFile,
  fromConfigObject,
} from '@gatehousejs/gateway';
import { ExpressGateway } from './express.js';

const make = (core: Gateway) => new ExpressGateway(core);

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
export function gatewayFromFile(file: string, options?: FromConfigOptions): Promise<ExpressGateway> {
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
): Promise<ExpressGateway> {
  return fromConfigEtcd(make, etcd, options);
}

/** Builds the gateway a configuration object (the shape of a file) describes; `gw.configuration.apply()` changes it. */
export function gatewayFromConfig(config: unknown, options?: FromConfigOptions): Promise<ExpressGateway> {
  return fromConfigObject(make, config, options);
}
