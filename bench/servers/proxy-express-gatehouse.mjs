// Express 5 + gw.routes() with a remote route: the candidate of express-proxy.
import { startProxyBench } from '../lib/proxy-apps.mjs';

await startProxyBench('express-gatehouse');
