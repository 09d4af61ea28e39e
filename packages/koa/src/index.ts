export type { GatewayConfig, Middleware, ResolvedConfig } from '@gatehouse/core';
export { gateway, KoaGateway, toKoa } from './koa.js';
