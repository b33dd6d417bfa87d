/**
 * Forgiving a typo in a panel name ("olso" for oslo-office, "bregen" for bergen-shop): the
 * optimal-string-alignment distance (Damerau-Levenshtein where a transposition of two
 * neighbours costs one edit). Small inputs only (names, words), so the O(n*m) table is cheap.
 */
export function editDistance(a: string, b: string): number {
  const rows = a.length + 1;
  const cols = b.length + 1;
  const d: number[][] = Array.from({ length: rows }, (_, i) => Array.from({ length: cols }, (_, j) => (i === 0 ? j : j === 0 ? i : 0)));
  for (let i = 1; i < rows; i++) {
    for (let j = 1; j < cols; j++) {
      const cost = a[i - 1] === b[j - 1] ? 0 : 1;
      d[i][j] = Math.min(d[i - 1][j] + 1, d[i][j - 1] + 1, d[i - 1][j - 1] + cost);
      if (i > 1 && j > 1 && a[i - 1] === b[j - 2] && a[i - 2] === b[j - 1]) d[i][j] = Math.min(d[i][j], d[i - 2][j - 2] + 1);
    }
  }
  return d[a.length][b.length];
}

/** Edits forgiven for a word of this length: none for 1-3 characters, one up to 6, two beyond. */
export function typoBudget(word: string): number {
  return word.length <= 3 ? 0 : word.length <= 6 ? 1 : 2;
}

/** The words of a field: "oslo-office" -> oslo-office, oslo, office. */
export function wordsOf(text: string): string[] {
  const lower = text.toLowerCase();
  return [lower, ...lower.split(/[\s._\-/,]+/).filter(Boolean)];
}

/**
 * How near `typed` comes to any word of `fields` (0 = a word equals it, or starts with it);
 * undefined when further than the typo budget allows.
 */
export function nearness(typed: string, fields: readonly string[]): number | undefined {
  const word = typed.toLowerCase();
  let best: number | undefined;
  for (const candidate of fields.flatMap(wordsOf)) {
    // A prefix of the candidate of the typed length counts too, so "olso" finds "oslo-office".
    const distance = Math.min(editDistance(word, candidate), editDistance(word, candidate.slice(0, word.length)));
    if (distance <= typoBudget(word) && (best === undefined || distance < best)) best = distance;
  }
  return best;
}
