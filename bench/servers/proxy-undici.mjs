// A raw reverse proxy on node:http and undici Pool.stream(): the baseline of koa-proxy.
import { startProxyBench } from '../lib/proxy-apps.mjs';

await startProxyBench('undici');
