// Express + Gatehouse access-log: the candidate of express-access-log.
import { startExpress } from '../lib/variant-apps.mjs';

startExpress('access-log');
