export type { GatewayConfig, Middleware, ResolvedConfig } from '@gatehouse/core';
export { ExpressGateway, gateway, toExpress } from './express.js';
