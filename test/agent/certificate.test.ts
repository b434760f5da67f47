// The client certificate's expiry for the log: info while valid, a warning
// from 14 days before, an error once expired. Certificates minted with the
// openssl command (Debian's openssl package, always on Debian 12).
import { execFileSync } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { certificateNote } from '../../src/agent/certificate';

let dir: string;
beforeAll(() => {
  dir = mkdtempSync(join(tmpdir(), 'virtbus-cert-'));
});
afterAll(() => rmSync(dir, { recursive: true, force: true }));

function mint(name: string, days: number): string {
  const crt = join(dir, `${name}.crt`);
  try {
    execFileSync(
      'openssl',
      [
        'req',
        '-x509',
        '-newkey',
        'ec',
        '-pkeyopt',
        'ec_paramgen_curve:P-256',
        '-nodes',
        '-keyout',
        join(dir, `${name}.key`),
        '-out',
        crt,
        '-days',
        String(days),
        '-subj',
        `/CN=${name}`,
      ],
      { stdio: 'pipe' },
    );
  } catch (e) {
    throw new Error(`openssl is needed to mint test certificates (apt-get install openssl): ${(e as Error).message}`);
  }
  return crt;
}

test('valid for long: info with the subject and the date', () => {
  const n = certificateNote(mint('node1', 30));
  expect(n).toMatchObject({ level: 'info', subject: 'CN=node1', daysLeft: 29 });
  expect(n.msg).toMatch(/valid until 20\d\d-/);
});

test('fewer than 14 days left: a warning that says what to do', () => {
  const n = certificateNote(mint('node2', 10));
  expect(n).toMatchObject({ level: 'warn', daysLeft: 9 });
  expect(n.msg).toMatch(/expires in 9 day\(s\).*replace the file and send SIGHUP/);
});

test('expired: an error', () => {
  const crt = mint('node3', 30);
  const n = certificateNote(crt, Date.now() + 31 * 24 * 3600 * 1000);
  expect(n.level).toBe('error');
  expect(n.msg).toMatch(/expired on/);
});
