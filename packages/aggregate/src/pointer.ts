// JSON pointers (RFC 6901) for addressing values in the request context and in call results:
// `/order/customerId`, `/lines/0/sku`. Own properties only: a pointer can never reach a prototype.

/** Splits a pointer into unescaped tokens; throws on one that does not start with '/'. */
export function parsePointer(pointer: string): string[] {
  if (pointer === '') return [];
  if (!pointer.startsWith('/')) throw new TypeError(`a JSON pointer starts with '/', got '${pointer}'`);
  return pointer
    .slice(1)
    .split('/')
    .map((token) => token.replaceAll('~1', '/').replaceAll('~0', '~'));
}

/** The value at `tokens` in `value`, or undefined when any step is missing. */
export function resolveTokens(value: unknown, tokens: readonly string[]): unknown {
  let current = value;
  for (const token of tokens) {
    if (current === null || typeof current !== 'object') return undefined;
    if (Array.isArray(current)) {
      if (!/^(0|[1-9]\d*)$/.test(token)) return undefined;
      current = current[Number(token)];
    } else {
      if (!Object.hasOwn(current, token)) return undefined;
      current = (current as Record<string, unknown>)[token];
    }
  }
  return current;
}

/** Sets `next` at `tokens` in `target`, creating plain objects on the way. Refuses prototype keys. */
export function setTokens(target: Record<string, unknown>, tokens: readonly string[], next: unknown): void {
  if (tokens.length === 0) return;
  let current: Record<string, unknown> = target;
  for (const [i, token] of tokens.entries()) {
    if (token === '__proto__' || token === 'constructor' || token === 'prototype') return;
    if (i === tokens.length - 1) {
      current[token] = next;
      return;
    }
    const child = Object.hasOwn(current, token) ? current[token] : undefined;
    if (child === null || typeof child !== 'object' || Array.isArray(child)) {
      const made: Record<string, unknown> = {};
      current[token] = made;
      current = made;
    } else current = child as Record<string, unknown>;
  }
}

/** Deletes the value at `tokens` in `target` (a copy is the caller's business). */
export function deleteTokens(target: unknown, tokens: readonly string[]): void {
  if (tokens.length === 0) return;
  const parent = resolveTokens(target, tokens.slice(0, -1));
  const last = tokens[tokens.length - 1]!;
  if (parent === null || typeof parent !== 'object') return;
  if (Array.isArray(parent)) {
    if (/^(0|[1-9]\d*)$/.test(last)) parent.splice(Number(last), 1);
  } else if (Object.hasOwn(parent, last)) delete (parent as Record<string, unknown>)[last];
}
