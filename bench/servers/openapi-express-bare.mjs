// The app of the OpenAPI benchmarks with no validator (the baseline; the document size does not matter).
import { startOpenapiApp } from '../lib/openapi-apps.mjs';

await startOpenapiApp('express', 'bare', 10);
