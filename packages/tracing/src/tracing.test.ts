import { ConfigError, Gateway } from '@gatehousejs/core';
import { MeterProvider } from '@opentelemetry/sdk-metrics';
import { describe, expect, it } from 'vitest';
import { createGatewayMetrics } from './metrics.js';
import { Tracing, tracingFor } from './tracing.js';

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
    expect(() => tracingFor(gateway, { traceResponseHeader: true })).toThrow(ConfigError);
    expect(() => tracingFor(gateway, { traceResponseHeader: true })).toThrow(/other options/);
    // A second configuration with a mistake of its own reports that mistake.
    expect(() => tracingFor(gateway, { traceResponseHeadr: true } as never)).toThrow(
      /tracing\.traceResponseHeadr: unknown option; did you mean 'traceResponseHeader'\?/,
    );
  });

  it('checks its options once: every problem, at every depth, in one ConfigError', () => {
    let thrown: unknown;
    try {
      tracingFor(new Gateway({}), {
        propagators: ['tracecontext', 'b3', 'jaegr', 'tracecontext', 'b3multi'],
        traceResponseHeaders: true,
        metrics: { prometheus: 'yes', meterProvidr: {} },
      } as never);
    } catch (error) {
      thrown = error;
    }
    expect(thrown).toBeInstanceOf(ConfigError);
    expect((thrown as ConfigError).problems.map((p) => `${p.path}: ${p.message}`)).toEqual([
      "tracing.propagators: choose one of 'b3' (the single b3 header) and 'b3multi' (X-B3-* headers): both read either",
      "tracing.propagators[2]: expected one of 'tracecontext', 'baggage', 'b3' or 'b3multi', received the string 'jaegr'",
      "tracing.propagators[3]: 'tracecontext' is listed twice (already at [0])",
      "tracing.traceResponseHeaders: unknown option; did you mean 'traceResponseHeader'?",
      "tracing.metrics.prometheus: expected true or false, received the string 'yes' — did you mean true (without quotes)?",
      "tracing.metrics.meterProvidr: unknown option; did you mean 'meterProvider'?",
    ]);
    expect(() => new Tracing({ propagators: 'b3' } as never)).toThrow(ConfigError);
    expect(() => createGatewayMetrics({ meterProvider: {} } as never)).toThrow(
      /metrics\.meterProvider: expected an OpenTelemetry MeterProvider, received an object/,
    );
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
