// Finding the operation of a request: find-my-way (fastify's radix-tree router) over the document's
// path templates under every base path, so a lookup costs the same at 10 operations as at 1,000
// (bench/RESULTS.md: express-openapi-validator scans a list of path regexes instead). Each template is
// registered once, with all its methods in the route's store, so one lookup also answers 405s.

import type { PathPolicy } from '@gatehousejs/core';
import FindMyWay from 'find-my-way';
import type { PathEntry } from './compile.js';

/** A matched path: its entry, and the path parameters' (still serialized) text by name. */
export interface PathMatch {
  readonly entry: PathEntry;
  readonly params: Record<string, string>;
}

const noop = () => {};

// Characters find-my-way reads as syntax in a path it is asked to look up (it cuts at `?`, `;` and
// `#`, and decodes `%`): our paths are already decoded, so these are re-encoded before a lookup.
const SPECIAL = /[%?;#]/;
const encodeSpecial = (path: string): string =>
  path.replace(/[%?;#]/g, (c) => `%${c.charCodeAt(0).toString(16).toUpperCase().padStart(2, '0')}`);

/** `/users/{id}/posts/{post}` → `/users/:p0/posts/:p1` (positional names: any declared name is safe). */
function routeOf(template: string): string {
  let i = 0;
  return template
    .split(/(\{[^}]*\})/)
    .map((part) => (part.startsWith('{') && part.endsWith('}') ? `:p${i++}` : part.replaceAll(':', '::')))
    .join('');
}

/** The matcher over a compiled document's paths. */
export class OperationRouter {
  readonly #router: FindMyWay.Instance<FindMyWay.HTTPVersion.V1>;
  readonly #decoded: boolean;
  /** Templates the router refused (a clash the document check did not catch), as problems. */
  readonly problems: Array<{ pointer: string; message: string }> = [];

  constructor(
    paths: readonly PathEntry[],
    basePaths: readonly string[],
    policy: Pick<PathPolicy, 'caseSensitive' | 'encodedSlashes'>,
  ) {
    this.#router = FindMyWay({
      caseSensitive: policy.caseSensitive,
      ignoreTrailingSlash: true,
      ignoreDuplicateSlashes: false,
      // Path parameters are as long as the request line allows; Node caps that, not the router.
      maxParamLength: 65_535,
    });
    // With encodedSlashes 'keep', the normalized path keeps %2F/%5C/%25 encoded: find-my-way then
    // decodes them in parameter values as it should. Otherwise the path is fully decoded already.
    this.#decoded = policy.encodedSlashes !== 'keep';
    for (const entry of paths) {
      for (const base of basePaths) {
        const route = routeOf(`${base}${entry.template}`);
        try {
          this.#router.on('GET', route === '' ? '/' : route, noop, entry);
        } catch (error) {
          this.problems.push({
            pointer: `#/paths/${entry.template.replaceAll('~', '~0').replaceAll('/', '~1')}`,
            message: `cannot be routed: ${(error as Error).message}`,
          });
        }
      }
    }
  }

  /** The path entry for a normalized request path, or undefined. */
  match(path: string): PathMatch | undefined {
    const lookup = this.#decoded && SPECIAL.test(path) ? encodeSpecial(path) : path;
    const found = this.#router.find('GET', lookup);
    if (found === null) return undefined;
    const entry = found.store as PathEntry;
    return { entry, params: found.params as Record<string, string> };
  }
}
