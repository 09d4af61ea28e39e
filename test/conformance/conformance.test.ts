// Every request-facing scenario of every capability, on Express and on Koa, compared.
import { conformance } from '../support/conformance.js';
import { foundationSuites } from './foundation.scenarios.js';
import { composedSuite, exchangeSuite, phaseSuite } from './phases.scenarios.js';

for (const suite of [...foundationSuites, phaseSuite, composedSuite, exchangeSuite]) conformance(suite);
