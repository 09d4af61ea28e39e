// A front server calling its upstream through @gatehousejs/client: the candidate of client-request.
import { startClientBench } from '../lib/client-apps.mjs';

await startClientBench('gatehouse');
