// The Koa app of the OpenAPI benchmarks behind gw.errors() and a Gatehouse middleware that does nothing
// (the floor under koa-openapi-*).
import { startOpenapiApp } from '../lib/openapi-apps.mjs';

await startOpenapiApp('koa', 'noop', 10);
