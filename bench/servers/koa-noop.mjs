// Koa + one Gatehouse middleware that does nothing (`gw.use({ name: 'noop' })`): the candidate of
// koa-noop, the cost of the adapter and the exchange alone, under every Koa ratio.
import { startKoa } from '../lib/variant-apps.mjs';

startKoa('noop');
