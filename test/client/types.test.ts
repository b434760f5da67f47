// The typed SDK's compile-time contract (issue 15): test/client/types/
// calls-ok.ts (uses that must compile) and calls-fail.ts (uses that must not,
// each under a `// @ts-expect-error`) type-check with the repo's compiler
// options — and the expectations are real: with every directive taken out,
// each line that was under one has an error of its own.
import { spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, relative, resolve } from 'node:path';
import ts from 'typescript';

const ROOT = join(__dirname, '..', '..');
const TSC = join(ROOT, 'node_modules', 'typescript', 'bin', 'tsc');
const OK = join(__dirname, 'types', 'calls-ok.ts');
const FAIL = join(__dirname, 'types', 'calls-fail.ts');
const DIRECTIVE = /^\s*\/\/ @ts-expect-error\b/;

jest.setTimeout(180_000);

let dir: string;
beforeAll(() => {
  dir = mkdtempSync(join(tmpdir(), 'virtbus-types-'));
});
afterAll(() => rmSync(dir, { recursive: true, force: true }));

interface TscRun {
  status: number | null;
  out: string;
  /** error locations as absolute-file:line (1-based) */
  errors: string[];
}

/** The repo's tsc on exactly these files, with the root tsconfig's options (a tsconfig of ours extending it). */
function tsc(files: string[], name: string): TscRun {
  const config = join(dir, `${name}.tsconfig.json`);
  writeFileSync(
    config,
    JSON.stringify({
      extends: join(ROOT, 'tsconfig.json'),
      // types are looked up from the config's folder: point them at the repo's; rootDir only
      // shapes emitted paths (none here) and must hold the negative control's copy in the temp dir
      compilerOptions: { noEmit: true, typeRoots: [join(ROOT, 'node_modules', '@types')], rootDir: '/' },
      include: [],
      files,
    }),
  );
  const r = spawnSync(process.execPath, [TSC, '-p', config, '--pretty', 'false'], {
    cwd: ROOT,
    encoding: 'utf8',
    timeout: 150_000,
  });
  const out = `${r.stdout ?? ''}${r.stderr ?? ''}${r.error ? String(r.error) : ''}`;
  // tsc names files relative to its working directory
  const errors = [...out.matchAll(/^(.+?)\((\d+),\d+\): error TS\d+/gm)].map((m) => `${resolve(ROOT, m[1])}:${m[2]}`);
  return { status: r.status, out, errors };
}

test('the root tsconfig (npm run typecheck) covers both files', () => {
  const parsed = ts.getParsedCommandLineOfConfigFile(
    join(ROOT, 'tsconfig.json'),
    {},
    {
      ...ts.sys,
      onUnRecoverableConfigFileDiagnostic: (d) => {
        throw new Error(ts.flattenDiagnosticMessageText(d.messageText, '\n'));
      },
    },
  );
  const files = parsed!.fileNames.map((f) => relative(ROOT, f));
  expect(files).toEqual(expect.arrayContaining(['test/client/types/calls-ok.ts', 'test/client/types/calls-fail.ts']));
});

test('calls-ok.ts leans on no directive or any: it compiles on its own types', () => {
  const src = readFileSync(OK, 'utf8');
  expect(src).not.toMatch(/@ts-(expect-error|ignore|nocheck)|\bas any\b|: any\b/);
});

test('calls-ok.ts compiles and every @ts-expect-error of calls-fail.ts meets its error', () => {
  const r = tsc([OK, FAIL], 'both');
  if (r.status !== 0) throw new Error(`tsc failed (exit ${r.status}):\n${r.out}`);
  expect(r.errors).toEqual([]);
});

test('negative control: without the directives, every line that was under one fails', () => {
  // the copy imports the SDK by absolute path: it lives outside the repo
  const lines = readFileSync(FAIL, 'utf8')
    .replace(/from '(\.\.\/[^']+)'/g, (_m, p: string) => `from ${JSON.stringify(join(__dirname, 'types', p))}`)
    .split('\n');
  const kept: string[] = [];
  /** 1-based line numbers, in the copy, of the lines that were under a directive */
  const expected: number[] = [];
  for (const line of lines) {
    if (DIRECTIVE.test(line)) {
      expected.push(kept.length + 1);
      continue;
    }
    kept.push(line);
  }
  expect(expected.length).toBeGreaterThanOrEqual(40);
  const copy = join(dir, 'calls-fail-bare.ts');
  writeFileSync(copy, kept.join('\n'));
  const r = tsc([copy], 'bare');
  expect(r.status).not.toBe(0);
  const failing = new Set(r.errors.filter((e) => e.startsWith(`${copy}:`)).map((e) => Number(e.split(':').pop())));
  const passing = expected.filter((n) => !failing.has(n)).map((n) => `${n}: ${kept[n - 1].trim()}`);
  if (passing.length) throw new Error(`lines that compile without their directive:\n${passing.join('\n')}\n${r.out}`);
  expect(r.errors.length).toBeGreaterThanOrEqual(expected.length);
  // and no error anywhere else (the copy is the same program apart from the directives)
  expect([...failing].filter((n) => !expected.includes(n))).toEqual([]);
  expect(r.errors.filter((e) => !e.startsWith(`${copy}:`))).toEqual([]);
});
