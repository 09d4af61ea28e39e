// Express + one Gatehouse middleware that does nothing (`gw.use({ name: 'noop' })`): the candidate of
// express-noop, the cost of the adapter and the exchange alone, under every Express ratio.
import { startExpress } from '../lib/variant-apps.mjs';

startExpress('noop');
