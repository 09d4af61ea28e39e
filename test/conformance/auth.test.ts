// Auth scenarios on Express and Koa, compared (see auth.scenarios.ts).
import { conformance } from '../support/conformance.js';
import { authSuite, denyByDefaultSuite } from './auth.scenarios.js';

conformance(authSuite);
conformance(denyByDefaultSuite);
