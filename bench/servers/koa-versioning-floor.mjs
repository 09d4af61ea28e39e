// Koa + the same versioning hand-written (no Gatehouse): see lib/versioning-apps.mjs.
import { startKoa } from '../lib/versioning-apps.mjs';

startKoa('floor');
