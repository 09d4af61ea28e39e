// The app of the OpenAPI benchmarks behind gw.validate() with requests.body 'parsed', 10 operations.
import { startOpenapiApp } from '../lib/openapi-apps.mjs';

await startOpenapiApp('express', 'gatehouse-parsed', 10);
