// Express + a Gatehouse middleware that does nothing + the hand-written versioning: see lib/versioning-apps.mjs.
import { startExpress } from '../lib/versioning-apps.mjs';

startExpress('floor-on-gatehouse');
