// Koa + `gw.version()` (path segment stripped, `api-version` header, a default): see lib/versioning-apps.mjs.
import { startKoa } from '../lib/versioning-apps.mjs';

startKoa('gatehouse');
