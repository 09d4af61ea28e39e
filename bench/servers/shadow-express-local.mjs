// Express 5 + gw.routes() with the route in local mode: the baseline of shadow-overhead.
import { startShadowBench } from '../lib/proxy-apps.mjs';

await startShadowBench('local');
