#!/usr/bin/env node
// Runs the test suites with node's own test runner (through tsx, so tests are TypeScript).
//   node scripts/test.mjs unit      every test/**/*.test.ts outside test/interop (needs only Node)
//   node scripts/test.mjs interop   test/interop/**/*.test.ts (Go reference, real containerd, Chromium)
//   node scripts/test.mjs FILE...   the named files
// Node 20's --test does not expand globs, so the files are listed here.
import { readdirSync, statSync } from 'node:fs';
import { join, relative } from 'node:path';
import { spawnSync } from 'node:child_process';
import { fileURLToPath } from 'node:url';

const root = fileURLToPath(new URL('..', import.meta.url));
const args = process.argv.slice(2);
const mode = args[0] ?? 'unit';

function walk(dir) {
  const out = [];
  for (const name of readdirSync(dir).sort()) {
    const p = join(dir, name);
    if (statSync(p).isDirectory()) out.push(...walk(p));
    else if (name.endsWith('.test.ts')) out.push(p);
  }
  return out;
}

let files;
if (mode === 'unit') files = walk(join(root, 'test')).filter((f) => !relative(root, f).startsWith(join('test', 'interop')));
else if (mode === 'interop') files = walk(join(root, 'test', 'interop'));
else files = args;
if (files.length === 0) {
  console.error(`no test files for ${mode}`);
  process.exit(1);
}
const r = spawnSync(process.execPath, ['--import', 'tsx', '--test', '--test-concurrency=2', ...files.map((f) => relative(root, f))], {
  cwd: root,
  stdio: 'inherit',
});
process.exit(r.status ?? 1);
