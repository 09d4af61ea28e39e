// Who the client is, and which scheme and host it asked for, believing forwarding headers only when
// they come from proxies the configuration trusts.
import type { IncomingHttpHeaders } from 'node:http';
import { BlockList, isIP, SocketAddress } from 'node:net';
import { didYouMean } from './config/suggest.js';
import { ConfigError, type ConfigProblem } from './config/validate.js';
import { Problems, unknownKeys } from './options.js';

/** Which peers may speak for the client through forwarding headers. */
export interface ProxyTrustOptions {
  /**
   * Which peers may set forwarding headers:
   * - `false`: none, every forwarding header is ignored;
   * - a hop count `n` (0–32): trust the `n` proxies nearest to this server, whatever their address;
   * - a list of addresses, CIDRs and the names `'loopback'` (127.0.0.0/8, ::1), `'private'`
   *   (10.0.0.0/8, 172.16.0.0/12, 192.168.0.0/16), `'linklocal'` (169.254.0.0/16, fe80::/10) and
   *   `'uniquelocal'` (fc00::/7).
   *
   * @default false
   * @example ['loopback', '10.1.0.0/16']
   */
  trustedProxies: false | number | readonly string[];
  /**
   * Which header carries the chain of addresses: `'x-forwarded-for'`, `'forwarded'` (RFC 7239; then
   * `proto=` and `host=` come from it too) or `'x-real-ip'` (a single address).
   *
   * @default 'x-forwarded-for'
   */
  header: 'x-forwarded-for' | 'forwarded' | 'x-real-ip';
}

/** Trust nobody: the client is the socket peer. */
export const DEFAULT_PROXY_TRUST: Readonly<ProxyTrustOptions> = Object.freeze({
  trustedProxies: false,
  header: 'x-forwarded-for',
});

/** Answers about the client of one request; made once by {@link createProxyTrust}. */
export interface ProxyTrust {
  /**
   * The client address, canonical (IPv4-mapped IPv6 folded to IPv4, IPv6 lowercase and compressed).
   * Falls back to the socket peer, or `''` when the peer is unknown (a closed socket). Never throws.
   */
  clientIp(peer: string | undefined, headers: IncomingHttpHeaders): string;
  /**
   * `'https'` or `'http'`: from `X-Forwarded-Proto` (or `Forwarded` `proto=`) when the peer is trusted
   * and the value is http or https, otherwise from whether the connection is `encrypted`.
   */
  protocol(peer: string | undefined, encrypted: boolean, headers: IncomingHttpHeaders): 'http' | 'https';
  /**
   * The requested `host[:port]`: from `X-Forwarded-Host` (or `Forwarded` `host=`) when the peer is
   * trusted and sent one, otherwise the `Host` header. `undefined` when absent or not a valid host.
   */
  host(peer: string | undefined, headers: IncomingHttpHeaders): string | undefined;
}

/**
 * At most this many forwarding hops are examined. Only the entries nearest to this server can have been
 * written by trusted proxies, so a chain of 10,000 entries costs no more than one of 32; when all 32 are
 * trusted, the 32nd is taken as the client.
 */
const MAX_HOPS = 32;

const NAMED_RANGES: ReadonlyMap<string, readonly (readonly [string, number])[]> = new Map([
  [
    'loopback',
    [
      ['127.0.0.0', 8],
      ['::1', 128],
    ],
  ],
  [
    'private',
    [
      ['10.0.0.0', 8],
      ['172.16.0.0', 12],
      ['192.168.0.0', 16],
    ],
  ],
  [
    'linklocal',
    [
      ['169.254.0.0', 16],
      ['fe80::', 10],
    ],
  ],
  ['uniquelocal', [['fc00::', 7]]],
]);

const family = (address: string): 'ipv4' | 'ipv6' => (address.includes(':') ? 'ipv6' : 'ipv4');

const MAPPED_HEX = /^([0-9a-f]{1,4}):([0-9a-f]{1,4})$/i;

/**
 * Folds an IPv4-mapped IPv6 address (`::ffff:1.2.3.4`, also `::FFFF:` and the hex form `::ffff:102:304`)
 * to `1.2.3.4`; returns any other input unchanged.
 */
export function foldMappedIPv4(address: string): string {
  if (address.length < 10 || address.charCodeAt(0) !== 0x3a || address.charCodeAt(6) !== 0x3a) return address;
  const prefix = address.slice(0, 7).toLowerCase();
  if (prefix !== '::ffff:') return address;
  const rest = address.slice(7);
  if (isIP(rest) === 4) return rest;
  const hex = MAPPED_HEX.exec(rest);
  if (!hex) return address;
  const high = Number.parseInt(hex[1]!, 16);
  const low = Number.parseInt(hex[2]!, 16);
  return `${high >> 8}.${high & 0xff}.${low >> 8}.${low & 0xff}`;
}

/** An address as written in a header or option: validated, folded; `undefined` when not an IP. */
function canonicalIp(text: string): string | undefined {
  // isIP accepts IPv6 zone identifiers ('fe80::1%eth0'), which name an interface, not a client.
  if (text.includes('%')) return undefined;
  const folded = foldMappedIPv4(text);
  const version = isIP(folded);
  if (version === 4) return folded;
  if (version !== 6) return undefined;
  return new SocketAddress({ address: folded, family: 'ipv6' }).address;
}

const PORT = /^\d{1,5}$/;
const OBFUSCATED_PORT = /^_[A-Za-z0-9._-]+$/;

/**
 * Parses `1.2.3.4`, `1.2.3.4:80`, `2001:db8::1`, `[2001:db8::1]` or `[2001:db8::1]:80` (and, in
 * `Forwarded`, an obfuscated port `_abc`). Returns `''` for anything else: `unknown`, `_hidden`, junk.
 */
function parseNode(text: string, obfuscatedPorts: boolean): string {
  let host = text.trim();
  let port = '';
  if (host.charCodeAt(0) === 0x5b) {
    const close = host.indexOf(']');
    if (close === -1) return '';
    const rest = host.slice(close + 1);
    if (rest !== '') {
      if (rest.charCodeAt(0) !== 0x3a) return '';
      port = rest.slice(1);
    }
    host = host.slice(1, close);
    if (isIP(host) !== 6) return '';
  } else {
    const colon = host.indexOf(':');
    if (colon !== -1 && colon === host.lastIndexOf(':')) {
      port = host.slice(colon + 1);
      host = host.slice(0, colon);
      if (isIP(host) !== 4) return '';
    }
  }
  if (port !== '' && !PORT.test(port) && !(obfuscatedPorts && OBFUSCATED_PORT.test(port))) return '';
  return canonicalIp(host) ?? '';
}

// Typed as strings, but header objects are often assembled by hand; anything else counts as absent.
function headerText(value: unknown): string | undefined {
  if (typeof value === 'string') return value;
  return Array.isArray(value) && value.every((item) => typeof item === 'string')
    ? value.join(',')
    : undefined;
}

/** Up to `limit` comma-separated entries, nearest (rightmost) first, without splitting the whole value. */
function lastEntries(value: string, limit: number): string[] {
  const entries: string[] = [];
  let end = value.length;
  while (entries.length < limit) {
    // lastIndexOf clamps a negative start to 0, which would find the comma at 0 again.
    const comma = end === 0 ? -1 : value.lastIndexOf(',', end - 1);
    entries.push(value.slice(comma + 1, end));
    if (comma === -1) break;
    end = comma;
  }
  return entries;
}

/** One `Forwarded` element: its `for=` node parsed (`''` when unusable), and `proto=`/`host=` as sent. */
interface ForwardedElement {
  readonly for: string;
  readonly proto: string | undefined;
  readonly host: string | undefined;
}

/**
 * Splits `Forwarded` into elements from the right, honouring quoted strings, so a malformed element a
 * client put first cannot swallow the well-formed ones its proxies appended after it.
 */
function lastForwardedElements(value: string, limit: number): ForwardedElement[] {
  const elements: ForwardedElement[] = [];
  let end = value.length;
  let inQuotes = false;
  for (let i = value.length - 1; i >= -1 && elements.length < limit; i--) {
    const c = i === -1 ? 0x2c : value.charCodeAt(i);
    if (c === 0x22) {
      if (!inQuotes) {
        inQuotes = true;
      } else {
        let backslashes = 0;
        while (i - 1 - backslashes >= 0 && value.charCodeAt(i - 1 - backslashes) === 0x5c) backslashes++;
        if (backslashes % 2 === 0) inQuotes = false;
      }
    } else if (c === 0x2c && (!inQuotes || i === -1)) {
      elements.push(parseForwardedElement(value.slice(i + 1, end)));
      end = i;
    }
  }
  return elements;
}

const UNUSABLE: ForwardedElement = Object.freeze({ for: '', proto: undefined, host: undefined });
const TOKEN = /^[!#$%&'*+\-.^_`|~0-9A-Za-z]+$/;
// Unquoted values should be tokens; '[', ']' and ':' are tolerated for proxies that forget to quote IPv6.
const LENIENT_VALUE = /^[!#$%&'*+\-.^_`|~0-9A-Za-z[\]:]+$/;

function parseForwardedElement(text: string): ForwardedElement {
  let forValue: string | undefined;
  let proto: string | undefined;
  let host: string | undefined;
  let i = 0;
  const n = text.length;
  while (i < n) {
    while (i < n && (text[i] === ' ' || text[i] === '\t' || text[i] === ';')) i++;
    if (i >= n) break;
    const eq = text.indexOf('=', i);
    if (eq === -1) return UNUSABLE;
    const name = text.slice(i, eq).toLowerCase();
    if (!TOKEN.test(name)) return UNUSABLE;
    let value: string;
    i = eq + 1;
    if (text[i] === '"') {
      value = '';
      i++;
      while (i < n && text[i] !== '"') {
        if (text[i] === '\\') i++;
        value += text[i] ?? '';
        i++;
      }
      if (i >= n) return UNUSABLE;
      i++;
      while (i < n && (text[i] === ' ' || text[i] === '\t')) i++;
      if (i < n && text[i] !== ';') return UNUSABLE;
    } else {
      const semi = text.indexOf(';', i);
      const stop = semi === -1 ? n : semi;
      value = text.slice(i, stop).trim();
      if (!LENIENT_VALUE.test(value)) return UNUSABLE;
      i = stop;
    }
    // RFC 7239 §4: a parameter appears at most once per element; a repeat means a confused sender.
    if (name === 'for') {
      if (forValue !== undefined) return UNUSABLE;
      forValue = value;
    } else if (name === 'proto') {
      if (proto !== undefined) return UNUSABLE;
      proto = value;
    } else if (name === 'host') {
      if (host !== undefined) return UNUSABLE;
      host = value;
    }
  }
  return { for: forValue === undefined ? '' : parseNode(forValue, true), proto, host };
}

/** Where the walk along the forwarding chain stopped. */
interface Resolution {
  /** The client address. */
  readonly address: string;
  /** How many proxies are trusted to have written this request's forwarding headers. */
  readonly proxies: number;
  /** In `forwarded` mode, the element that named the client (its proxy's view of scheme and host). */
  readonly element: ForwardedElement | undefined;
}

const HOST = /^[A-Za-z0-9_-]+(?:\.[A-Za-z0-9_-]+)*\.?(?::\d{1,5})?$/;

/** A `host[:port]` fit to be echoed into URLs, or `undefined`; no userinfo, path, CR/LF or spaces. */
function validHost(text: unknown): string | undefined {
  if (typeof text !== 'string') return undefined;
  const value = text.trim();
  if (value.length === 0 || value.length > 260) return undefined;
  let port: string | undefined;
  if (value.charCodeAt(0) === 0x5b) {
    const close = value.indexOf(']');
    if (close === -1 || value.includes('%')) return undefined;
    if (isIP(value.slice(1, close)) !== 6) return undefined;
    const rest = value.slice(close + 1);
    if (rest !== '') {
      if (rest.charCodeAt(0) !== 0x3a || !PORT.test(rest.slice(1))) return undefined;
      port = rest.slice(1);
    }
  } else {
    if (!HOST.test(value)) return undefined;
    const colon = value.indexOf(':');
    if (colon !== -1) port = value.slice(colon + 1);
  }
  if (port !== undefined && Number(port) > 65_535) return undefined;
  return value;
}

/** The value the outermost trusted proxy wrote, when each trusted proxy appended one or overwrote all. */
function trustedValue(value: string, proxies: number): string | undefined {
  if (!value.includes(',')) return value;
  const entries = lastEntries(value, Math.max(1, proxies));
  return entries[entries.length - 1];
}

/**
 * The addresses, CIDRs and range names as a BlockList, or every problem with its entry: `path` is
 * `label[index]`, the message says what is wrong with the entry (and suggests a range name it is close to).
 */
function compileList(
  entries: readonly unknown[],
  label: string,
): { list: BlockList; problems: ConfigProblem[] } {
  const list = new BlockList();
  const problems: ConfigProblem[] = [];
  const problem = (i: number, message: string) => problems.push({ path: `${label}[${i}]`, message });
  entries.forEach((entry, i) => {
    if (typeof entry !== 'string') {
      problem(i, `expected an address, CIDR or range name, got ${typeof entry}`);
      return;
    }
    const named = NAMED_RANGES.get(entry.trim().toLowerCase());
    if (named) {
      for (const [network, prefix] of named) list.addSubnet(network, prefix, family(network));
      return;
    }
    const slash = entry.indexOf('/');
    const address = canonicalIp((slash === -1 ? entry : entry.slice(0, slash)).trim());
    if (address === undefined) {
      problem(
        i,
        `invalid address in '${entry}'${didYouMean(entry.trim().toLowerCase(), [...NAMED_RANGES.keys()])}`,
      );
      return;
    }
    if (slash === -1) {
      list.addAddress(address, family(address));
      return;
    }
    const prefixText = entry.slice(slash + 1).trim();
    let prefix = /^\d{1,3}$/.test(prefixText) ? Number(prefixText) : -1;
    // '::ffff:10.0.0.0/104' was folded to 10.0.0.0, so its prefix loses the 96 bits of the mapping.
    const mapped = family(address) === 'ipv4' && entry.slice(0, slash).includes(':');
    if (mapped) prefix = prefix >= 96 ? prefix - 96 : -1;
    if (prefix < 0 || prefix > (family(address) === 'ipv4' ? 32 : 128)) {
      problem(i, `invalid prefix length in '${entry}'`);
      return;
    }
    list.addSubnet(address, prefix, family(address));
  });
  return { list, problems };
}

/**
 * A matcher for a list of addresses, CIDRs and range names (`'loopback'`, `'private'`, `'linklocal'`,
 * `'uniquelocal'`), as `trustedProxies` takes them; addresses to check must be canonical (as
 * `Exchange.clientIp` gives them).
 *
 * @param label - the list's path in problems: `'exempt.ips'` gives `exempt.ips[2]: …`
 * @throws ConfigError listing every bad entry with its path (`addresses[1]: invalid address in 'x'`)
 * @example createAddressMatcher(['10.0.0.0/8', 'loopback'], 'exempt.ips')('10.1.2.3'); // true
 */
export function createAddressMatcher(
  entries: readonly string[],
  label = 'addresses',
): (address: string) => boolean {
  if (!Array.isArray(entries))
    throw new ConfigError([{ path: label, message: 'expected an array of addresses' }]);
  const { list, problems } = compileList(entries, label);
  if (problems.length > 0) throw new ConfigError(problems);
  return (address) => address !== '' && list.check(address, family(address));
}

/**
 * Validates the options once and compiles the trusted ranges, so each request costs a few lookups.
 *
 * Addresses in the chain are walked from the nearest proxy outwards: with a list, while the current
 * address is trusted; with a hop count `n`, `n` steps. The walk stops early at a malformed entry
 * (`unknown`, `_hidden`, not an IP) and then keeps the last good address.
 *
 * @param options - defaults to {@link DEFAULT_PROXY_TRUST} (trust nobody)
 * @throws ConfigError listing every problem with its path, e.g.
 *   `clientIp.trustedProxies[0]: invalid prefix length in '10.0.0.0/33'`
 * @example
 *   const trust = createProxyTrust({ trustedProxies: ['loopback'] });
 *   trust.clientIp(req.socket.remoteAddress, req.headers);
 */
export function createProxyTrust(options: Partial<ProxyTrustOptions> = {}): ProxyTrust {
  const problems: ConfigProblem[] = [];
  if (typeof options !== 'object' || options === null) {
    throw new ConfigError([
      { path: 'clientIp', message: 'expected an object ({ trustedProxies?, header? })' },
    ]);
  }
  const unknown = new Problems('clientIp');
  unknownKeys(unknown, '', options, ['trustedProxies', 'header']);
  try {
    unknown.throwIfAny();
  } catch (error) {
    problems.push(...(error as ConfigError).problems);
  }
  const trustedProxies = options.trustedProxies ?? DEFAULT_PROXY_TRUST.trustedProxies;
  const header = options.header ?? DEFAULT_PROXY_TRUST.header;
  const HEADERS = ['x-forwarded-for', 'forwarded', 'x-real-ip'];
  if (!HEADERS.includes(header)) {
    problems.push({
      path: 'clientIp.header',
      message: `expected 'x-forwarded-for', 'forwarded' or 'x-real-ip', got ${JSON.stringify(header)}${typeof header === 'string' ? didYouMean(header, HEADERS) : ''}`,
    });
  }
  let hops = 0;
  let list: BlockList | undefined;
  if (typeof trustedProxies === 'number') {
    if (!Number.isInteger(trustedProxies) || trustedProxies < 0 || trustedProxies > MAX_HOPS) {
      problems.push({
        path: 'clientIp.trustedProxies',
        message: `a hop count must be an integer from 0 to ${MAX_HOPS}, got ${trustedProxies}`,
      });
    }
    hops = trustedProxies;
  } else if (Array.isArray(trustedProxies)) {
    const compiled = compileList(trustedProxies, 'clientIp.trustedProxies');
    list = compiled.list;
    problems.push(...compiled.problems);
  } else if (trustedProxies !== false) {
    problems.push({
      path: 'clientIp.trustedProxies',
      message: 'expected false, a hop count or a list of addresses',
    });
  }
  if (problems.length > 0) throw new ConfigError(problems);

  const isTrusted = (address: string): boolean =>
    address !== '' && list !== undefined && list.check(address, family(address));

  // Node reports socket addresses already canonical, so folding the IPv4-mapped form is all they need.
  const peerAddress = (peer: string | undefined): string => (peer === undefined ? '' : foldMappedIPv4(peer));

  // Hop counting ignores addresses, so even a peer without one (a Unix socket) counts as the first hop.
  const peerTrusted = (peer: string): boolean => (list === undefined ? hops > 0 : isTrusted(peer));

  function resolve(peer: string, headers: IncomingHttpHeaders): Resolution {
    const limit = list === undefined ? hops : MAX_HOPS;
    let entries: string[];
    let elements: ForwardedElement[] | undefined;
    if (header === 'forwarded') {
      const value = headerText(headers.forwarded);
      elements = value === undefined ? [] : lastForwardedElements(value, limit);
      entries = elements.map((element) => element.for);
    } else {
      const value = headerText(headers[header]);
      if (value === undefined) entries = [];
      else if (header === 'x-real-ip') entries = value.includes(',') ? [''] : [value];
      else entries = lastEntries(value, limit);
    }
    let address = peer;
    let taken = 0;
    while (taken < entries.length && (list === undefined ? taken < hops : isTrusted(address))) {
      // X-Forwarded-For entries are parsed only when the walk reaches them.
      const next = elements === undefined ? parseNode(entries[taken]!, false) : entries[taken]!;
      if (next === '') break;
      address = next;
      taken++;
    }
    return { address, proxies: Math.max(taken, 1), element: taken > 0 ? elements?.[taken - 1] : undefined };
  }

  return {
    clientIp(peer, headers) {
      const address = peerAddress(peer);
      try {
        return peerTrusted(address) ? resolve(address, headers).address : address;
      } catch {
        // Header parsing meets arbitrary input; a flaw there must degrade to the socket address, never a 500.
        return address;
      }
    },

    protocol(peer, encrypted, headers) {
      const fallback = encrypted ? 'https' : 'http';
      const address = peerAddress(peer);
      if (!peerTrusted(address)) return fallback;
      let value: string | undefined;
      if (header === 'forwarded') {
        value = resolve(address, headers).element?.proto;
      } else {
        const sent = headerText(headers['x-forwarded-proto']);
        if (sent !== undefined) {
          value = sent.includes(',') ? trustedValue(sent, resolve(address, headers).proxies) : sent;
        }
      }
      const proto = value?.trim().toLowerCase();
      return proto === 'https' || proto === 'http' ? proto : fallback;
    },

    host(peer, headers) {
      const address = peerAddress(peer);
      if (peerTrusted(address)) {
        if (header === 'forwarded') {
          const forwarded = resolve(address, headers).element?.host;
          if (forwarded !== undefined) return validHost(forwarded);
        } else {
          const sent = headerText(headers['x-forwarded-host']);
          // A trusted proxy that sent an invalid host gets no fallback: the Host header may be the spoof.
          if (sent !== undefined) {
            return validHost(
              sent.includes(',') ? trustedValue(sent, resolve(address, headers).proxies) : sent,
            );
          }
        }
      }
      return validHost(headers.host);
    },
  };
}
