// Express 5 + gw.routes() with the route in shadow mode: the candidate of shadow-overhead.
import { startShadowBench } from '../lib/proxy-apps.mjs';

await startShadowBench('shadow');
