// An in-process registry: the monolith's own handlers (or a test's fake upstreams) register under a
// service name, and resolvers over that name see registrations come and go at once.
import { Problems, parseOptions } from '@gatehousejs/core';
import * as v from 'valibot';
import { BaseResolver } from './base.js';
import type { Endpoint, Resolver } from './endpoint.js';
import { type EndpointSpec, readEndpoint, sortedById } from './endpoints.js';
import { endpointSpecSchema } from './options.js';

/** A registry made by {@link createRegistry}. */
export interface Registry {
  /**
   * Adds `endpoint` to `service` (replacing a registration with the same id) and returns the
   * function that removes it again; calling that function twice, or after the registration was
   * replaced, does nothing.
   *
   * @throws ConfigError (`GH_CONFIG_INVALID`) when the service name or the endpoint is invalid.
   */
  register(service: string, endpoint: EndpointSpec): () => void;
  /** A resolver over `service`, current at once (empty until something registers). */
  resolver(service: string): Resolver;
  /** The endpoints registered for `service` now. */
  endpoints(service: string): readonly Endpoint[];
}

class RegistryResolver extends BaseResolver {
  readonly #detach: () => void;

  constructor(name: string, endpoints: Iterable<Endpoint>, attach: (view: RegistryResolver) => () => void) {
    super(name);
    this.update(endpoints);
    this.settle();
    this.#detach = attach(this);
  }

  update(endpoints: Iterable<Endpoint>): void {
    this.publish(endpoints);
    this.succeeded();
  }

  protected async stop(): Promise<void> {
    this.#detach();
  }
}

const serviceName = v.pipe(v.string(), v.minLength(1));
const serviceSchema = v.strictObject({ service: serviceName });
const registrationSchema = v.strictObject({ service: serviceName, endpoint: endpointSpecSchema });

/**
 * Creates an in-process registry.
 *
 * @example
 *   const registry = createRegistry();
 *   const deregister = registry.register('orders', 'http://127.0.0.1:3001');
 *   const orders = registry.resolver('orders'); // orders.current() → [{ id: '127.0.0.1:3001', … }]
 *   deregister(); // subscribers of `orders` are told
 */
export function createRegistry(): Registry {
  // service → id → the registration (an object, so a replaced registration's deregister is inert)
  const services = new Map<string, Map<string, { endpoint: Endpoint }>>();
  const views = new Map<string, Set<RegistryResolver>>();

  const listOf = (service: string): Endpoint[] =>
    [...(services.get(service)?.values() ?? [])].map((entry) => entry.endpoint);
  const changed = (service: string) => {
    const list = listOf(service);
    for (const view of views.get(service) ?? []) view.update(list);
  };

  return {
    register(service, spec) {
      const checked = parseOptions(
        registrationSchema,
        { service, endpoint: spec },
        { name: 'registry.register' },
      );
      const entry = {
        endpoint: readEndpoint(checked.endpoint, new Problems('registry.register'), 'endpoint')!,
      };
      let entries = services.get(service);
      if (entries === undefined) {
        entries = new Map();
        services.set(service, entries);
      }
      entries.set(entry.endpoint.id, entry);
      changed(service);
      return () => {
        const current = services.get(service);
        if (current?.get(entry.endpoint.id) !== entry) return;
        current.delete(entry.endpoint.id);
        if (current.size === 0) services.delete(service);
        changed(service);
      };
    },
    resolver(service) {
      parseOptions(serviceSchema, { service }, { name: 'registry.resolver' });
      return new RegistryResolver(`registry:${service}`, listOf(service), (view) => {
        let set = views.get(service);
        if (set === undefined) {
          set = new Set();
          views.set(service, set);
        }
        set.add(view);
        return () => {
          set.delete(view);
          if (set.size === 0) views.delete(service);
        };
      });
    },
    endpoints(service) {
      return sortedById(listOf(service));
    },
  };
}
