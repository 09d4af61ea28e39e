export { type AccessLogger, type AccessLogOptions, accessLog } from './access-log.js';
export {
  type ClientRequestAttributes,
  createGatewayMetrics,
  type GatewayMetrics,
  type MetricsHandle,
  type MetricsOptions,
  type ServerRequestAttributes,
} from './metrics.js';
export { accessLogOptionsSchema, metricsOptionsSchema, tracingOptionsSchema } from './options.js';
export { ANNOTATIONS } from './state.js';
export {
  type OutboundRequest,
  type OutboundSpan,
  type PropagatorName,
  Tracing,
  type TracingOptions,
  tracing,
  tracingFor,
} from './tracing.js';
