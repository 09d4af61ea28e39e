// fanout-gatehouse: see lib/aggregate-apps.mjs.
import { startAggregateBench } from '../lib/aggregate-apps.mjs';

await startAggregateBench('fanout-gatehouse');
