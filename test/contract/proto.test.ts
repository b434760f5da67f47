// proto/ and the protobufjs descriptor are generated: the checked-in copies
// must be what `npm run gen:proto` produces now.
import { execFileSync } from 'node:child_process';
import { mkdtempSync, readFileSync, readdirSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

const root = join(__dirname, '..', '..');

test('proto/virtbus/v1 and src/codec/gen are up to date (run `npm run gen:proto`)', () => {
  const out = mkdtempSync(join(tmpdir(), 'virtbus-proto-check-'));
  execFileSync(process.execPath, [join(root, 'scripts', 'gen-proto.mjs'), out], { stdio: 'pipe' });
  const protos = readdirSync(join(root, 'proto', 'virtbus', 'v1')).sort();
  expect(readdirSync(join(out, 'proto', 'virtbus', 'v1')).sort()).toEqual(protos);
  for (const f of protos) {
    expect([f, readFileSync(join(out, 'proto', 'virtbus', 'v1', f), 'utf8')]).toEqual([f, readFileSync(join(root, 'proto', 'virtbus', 'v1', f), 'utf8')]);
  }
  const gen = 'src/codec/gen/virtbus.gen.ts';
  expect(readFileSync(join(out, gen), 'utf8')).toBe(readFileSync(join(root, gen), 'utf8'));
});
