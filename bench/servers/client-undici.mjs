// A front server calling its upstream with undici.request: the baseline of client-request.
import { startClientBench } from '../lib/client-apps.mjs';

await startClientBench('undici');
