// Express + Gatehouse tracing: the candidate of express-tracing.
import { startExpress } from '../lib/variant-apps.mjs';

startExpress('tracing');
