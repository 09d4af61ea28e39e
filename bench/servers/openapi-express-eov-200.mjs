// The app of the OpenAPI benchmarks behind express-openapi-validator, 200 operations.
import { startOpenapiApp } from '../lib/openapi-apps.mjs';

await startOpenapiApp('express', 'eov', 200);
