// cache-body-floor: see lib/aggregate-apps.mjs.
import { startAggregateBench } from '../lib/aggregate-apps.mjs';

await startAggregateBench('cache-body-floor');
