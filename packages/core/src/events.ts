// Observability through diagnostics_channel: publishing costs nothing while nobody subscribes.
import { channel } from 'node:diagnostics_channel';

/** Gateway state changes: `{ gateway, state }`. */
export const lifecycleChannel = channel('gatehouse:lifecycle');
/** Errors that are not the client's fault: `{ error, exchange, phase }`. */
export const errorChannel = channel('gatehouse:error');
/** An exchange was created: `{ exchange }`. */
export const requestStartChannel = channel('gatehouse:request:start');
/** An exchange ended (response finished or client gone): `{ exchange }`. */
export const requestFinishChannel = channel('gatehouse:request:finish');
