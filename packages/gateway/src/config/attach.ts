// Which gateway objects were built from a configuration, and their runtime (kept apart from
// runtime.ts so that framework-gateway.ts can ask without importing it).
import type { ConfigRuntime } from './runtime.js';

const runtimes = new WeakMap<object, ConfigRuntime>();

/** The configuration runtime of a gateway built from one, else undefined. */
export function runtimeOf(gateway: object): ConfigRuntime | undefined {
  return runtimes.get(gateway);
}

export function attachRuntime(gateway: object, runtime: ConfigRuntime): void {
  runtimes.set(gateway, runtime);
}
