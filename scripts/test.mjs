#!/usr/bin/env node
// Test runner: every test/**/*.test.ts file (each in its own process, one at a time — the tfjs backend
// is per process and this machine class has 2 cores). Extra args are passed to `node --test`
// (e.g. `npm test -- --test-name-pattern=hvp`); a path argument limits the run to files under it.
import { spawnSync } from 'node:child_process';
import { existsSync, readdirSync, statSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
const args = process.argv.slice(2);
const roots = args.filter((a) => !a.startsWith('-') && existsSync(path.resolve(root, a)));
const passthrough = args.filter((a) => !roots.includes(a));

function walk(dir, out) {
  for (const name of readdirSync(dir)) {
    const p = path.join(dir, name);
    if (statSync(p).isDirectory()) {
      if (name !== 'fixtures' && name !== 'deno') walk(p, out);
    } else if (name.endsWith('.test.ts')) out.push(p);
  }
  return out;
}
const files = (roots.length ? roots : ['test'])
  .flatMap((r) => (statSync(path.resolve(root, r)).isDirectory() ? walk(path.resolve(root, r), []) : [path.resolve(root, r)]))
  .sort();

// Real data is found as the library finds it (data/, FTDA_DATA_MIRROR, npm packages); tests without theirs skip.
const env = { ...process.env };
if (!env.FTDA_DATA_MIRROR) {
  console.log('# FTDA_DATA_MIRROR is not set: tests whose real data is not in data/ or an npm package will skip (README, Data)');
}
env.NO_COLOR = '1';

const r = spawnSync(process.execPath, ['--import', 'tsx', '--test', '--test-concurrency=1', ...passthrough, ...files], {
  cwd: root,
  env,
  stdio: 'inherit',
});
process.exit(r.status ?? 1);
