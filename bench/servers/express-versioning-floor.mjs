// Express + the same versioning hand-written (no Gatehouse): see lib/versioning-apps.mjs.
import { startExpress } from '../lib/versioning-apps.mjs';

startExpress('floor');
