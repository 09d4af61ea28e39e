// Routes that can never match: every request one would take is taken by an earlier route first (the
// table is matched in order), or it asks for an API version while nothing reads versions. Path
// patterns are compared by the sets of paths they match: `/orders/*` (which matches `/orders` and
// everything below) covers `/orders/:id`, `/orders/:id` covers `/orders/7`, not the other way round.

interface RouteLike {
  path?: unknown;
  methods?: unknown;
  host?: unknown;
  headers?: unknown;
  query?: unknown;
  version?: unknown;
}

/** A pattern as segments; `wildcard` when it ends in `/*`. Undefined for one this check does not read. */
interface Pattern {
  segments: string[];
  wildcard: boolean;
}

function parse(pattern: string, caseSensitive: boolean): Pattern | undefined {
  if (!pattern.startsWith('/')) return undefined;
  const parts = pattern === '/' ? [] : pattern.slice(1).split('/');
  const wildcard = parts.at(-1) === '*';
  if (wildcard) parts.pop();
  if (parts.some((s) => s === '' || s.includes('*'))) return undefined;
  return {
    segments: parts.map((s) => (s.startsWith(':') ? ':' : caseSensitive ? s : s.toLowerCase())),
    wildcard,
  };
}

/** Whether every path `b` matches is matched by `a`. */
export function covers(a: Pattern, b: Pattern): boolean {
  const segmentCovers = (x: string, y: string) => x === ':' || x === y;
  if (!a.wildcard) {
    if (b.wildcard || a.segments.length !== b.segments.length) return false;
    return a.segments.every((s, i) => segmentCovers(s, b.segments[i]!));
  }
  if (b.segments.length < a.segments.length) return false;
  return a.segments.every((s, i) => segmentCovers(s, b.segments[i]!));
}

const patternsOf = (route: RouteLike): string[] | undefined =>
  typeof route.path === 'string'
    ? [route.path]
    : Array.isArray(route.path) && route.path.every((p) => typeof p === 'string')
      ? (route.path as string[])
      : undefined;

const methodsOf = (route: RouteLike): Set<string> | undefined | null =>
  route.methods === undefined
    ? undefined
    : Array.isArray(route.methods) && route.methods.every((m) => typeof m === 'string')
      ? new Set(route.methods as string[])
      : null;

/** Unconditional: nothing but path and methods decides whether it matches. */
const unconditional = (route: RouteLike) =>
  route.host === undefined &&
  route.headers === undefined &&
  route.query === undefined &&
  route.version === undefined;

/** The problems of routes that can never match, by index. */
export function unreachableRoutes(
  routes: readonly unknown[],
  settings: { caseSensitive: boolean; versioning: boolean },
): { index: number; message: string }[] {
  const found: { index: number; message: string }[] = [];
  const seen: { index: number; patterns: Pattern[]; methods: Set<string> | undefined }[] = [];
  routes.forEach((value, index) => {
    if (typeof value !== 'object' || value === null) return;
    const route = value as RouteLike;
    if (route.version !== undefined && !settings.versioning) {
      found.push({
        index,
        message:
          "can never match: it asks for an API version and no 'versioning' is configured, so no request has one",
      });
    }
    const written = patternsOf(route);
    const methods = methodsOf(route);
    if (written === undefined || methods === null) return;
    const patterns = written.map((p) => parse(p, settings.caseSensitive));
    if (patterns.some((p) => p === undefined)) return;
    const mine = patterns as Pattern[];
    for (const earlier of seen) {
      const methodsCovered =
        earlier.methods === undefined ||
        (methods !== undefined && [...methods].every((m) => earlier.methods!.has(m)));
      if (!methodsCovered) continue;
      if (mine.every((p) => earlier.patterns.some((e) => covers(e, p)))) {
        found.push({
          index,
          message: `can never match: routes[${earlier.index}] comes first and takes every request it would (the table is matched in order; move this route above it)`,
        });
        break;
      }
    }
    if (unconditional(route)) seen.push({ index, patterns: mine, methods });
  });
  return found;
}
