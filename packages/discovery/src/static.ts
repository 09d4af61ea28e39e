// A fixed list of endpoints, for configuration that names its upstreams and for tests. It never
// changes, so it is ready at once and never stale.
import { Problems, parseOptions } from '@gatehousejs/core';
import { BaseResolver } from './base.js';
import type { Endpoint, Resolver } from './endpoint.js';
import { type EndpointSpec, readEndpoint } from './endpoints.js';
import { staticResolverArgumentsSchema } from './options.js';

/** Options of {@link staticResolver}. */
export interface StaticResolverOptions {
  /** For diagnostics. @default `'static:'` + the first endpoint's id (and `+N` for the others) */
  name?: string;
}

class StaticResolver extends BaseResolver {
  constructor(name: string, endpoints: readonly Endpoint[]) {
    super(name);
    this.publish(endpoints);
    this.succeeded();
    this.settle();
  }

  protected async stop(): Promise<void> {}
}

/**
 * A resolver over a fixed list: URLs (`'http://10.0.0.1:8080'`, `'https://api.internal'`) or objects
 * (`{ host, port, protocol?, weight?, priority?, zone?, metadata?, id? }`).
 *
 * @throws ConfigError (`GH_CONFIG_INVALID`) listing every invalid or duplicate endpoint.
 * @example staticResolver(['http://10.0.0.1:8080', { host: '10.0.0.2', port: 8080, weight: 2 }])
 */
export function staticResolver(
  endpoints: readonly EndpointSpec[],
  options: StaticResolverOptions = {},
): Resolver {
  const checked = parseOptions(
    staticResolverArgumentsSchema,
    { endpoints, options },
    { name: 'staticResolver' },
  );
  const problems = new Problems('staticResolver');
  const list = checked.endpoints.map((spec, i) => readEndpoint(spec, problems, `endpoints[${i}]`)!);
  const name = checked.options.name ?? `static:${list[0]!.id}${list.length > 1 ? `+${list.length - 1}` : ''}`;
  return new StaticResolver(name, list);
}
