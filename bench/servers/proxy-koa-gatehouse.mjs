// Koa 3 + gw.errors() + gw.routes() with a remote route: the candidate of koa-proxy.
import { startProxyBench } from '../lib/proxy-apps.mjs';

await startProxyBench('koa-gatehouse');
