// The --nodes and --callers lists of the deploy/ generators: comma-separated
// ids, each [A-Za-z0-9_-]{1,64} (node ids and certificate CNs). No dependencies.

/** 'a, b,,c' -> ['a', 'b', 'c'] */
export const idList = (s) =>
  (s ?? '')
    .split(',')
    .map((x) => x.trim())
    .filter(Boolean);

/** Exits with status 2 and the reason when an id is not one. */
export function checkIds(ids) {
  for (const n of ids) {
    if (!/^[A-Za-z0-9_-]{1,64}$/.test(n)) {
      process.stderr.write(`'${n}' is not a node or caller id ([A-Za-z0-9_-]{1,64})\n`);
      process.exit(2);
    }
  }
}
