// What tracing keeps on each exchange, shared by spans, metrics and the access log.
import type { Context, Span } from '@opentelemetry/api';

declare module '@gatehousejs/core' {
  interface ExchangeState {
    /** The server span of this request (a non-recording span when no SDK is registered). */
    span?: Span;
    /** The OpenTelemetry context of this request: the extracted parent plus the server span. */
    traceContext?: Context;
  }
}

/**
 * Annotation keys capabilities use (`exchange.annotate(key, value)`); tracing copies every annotation
 * onto the server span as an attribute of the same name, and the access log writes the ones below
 * under short names.
 */
export const ANNOTATIONS = {
  principalId: 'gatehouse.principal.id',
  apiVersion: 'gatehouse.api.version',
  migrationMode: 'gatehouse.migration.mode',
  migrationSide: 'gatehouse.migration.side',
  rateLimitOutcome: 'gatehouse.rate_limit.outcome',
  upstream: 'gatehouse.upstream',
} as const;
