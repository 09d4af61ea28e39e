export type { GatewayConfig, Middleware, ResolvedConfig } from '@gatehousejs/core';
export {
  type ExpressErrorMiddleware,
  ExpressGateway,
  type ExpressMiddleware,
  gateway,
  toExpress,
} from './express.js';
export { gatewayFromConfig, gatewayFromEtcd, gatewayFromFile, gatewayFromFileSync } from './from-config.js';
