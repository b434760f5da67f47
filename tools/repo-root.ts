// The repository's root, whether a tool runs from tools/ (ts-jest) or compiled under dist-tools/.
import { existsSync } from 'node:fs';
import { dirname, join } from 'node:path';

export function repoRoot(from = __dirname): string {
  for (let d = from; ; d = dirname(d)) {
    if (existsSync(join(d, 'package.json')) && existsSync(join(d, 'src'))) return d;
    if (dirname(d) === d) throw new Error(`no repository root above ${from}`);
  }
}
