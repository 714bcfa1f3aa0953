/**
 * Issue #17 (6): the suite runs anywhere. No test or script names a path of one machine; the committed lock file is
 * the one `npm install` leaves; a quick reproduction writes no tracked file.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { spawnSync } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { figuresDir } from '../../lib/plot/paths.ts';

const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../..');

function files(dir: string, out: string[] = []): string[] {
  for (const e of fs.readdirSync(path.join(ROOT, dir), { withFileTypes: true })) {
    const rel = path.join(dir, e.name);
    if (e.isDirectory()) files(rel, out);
    else if (/\.(ts|mjs|js|sh)$/.test(e.name)) out.push(rel);
  }
  return out;
}

test('no test, script or library file names an absolute path of a machine, or defaults the data mirror', () => {
  const self = path.relative(ROOT, fileURLToPath(import.meta.url));
  const offenders: string[] = [];
  for (const f of [...files('test'), ...files('scripts'), ...files('lib'), ...files('bench')]) {
    if (f === self) continue;
    fs.readFileSync(path.join(ROOT, f), 'utf8').split('\n').forEach((line, i) => {
      if (/['"`]\/(work|home|root|Users)\//.test(line) || /FTDA_DATA_MIRROR\s*(\?\?|\|\|)=/.test(line) || /FTDA_DATA_MIRROR\s*=\s*['"`]/.test(line)) offenders.push(`${f}:${i + 1}: ${line.trim()}`);
    });
  }
  assert.deepEqual(offenders, [], 'data is found as the library finds it (data/, FTDA_DATA_MIRROR, npm packages)');
});

test('package-lock.json records what npm install writes (the deno package\'s optional platform packages included)', () => {
  const lock = JSON.parse(fs.readFileSync(path.join(ROOT, 'package-lock.json'), 'utf8'));
  const denoPkg = path.join(ROOT, 'node_modules', 'deno', 'package.json');
  const optional = fs.existsSync(denoPkg) ? Object.keys(JSON.parse(fs.readFileSync(denoPkg, 'utf8')).optionalDependencies ?? {}) : ['@deno/darwin-arm64', '@deno/darwin-x64', '@deno/linux-arm64-glibc', '@deno/win32-x64'];
  const missing = optional.filter((n) => !lock.packages?.[`node_modules/${n}`]);
  assert.deepEqual(missing, [], 'each of them is in the lock file, so npm install leaves it unchanged');
});

test('a quick reproduction writes its figures outside the tracked figures/ files (figures/quick/, ignored by git)', () => {
  const prev = process.env.FTDA_FIGURES_DIR;
  delete process.env.FTDA_FIGURES_DIR;
  try {
    const quick = figuresDir('quick');
    assert.equal(path.relative(ROOT, quick), path.join('figures', 'quick'));
    assert.equal(path.relative(ROOT, figuresDir('full')), 'figures');
    const r = spawnSync('git', ['check-ignore', '-q', path.join('figures', 'quick', 'README.md')], { cwd: ROOT });
    if (r.error || !fs.existsSync(path.join(ROOT, '.git'))) return; // not a git checkout: nothing more to check
    assert.equal(r.status, 0, 'figures/quick/ is ignored by git');
  } finally {
    if (prev !== undefined) process.env.FTDA_FIGURES_DIR = prev;
  }
});
