// Server spans, W3C/B3 propagation and client spans for outbound calls, on the OpenTelemetry API only:
// without a registered SDK everything here is a no-op and the request path does almost nothing.
import {
  ConfigError,
  type Exchange,
  type Gateway,
  loadPeer,
  type Middleware,
  type Outcome,
  parseOptions,
} from '@gatehousejs/core';
import {
  type Attributes,
  type Context,
  context,
  defaultTextMapGetter,
  defaultTextMapSetter,
  propagation,
  ROOT_CONTEXT,
  type Span,
  SpanKind,
  SpanStatusCode,
  type TextMapPropagator,
  type Tracer,
  trace,
} from '@opentelemetry/api';
import type * as OtelCore from '@opentelemetry/core';
import type * as B3 from '@opentelemetry/propagator-b3';
import {
  createGatewayMetrics,
  type GatewayMetrics,
  type MetricsHandle,
  type MetricsOptions,
} from './metrics.js';
import { tracingOptionsSchema } from './options.js';
import './state.js';
import { KNOWN_METHODS } from './semconv.js';

/** Propagation formats Gatehouse can read and write itself. */
export type PropagatorName = 'tracecontext' | 'baggage' | 'b3' | 'b3multi';

/** Options of {@link createTracing} (and `gw.tracing()`). */
export interface TracingOptions {
  /**
   * Formats to extract from requests and inject into outbound calls, in order. Default: whatever the
   * application registered with the OpenTelemetry API (`propagation.setGlobalPropagator`, done by the
   * SDK; W3C trace context and baggage unless configured otherwise). Set it to accept B3 from meshes
   * such as Istio or Linkerd: `['tracecontext', 'baggage', 'b3']` (`b3` writes the single `b3` header,
   * `b3multi` the `X-B3-*` headers; both read either).
   */
  propagators?: readonly PropagatorName[];
  /**
   * Answer with a `traceresponse` header (W3C Trace Context Level 2) carrying the trace and server
   * span ids, so a client can quote them next to `x-request-id`. Default `false`.
   */
  traceResponseHeader?: boolean;
  /** Metrics options: the meter provider and the Prometheus endpoint. */
  metrics?: MetricsOptions;
}

// The OpenTelemetry packages used only by some options are required when those options are used
// (loadPeer): a smaller heap is measurably faster for small Express apps on Node 20 (bench/RESULTS.md,
// session 6). They are CommonJS without an `exports` map, so `import` and `require` share one instance.
const TRACER_NAME = '@gatehousejs/tracing';

const endNothing = (): void => {};

/**
 * Whether an OpenTelemetry SDK has registered a tracer provider. Asked per call, since an application
 * may register its SDK after the gateway is made; the global provider is the API's proxy, which says
 * whether it has a delegate.
 */
function sdkRegistered(): boolean {
  const provider = trace.getTracerProvider() as { getDelegateTracer?: (name: string) => unknown };
  return (
    typeof provider.getDelegateTracer !== 'function' || provider.getDelegateTracer(TRACER_NAME) !== undefined
  );
}
// Credentials that may sit inside an exception message (a bearer token, a JWT) never reach a span.
const SECRET_IN_TEXT = /(bearer\s+)[\w.~+/-]+=*|eyJ[\w-]{4,}\.[\w-]{4,}\.[\w-]*/gi;

/** Names checked by tracingOptionsSchema (known, no duplicates, not both b3 encodings). */
function buildPropagator(names: readonly PropagatorName[]): TextMapPropagator {
  // Required here, not imported, and optional peer dependencies: only configured propagators need
  // them (about 2 MB of heap; see loadPeer above). The B3 propagator depends on @opentelemetry/core, so
  // installing it alone gives one copy of each.
  const b3 = names.some((name) => name.startsWith('b3'));
  const peer = {
    from: import.meta.url,
    path: 'tracing.propagators',
    feature: `the ${names.join(', ')} propagators`,
    install: b3 ? '@opentelemetry/propagator-b3' : '@opentelemetry/core',
  };
  const { CompositePropagator, W3CBaggagePropagator, W3CTraceContextPropagator } = loadPeer<typeof OtelCore>(
    '@opentelemetry/core',
    peer,
  );
  const { B3InjectEncoding, B3Propagator } = b3
    ? loadPeer<typeof B3>('@opentelemetry/propagator-b3', peer)
    : ({} as typeof B3);
  const propagators = names.map((name): TextMapPropagator => {
    switch (name) {
      case 'tracecontext':
        return new W3CTraceContextPropagator();
      case 'baggage':
        return new W3CBaggagePropagator();
      case 'b3':
        return new B3Propagator({ injectEncoding: B3InjectEncoding.SINGLE_HEADER });
      // 'b3multi', the last name validation lets through.
      default:
        return new B3Propagator({ injectEncoding: B3InjectEncoding.MULTI_HEADER });
    }
  });
  return new CompositePropagator({ propagators });
}

/** The HTTP method as the semantic conventions record it. */
function methodAttributes(method: string, attributes: Attributes): string {
  if (KNOWN_METHODS.has(method)) {
    attributes['http.request.method'] = method;
    return method;
  }
  attributes['http.request.method'] = '_OTHER';
  attributes['http.request.method_original'] = method;
  return 'HTTP';
}

function redactSecrets(text: string): string {
  return text.replace(SECRET_IN_TEXT, (_match, bearer: string | undefined) => `${bearer ?? ''}[redacted]`);
}

/** An exception as recorded on a span: type, message and stack, with credentials removed. */
function exceptionOf(error: unknown): { name: string; message: string; stack?: string } {
  if (error instanceof Error) {
    const code = (error as { code?: unknown }).code;
    return {
      name: typeof code === 'string' ? `${error.name} ${code}` : error.name,
      message: redactSecrets(error.message),
      ...(error.stack ? { stack: redactSecrets(error.stack) } : {}),
    };
  }
  return { name: typeof error, message: redactSecrets(String(error)) };
}

/** A client span for one outbound call; `end()` it exactly once. */
export interface OutboundSpan {
  /** Headers to send: the trace context of the client span, injected with the configured propagators. */
  readonly headers: Record<string, string>;
  /** The context of the client span (for nested work). */
  readonly context: Context;
  /** Ends the span with the response status, or with the error that prevented a response. */
  end(result: { status: number } | { error: unknown }): void;
}

/** Where an outbound call goes, for its client span and metrics. */
export interface OutboundRequest {
  method: string;
  /** The target: a URL, or any object with the parts spans use (cheaper than parsing one per call). */
  url: Pick<URL, 'hostname' | 'origin' | 'pathname' | 'port'>;
  /** Existing headers; trace headers are added to a copy. */
  headers?: Record<string, string>;
  /** The request the call is made for; default: the active OpenTelemetry context. */
  exchange?: Exchange;
}

/**
 * Tracing for one gateway: the server middleware, client spans for outbound calls, and metrics. Get
 * it with {@link tracingFor} so that every capability of a gateway shares one instance.
 */
export class Tracing {
  readonly tracer: Tracer;
  readonly metrics: GatewayMetrics;
  readonly #propagator: TextMapPropagator | undefined;
  readonly #traceResponse: boolean;
  readonly #handle: MetricsHandle;
  readonly #middleware: Middleware;

  /** @throws ConfigError listing every problem in the options. */
  constructor(options: TracingOptions = {}) {
    parseOptions(tracingOptionsSchema, options, { name: 'tracing' });
    this.#propagator = options.propagators ? buildPropagator(options.propagators) : undefined;
    this.#traceResponse = options.traceResponseHeader ?? false;
    this.tracer = trace.getTracer(TRACER_NAME);
    this.#handle = createGatewayMetrics(options.metrics);
    this.metrics = this.#handle.metrics;
    this.#middleware = this.#createMiddleware();
  }

  /** The propagator in use: the configured one, else the global one from the OpenTelemetry API. */
  get propagator(): TextMapPropagator {
    return this.#propagator ?? propagation;
  }

  /** Prometheus text of the metrics kept in-process (`metrics.prometheus`), else undefined. */
  get prometheusText(): (() => Promise<string>) | undefined {
    return this.#handle.prometheusText;
  }

  /**
   * The meter provider `/metrics` is read from (`metrics.prometheus`), else undefined: a capability
   * with its own instruments (the response cache) registers them there too to appear in `/metrics`.
   */
  get prometheusMeterProvider(): import('@opentelemetry/api').MeterProvider | undefined {
    return this.#handle.prometheusMeterProvider;
  }

  /** The server middleware: mount it first. */
  middleware(): Middleware {
    return this.#middleware;
  }

  /** Writes the trace context of `ctx` (default: the active one) into `headers`. */
  inject(headers: Record<string, string>, ctx: Context = context.active()): Record<string, string> {
    this.propagator.inject(ctx, headers, defaultTextMapSetter);
    return headers;
  }

  /**
   * Starts a client span for an outbound call as a child of the request's server span (or of the
   * active context) and returns the headers to send, with a new parent id for this call.
   */
  startClientSpan(request: OutboundRequest): OutboundSpan {
    const parent = request.exchange?.state.traceContext ?? context.active();
    // No SDK registered and no metrics: the span would record nothing and carry the parent's ids, so
    // only the parent's context travels on (this runs on every proxied request: ~2 µs saved).
    if (!this.metrics.active && !sdkRegistered()) {
      return { headers: this.inject({ ...request.headers }, parent), context: parent, end: endNothing };
    }
    const attributes: Attributes = {
      'server.address': request.url.hostname,
      'url.full': `${request.url.origin}${request.url.pathname}`,
    };
    const port = request.url.port === '' ? undefined : Number(request.url.port);
    if (port !== undefined) attributes['server.port'] = port;
    const method = methodAttributes(request.method.toUpperCase(), attributes);
    const span = this.tracer.startSpan(method, { kind: SpanKind.CLIENT, attributes }, parent);
    const ctx = trace.setSpan(parent, span);
    const headers = this.inject({ ...request.headers }, ctx);
    const started = performance.now();
    const metrics = this.metrics;
    let ended = false;
    return {
      headers,
      context: ctx,
      end(result) {
        if (ended) return;
        ended = true;
        let status: number | undefined;
        let errorType: string | undefined;
        if ('status' in result) {
          status = result.status;
          span.setAttribute('http.response.status_code', status);
          if (status >= 400) {
            errorType = String(status);
            span.setStatus({ code: SpanStatusCode.ERROR });
          }
        } else {
          const exception = exceptionOf(result.error);
          errorType = exception.name;
          span.recordException(exception);
          span.setStatus({ code: SpanStatusCode.ERROR, message: exception.message });
        }
        if (errorType !== undefined) span.setAttribute('error.type', errorType);
        span.end();
        if (metrics.active) {
          metrics.clientRequestFinished(
            {
              method: attributes['http.request.method'] as string,
              serverAddress: request.url.hostname,
              serverPort: port,
              status,
              errorType,
            },
            (performance.now() - started) / 1000,
          );
        }
      },
    };
  }

  /**
   * `fetch` with a client span and trace headers: for outbound calls an application makes by hand.
   * Gatehouse's own outbound calls (proxying, aggregation, the mesh client) are traced the same way.
   */
  async fetch(input: string | URL, init: RequestInit & { exchange?: Exchange } = {}): Promise<Response> {
    const url = new URL(input);
    const { exchange, ...rest } = init;
    const headers: Record<string, string> = {};
    new Headers(rest.headers).forEach((value, name) => {
      headers[name] = value;
    });
    const span = this.startClientSpan({ method: rest.method ?? 'GET', url, headers, exchange });
    try {
      const response = await context.with(span.context, () => fetch(url, { ...rest, headers: span.headers }));
      span.end({ status: response.status });
      return response;
    } catch (error) {
      span.end({ error });
      throw error;
    }
  }

  #createMiddleware(): Middleware {
    const tracing = this;
    // Tracked only for requests that record something, so an idle tracer adds no per-request listener.
    const finish: Middleware = {
      name: 'tracing.finish',
      onFinish: (exchange, outcome) => tracing.#finish(exchange, outcome),
    };
    return {
      name: 'tracing',
      // Refused requests (invalid paths) get a span and metrics too.
      alwaysRun: true,
      onRequest(exchange) {
        const parent = tracing.propagator.extract(ROOT_CONTEXT, exchange.req.headers, defaultTextMapGetter);
        // Started before its attributes are computed: with no SDK (a non-recording span, no incoming
        // trace, no metrics) the request leaves here having allocated almost nothing. Samplers see the
        // span kind and parent, not the attributes.
        const span = tracing.tracer.startSpan(exchange.method, { kind: SpanKind.SERVER }, parent);
        const recording = span.isRecording();
        if (!recording && !tracing.metrics.active && trace.getSpanContext(parent) === undefined)
          return undefined;
        const ctx = trace.setSpan(parent, span);
        exchange.state.span = span;
        exchange.state.traceContext = ctx;
        // The whole request, including the application's handlers, runs inside this context.
        exchange.enterScope(withTraceContext);
        if (recording || tracing.metrics.active) {
          exchange.track(finish);
          if (tracing.metrics.active)
            tracing.metrics.serverRequestStarted(exchange.method, exchange.protocol);
        }
        if (tracing.#traceResponse) {
          const sc = span.spanContext();
          if (trace.isSpanContextValid(sc)) {
            exchange.setHeader('traceresponse', `00-${sc.traceId}-${sc.spanId}-0${sc.traceFlags & 1}`);
          }
        }
        if (!recording) return undefined;
        const req = exchange.req;
        const attributes: Attributes = {
          'url.path': exchange.rawPath,
          'url.scheme': exchange.protocol,
          'client.address': exchange.clientIp,
          'network.protocol.version': req.httpVersion,
        };
        const name = methodAttributes(exchange.method, attributes);
        const host = exchange.host;
        if (host !== undefined) {
          const colon = host.lastIndexOf(':');
          const bracket = host.lastIndexOf(']');
          if (colon > bracket) {
            attributes['server.address'] = host.slice(0, colon);
            attributes['server.port'] = Number(host.slice(colon + 1));
          } else {
            attributes['server.address'] = host;
          }
        }
        const agent = req.headers['user-agent'];
        if (agent !== undefined) attributes['user_agent.original'] = agent;
        if (name !== exchange.method) span.updateName(name);
        span.setAttributes(attributes);
        return undefined;
      },
    };
  }

  #finish(exchange: Exchange, outcome: Outcome): void {
    const span = exchange.state.span;
    const route = exchange.matchedRoute;
    const status = outcome.status;
    let errorType: string | undefined;
    if (status >= 500) errorType = exchange.problemCode ?? String(status);
    else if (!outcome.completed) errorType = 'aborted';
    if (span?.isRecording()) {
      const method = exchange.method;
      span.updateName(
        route === undefined ? (KNOWN_METHODS.has(method) ? method : 'HTTP') : `${method} ${route}`,
      );
      if (route !== undefined) span.setAttribute('http.route', route);
      span.setAttribute('http.response.status_code', status);
      if (exchange.requestId !== '') span.setAttribute('gatehouse.request.id', exchange.requestId);
      if (exchange.problemCode !== undefined) span.setAttribute('gatehouse.error.code', exchange.problemCode);
      for (const [key, value] of exchange.annotations) span.setAttribute(key, value);
      if (errorType !== undefined) span.setAttribute('error.type', errorType);
      if (status >= 500) {
        if (exchange.failure !== undefined) span.recordException(exceptionOf(exchange.failure));
        span.setStatus({ code: SpanStatusCode.ERROR });
      }
      if (!outcome.completed) span.addEvent('client went away');
      span.end();
    }
    const metrics = this.metrics;
    if (metrics.active) {
      metrics.serverRequestFinished(
        {
          method: exchange.method,
          status,
          scheme: exchange.protocol,
          route,
          protocolVersion: exchange.req.httpVersion,
          errorType,
        },
        outcome.durationMs / 1000,
      );
      if (exchange.problemCode !== undefined) metrics.rejection(exchange.problemCode);
    }
  }
}

const kTracing = Symbol.for('gatehouse.tracing');

/** Whether two option objects configure the same tracing (a meter provider compares by identity). */
function sameOptions(a: TracingOptions, b: TracingOptions): boolean {
  return (
    a === b ||
    ((a.propagators ?? []).join() === (b.propagators ?? []).join() &&
      (a.traceResponseHeader ?? false) === (b.traceResponseHeader ?? false) &&
      (a.metrics?.prometheus ?? false) === (b.metrics?.prometheus ?? false) &&
      a.metrics?.meterProvider === b.metrics?.meterProvider)
  );
}

/** The scope every traced request runs in: its own OpenTelemetry context. */
function withTraceContext<T>(fn: () => T, exchange: Exchange): T {
  const ctx = exchange.state.traceContext;
  return ctx === undefined ? fn() : context.with(ctx, fn);
}

/**
 * The tracing of a gateway, created on first use with `options` (later options are ignored unless
 * they differ, which is an error: one gateway, one tracing configuration).
 */
export function tracingFor(gateway: Gateway, options?: TracingOptions): Tracing {
  const existing = gateway.shared.get(kTracing) as { tracing: Tracing; options: TracingOptions } | undefined;
  if (existing) {
    if (options !== undefined && !sameOptions(options, existing.options)) {
      parseOptions(tracingOptionsSchema, options, { name: 'tracing' });
      throw new ConfigError([
        {
          path: 'tracing',
          message:
            'this gateway already has tracing with other options: one gateway, one tracing configuration (give the same options everywhere, or none after the first)',
        },
      ]);
    }
    return existing.tracing;
  }
  const tracing = new Tracing(options);
  gateway.shared.set(kTracing, { tracing, options: options ?? {} });
  const text = tracing.prometheusText;
  if (text !== undefined) {
    gateway.addAdminEndpoint('/metrics', async () => ({
      status: 200,
      headers: { 'content-type': 'text/plain; version=0.0.4; charset=utf-8', 'cache-control': 'no-store' },
      body: await text(),
    }));
  }
  return tracing;
}

/** Shorthand: the server middleware of a gateway's tracing. */
export function tracing(gateway: Gateway, options?: TracingOptions): Middleware {
  return tracingFor(gateway, options).middleware();
}

export type { Span };
