// "Did you mean …?" for configuration problems: close matches by edit distance, best first.

/**
 * The optimal-string-alignment distance between two strings: insertions, deletions, substitutions
 * and transpositions of two adjacent characters each cost 1 ("trailingSlsh" → "trailingSlash" is 1,
 * "ordres" → "orders" is 1).
 */
export function editDistance(a: string, b: string): number {
  if (a === b) return 0;
  if (a.length === 0) return b.length;
  if (b.length === 0) return a.length;
  // Three rolling rows: the previous-but-one is needed for transpositions.
  let before: number[] = new Array<number>(b.length + 1).fill(0);
  let previous: number[] = Array.from({ length: b.length + 1 }, (_, j) => j);
  let current: number[] = new Array<number>(b.length + 1).fill(0);
  for (let i = 1; i <= a.length; i++) {
    current[0] = i;
    for (let j = 1; j <= b.length; j++) {
      const cost = a[i - 1] === b[j - 1] ? 0 : 1;
      let best = Math.min(previous[j]! + 1, current[j - 1]! + 1, previous[j - 1]! + cost);
      if (i > 1 && j > 1 && a[i - 1] === b[j - 2] && a[i - 2] === b[j - 1]) {
        best = Math.min(best, before[j - 2]! + 1);
      }
      current[j] = best;
    }
    [before, previous, current] = [previous, current, before];
  }
  return previous[b.length]!;
}

/**
 * The candidates close enough to `input` to be what was meant, best first. A candidate is close
 * when its distance (ignoring case) is at most 2 or at most a third of the longer string, and
 * smaller than the shorter string (so "x" never suggests "to"). Ties keep the candidates' order.
 */
export function suggest(input: string, candidates: Iterable<string>): string[] {
  const needle = input.toLowerCase();
  const scored: { candidate: string; distance: number; order: number }[] = [];
  let order = 0;
  for (const candidate of candidates) {
    order++;
    if (candidate === input) continue;
    const distance = editDistance(needle, candidate.toLowerCase());
    const longer = Math.max(needle.length, candidate.length);
    const shorter = Math.min(needle.length, candidate.length);
    if (distance > Math.max(2, Math.floor(longer / 3))) continue;
    if (distance >= shorter && distance > 0) continue;
    scored.push({ candidate, distance, order });
  }
  scored.sort((x, y) => x.distance - y.distance || x.order - y.order);
  return [...new Set(scored.map((s) => s.candidate))];
}

/** " — did you mean 'x'?" for the best candidate, or '' when nothing is close. */
export function didYouMean(input: string, candidates: Iterable<string>): string {
  const [best] = suggest(input, candidates);
  return best === undefined ? '' : ` — did you mean '${best}'?`;
}
