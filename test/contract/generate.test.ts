// contracts/ is generated from src/contract/: the checked-in copy must match.
import { readFileSync, readdirSync, statSync } from 'node:fs';
import { join, relative } from 'node:path';
import { renderContracts } from '../../tools/contract/contracts';
import { ERROR_CODES } from '../../src/errors';

const root = join(__dirname, '..', '..', 'contracts');
function listFiles(dir: string): string[] {
  return readdirSync(dir).flatMap((f) =>
    statSync(join(dir, f)).isDirectory() ? listFiles(join(dir, f)) : [join(dir, f)],
  );
}

test('contracts/ is up to date with src/contract (run `npm run gen:contracts`)', () => {
  const expected = renderContracts();
  const generated = listFiles(root)
    .map((f) => relative(root, f))
    .filter(
      (f) =>
        f.startsWith('schemas/') || f === 'asyncapi.yaml' || f === 'errors.json' || f === 'signing-test-vector.json',
    );
  expect(generated.sort()).toEqual([...expected.keys()].sort());
  for (const [p, content] of expected) expect([p, readFileSync(join(root, p), 'utf8')]).toEqual([p, content]);
});

test('every wire error code is unique, documented in contracts/errors.json and the README', () => {
  const codes = Object.keys(ERROR_CODES);
  expect(new Set(codes).size).toBe(codes.length);
  const catalogue = JSON.parse(readFileSync(join(root, 'errors.json'), 'utf8')).codes;
  expect(Object.keys(catalogue)).toEqual(codes);
  const readme = readFileSync(join(root, '..', 'README.md'), 'utf8');
  for (const c of codes) expect([c, readme.includes(`\`${c}\``)]).toEqual([c, true]);
});
