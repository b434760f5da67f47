// proto/ and the protobufjs descriptor are generated: the checked-in copies
// must be what `npm run gen` produces now.
import { mkdtempSync, readFileSync, readdirSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { DESCRIPTOR, writeProto } from '../../tools/contract/proto-gen';

const root = join(__dirname, '..', '..');

test('proto/virtbus/v1 and the protobufjs descriptor are up to date (run `npm run gen`)', () => {
  const out = mkdtempSync(join(tmpdir(), 'virtbus-proto-check-'));
  try {
    writeProto(out);
    const protos = readdirSync(join(root, 'proto', 'virtbus', 'v1')).sort();
    expect(readdirSync(join(out, 'proto', 'virtbus', 'v1')).sort()).toEqual(protos);
    for (const f of protos) {
      expect([f, readFileSync(join(out, 'proto', 'virtbus', 'v1', f), 'utf8')]).toEqual([
        f,
        readFileSync(join(root, 'proto', 'virtbus', 'v1', f), 'utf8'),
      ]);
    }
    expect(readFileSync(join(out, DESCRIPTOR), 'utf8')).toBe(readFileSync(join(root, DESCRIPTOR), 'utf8'));
  } finally {
    rmSync(out, { recursive: true, force: true });
  }
});
