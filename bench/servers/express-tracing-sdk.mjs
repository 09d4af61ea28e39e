// Express + Gatehouse tracing-sdk: the candidate of express-tracing-sdk.
import { startExpress } from '../lib/variant-apps.mjs';

startExpress('tracing-sdk');
