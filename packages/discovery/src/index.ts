export { type DnsResolverOptions, dnsResolver } from './dns.js';
export type { Endpoint, Resolver, ResolverStatus } from './endpoint.js';
export {
  type EndpointInput,
  type EndpointSpec,
  parseEndpoint,
  preferredEndpoints,
  sameEndpoint,
} from './endpoints.js';
export {
  DiscoveryClosed,
  DnsNoRecords,
  DnsNotFound,
  DnsServerFailure,
  DnsTimeout,
  DnsUnreachable,
  EtcdUnavailable,
  InvalidEntry,
  LeaseLost,
} from './errors.js';
export { type EtcdResolverOptions, etcdResolver } from './etcd.js';
export { createEtcdClient, type EtcdClient, type EtcdConnectionOptions } from './etcd-client.js';
export {
  dnsResolverOptionsSchema,
  endpointInputSchema,
  endpointSpecSchema,
  etcdRegistrationOptionsSchema,
  etcdResolverOptionsSchema,
  staticResolverOptionsSchema,
} from './options.js';
export {
  type EtcdRegistration,
  type EtcdRegistrationOptions,
  type RegistrationStatus,
  registerWithEtcd,
} from './register.js';
export { createRegistry, type Registry } from './registry.js';
export { type StaticResolverOptions, staticResolver } from './static.js';
