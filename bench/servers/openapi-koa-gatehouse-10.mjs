// The app of the OpenAPI benchmarks behind gw.validate(), 10 operations.
import { startOpenapiApp } from '../lib/openapi-apps.mjs';

await startOpenapiApp('koa', 'gatehouse', 10);
