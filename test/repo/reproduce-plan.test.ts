/**
 * reproduce.sh prints its cost estimate up front, from measured unit costs: with no timing of this machine it
 * uses the committed reference run (scripts/reference-timings.tsv) for every experiment of the preset, and a
 * timing of this machine's last run wins over it (issue #17 (7): the first ETA said ~56 s for ~9 min).
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { findings } from '../../lib/findings/registry.ts';

const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../..');

function dryRun(resultsDir: string) {
  const r = spawnSync('bash', ['reproduce.sh', '--preset', 'quick', '--dry-run'], { cwd: ROOT, encoding: 'utf8', timeout: 120_000, env: { ...process.env, FTDA_RESULTS_DIR: resultsDir, NO_COLOR: '1' } });
  if (r.error) throw r.error;
  return { code: r.status, out: r.stdout + r.stderr };
}

const seconds = (s: string) => {
  const m = /^(?:(\d+)m)?(\d+)s?$/.exec(s.replace(/\s/g, ''));
  assert.ok(m, `duration '${s}'`);
  return Number(m[1] ?? 0) * 60 + Number(m[2]);
};

test('reproduce.sh --dry-run: every experiment has a reference timing; the estimate is their sum, or this machine’s last run', () => {
  const ref = readFileSync(path.join(ROOT, 'scripts', 'reference-timings.tsv'), 'utf8').split('\n').filter((l) => l && !l.startsWith('#')).map((l) => l.split('\t'));
  const quick = new Map(ref.filter((r) => r[0] === 'quick').map((r) => [r[1], Number(r[2])]));
  for (const f of findings()) assert.ok(quick.has(f.id), `no quick reference timing for ${f.id}`);
  const tmp = mkdtempSync(path.join(os.tmpdir(), 'ftda-plan-'));
  try {
    const a = dryRun(tmp);
    assert.equal(a.code, 0, a.out);
    assert.doesNotMatch(a.out, /no timing yet/);
    const est = /estimate: ~([0-9ms ]+?) for the experiments/.exec(a.out);
    assert.ok(est, a.out);
    const sum = [...quick.values()].reduce((x, y) => x + y, 0);
    assert.equal(seconds(est[1]), sum);
    // This machine's last run wins for the experiments it timed.
    mkdirSync(path.join(tmp, 'reproduce', 'quick'), { recursive: true });
    writeFileSync(path.join(tmp, 'reproduce', 'quick', 'timings.tsv'), 'optimizer-mismatch\t600\n');
    const b = dryRun(tmp);
    assert.match(b.out, /optimizer-mismatch +~10m00s \(this machine, last run\)/);
    assert.equal(seconds(/estimate: ~([0-9ms ]+?) for the experiments/.exec(b.out)![1]), sum - quick.get('optimizer-mismatch')! + 600);
  } finally {
    rmSync(tmp, { recursive: true, force: true });
  }
});
