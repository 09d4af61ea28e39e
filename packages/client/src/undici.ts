// undici, required on first use rather than imported: it is 4 MB of heap, and an application that
// mounts only Gatehouse's inbound capabilities (auth, rate limits, tracing) never makes an outbound
// call. A smaller heap is also measurably faster for small Express apps on Node 20 (bench/RESULTS.md,
// session 6). undici is CommonJS without an `exports` map, so `import` and `require` share one instance.
import { createRequire } from 'node:module';
import type * as Undici from 'undici';

const requireHere = createRequire(import.meta.url);
let loaded: typeof Undici | undefined;

/** The undici module, loaded the first time it is asked for. */
export function loadUndici(): typeof Undici {
  loaded ??= requireHere('undici') as typeof Undici;
  return loaded;
}
