// Express 5 + http-proxy-middleware 3 (keep-alive agent): the baseline of express-proxy.
import { startProxyBench } from '../lib/proxy-apps.mjs';

await startProxyBench('express-hpm');
