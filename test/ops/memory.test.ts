// releaseStartupMemory: what start-up used goes back to the system — V8's
// grown young generation and garbage (a memory-pressure collection) and the
// C heap's freed pages (malloc_trim).
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { getHeapSpaceStatistics } from 'node:v8';
import { Connection } from '../../src/libvirt';
import { releaseStartupMemory, trimCHeap } from '../../src/ops/memory';
import { cleanupAfterEach } from '../helpers/cleanup';

const defer = cleanupAfterEach();

const anonKiB = () => Number(/RssAnon:\s+(\d+) kB/.exec(readFileSync('/proc/self/status', 'utf8'))![1]);
const newSpace = () => getHeapSpaceStatistics().find((s) => s.space_name === 'new_space')!.physical_space_size;

test("libvirt's freed C heap goes back to the system", async () => {
  const dir = mkdtempSync(join(tmpdir(), 'virtbus-trim-'));
  defer('remove the node file', () => rmSync(dir, { recursive: true, force: true }));
  const domains = Array.from(
    { length: 2000 },
    (_, i) =>
      `<domain type='test'><name>trim${i}</name><memory unit='KiB'>65536</memory><vcpu>1</vcpu><os><type>hvm</type></os></domain>`,
  );
  writeFileSync(join(dir, 'node.xml'), `<?xml version='1.0'?>\n<node>\n${domains.join('\n')}\n</node>\n`);
  trimCHeap(); // what the test process freed before, out of the way

  // the test driver parses the node file and keeps 2,000 definitions: several MiB, freed but resident until the trim
  const c = await Connection.open(`test://${join(dir, 'node.xml')}`);
  expect((await c.listDomains()).length).toBe(2000);
  await c.close();
  const before = anonKiB();
  expect(trimCHeap()).toBe(true);
  expect(before - anonKiB()).toBeGreaterThan(1024);
});

test("V8's young generation grown by a start-up shrinks, and its garbage goes", () => {
  // objects that survive several scavenges make V8 grow the young generation, as loading and the snapshot do
  let kept: unknown[][] = [];
  for (let round = 0; round < 20; round++) kept.push(Array.from({ length: 50_000 }, (_, i) => ({ i, s: `x${i}` })));
  const grown = newSpace();
  kept = [];
  expect(kept).toHaveLength(0);
  const r = releaseStartupMemory();
  expect(grown).toBeGreaterThan(2 * 1024 * 1024);
  expect(newSpace()).toBeLessThan(grown / 2);
  expect(r.v8HeapAfter).toBeLessThan(r.v8HeapBefore);
  expect(typeof r.cHeapTrimmed).toBe('boolean');
});
