// Reads a fetch response body with a byte cap, counted while streaming (Content-Length may be absent,
// chunked or wrong), for the JWKS and introspection clients.

/**
 * The body as UTF-8 text; past `maxBytes` the stream is cancelled and `tooLarge()` is thrown.
 */
export async function readLimited(
  response: Response,
  maxBytes: number,
  tooLarge: () => Error,
): Promise<string> {
  if (response.body === null) return '';
  const reader = response.body.getReader();
  const chunks: Uint8Array[] = [];
  let total = 0;
  for (;;) {
    const { done, value } = await reader.read();
    if (done) break;
    total += value.byteLength;
    if (total > maxBytes) {
      await reader.cancel().catch(() => {});
      throw tooLarge();
    }
    chunks.push(value);
  }
  return Buffer.concat(chunks, total).toString('utf8');
}
