import { Gateway } from '@gatehousejs/core';
import { MeterProvider } from '@opentelemetry/sdk-metrics';
import { describe, expect, it } from 'vitest';
import { tracingFor } from './tracing.js';

describe('tracingFor', () => {
  it('gives one tracing per gateway; equal options in a new object are the same configuration', () => {
    const gateway = new Gateway({});
    const provider = new MeterProvider();
    const first = tracingFor(gateway, {
      propagators: ['tracecontext'],
      metrics: { meterProvider: provider },
    });
    expect(tracingFor(gateway)).toBe(first);
    expect(tracingFor(gateway, { propagators: ['tracecontext'], metrics: { meterProvider: provider } })).toBe(
      first,
    );
  });

  it('refuses a second, different configuration with a clear message', () => {
    const gateway = new Gateway({});
    tracingFor(gateway, { metrics: { meterProvider: new MeterProvider() } });
    expect(() => tracingFor(gateway, { metrics: { meterProvider: new MeterProvider() } })).toThrow(
      /already has tracing with other options/,
    );
    expect(() => tracingFor(gateway, { traceResponseHeader: true })).toThrow(/other options/);
  });

  it('registers /metrics once, only with prometheus', () => {
    const plain = new Gateway({});
    tracingFor(plain);
    expect(plain.adminEndpoints.has('/metrics')).toBe(false);
    const scraped = new Gateway({});
    tracingFor(scraped, { metrics: { prometheus: true } });
    expect(scraped.adminEndpoints.has('/metrics')).toBe(true);
  });
});
