// Request ids: accept a well-formed incoming id, else generate one; echo it; expose it on the exchange.
import { randomUUID } from 'node:crypto';
import * as v from 'valibot';
import type { Middleware } from './middleware.js';
import { functionOption, parseOptions, type TypesAgree } from './options.js';

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

/** The valibot schema {@link requestId} checks its options against (ranges as the configuration's `requestId`). */
export const requestIdOptionsSchema = v.strictObject({
  header: v.optional(
    v.pipe(
      v.string(),
      v.regex(/^[A-Za-z0-9!#$%&'*+.^_`|~-]+$/, 'expected a header name (letters, digits and -)'),
    ),
  ),
  trustIncoming: v.optional(v.boolean()),
  maxLength: v.optional(v.pipe(v.number(), v.safeInteger(), v.minValue(8), v.maxValue(1024))),
  generate: v.optional(functionOption<() => string>('a function returning a new id')),
});

const typesAgree: TypesAgree<v.InferInput<typeof requestIdOptionsSchema>, RequestIdOptions> = true;
void typesAgree;

/**
 * Assigns every request an id. An incoming id is kept when it is well-formed (1 to `maxLength`
 * characters from `A-Z a-z 0-9 . _ : + = / @ -`); anything else (too long, control characters,
 * repeated headers) is replaced by a generated one, never echoed.
 *
 * @throws ConfigError listing every problem in the options.
 */
export function requestId(options: RequestIdOptions = {}): Middleware {
  const checked = parseOptions(requestIdOptionsSchema, options, { name: 'requestId' });
  const header = (checked.header ?? 'x-request-id').toLowerCase();
  const trustIncoming = checked.trustIncoming ?? true;
  const maxLength = checked.maxLength ?? 128;
  const generate = checked.generate ?? randomUUID;
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
