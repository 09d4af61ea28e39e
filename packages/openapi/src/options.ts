// OpenApiOptions, their defaults, and their validation: a valibot schema (`openapiOptionsSchema`) checked
// by core's parseOptions once, when the factory runs (every problem in one ConfigError).
import { parseOptions } from '@gatehousejs/core';
import * as v from 'valibot';

/** What to do with a request whose path is not in the document. */
export type UnknownPathPolicy = 'pass' | 'reject';

/** How responses are checked: not at all, counted and reported, or replaced by a 500 problem. */
export type ResponseMode = 'off' | 'report' | 'enforce';

/** Answering operations from the document's examples. */
export type MockMode = 'off' | 'unhandled' | 'always';

/** Options of request validation. */
export interface RequestOptions {
  /**
   * A path the document does not describe: `'pass'` lets the application answer it (health checks,
   * routes outside the API); `'reject'` answers 404 `GH_OPENAPI_UNKNOWN_OPERATION`.
   *
   * @default 'pass'
   */
  unknownPath?: UnknownPathPolicy;
  /**
   * A method the document does not describe on a known path: `'reject'` answers 405
   * `GH_METHOD_NOT_ALLOWED` with `Allow`; `'pass'` lets the application answer it.
   *
   * @default 'reject'
   */
  unknownMethod?: 'reject' | 'pass';
  /**
   * A query parameter the operation does not declare: `'reject'` answers 400; `'ignore'` lets it through.
   *
   * @default 'reject'
   */
  unknownQuery?: 'reject' | 'ignore';
  /** Largest request body read and validated; larger ones answer 413. @default 1_048_576 (1 MiB) */
  maxBodyBytes?: number;
  /**
   * What becomes of a JSON, form or text body once validated. `'replay'`: it is put back on the
   * request stream, so the application's own parser (express.json(), @koa/bodyparser, …) reads it
   * as if nothing had happened. `'parsed'`: it is parsed once, here; the stream is left consumed and
   * `req.body` (on Node's request) holds the validated value, which Express's body parsers then keep
   * (they skip a finished request) and `@koa/bodyparser` adopts with `enableRawChecking: true`.
   * Multipart and other bodies are always replayed (multer and friends read the stream).
   *
   * @default 'replay'
   */
  body?: 'replay' | 'parsed';
  /** Most parts (fields and files) a multipart body may have. @default 100 */
  maxParts?: number;
  /**
   * Most issues listed in one 400 answer. Each parameter location and the body stop at their first
   * issue (ajv `allErrors` off), so hostile input cannot make validation or the answer grow.
   *
   * @default 10
   */
  maxErrors?: number;
}

/** Options of response validation. */
export interface ResponseOptions {
  /**
   * `'off'`: responses are not checked. `'report'`: checked after they are sent, each violation counted
   * (metric `gatehouse.openapi.response.violations`) and published (event `'response-invalid'` on the
   * validator, channel `gatehouse:openapi:response-invalid`); the response is untouched.
   * `'enforce'`: the response is held until it is complete (up to `maxBodyBytes`) and a violating one
   * is replaced by 500 `GH_OPENAPI_RESPONSE_INVALID`.
   *
   * @default 'off'
   */
  mode?: ResponseMode;
  /** Share of responses checked, 0–1. @default 1 */
  sampleRate?: number;
  /** Largest response body checked; a larger one is sent unchecked (and counted as skipped). @default 1 MiB */
  maxBodyBytes?: number;
}

/** The API reference page served from the same document. */
export interface ReferenceOptions {
  /** Where the page is served (`GET`); the document is served at `<path>/openapi.json`. @default '/reference' */
  path?: string;
  /**
   * The renderer: `'swagger-ui'`, from the npm package `swagger-ui-dist` (an optional peer dependency:
   * install it beside this package). Its files are served from this process, never a CDN.
   *
   * @default 'swagger-ui'
   */
  renderer?: 'swagger-ui';
  /** The page title. @default the document's `info.title` */
  title?: string;
}

/** Options of `openapi()` (`gw.validate()`). */
export interface OpenApiOptions {
  /**
   * The OpenAPI 3.0 or 3.1 document: a path to a YAML or JSON file (its `$ref`s to other files are
   * resolved relative to it), a `file:` URL, or the document as an object.
   */
  document: string | URL | Record<string, unknown>;
  /** Names this validator in events, metrics and errors. @default 'openapi' */
  name?: string;
  /**
   * Where the document's paths are mounted (`'/api'`): one prefix or several. `''` mounts them at the root.
   *
   * @default the path of every `servers[].url` (variables at their defaults), else ''
   */
  basePath?: string | readonly string[];
  /** Request validation; `false` turns it off (responses, mocks and the reference page still work). */
  requests?: RequestOptions | false;
  /** Response validation. @default { mode: 'off' } */
  responses?: ResponseOptions;
  /**
   * Validate the responses of migrated routes' services (`gw.routes()` in shadow, split, remote or
   * fallback mode) against the document and count violations per route and field in `/migration`.
   * Only used through the gateway's `validate()`.
   *
   * @default true
   */
  contractGuard?: boolean;
  /**
   * `'unhandled'`: an operation nothing answered (the application's 404) is answered from its
   * examples; `'always'`: every documented operation is answered from its examples before the
   * application sees it (a front end's stand-in). `'off'`: never.
   *
   * @default 'off'
   */
  mock?: MockMode;
  /** Serve the API reference page (and the document) from this process. @default false */
  reference?: ReferenceOptions | boolean;
}

const positiveInt = () => v.pipe(v.number(), v.safeInteger(), v.gtValue(0));
const fraction = v.pipe(v.number(), v.minValue(0), v.maxValue(1));
const refPath = v.pipe(
  v.string(),
  v.regex(/^\/[^?#\s]*$/, 'must be a path starting with / (no query, no spaces)'),
);
const basePathString = v.pipe(
  v.string(),
  v.regex(/^(?:\/[^?#\s]*)?$/, "must be '' or a path starting with / (no query, no spaces)"),
);

/** The valibot schema of {@link OpenApiOptions}, checked by core's `parseOptions`. */
export const openapiOptionsSchema = v.strictObject({
  document: v.union([
    v.pipe(v.string(), v.minLength(1, 'must be a file path, a file: URL or a document object')),
    v.instance(URL),
    v.record(v.string(), v.unknown()),
  ]),
  name: v.optional(
    v.pipe(v.string(), v.regex(/^[A-Za-z0-9_.-]+$/, 'must be a token (letters, digits, -, _, .)')),
  ),
  basePath: v.optional(v.union([basePathString, v.pipe(v.array(basePathString), v.minLength(1))])),
  requests: v.optional(
    v.union([
      v.literal(false),
      v.strictObject({
        unknownPath: v.optional(v.picklist(['pass', 'reject'])),
        unknownMethod: v.optional(v.picklist(['reject', 'pass'])),
        unknownQuery: v.optional(v.picklist(['reject', 'ignore'])),
        maxBodyBytes: v.optional(positiveInt()),
        body: v.optional(v.picklist(['replay', 'parsed'])),
        maxParts: v.optional(positiveInt()),
        maxErrors: v.optional(v.pipe(v.number(), v.safeInteger(), v.gtValue(0), v.maxValue(1000))),
      }),
    ]),
  ),
  responses: v.optional(
    v.strictObject({
      mode: v.optional(v.picklist(['off', 'report', 'enforce'])),
      sampleRate: v.optional(fraction),
      maxBodyBytes: v.optional(positiveInt()),
    }),
  ),
  contractGuard: v.optional(v.boolean()),
  mock: v.optional(v.picklist(['off', 'unhandled', 'always'])),
  reference: v.optional(
    v.union([
      v.boolean(),
      v.strictObject({
        path: v.optional(refPath),
        renderer: v.optional(v.literal('swagger-ui')),
        title: v.optional(v.string()),
      }),
    ]),
  ),
});

/** Options with every default filled in. */
export interface ResolvedOptions {
  readonly document: string | URL | Record<string, unknown>;
  readonly name: string;
  readonly basePath: readonly string[] | undefined;
  readonly requests: Required<RequestOptions> | false;
  readonly responses: Required<ResponseOptions>;
  readonly contractGuard: boolean;
  readonly mock: MockMode;
  readonly reference: (Required<Omit<ReferenceOptions, 'title'>> & { title: string | undefined }) | undefined;
}

/**
 * Checks `input` against {@link openapiOptionsSchema} and fills in defaults; throws one ConfigError
 * listing every problem (`validate.responses.mode: …`, `validate.requets: unknown option — did you
 * mean 'requests'?`).
 */
export function resolveOptions(input: unknown, name = 'validate'): ResolvedOptions {
  const o = parseOptions(openapiOptionsSchema, input, { name });
  const requests: ResolvedOptions['requests'] =
    o.requests === false
      ? false
      : {
          unknownPath: o.requests?.unknownPath ?? 'pass',
          unknownMethod: o.requests?.unknownMethod ?? 'reject',
          unknownQuery: o.requests?.unknownQuery ?? 'reject',
          maxBodyBytes: o.requests?.maxBodyBytes ?? 1_048_576,
          body: o.requests?.body ?? 'replay',
          maxParts: o.requests?.maxParts ?? 100,
          maxErrors: o.requests?.maxErrors ?? 10,
        };
  const reference =
    o.reference === undefined || o.reference === false
      ? undefined
      : {
          path: (o.reference === true ? undefined : o.reference.path)?.replace(/\/+$/, '') || '/reference',
          renderer: (o.reference === true ? undefined : o.reference.renderer) ?? 'swagger-ui',
          title: o.reference === true ? undefined : o.reference.title,
        };
  return {
    document: o.document as ResolvedOptions['document'],
    name: o.name ?? 'openapi',
    basePath:
      o.basePath === undefined
        ? undefined
        : (Array.isArray(o.basePath) ? o.basePath : [o.basePath as string]).map((p) => p.replace(/\/+$/, '')),
    requests,
    responses: {
      mode: o.responses?.mode ?? 'off',
      sampleRate: o.responses?.sampleRate ?? 1,
      maxBodyBytes: o.responses?.maxBodyBytes ?? 1_048_576,
    },
    contractGuard: o.contractGuard ?? true,
    mock: o.mock ?? 'off',
    reference,
  };
}
