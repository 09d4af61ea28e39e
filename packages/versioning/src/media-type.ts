// Versions named in media types: a parameter (`application/vnd.acme+json; version=2`) or a vendor
// subtype (`application/vnd.acme.v2+json`), in `Content-Type` (one media type) or `Accept` (a list of
// media ranges with q-values). The header grammar (lists, quoted strings, parameters) is the
// `content-type` package's, the one `negotiator` uses for Accept; only the version rules are ours.
import { parse } from 'content-type';

/** How versions are written in media types (compiled from the `media-type` source options). */
export interface MediaTypeRule {
  /**
   * Media types whose `parameter` names the version: lower-case `type/subtype` or `type/*`. Empty:
   * the parameter counts on any media type.
   */
  readonly types: readonly string[];
  /** The parameter that names the version (`version`), lower case; undefined to read none. */
  readonly parameter: string | undefined;
  /** The vendor of `vnd.<vendor>.v<version>` subtypes, lower case; undefined to read none. */
  readonly vendor: string | undefined;
}

/** A version named by one media range of `Accept`, with the range's weight. */
export interface AcceptStatement {
  /** The version as written (not yet parsed). */
  readonly raw: string;
  /** The range's q-value, 0 to 1 (0: the client refuses this version). */
  readonly q: number;
}

/**
 * Accept ranges read per request at most: a browser sends about six; beyond this many, the rest of a
 * (hostile) header is ignored, so the work per request stays bounded whatever the header's length.
 */
export const MAX_ACCEPT_RANGES = 64;

/** Whether `type` (lower case) is one of `types` (`type/subtype` or `type/*`); any type when empty. */
function typeListed(type: string, types: readonly string[]): boolean {
  if (types.length === 0) return true;
  for (const listed of types) {
    if (listed === type) return true;
    if (listed.endsWith('/*') && type.startsWith(listed.slice(0, -1))) return true;
  }
  return false;
}

/** The versions one media type names (by vendor subtype, by parameter), as written; at most two. */
function versionsOf(type: string, parameters: Record<string, string>, rule: MediaTypeRule): string[] {
  const found: string[] = [];
  if (rule.vendor !== undefined) {
    const slash = type.indexOf('/');
    const head = `vnd.${rule.vendor}.v`;
    if (slash !== -1 && type.startsWith(head, slash + 1)) {
      const from = slash + 1 + head.length;
      const plus = type.indexOf('+', from);
      const raw = type.slice(from, plus === -1 ? undefined : plus);
      // Only a digit after `v` makes it a version: `vnd.acme.video+json` is another media type.
      const c = raw.charCodeAt(0);
      if (c >= 0x30 && c <= 0x39) found.push(raw);
    }
  }
  if (rule.parameter !== undefined) {
    const value = parameters[rule.parameter];
    if (value !== undefined && value !== '' && typeListed(type, rule.types)) found.push(value);
  }
  return found;
}

/**
 * A q-value as RFC 9110 §12.4.2 writes it (`0`, `0.5`, `1`, `1.000`, at most three decimals), or -1
 * when malformed. An absent `q` is 1.
 */
export function qvalue(text: string | undefined): number {
  if (text === undefined) return 1;
  if (!/^(?:0(?:\.\d{0,3})?|1(?:\.0{0,3})?)$/.test(text)) return -1;
  return Number(text);
}

/**
 * The versions an `Accept` header names, in the order written, each with its q-value. Ranges with a
 * malformed q-value are ignored (a client that cannot write its preference has not stated one), as
 * is everything after {@link MAX_ACCEPT_RANGES} ranges. Never throws.
 *
 * @example
 *   acceptStatements('application/vnd.acme.v2+json, application/vnd.acme.v1+json;q=0.5', rule);
 *   // [{ raw: '2', q: 1 }, { raw: '1', q: 0.5 }]
 */
export function acceptStatements(header: string, rule: MediaTypeRule): AcceptStatement[] {
  const out: AcceptStatement[] = [];
  let index = 0;
  for (let ranges = 0; index < header.length && ranges < MAX_ACCEPT_RANGES; ranges++) {
    const { type, parameters, index: end } = parse(header, { comma: true, start: index });
    // `end` is the comma that closed the range, or the end of the header: always past `index`.
    index = end + 1;
    if (type === '') continue;
    const q = qvalue(parameters.q);
    if (q < 0) continue;
    for (const raw of versionsOf(type, parameters, rule)) out.push({ raw, q });
  }
  return out;
}

/** The versions a `Content-Type` header names (none, one, or two that may disagree). Never throws. */
export function contentTypeVersions(header: string, rule: MediaTypeRule): string[] {
  const { type, parameters } = parse(header);
  return type === '' ? [] : versionsOf(type, parameters, rule);
}

/**
 * A cheap test that a header may name a version under `rule` (a vendor subtype or the parameter's
 * name followed by `=`, in any case), so that headers which cannot are never parsed: one regular
 * expression scan instead of a parse per media range on every request.
 */
export function mayNameVersion(rule: MediaTypeRule): (header: string) => boolean {
  const quoted = (s: string) => s.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
  const parts: string[] = [];
  if (rule.vendor !== undefined) parts.push(`vnd\\.${quoted(rule.vendor)}\\.v`);
  if (rule.parameter !== undefined) parts.push(`${quoted(rule.parameter)}[ \\t]*=`);
  if (parts.length === 0) return () => false;
  const re = new RegExp(parts.join('|'), 'i');
  return (header) => re.test(header);
}
