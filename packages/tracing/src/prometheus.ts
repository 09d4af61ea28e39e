// An in-process Prometheus registry: a private OpenTelemetry MeterProvider read on demand and
// serialised to the Prometheus text exposition format, for a `/metrics` route on the app itself.
import { loadPeer } from '@gatehousejs/core';
import type { MeterProvider as ApiMeterProvider } from '@opentelemetry/api';
import { diag } from '@opentelemetry/api';
import type * as Exporter from '@opentelemetry/exporter-prometheus';
import type * as SdkMetrics from '@opentelemetry/sdk-metrics';
import type { MetricData, ResourceMetrics } from '@opentelemetry/sdk-metrics';

// The metrics SDK and the Prometheus serializer (3 MB of heap, 10 MB installed) are required when a
// registry is made, not imported, and are optional peer dependencies: most gateways never enable
// `metrics.prometheus`. Installing the exporter alone brings the SDK version it was built with (one
// copy of each). Both are CommonJS without an `exports` map, so `import` and `require` share one
// instance.
const PEER = {
  from: import.meta.url,
  path: 'tracing.metrics.prometheus',
  feature: 'the Prometheus endpoint',
  install: '@opentelemetry/exporter-prometheus',
} as const;
let sdk: typeof SdkMetrics | undefined;
const metricsSdk = (): typeof SdkMetrics => {
  sdk ??= loadPeer<typeof SdkMetrics>('@opentelemetry/sdk-metrics', PEER);
  return sdk;
};

/** The `Content-Type` of {@link PrometheusRegistry.text}: Prometheus text exposition format 0.0.4. */
export const PROMETHEUS_CONTENT_TYPE = 'text/plain; version=0.0.4; charset=utf-8';

/** A private meter provider whose metrics can be scraped as Prometheus text. */
export interface PrometheusRegistry {
  /**
   * Record into this provider to have the values appear in {@link PrometheusRegistry.text}. It is
   * never registered globally, so it does not interfere with an OpenTelemetry SDK the app runs.
   */
  readonly meterProvider: ApiMeterProvider;
  /**
   * Collects everything recorded so far (cumulative since the registry was created) and renders it
   * in the Prometheus text exposition format ({@link PROMETHEUS_CONTENT_TYPE}), one `# HELP` and
   * `# TYPE` per metric.
   *
   * Names follow the OpenTelemetry → Prometheus conversion: dots become underscores, the unit is
   * appended (`s` → `_seconds`, `By` → `_bytes`; annotations such as `{request}` add nothing) and
   * counters end in `_total`, so `http.server.request.duration` (unit `s`) is scraped as
   * `http_server_request_duration_seconds_bucket` / `_sum` / `_count`.
   */
  text(): Promise<string>;
}

// A reader that only answers `collect()`: nothing is pushed, nothing to flush, no timer or server.
// Cumulative temporality (the reader default) is what Prometheus expects. Made with the first registry.
function pullReader(): SdkMetrics.MetricReader {
  class PullReader extends metricsSdk().MetricReader {
    protected override onForceFlush(): Promise<void> {
      return Promise.resolve();
    }
    protected override onShutdown(): Promise<void> {
      return Promise.resolve();
    }
  }
  return new PullReader();
}

/**
 * Creates a {@link PrometheusRegistry}. Scope labels (`otel_scope_name`) and `target_info` are left
 * out: the provider is private to Gatehouse and its resource would describe nothing useful.
 *
 * @example
 *   const registry = createPrometheusRegistry();
 *   registry.meterProvider.getMeter('app').createCounter('jobs').add(1);
 *   res.setHeader('content-type', PROMETHEUS_CONTENT_TYPE).end(await registry.text());
 */
export function createPrometheusRegistry(): PrometheusRegistry {
  const { PrometheusSerializer } = loadPeer<typeof Exporter>('@opentelemetry/exporter-prometheus', PEER);
  const reader = pullReader();
  const meterProvider = new (metricsSdk().MeterProvider)({ readers: [reader] });
  // prefix, appendTimestamp, withResourceConstantLabels, withoutTargetInfo, withoutScopeInfo
  const serializer = new PrometheusSerializer(undefined, false, undefined, true, true);
  return {
    meterProvider,
    async text() {
      const { resourceMetrics, errors } = await reader.collect();
      for (const error of errors) diag.warn('gatehouse: collecting Prometheus metrics', error);
      return serializer.serialize(withUnitSuffixes(resourceMetrics));
    },
  };
}

// The serializer sanitises names and adds `_total`, but does not append units; do that on a shallow
// copy (per scrape, not per record) and drop the unit so no OpenMetrics-only `# UNIT` line appears.
function withUnitSuffixes(resourceMetrics: ResourceMetrics): ResourceMetrics {
  return {
    resource: resourceMetrics.resource,
    scopeMetrics: resourceMetrics.scopeMetrics.map((scopeMetrics) => ({
      scope: scopeMetrics.scope,
      metrics: scopeMetrics.metrics.map(renamed),
    })),
  };
}

function renamed(metric: MetricData): MetricData {
  const { name, unit } = metric.descriptor;
  const suffix = unitSuffix(
    unit,
    metric.dataPointType === metricsSdk().DataPointType.GAUGE || isNonMonotonicSum(metric),
  );
  const base = name.replace(/[^a-zA-Z0-9_]+/g, '_');
  const fullName = suffix === '' || base.endsWith(`_${suffix}`) ? name : `${name}_${suffix}`;
  return { ...metric, descriptor: { ...metric.descriptor, name: fullName, unit: '' } };
}

function isNonMonotonicSum(metric: MetricData): boolean {
  return metric.dataPointType === metricsSdk().DataPointType.SUM && !metric.isMonotonic;
}

// UCUM units as OpenTelemetry uses them, and their Prometheus words.
const UNIT_WORDS: Readonly<Record<string, string>> = {
  d: 'days',
  h: 'hours',
  min: 'minutes',
  s: 'seconds',
  ms: 'milliseconds',
  us: 'microseconds',
  ns: 'nanoseconds',
  By: 'bytes',
  KiBy: 'kibibytes',
  MiBy: 'mebibytes',
  GiBy: 'gibibytes',
  TiBy: 'tebibytes',
  KBy: 'kilobytes',
  MBy: 'megabytes',
  GBy: 'gigabytes',
  TBy: 'terabytes',
  m: 'meters',
  V: 'volts',
  A: 'amperes',
  J: 'joules',
  W: 'watts',
  g: 'grams',
  Cel: 'celsius',
  Hz: 'hertz',
  '%': 'percent',
};
const PER_UNIT_WORDS: Readonly<Record<string, string>> = {
  s: 'second',
  m: 'minute',
  h: 'hour',
  d: 'day',
  w: 'week',
  mo: 'month',
  y: 'year',
};

/** The Prometheus name suffix for an OpenTelemetry unit, '' when there is none. */
function unitSuffix(unit: string, isGauge: boolean): string {
  // `{request}` and the like are annotations, not units.
  const plain = unit.replace(/\{[^}]*\}/g, '').trim();
  if (plain === '') return '';
  if (plain === '1') return isGauge ? 'ratio' : '';
  const slash = plain.indexOf('/');
  if (slash === -1) return word(UNIT_WORDS[plain] ?? plain);
  const numerator = plain.slice(0, slash);
  const denominator = plain.slice(slash + 1);
  const per = word(PER_UNIT_WORDS[denominator] ?? denominator);
  const of = numerator === '' || numerator === '1' ? '' : word(UNIT_WORDS[numerator] ?? numerator);
  if (per === '') return of;
  return of === '' ? `per_${per}` : `${of}_per_${per}`;
}

function word(text: string): string {
  return text.replace(/[^a-zA-Z0-9]+/g, '_').replace(/^_+|_+$/g, '');
}
