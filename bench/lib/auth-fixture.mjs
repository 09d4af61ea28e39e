// The auth benchmarks' credentials: a fixed RS256 key pair generated once per benchmark run and
// handed to the servers through the environment, a long-lived token signed with it, and an API key.
// Requests carry the same token every time, so the candidate measures the verified-token cache path
// that a real client with a reused access token exercises.
import { exportJWK, generateKeyPair, SignJWT } from 'jose';

export const ISSUER = 'https://issuer.bench.test';
export const AUDIENCE = 'urn:bench:api';
export const API_KEY = 'gh_bench_4b1d9e7c2a';

/** Creates the key pair and token (in the benchmark process) and exports the public key to servers. */
export async function authFixture() {
  if (process.env.GATEHOUSE_BENCH_JWK !== undefined) {
    return {
      publicJwk: JSON.parse(process.env.GATEHOUSE_BENCH_JWK),
      token: process.env.GATEHOUSE_BENCH_TOKEN,
    };
  }
  const { privateKey, publicKey } = await generateKeyPair('RS256', { extractable: true });
  const publicJwk = { ...(await exportJWK(publicKey)), kid: 'bench-1', alg: 'RS256' };
  const token = await new SignJWT({ scope: 'read write' })
    .setProtectedHeader({ alg: 'RS256', kid: 'bench-1' })
    .setIssuer(ISSUER)
    .setAudience(AUDIENCE)
    .setSubject('bench-user')
    .setIssuedAt()
    .setExpirationTime('6h')
    .sign(privateKey);
  // Inherited by the server processes the harness spawns.
  process.env.GATEHOUSE_BENCH_JWK = JSON.stringify(publicJwk);
  process.env.GATEHOUSE_BENCH_TOKEN = token;
  return { publicJwk, token };
}

/** @param {{ body: string, status?: number }} res */
export function checkHelloAuthenticated({ body }) {
  if (JSON.parse(body).hello !== 'world') throw new Error(`unexpected body ${body}`);
}
