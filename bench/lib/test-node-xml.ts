// A libvirt test-driver node described in a file (test:///ABSOLUTE/PATH.xml):
// the driver loads every <domain> in it, running, in the process that opens
// the URI. Lets a separate agent process see the same many domains the
// bench's own in-process baseline sees.
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';

/** Writes node.xml with one running test domain per name; returns its test:/// URI. */
export function writeTestNode(dir: string, names: readonly string[]): string {
  const domains = names.map(
    (name) =>
      `  <domain type='test'><name>${name}</name><memory unit='KiB'>65536</memory>` +
      `<vcpu>1</vcpu><os><type>hvm</type></os></domain>`,
  );
  const path = join(dir, 'node.xml');
  writeFileSync(path, `<?xml version='1.0'?>\n<node>\n${domains.join('\n')}\n</node>\n`);
  return `test://${path}`;
}

/** ['d0', 'd1', …] */
export function domainNames(n: number, prefix = 'd'): string[] {
  return Array.from({ length: n }, (_, i) => `${prefix}${i}`);
}
