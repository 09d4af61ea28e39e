export type { GatewayConfig, Middleware, ResolvedConfig } from '@gatehousejs/core';
export { gatewayFromConfig, gatewayFromEtcd, gatewayFromFile, gatewayFromFileSync } from './from-config.js';
export { gateway, type KoaContext, KoaGateway, type KoaMiddleware, toKoa } from './koa.js';
