// Express 5 in front of the raw undici proxy (no Gatehouse): the candidate of express-proxy-floor.
import { startProxyBench } from '../lib/proxy-apps.mjs';

await startProxyBench('express-undici');
