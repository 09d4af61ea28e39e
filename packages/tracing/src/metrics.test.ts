import { type MeterProvider as ApiMeterProvider, createNoopMeter, metrics } from '@opentelemetry/api';
import {
  AggregationTemporality,
  type DataPoint,
  DataPointType,
  type Histogram,
  InMemoryMetricExporter,
  MeterProvider,
  type MetricData,
  PeriodicExportingMetricReader,
} from '@opentelemetry/sdk-metrics';
import { afterEach, describe, expect, it } from 'vitest';
import {
  type ClientRequestAttributes,
  createGatewayMetrics,
  DURATION_BUCKETS,
  type ServerRequestAttributes,
} from './metrics.js';

// A real SDK provider whose metrics the test reads on demand (cumulative, as a scraper would see them).
function sdkProvider() {
  const exporter = new InMemoryMetricExporter(AggregationTemporality.CUMULATIVE);
  const reader = new PeriodicExportingMetricReader({ exporter, exportIntervalMillis: 3_600_000 });
  const provider = new MeterProvider({ readers: [reader] });
  const collect = async (): Promise<MetricData[]> => {
    exporter.reset();
    await reader.forceFlush();
    return exporter.getMetrics().flatMap((rm) => rm.scopeMetrics.flatMap((sm) => sm.metrics));
  };
  const scopes = async (): Promise<string[]> => {
    exporter.reset();
    await reader.forceFlush();
    return exporter.getMetrics().flatMap((rm) => rm.scopeMetrics.map((sm) => sm.scope.name));
  };
  return { provider, collect, scopes, shutdown: () => provider.shutdown() };
}

function find(all: MetricData[], name: string): MetricData {
  const metric = all.find((m) => m.descriptor.name === name);
  if (metric === undefined)
    throw new Error(`no metric ${name} in ${all.map((m) => m.descriptor.name).join(', ')}`);
  return metric;
}

function histogram(point: DataPoint<unknown> | undefined): Histogram {
  if (point === undefined) throw new Error('no such data point');
  return point.value as Histogram;
}

const server = (overrides: Partial<ServerRequestAttributes> = {}): ServerRequestAttributes => ({
  method: 'GET',
  status: 200,
  scheme: 'https',
  route: '/orders/:id',
  protocolVersion: '1.1',
  errorType: undefined,
  ...overrides,
});

const client = (overrides: Partial<ClientRequestAttributes> = {}): ClientRequestAttributes => ({
  method: 'POST',
  serverAddress: 'orders.internal',
  serverPort: 8443,
  status: 201,
  errorType: undefined,
  ...overrides,
});

afterEach(() => {
  metrics.disable();
});

describe('createGatewayMetrics with an SDK meter provider', () => {
  it('records http.server.request.duration with the semantic-convention name, unit, buckets and attributes', async () => {
    const sdk = sdkProvider();
    const { metrics: m, prometheusText } = createGatewayMetrics({ meterProvider: sdk.provider });
    expect(m.active).toBe(true);
    expect(prometheusText).toBeUndefined();

    m.serverRequestFinished(server(), 0.02);
    m.serverRequestFinished(server(), 0.3);
    m.serverRequestFinished(server({ status: 503, errorType: '503' }), 12);

    const metric = find(await sdk.collect(), 'http.server.request.duration');
    expect(metric.descriptor.unit).toBe('s');
    expect(metric.descriptor.description).not.toBe('');
    expect(metric.dataPointType).toBe(DataPointType.HISTOGRAM);
    expect(await sdk.scopes()).toEqual(['@gatehousejs/tracing']);

    const ok = metric.dataPoints.find((p) => p.attributes['http.response.status_code'] === 200);
    expect(ok?.attributes).toEqual({
      'http.request.method': 'GET',
      'http.response.status_code': 200,
      'url.scheme': 'https',
      'http.route': '/orders/:id',
      'network.protocol.version': '1.1',
    });
    const okValue = ok?.value as Histogram;
    expect(okValue.count).toBe(2);
    expect(okValue.sum).toBeCloseTo(0.32);
    expect(okValue.buckets.boundaries).toEqual([...DURATION_BUCKETS]);
    expect(okValue.buckets.boundaries).toEqual([
      0.005, 0.01, 0.025, 0.05, 0.075, 0.1, 0.25, 0.5, 0.75, 1, 2.5, 5, 7.5, 10,
    ]);
    // 0.02 falls in (0.01, 0.025], 0.3 in (0.25, 0.5]
    expect(okValue.buckets.counts[2]).toBe(1);
    expect(okValue.buckets.counts[7]).toBe(1);

    const failed = metric.dataPoints.find((p) => p.attributes['http.response.status_code'] === 503);
    expect(failed?.attributes['error.type']).toBe('503');
    const failedValue = histogram(failed);
    expect(failedValue.count).toBe(1);
    expect(failedValue.buckets.counts.at(-1)).toBe(1); // 12 s is beyond the last boundary
    await sdk.shutdown();
  });

  it('leaves out http.route, network.protocol.version and error.type when not known or not given', async () => {
    const sdk = sdkProvider();
    const { metrics: m } = createGatewayMetrics({ meterProvider: sdk.provider });
    m.serverRequestFinished(
      server({ route: undefined, protocolVersion: undefined, errorType: undefined }),
      0.1,
    );
    m.serverRequestFinished(server({ status: 404, errorType: '' }), 0.1);

    const points = find(await sdk.collect(), 'http.server.request.duration').dataPoints;
    expect(points).toHaveLength(2);
    expect(points[0]?.attributes).toEqual({
      'http.request.method': 'GET',
      'http.response.status_code': 200,
      'url.scheme': 'https',
    });
    for (const point of points) expect(point.attributes).not.toHaveProperty('error.type');
    await sdk.shutdown();
  });

  it('records unknown or non-canonical methods as _OTHER and keeps the nine known ones', async () => {
    const sdk = sdkProvider();
    const { metrics: m } = createGatewayMetrics({ meterProvider: sdk.provider });
    for (const method of ['GET', 'HEAD', 'POST', 'PUT', 'DELETE', 'CONNECT', 'OPTIONS', 'TRACE', 'PATCH']) {
      m.serverRequestFinished(server({ method }), 0.01);
    }
    m.serverRequestFinished(server({ method: 'PURGE' }), 0.01);
    m.serverRequestFinished(server({ method: 'get' }), 0.01);
    m.serverRequestFinished(server({ method: '__proto__' }), 0.01);
    m.clientRequestFinished(client({ method: 'PROPFIND' }), 0.01);

    const all = await sdk.collect();
    const methods = find(all, 'http.server.request.duration').dataPoints.map(
      (p) => p.attributes['http.request.method'],
    );
    expect(methods.sort()).toEqual(
      ['CONNECT', 'DELETE', 'GET', 'HEAD', 'OPTIONS', 'PATCH', 'POST', 'PUT', 'TRACE', '_OTHER'].sort(),
    );
    const other = find(all, 'http.server.request.duration').dataPoints.find(
      (p) => p.attributes['http.request.method'] === '_OTHER',
    );
    expect(histogram(other).count).toBe(3);
    expect(find(all, 'http.client.request.duration').dataPoints[0]?.attributes['http.request.method']).toBe(
      '_OTHER',
    );
    await sdk.shutdown();
  });

  it('counts http.server.active_requests up while requests run and back to 0', async () => {
    const sdk = sdkProvider();
    const { metrics: m } = createGatewayMetrics({ meterProvider: sdk.provider });
    m.serverRequestStarted('GET', 'https');
    m.serverRequestStarted('GET', 'https');
    m.serverRequestStarted('MKCOL', 'http');

    let metric = find(await sdk.collect(), 'http.server.active_requests');
    expect(metric.descriptor.unit).toBe('{request}');
    expect(metric.dataPointType).toBe(DataPointType.SUM);
    expect(metric.dataPointType === DataPointType.SUM && metric.isMonotonic).toBe(false);
    const value = (method: string, scheme: string) =>
      metric.dataPoints.find(
        (p) => p.attributes['http.request.method'] === method && p.attributes['url.scheme'] === scheme,
      )?.value;
    expect(value('GET', 'https')).toBe(2);
    expect(value('_OTHER', 'http')).toBe(1);
    for (const point of metric.dataPoints)
      expect(Object.keys(point.attributes).sort()).toEqual(['http.request.method', 'url.scheme']);

    m.serverRequestFinished(server({ method: 'GET', scheme: 'https' }), 0.1);
    m.serverRequestFinished(server({ method: 'GET', scheme: 'https', status: 500, errorType: '500' }), 0.1);
    m.serverRequestFinished(server({ method: 'MKCOL', scheme: 'http', route: undefined }), 0.1);

    metric = find(await sdk.collect(), 'http.server.active_requests');
    expect(value('GET', 'https')).toBe(0);
    expect(value('_OTHER', 'http')).toBe(0);
    await sdk.shutdown();
  });

  it('records http.client.request.duration with server address, port, status and error type', async () => {
    const sdk = sdkProvider();
    const { metrics: m } = createGatewayMetrics({ meterProvider: sdk.provider });
    m.clientRequestFinished(client(), 0.04);
    m.clientRequestFinished(
      client({
        method: 'GET',
        serverPort: undefined,
        status: undefined,
        errorType: 'UND_ERR_CONNECT_TIMEOUT',
      }),
      1.5,
    );

    const metric = find(await sdk.collect(), 'http.client.request.duration');
    expect(metric.descriptor.unit).toBe('s');
    expect(metric.dataPointType).toBe(DataPointType.HISTOGRAM);
    const byMethod = (method: string) =>
      metric.dataPoints.find((p) => p.attributes['http.request.method'] === method);
    const answered = byMethod('POST');
    const failed = byMethod('GET');
    expect(answered?.attributes).toEqual({
      'http.request.method': 'POST',
      'server.address': 'orders.internal',
      'server.port': 8443,
      'http.response.status_code': 201,
    });
    expect(histogram(answered).sum).toBeCloseTo(0.04);
    expect(failed?.attributes).toEqual({
      'http.request.method': 'GET',
      'server.address': 'orders.internal',
      'error.type': 'UND_ERR_CONNECT_TIMEOUT',
    });
    expect(histogram(failed).sum).toBeCloseTo(1.5);
    expect(histogram(answered).buckets.boundaries).toEqual([...DURATION_BUCKETS]);
    await sdk.shutdown();
  });

  it('counts gatehouse.rejections by gatehouse.error.code', async () => {
    const sdk = sdkProvider();
    const { metrics: m } = createGatewayMetrics({ meterProvider: sdk.provider });
    m.rejection('GH_RATE_LIMITED');
    m.rejection('GH_RATE_LIMITED');
    m.rejection('GH_AUTH_TOKEN_EXPIRED');

    const metric = find(await sdk.collect(), 'gatehouse.rejections');
    expect(metric.descriptor.unit).toBe('{response}');
    expect(metric.dataPointType === DataPointType.SUM && metric.isMonotonic).toBe(true);
    const byCode = Object.fromEntries(
      metric.dataPoints.map((p) => [p.attributes['gatehouse.error.code'], p.value]),
    );
    expect(byCode).toEqual({ GH_RATE_LIMITED: 2, GH_AUTH_TOKEN_EXPIRED: 1 });
    await sdk.shutdown();
  });
});

describe('choosing the meter provider', () => {
  it('is inactive and harmless when no provider is registered', () => {
    const handle = createGatewayMetrics();
    expect(handle.metrics.active).toBe(false);
    expect(handle.prometheusText).toBeUndefined();
    expect(() => {
      handle.metrics.serverRequestStarted('GET', 'http');
      handle.metrics.serverRequestFinished(server(), 0.1);
      handle.metrics.clientRequestFinished(client(), 0.1);
      handle.metrics.rejection('GH_X');
    }).not.toThrow();
  });

  it('is inactive for a provider handing out the no-op meter, even from another copy of the API', () => {
    const noop: ApiMeterProvider = { getMeter: () => createNoopMeter() };
    expect(createGatewayMetrics({ meterProvider: noop }).metrics.active).toBe(false);

    // A no-op meter from a duplicate install is a different object of a class with the same name.
    class NoopMeter {}
    const foreign = Object.assign(new NoopMeter(), createNoopMeter()) as unknown as ReturnType<
      typeof createNoopMeter
    >;
    const foreignProvider: ApiMeterProvider = { getMeter: () => foreign };
    expect(createGatewayMetrics({ meterProvider: foreignProvider }).metrics.active).toBe(false);
  });

  it('uses the global provider once an SDK has registered one', async () => {
    const sdk = sdkProvider();
    expect(metrics.setGlobalMeterProvider(sdk.provider)).toBe(true);
    const { metrics: m } = createGatewayMetrics();
    expect(m.active).toBe(true);
    m.rejection('GH_GLOBAL');
    const metric = find(await sdk.collect(), 'gatehouse.rejections');
    expect(metric.dataPoints[0]?.attributes).toEqual({ 'gatehouse.error.code': 'GH_GLOBAL' });
    await sdk.shutdown();
  });

  it('prefers a provider passed explicitly over the global one', async () => {
    const global = sdkProvider();
    const explicit = sdkProvider();
    metrics.setGlobalMeterProvider(global.provider);
    const { metrics: m } = createGatewayMetrics({ meterProvider: explicit.provider });
    m.rejection('GH_EXPLICIT');
    expect(find(await explicit.collect(), 'gatehouse.rejections').dataPoints).toHaveLength(1);
    expect(await global.collect()).toEqual([]);
    await global.shutdown();
    await explicit.shutdown();
  });
});

describe('prometheus: true', () => {
  it('is active without any provider and serves histograms and counters as Prometheus text', async () => {
    const { metrics: m, prometheusText } = createGatewayMetrics({ prometheus: true });
    expect(m.active).toBe(true);
    if (prometheusText === undefined) throw new Error('prometheusText missing');

    m.serverRequestStarted('GET', 'https');
    m.serverRequestStarted('GET', 'https');
    m.serverRequestStarted('DELETE', 'https');
    m.serverRequestFinished(server({ route: '/orders/:id' }), 0.02);
    m.serverRequestFinished(server({ status: 502, errorType: '502', route: undefined }), 0.3);
    m.clientRequestFinished(client({ errorType: 'ECONNRESET', status: undefined }), 0.6);
    m.rejection('GH_RATE_LIMITED');
    m.rejection('GH_RATE_LIMITED');

    const text = await prometheusText();
    const labels =
      'http_request_method="GET",http_response_status_code="200",url_scheme="https",http_route="/orders/:id",network_protocol_version="1.1"';
    expect(text).toContain('# HELP http_server_request_duration_seconds Duration of HTTP server requests.');
    expect(text).toContain('# TYPE http_server_request_duration_seconds histogram');
    expect(text).toContain(`http_server_request_duration_seconds_count{${labels}} 1\n`);
    expect(text).toContain(`http_server_request_duration_seconds_sum{${labels}} 0.02\n`);
    expect(text).toContain(`http_server_request_duration_seconds_bucket{${labels},le="0.01"} 0\n`);
    expect(text).toContain(`http_server_request_duration_seconds_bucket{${labels},le="0.025"} 1\n`);
    expect(text).toContain(`http_server_request_duration_seconds_bucket{${labels},le="10"} 1\n`);
    expect(text).toContain(`http_server_request_duration_seconds_bucket{${labels},le="+Inf"} 1\n`);
    expect(text).toContain(
      'http_server_request_duration_seconds_count{http_request_method="GET",http_response_status_code="502",url_scheme="https",network_protocol_version="1.1",error_type="502"} 1\n',
    );

    expect(text).toContain('# TYPE http_server_active_requests gauge');
    expect(text).toContain('http_server_active_requests{http_request_method="GET",url_scheme="https"} 0\n');
    expect(text).toContain(
      'http_server_active_requests{http_request_method="DELETE",url_scheme="https"} 1\n',
    );

    expect(text).toContain('# TYPE http_client_request_duration_seconds histogram');
    expect(text).toContain(
      'http_client_request_duration_seconds_count{http_request_method="POST",server_address="orders.internal",server_port="8443",error_type="ECONNRESET"} 1\n',
    );

    expect(text).toContain('# HELP gatehouse_rejections_total ');
    expect(text).toContain('# TYPE gatehouse_rejections_total counter');
    expect(text).toContain('gatehouse_rejections_total{gatehouse_error_code="GH_RATE_LIMITED"} 2\n');

    // One HELP and one TYPE per metric, no OpenMetrics-only lines, no scope labels or target_info.
    expect(text.match(/^# HELP /gm)).toHaveLength(4);
    expect(text.match(/^# TYPE /gm)).toHaveLength(4);
    expect(text).not.toContain('# UNIT');
    expect(text).not.toContain('otel_scope_name');
    expect(text).not.toContain('target_info');
  });

  it('accumulates across scrapes', async () => {
    const { metrics: m, prometheusText } = createGatewayMetrics({ prometheus: true });
    m.rejection('GH_A');
    expect(await prometheusText?.()).toContain('gatehouse_rejections_total{gatehouse_error_code="GH_A"} 1\n');
    m.rejection('GH_A');
    expect(await prometheusText?.()).toContain('gatehouse_rejections_total{gatehouse_error_code="GH_A"} 2\n');
  });

  it('records into the given provider as well, and never registers its own globally', async () => {
    const sdk = sdkProvider();
    const { metrics: m, prometheusText } = createGatewayMetrics({
      meterProvider: sdk.provider,
      prometheus: true,
    });
    m.rejection('GH_BOTH');
    m.serverRequestStarted('POST', 'http');

    const all = await sdk.collect();
    expect(find(all, 'gatehouse.rejections').dataPoints[0]?.value).toBe(1);
    expect(find(all, 'http.server.active_requests').dataPoints[0]?.value).toBe(1);
    const text = await prometheusText?.();
    expect(text).toContain('gatehouse_rejections_total{gatehouse_error_code="GH_BOTH"} 1\n');
    expect(text).toContain('http_server_active_requests{http_request_method="POST",url_scheme="http"} 1\n');

    expect(createGatewayMetrics().metrics.active).toBe(false);
    await sdk.shutdown();
  });
});
