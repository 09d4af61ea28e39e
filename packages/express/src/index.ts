export type { GatewayConfig, Middleware, ResolvedConfig } from '@gatehousejs/core';
export { ExpressGateway, gateway, toExpress } from './express.js';
export { gatewayFromConfig, gatewayFromEtcd, gatewayFromFile } from './from-config.js';
