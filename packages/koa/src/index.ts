export type { GatewayConfig, Middleware, ResolvedConfig } from '@gatehousejs/core';
export { gateway, KoaGateway, toKoa } from './koa.js';
export { gatewayFromConfig, gatewayFromEtcd, gatewayFromFile } from './from-config.js';
