import { metrics } from '@opentelemetry/api';
import { describe, expect, it } from 'vitest';
import { createPrometheusRegistry } from './prometheus.js';

describe('createPrometheusRegistry', () => {
  it('renders an empty registry as a comment', async () => {
    expect(await createPrometheusRegistry().text()).toBe('# no registered metrics');
  });

  it('appends the unit to names the Prometheus way and adds _total to counters', async () => {
    const registry = createPrometheusRegistry();
    const meter = registry.meterProvider.getMeter('test');
    meter.createCounter('queue.jobs', { unit: '{job}' }).add(3);
    meter.createCounter('net.io', { unit: 'By' }).add(10);
    meter.createHistogram('db.wait', { unit: 'ms', description: 'Wait.' }).record(4);
    meter.createGauge('pool.usage', { unit: '1' }).record(0.5);
    meter.createCounter('events.seen', { unit: '1' }).add(1);
    meter.createGauge('net.rate', { unit: 'By/s' }).record(100);
    meter.createUpDownCounter('cache.size_bytes', { unit: 'By' }).add(7);
    meter.createCounter('odd.thing', { unit: 'widget' }).add(1);

    const text = await registry.text();
    expect(text).toContain('queue_jobs_total 3\n');
    expect(text).toContain('net_io_bytes_total 10\n');
    expect(text).toContain('# TYPE db_wait_milliseconds histogram');
    expect(text).toContain('# HELP db_wait_milliseconds Wait.');
    expect(text).toContain('db_wait_milliseconds_sum 4\n');
    expect(text).toContain('db_wait_milliseconds_bucket{le="+Inf"} 1\n');
    expect(text).toContain('pool_usage_ratio 0.5\n');
    expect(text).toContain('events_seen_total 1\n');
    expect(text).toContain('net_rate_bytes_per_second 100\n');
    expect(text).toContain('# TYPE cache_size_bytes gauge');
    expect(text).toContain('cache_size_bytes 7\n');
    expect(text).toContain('odd_thing_widget_total 1\n');
    expect(text).not.toContain('# UNIT');
  });

  it('keeps its provider private', () => {
    const registry = createPrometheusRegistry();
    expect(metrics.getMeterProvider()).not.toBe(registry.meterProvider);
  });
});
