// Express + gw.auth() with the jwt method: the candidate of express-auth-jwt.
import { startExpress } from '../lib/variant-apps.mjs';

startExpress('auth-jwt');
