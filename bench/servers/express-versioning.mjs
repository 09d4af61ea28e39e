// Express + `gw.version()` (path segment stripped, `api-version` header, a default): see lib/versioning-apps.mjs.
import { startExpress } from '../lib/versioning-apps.mjs';

startExpress('gatehouse');
