// The app of the OpenAPI benchmarks behind express-openapi-validator, 10 operations.
import { startOpenapiApp } from '../lib/openapi-apps.mjs';

await startOpenapiApp('express', 'eov', 10);
