// Temporary directories that are removed at the end of their scenario.
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Cleanup } from './cleanup';

export function tempDir(prefix: string, cleanup: Cleanup): string {
  const dir = mkdtempSync(join(tmpdir(), `virtbus-bench-${prefix}-`));
  cleanup.add(`remove ${dir}`, () => rmSync(dir, { recursive: true, force: true }));
  return dir;
}

let seq = 0;
/** A node id unique to this run: bench-<pid>-<n>-<label>. */
export function benchNodeId(label: string): string {
  return `bench-${process.pid}-${++seq}-${label}`;
}
