// Express + gw.auth() with the api-key method: the candidate of express-auth-api-key.
import { startExpress } from '../lib/variant-apps.mjs';

startExpress('auth-api-key');
