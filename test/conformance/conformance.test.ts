// Every request-facing scenario of every capability, on Express and on Koa, compared.
import { conformance } from '../support/conformance.js';
import { foundationSuites } from './foundation.scenarios.js';
import { composedSuite, phaseSuite } from './phases.scenarios.js';

for (const suite of [...foundationSuites, phaseSuite, composedSuite]) conformance(suite);
