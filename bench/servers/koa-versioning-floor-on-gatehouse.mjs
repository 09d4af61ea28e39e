// Koa + a Gatehouse middleware that does nothing + the hand-written versioning: see lib/versioning-apps.mjs.
import { startKoa } from '../lib/versioning-apps.mjs';

startKoa('floor-on-gatehouse');
