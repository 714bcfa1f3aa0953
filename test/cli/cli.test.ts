/**
 * The command-line entry (lib/cli.ts), run as a child process the way `npm run demo` runs it:
 * `demo --preset quick` trains, writes a complete summary.json and a reusable trajectory; usage
 * mistakes exit with code 2 and say what was wrong.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../..');
const MIRROR = process.env.FTDA_DATA_MIRROR || path.resolve(ROOT, '../shared/data');

function cli(args: string[]) {
  const r = spawnSync(process.execPath, ['--import', 'tsx', 'lib/cli.ts', ...args], {
    cwd: ROOT,
    encoding: 'utf8',
    timeout: 120_000,
    env: { ...process.env, FTDA_DATA_MIRROR: MIRROR, NO_COLOR: '1' },
  });
  if (r.error) throw r.error;
  return { code: r.status, stdout: r.stdout, stderr: r.stderr };
}

/** Every number reachable in `v` (NaN / ±Inf are serialised as null by JSON, so nulls are flagged too). */
function badNumbers(v: unknown, at = ''): string[] {
  if (v === null) return [at];
  if (typeof v === 'number') return Number.isFinite(v) ? [] : [at];
  if (Array.isArray(v)) return v.flatMap((x, i) => badNumbers(x, `${at}[${i}]`));
  if (typeof v === 'object') return Object.entries(v as object).flatMap(([k, x]) => badNumbers(x, `${at}.${k}`));
  return [];
}

test('demo --preset quick trains, prints the loss curve and writes summary.json; a rerun reuses the trajectory', () => {
  const out = mkdtempSync(path.join(os.tmpdir(), 'ftda-cli-'));
  try {
    const r = cli(['demo', '--preset', 'quick', '--out', out]);
    assert.equal(r.code, 0, `demo failed:\n${r.stdout}\n${r.stderr}`);
    assert.match(r.stdout, /loss curve/);
    assert.match(r.stdout, /test \(\d+ examples\): loss [\d.]+ +accuracy [\d.]+%/);
    assert.match(r.stdout, /backend \w+/);

    const file = path.join(out, 'summary.json');
    assert.ok(existsSync(file), 'summary.json written');
    const s = JSON.parse(readFileSync(file, 'utf8'));
    for (const k of ['config', 'seed', 'backend', 'versions', 'settingHash', 'trajectory', 'lossCurve', 'test', 'runtime', 'timing']) {
      assert.ok(k in s, `summary.json has '${k}'`);
    }
    assert.equal(s.config.preset, 'quick');
    assert.equal(s.seed, 0);
    assert.ok(Object.keys(s.versions).some((k) => k.includes('tfjs')), 'versions name the tfjs packages');
    assert.match(s.settingHash, /^[0-9a-f]{64}$/);
    assert.match(s.trajectory.trajectoryHash, /^[0-9a-f]{64}$/);
    assert.deepEqual(badNumbers({ lossCurve: s.lossCurve, test: s.test }), [], 'no NaN / null in the loss curve or the test metrics');
    const { losses, first, last } = s.lossCurve;
    assert.equal(losses.length, s.lossCurve.steps);
    assert.equal(losses.length, s.trajectory.steps);
    assert.ok(losses.length > 0);
    assert.ok(last < first, `training loss decreased (${first} → ${last})`);
    assert.ok(s.test.loss < first, `test loss ${s.test.loss} below the first training loss ${first}`);
    assert.ok(s.test.accuracy >= 0 && s.test.accuracy <= 1);

    const manifest = JSON.parse(readFileSync(path.join(out, 'trajectory', 'manifest.json'), 'utf8'));
    assert.equal(manifest.trajectoryHash, s.trajectory.trajectoryHash, 'summary names the stored trajectory');
    assert.equal(manifest.complete, true);

    // Same flags, same folder: the finished run is reused, not retrained, and nothing changes.
    const again = cli(['demo', '--preset', 'quick', '--out', out]);
    assert.equal(again.code, 0, again.stderr);
    const s2 = JSON.parse(readFileSync(file, 'utf8'));
    assert.equal(s2.trajectory.status, 'reused');
    assert.equal(s2.trajectory.trajectoryHash, s.trajectory.trajectoryHash);
    assert.deepEqual(s2.test, s.test);
  } finally {
    rmSync(out, { recursive: true, force: true });
  }
});

test('usage errors exit with code 2 and a clear message', () => {
  const cmd = cli(['no-such-command']);
  assert.equal(cmd.code, 2);
  assert.match(cmd.stderr, /unknown command 'no-such-command'/);
  assert.match(cmd.stderr, /commands: demo, /);

  const preset = cli(['demo', '--preset', 'huge']);
  assert.equal(preset.code, 2);
  assert.match(preset.stderr, /unknown --preset 'huge'; choose one of quick, full/);

  const flag = cli(['demo', '--sed', '1']);
  assert.equal(flag.code, 2);
  assert.match(flag.stderr, /unknown flag '--sed'/);

  const help = cli(['help']);
  assert.equal(help.code, 0);
  assert.match(help.stdout, /commands:[\s\S]*demo[\s\S]*help/);
});
