// The app of the OpenAPI benchmarks behind gw.validate(), 200 operations.
import { startOpenapiApp } from '../lib/openapi-apps.mjs';

await startOpenapiApp('express', 'gatehouse', 200);
