// Gatehouse's HTTP metrics, named and attributed per the OpenTelemetry HTTP semantic conventions,
// recorded through the metrics API and, on request, into a private Prometheus registry.

import { parseOptions } from '@gatehousejs/core';
import {
  type Attributes,
  type Counter,
  createNoopMeter,
  type Histogram,
  type Meter,
  type MeterProvider,
  type MetricOptions,
  metrics as metricsApi,
  type UpDownCounter,
} from '@opentelemetry/api';
import { metricsOptionsSchema } from './options.js';
import { createPrometheusRegistry } from './prometheus.js';
import { KNOWN_METHODS } from './semconv.js';

/** Attributes of one finished server request (OTel HTTP semantic conventions). */
export interface ServerRequestAttributes {
  /** `http.request.method`; anything but the nine standard methods is recorded as `_OTHER`. */
  method: string;
  /** `http.response.status_code`. */
  status: number;
  /** `url.scheme`. */
  scheme: 'http' | 'https';
  /** `http.route`: the matched route template (`/orders/:id`), never the raw path; left out when unknown. */
  route: string | undefined;
  /** `network.protocol.version` (`1.1`, `2`); left out when unknown. */
  protocolVersion: string | undefined;
  /** `error.type`: a problem code, an exception class, or the status as a string for 5xx. */
  errorType: string | undefined;
}

/** Attributes of one finished outbound request. */
export interface ClientRequestAttributes {
  /** `http.request.method`; anything but the nine standard methods is recorded as `_OTHER`. */
  method: string;
  /** `server.address`: the upstream host name or IP. */
  serverAddress: string;
  /** `server.port`; left out when unknown. */
  serverPort: number | undefined;
  /** `http.response.status_code`; left out when no response was received. */
  status: number | undefined;
  /** `error.type`: why the request failed (a timeout, a connection error, a 5xx status). */
  errorType: string | undefined;
}

/** The instruments Gatehouse records; no-ops when no meter provider is set. */
export interface GatewayMetrics {
  /** Whether recording does anything (a real meter provider, or Prometheus). */
  readonly active: boolean;
  /** A server request began: `http.server.active_requests` += 1. */
  serverRequestStarted(method: string, scheme: 'http' | 'https'): void;
  /**
   * A server request ended: records `http.server.request.duration` and takes it back out of
   * `http.server.active_requests` (call once per {@link GatewayMetrics.serverRequestStarted}, with
   * the same method and scheme).
   */
  serverRequestFinished(attributes: ServerRequestAttributes, durationSeconds: number): void;
  /** An outbound request ended (answered or failed): records `http.client.request.duration`. */
  clientRequestFinished(attributes: ClientRequestAttributes, durationSeconds: number): void;
  /** A problem+json answer, by code: `gatehouse.rejections{gatehouse.error.code}`. */
  rejection(code: string): void;
}

/** Options of {@link createGatewayMetrics}. */
export interface MetricsOptions {
  /**
   * Default: the global provider from `@opentelemetry/api` (a no-op until an SDK registers one). It
   * is read once, when the metrics are created: start the OpenTelemetry SDK before the gateway.
   */
  meterProvider?: MeterProvider;
  /** Also keep metrics in-process and serve them as Prometheus text at `/metrics`. Default false. */
  prometheus?: boolean;
}

/** What {@link createGatewayMetrics} returns. */
export interface MetricsHandle {
  /** The recorder every Gatehouse capability shares. */
  metrics: GatewayMetrics;
  /** Prometheus text exposition of everything recorded, when `prometheus` is on. */
  prometheusText?: () => Promise<string>;
  /** The private provider behind {@link prometheusText}: other capabilities' instruments join it there. */
  prometheusMeterProvider?: MeterProvider;
}

/** The instrumentation scope of every Gatehouse instrument. */
export const METER_NAME = '@gatehousejs/tracing';

/** Bucket boundaries (seconds) the HTTP semantic conventions advise for request durations. */
export const DURATION_BUCKETS: readonly number[] = Object.freeze([
  0.005, 0.01, 0.025, 0.05, 0.075, 0.1, 0.25, 0.5, 0.75, 1, 2.5, 5, 7.5, 10,
]);

const OTHER_METHOD = '_OTHER';
const KNOWN_METHOD_SET: ReadonlySet<string> = new Set(KNOWN_METHODS);

const normaliseMethod = (method: string): string => (KNOWN_METHOD_SET.has(method) ? method : OTHER_METHOD);

/**
 * Creates Gatehouse's metrics. Instruments are created here, once; when neither the meter provider
 * is real nor Prometheus is on, the returned recorder is inert and `active` is false, so callers
 * can skip measuring altogether.
 *
 * @example
 *   const { metrics, prometheusText } = createGatewayMetrics({ prometheus: true });
 *   metrics.serverRequestStarted('GET', 'https');
 */
export function createGatewayMetrics(options: MetricsOptions = {}): MetricsHandle {
  parseOptions(metricsOptionsSchema, options, { name: 'metrics' });
  const meter = (options.meterProvider ?? metricsApi.getMeterProvider()).getMeter(METER_NAME);
  const sinks: Instruments[] = [];
  if (!isNoopMeter(meter)) sinks.push(createInstruments(meter));

  let prometheusText: (() => Promise<string>) | undefined;
  let prometheusMeterProvider: MeterProvider | undefined;
  if (options.prometheus === true) {
    const registry = createPrometheusRegistry();
    sinks.push(createInstruments(registry.meterProvider.getMeter(METER_NAME)));
    prometheusText = () => registry.text();
    prometheusMeterProvider = registry.meterProvider;
  }

  const [first, second] = sinks;
  const metrics =
    first === undefined ? INACTIVE : new Recorder(second === undefined ? first : fanOut(first, second));
  return prometheusText === undefined ? { metrics } : { metrics, prometheusText, prometheusMeterProvider };
}

/**
 * Whether a meter is the API's no-op meter. The API exports no way to recognise its no-op provider,
 * but it does export `createNoopMeter()`, which returns the very singleton its no-op provider hands
 * out, so identity is exact for this copy of `@opentelemetry/api`. A no-op meter from another copy
 * (a duplicate install, or the CommonJS build next to the ESM one) is recognised by its class name.
 */
function isNoopMeter(meter: Meter): boolean {
  return meter === createNoopMeter() || meter.constructor?.name === 'NoopMeter';
}

interface Instruments {
  readonly serverDuration: Histogram;
  readonly activeRequests: UpDownCounter;
  readonly clientDuration: Histogram;
  readonly rejections: Counter;
}

function durationOptions(description: string): MetricOptions {
  return { description, unit: 's', advice: { explicitBucketBoundaries: [...DURATION_BUCKETS] } };
}

function createInstruments(meter: Meter): Instruments {
  return {
    serverDuration: meter.createHistogram(
      'http.server.request.duration',
      durationOptions('Duration of HTTP server requests.'),
    ),
    activeRequests: meter.createUpDownCounter('http.server.active_requests', {
      description: 'Number of active HTTP server requests.',
      unit: '{request}',
    }),
    clientDuration: meter.createHistogram(
      'http.client.request.duration',
      durationOptions('Duration of HTTP client requests.'),
    ),
    rejections: meter.createCounter('gatehouse.rejections', {
      description: 'Requests Gatehouse answered with a problem+json response, by error code.',
      unit: '{response}',
    }),
  };
}

// Records into two providers (the app's and the Prometheus registry) through one call site, so the
// hot path neither loops nor allocates; both receive the same attributes object.
function fanOut(a: Instruments, b: Instruments): Instruments {
  return {
    serverDuration: {
      record: (value, attributes, context) => {
        a.serverDuration.record(value, attributes, context);
        b.serverDuration.record(value, attributes, context);
      },
    },
    activeRequests: {
      add: (value, attributes, context) => {
        a.activeRequests.add(value, attributes, context);
        b.activeRequests.add(value, attributes, context);
      },
    },
    clientDuration: {
      record: (value, attributes, context) => {
        a.clientDuration.record(value, attributes, context);
        b.clientDuration.record(value, attributes, context);
      },
    },
    rejections: {
      add: (value, attributes, context) => {
        a.rejections.add(value, attributes, context);
        b.rejections.add(value, attributes, context);
      },
    },
  };
}

type ActiveAttributes = Readonly<Record<string, Attributes>>;

// The attributes of `http.server.active_requests` take 10 methods × 2 schemes values: build them
// once, so starting and finishing a request allocates nothing for this instrument.
function activeAttributesFor(scheme: 'http' | 'https'): ActiveAttributes {
  const byMethod: Record<string, Attributes> = {};
  for (const method of [...KNOWN_METHODS, OTHER_METHOD]) {
    byMethod[method] = Object.freeze({ 'http.request.method': method, 'url.scheme': scheme });
  }
  return Object.freeze(byMethod);
}

const ACTIVE_HTTP = activeAttributesFor('http');
const ACTIVE_HTTPS = activeAttributesFor('https');

function activeAttributes(method: string, scheme: 'http' | 'https'): Attributes {
  const byMethod = scheme === 'https' ? ACTIVE_HTTPS : ACTIVE_HTTP;
  // Every normalised method has an entry; the fallback only satisfies the index type.
  return byMethod[normaliseMethod(method)] ?? (byMethod[OTHER_METHOD] as Attributes);
}

class Recorder implements GatewayMetrics {
  readonly active = true;
  readonly #instruments: Instruments;

  constructor(instruments: Instruments) {
    this.#instruments = instruments;
  }

  serverRequestStarted(method: string, scheme: 'http' | 'https'): void {
    this.#instruments.activeRequests.add(1, activeAttributes(method, scheme));
  }

  serverRequestFinished(attributes: ServerRequestAttributes, durationSeconds: number): void {
    const method = normaliseMethod(attributes.method);
    const recorded: Attributes = {
      'http.request.method': method,
      'http.response.status_code': attributes.status,
      'url.scheme': attributes.scheme,
    };
    if (attributes.route !== undefined) recorded['http.route'] = attributes.route;
    if (attributes.protocolVersion !== undefined)
      recorded['network.protocol.version'] = attributes.protocolVersion;
    if (attributes.errorType !== undefined && attributes.errorType !== '')
      recorded['error.type'] = attributes.errorType;
    this.#instruments.serverDuration.record(durationSeconds, recorded);
    this.#instruments.activeRequests.add(-1, activeAttributes(method, attributes.scheme));
  }

  clientRequestFinished(attributes: ClientRequestAttributes, durationSeconds: number): void {
    const recorded: Attributes = {
      'http.request.method': normaliseMethod(attributes.method),
      'server.address': attributes.serverAddress,
    };
    if (attributes.serverPort !== undefined) recorded['server.port'] = attributes.serverPort;
    if (attributes.status !== undefined) recorded['http.response.status_code'] = attributes.status;
    if (attributes.errorType !== undefined && attributes.errorType !== '')
      recorded['error.type'] = attributes.errorType;
    this.#instruments.clientDuration.record(durationSeconds, recorded);
  }

  rejection(code: string): void {
    this.#instruments.rejections.add(1, { 'gatehouse.error.code': code });
  }
}

/** The recorder used when nothing would receive the values: every call returns at once. */
const INACTIVE: GatewayMetrics = Object.freeze({
  active: false,
  serverRequestStarted() {},
  serverRequestFinished() {},
  clientRequestFinished() {},
  rejection() {},
});
