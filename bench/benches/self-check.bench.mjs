// The noise check: the same bare Express server on both sides. Its ratio should be 1.00; how far it
// strays across runs is the noise floor of the machine, and bounds what the other ratios can show.

export const name = 'self-check';
export const target = 0.97;
export const description =
  'NOISE CHECK: bare Express 5 vs the very same bare Express 5 server (two processes); the ratio should be ~1.00.';
export const baseline = '../servers/express-bare.mjs';
export const candidate = '../servers/express-bare.mjs';
export const requests = [{ method: 'GET', path: '/hello' }];
