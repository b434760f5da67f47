// "Did you mean …?": the names closest to a mistyped command or key.

/** Edit distance with transpositions (optimal string alignment): 'domian' is one step from 'domain'. */
export function distance(a: string, b: string): number {
  const d: number[][] = Array.from({ length: a.length + 1 }, (_, i) => [i, ...Array<number>(b.length).fill(0)]);
  for (let j = 1; j <= b.length; j++) d[0][j] = j;
  for (let i = 1; i <= a.length; i++)
    for (let j = 1; j <= b.length; j++) {
      const cost = a[i - 1] === b[j - 1] ? 0 : 1;
      d[i][j] = Math.min(d[i - 1][j] + 1, d[i][j - 1] + 1, d[i - 1][j - 1] + cost);
      if (i > 1 && j > 1 && a[i - 1] === b[j - 2] && a[i - 2] === b[j - 1])
        d[i][j] = Math.min(d[i][j], d[i - 2][j - 2] + 1);
    }
  return d[a.length][b.length];
}

/**
 * Up to `max` names close to `word`, closest first: a small edit away
 * (a third of the length, at least 2), containing it / its last dotted
 * part (`migrate` → domain.migrate, `start` → domain.start, pool.start, …),
 * or starting with it give or take one typo (`bandwith` → bandwidthMiBs).
 */
export function closest(word: string, names: readonly string[], max = 5): string[] {
  const w = word.toLowerCase();
  const tail = w.split('.').pop() ?? w;
  const budget = Math.max(2, Math.floor(w.length / 3));
  const scored: Array<[string, number]> = [];
  for (const n of names) {
    const l = n.toLowerCase();
    const whole = distance(w, l);
    const last = distance(tail, l.split('.').pop() ?? l);
    // a typo in the first part of a longer name: 'bandwith' → bandwidthMiBs
    const start = Math.min(...[0, 1, -1].map((d) => distance(w, l.slice(0, w.length + d))));
    if (whole <= budget) scored.push([n, whole]);
    else if (tail.length >= 3 && (l.includes(w) || l.split('.').pop() === tail)) scored.push([n, budget + 1]);
    else if (w.length >= 4 && start <= 1) scored.push([n, budget + 1 + start]);
    else if (tail.length >= 4 && last <= 1) scored.push([n, budget + 2 + last]);
  }
  // a plain typo of a whole name says enough: no looser matches beside it
  const typos = scored.filter(([, d]) => d <= budget);
  return (typos.length ? typos : scored)
    .sort((x, y) => x[1] - y[1] || x[0].localeCompare(y[0]))
    .slice(0, max)
    .map(([n]) => n);
}
