// Request ids: accept a well-formed incoming id, else generate one; echo it; expose it on the exchange.
import { randomUUID } from 'node:crypto';
import type { Middleware } from './middleware.js';

/** Options of {@link requestId}; the gateway's `requestId` configuration supplies the defaults. */
export interface RequestIdOptions {
  /** Header read and echoed. Default `x-request-id`. */
  header?: string;
  /** Accept a well-formed id from the client. Default `true`. */
  trustIncoming?: boolean;
  /** Longest accepted incoming id. Default `128`. */
  maxLength?: number;
  /** Makes a new id. Default `crypto.randomUUID`. */
  generate?: () => string;
}

// Visible ASCII that is safe in logs, headers and URLs; no spaces, quotes, commas or control characters.
const WELL_FORMED = /^[A-Za-z0-9._:+=/@-]+$/;

/**
 * Assigns every request an id. An incoming id is kept when it is well-formed (1 to `maxLength`
 * characters from `A-Z a-z 0-9 . _ : + = / @ -`); anything else (too long, control characters,
 * repeated headers) is replaced by a generated one, never echoed.
 */
export function requestId(options: RequestIdOptions = {}): Middleware {
  const header = (options.header ?? 'x-request-id').toLowerCase();
  const trustIncoming = options.trustIncoming ?? true;
  const maxLength = options.maxLength ?? 128;
  const generate = options.generate ?? randomUUID;
  if (!/^[a-z0-9!#$%&'*+.^_`|~-]+$/.test(header))
    throw new TypeError(`requestId: invalid header name '${header}'`);
  if (!Number.isInteger(maxLength) || maxLength < 8 || maxLength > 1024) {
    throw new TypeError(`requestId: maxLength must be an integer from 8 to 1024, got ${maxLength}`);
  }
  return {
    name: 'requestId',
    alwaysRun: true,
    onRequest(exchange) {
      const incoming = exchange.rawHeader(header);
      let id: string;
      if (
        trustIncoming &&
        typeof incoming === 'string' &&
        incoming.length <= maxLength &&
        WELL_FORMED.test(incoming)
      ) {
        id = incoming;
      } else {
        id = generate();
      }
      exchange.requestId = id;
      exchange.setHeader(header, id);
      return undefined;
    },
  };
}
