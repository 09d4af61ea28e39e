// What an adapter's gatewayFromFile/FileSync/Etcd/Config do, once for every adapter: load the
// configuration machinery (`@gatehousejs/gateway/config`) when first asked, not with the adapter, and
// hand it the adapter's way of making its gateway object. The machinery needs every capability
// package: one that is not installed is a ConfigError naming it.
import { type Gateway, loadPeer, missingPackageOf, missingPeer } from '@gatehousejs/core';
import type * as Config from './config/index.js';
import type { FromConfigOptions } from './config/types.js';
import type { FrameworkGateway } from './framework-gateway.js';

/** Where a configuration held in etcd is read (YAML or JSON under one key). */
export interface EtcdConfigLocation {
  hosts: string | string[];
  key: string;
  dialTimeoutMs?: number;
  auth?: { username: string; password: string };
}

/** The four ways to build an adapter's gateway from a configuration (see the adapters' exports). */
export interface ConfigEntries<G> {
  fromFile(file: string, options?: FromConfigOptions): Promise<G>;
  fromFileSync(file: string, options?: FromConfigOptions): G;
  fromEtcd(etcd: EtcdConfigLocation, options?: FromConfigOptions): Promise<G>;
  fromConfig(config: unknown, options?: FromConfigOptions): Promise<G>;
}

const load = (): Promise<typeof Config> =>
  import('@gatehousejs/gateway/config').catch((error: unknown) => {
    const missing = missingPackageOf(error);
    if (missing?.startsWith('@gatehousejs/'))
      throw missingPeer(missing, { path: 'the configuration' }, error);
    throw error;
  }) as Promise<typeof Config>;

const loadNow = (path: string): typeof Config =>
  loadPeer<typeof Config>('@gatehousejs/gateway/config', { from: import.meta.url, path });

/** The configuration entry points of an adapter whose gateway object `make` builds on a core. */
export function configEntries<G extends FrameworkGateway<unknown>>(
  make: (core: Gateway) => G,
): ConfigEntries<G> {
  return {
    fromFile: async (file, options) => (await load()).fromConfigFile(make, file, options),
    fromFileSync: (file, options) => loadNow('gatewayFromFileSync()').fromConfigFileSync(make, file, options),
    fromEtcd: async (etcd, options) => (await load()).fromConfigEtcd(make, etcd, options),
    fromConfig: async (config, options) => (await load()).fromConfigObject(make, config, options),
  };
}
