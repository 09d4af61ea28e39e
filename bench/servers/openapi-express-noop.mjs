// The app of the OpenAPI benchmarks behind a Gatehouse middleware that does nothing (the floor).
import { startOpenapiApp } from '../lib/openapi-apps.mjs';

await startOpenapiApp('express', 'noop', 10);
