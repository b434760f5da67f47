// The checks `npm run pack:client` makes before it packs @virtbus/client
// (packages/client/dist, built by `npm run build:client`), so that a package
// that would need libvirt or a dependency it does not declare is never made:
//   - nothing in dist is the agent's libvirt layer (src/libvirt/), and no
//     module requires it, a .node file, build/Release or process.dlopen;
//   - every package the JavaScript requires (from the entry and the bin, lazy
//     requires included) is a dependency, and every dependency is required;
//     each with the root package.json's version range;
//   - every package the shipped declarations import is a dependency with
//     types of its own;
//   - the version is the root's, and there is no install script or gypfile.
// Exit code 0 when all hold; else 1, with one line per problem.
import { existsSync, readFileSync, readdirSync, statSync } from 'node:fs';
import { builtinModules } from 'node:module';
import { dirname, join, relative, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';

const PKG_DIR = dirname(fileURLToPath(import.meta.url));
const ROOT = resolve(PKG_DIR, '..', '..');
const DIST = join(PKG_DIR, 'dist');
/** what only the agent needs: a client that depends on one of these pulls the agent in */
const AGENT_ONLY = ['node-addon-api', 'node-gyp', 'bullmq', 'ioredis', 'prom-client', 'aedes', 'pino', 'pino-pretty'];

const problems = new Set();
const fail = (m) => problems.add(m);
const rel = (p) => relative(PKG_DIR, p);
const readJson = (p) => JSON.parse(readFileSync(p, 'utf8'));

const pkg = readJson(join(PKG_DIR, 'package.json'));
const root = readJson(join(ROOT, 'package.json'));

function walk(dir) {
  return readdirSync(dir).flatMap((n) => {
    const p = join(dir, n);
    return statSync(p).isDirectory() ? walk(p) : [p];
  });
}

/** The package a bare specifier names ('@scope/name/sub' -> '@scope/name'). */
const packageOf = (spec) =>
  spec
    .split('/')
    .slice(0, spec.startsWith('@') ? 2 : 1)
    .join('/');
const isBuiltin = (spec) => spec.startsWith('node:') || builtinModules.includes(packageOf(spec));

/** require('…') in compiled CommonJS; tsc turns import('…') into a require as well. */
const requiresOf = (src) => [...src.matchAll(/\brequire\(\s*(['"])([^'"]+)\1\s*\)/g)].map((m) => m[2]);
/** import … from '…', export … from '…', import('…') in declarations */
const dtsImportsOf = (src) =>
  [...src.matchAll(/(?:\bfrom\s+|\bimport\s*\(\s*|^\s*import\s+)(['"])([^'"]+)\1/gm)].map((m) => m[2]);

function resolveFile(from, spec, exts) {
  const base = resolve(dirname(from), spec);
  for (const c of [base, ...exts.map((e) => base + e), ...exts.map((e) => join(base, `index${e}`))])
    if (existsSync(c) && statSync(c).isFile()) return c;
  return undefined;
}

function isForbiddenTarget(spec, file) {
  return (
    /\.node$/.test(spec) ||
    /build[\\/]Release/.test(spec) ||
    (file !== undefined && relative(DIST, file).split(/[\\/]/).slice(0, 2).join('/') === 'src/libvirt')
  );
}

const forbidden = (file, spec) => `${rel(file)} imports ${spec}: the agent's libvirt side or a native module`;

/**
 * Follows the module graph from the entry files; returns the bare specifiers
 * with the first file that needs each.
 */
function follow(entries, importsOf, exts) {
  const seen = new Set();
  const bare = new Map();
  const queue = [...entries];
  while (queue.length) {
    const file = queue.shift();
    if (seen.has(file)) continue;
    seen.add(file);
    if (!/\.(js|ts)$/.test(file)) continue;
    for (const spec of importsOf(readFileSync(file, 'utf8'))) {
      if (spec.startsWith('.') || spec.startsWith('/')) {
        const target = resolveFile(file, spec, exts);
        if (isForbiddenTarget(spec, target)) fail(forbidden(file, spec));
        else if (!target) fail(`${rel(file)} imports ${spec}, which is not in dist`);
        else queue.push(target);
      } else if (!isBuiltin(spec)) {
        if (isForbiddenTarget(spec)) fail(forbidden(file, spec));
        if (!bare.has(packageOf(spec))) bare.set(packageOf(spec), rel(file));
      }
    }
  }
  return { files: seen, bare };
}

if (!existsSync(DIST)) {
  console.error(`check-dist: ${rel(DIST)} is missing: run \`npm run build:client\` first`);
  process.exit(1);
}
const shipped = walk(DIST);

// 1. the libvirt side is not there at all, and nothing reaches for a native module
const libvirtSide = shipped.filter((f) => relative(DIST, f).startsWith('src/libvirt/'));
if (libvirtSide.length) fail(`dist holds the agent's libvirt layer: src/libvirt/ (${libvirtSide.length} files)`);
for (const f of shipped) {
  const r = relative(DIST, f);
  if (/\.node$/.test(r) || /binding\.gyp$/.test(r)) fail(`dist holds ${r}`);
  if (/\.js$/.test(f) && !libvirtSide.includes(f)) {
    const src = readFileSync(f, 'utf8');
    if (/process\.dlopen|['"][^'"]*\.node['"]|build[\\/]Release|'build',\s*'Release'/.test(src))
      fail(`${rel(f)} loads (or looks for) a native module`);
    for (const spec of requiresOf(src))
      if (isForbiddenTarget(spec, spec.startsWith('.') ? resolveFile(f, spec, ['.js', '.json']) : undefined))
        fail(forbidden(f, spec));
  }
}

// 2. run-time dependencies: exactly what the code requires, with the root's ranges
const entries = [pkg.exports?.['.']?.default ?? pkg.main, ...Object.values(pkg.bin ?? {})].map((p) => join(PKG_DIR, p));
for (const e of entries) if (!existsSync(e)) fail(`entry ${rel(e)} was not built`);
const js = follow(entries.filter(existsSync), requiresOf, ['.js', '.json']);
const deps = pkg.dependencies ?? {};
for (const [name, by] of js.bare) {
  if (!(name in deps)) fail(`${by} requires ${name}, which is not in dependencies`);
}
for (const [name, range] of Object.entries(deps)) {
  if (!js.bare.has(name)) fail(`dependency ${name} is never required: drop it`);
  if (root.dependencies?.[name] !== range)
    fail(`dependency ${name}@${range}: the root package.json has ${root.dependencies?.[name] ?? 'no such dependency'}`);
  if (AGENT_ONLY.includes(name)) fail(`dependency ${name} belongs to the agent, not the client`);
}
// modules only their types are imported from are emitted too: harmless, but worth knowing
const unloaded = shipped.filter((f) => /\.js$/.test(f) && !js.files.has(f)).map(rel);

// 3. declarations: whatever they import must come with types of its own
const typesEntry = join(PKG_DIR, pkg.exports?.['.']?.types ?? pkg.types);
if (!existsSync(typesEntry)) fail(`types ${rel(typesEntry)} were not built`);
else {
  const dts = follow([typesEntry], dtsImportsOf, ['.d.ts', '.json']);
  for (const [name, by] of dts.bare) {
    const own = join(ROOT, 'node_modules', name, 'package.json');
    const hasTypes = existsSync(own) && (readJson(own).types || readJson(own).typings);
    if (!(name in deps) && !(`@types/${name}` in deps)) fail(`${by} imports ${name}, which is not in dependencies`);
    else if (!hasTypes && !(`@types/${name}` in deps)) fail(`${by} imports ${name}, which has no types of its own`);
  }
}

// 4. the package itself
if (pkg.version !== root.version) fail(`version ${pkg.version}: the root package.json has ${root.version}`);
for (const s of ['preinstall', 'install', 'postinstall', 'prepare'])
  if (pkg.scripts?.[s]) fail(`scripts.${s}: installing the client must run nothing`);
if (pkg.gypfile) fail('gypfile: the client has no native part');

if (problems.size) {
  console.error(`check-dist: @virtbus/client is not fit to pack:\n  ${[...problems].join('\n  ')}`);
  process.exit(1);
}
if (unloaded.length) console.log(`check-dist: shipped, never loaded (type-only imports): ${unloaded.join(', ')}`);
console.log(
  `check-dist: ${shipped.length} files, ${js.files.size} modules loadable, dependencies ${[...js.bare.keys()].sort().join(', ')}: ok`,
);
