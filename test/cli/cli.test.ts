/**
 * The command-line entry (lib/cli.ts), run as a child process the way `npm run demo` runs it:
 * `demo --preset quick` trains, writes a complete summary.json and a reusable trajectory; usage
 * mistakes exit with code 2 and say what was wrong.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawn, spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';

const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../..');

function cli(args: string[]) {
  const r = spawnSync(process.execPath, ['--import', 'tsx', 'lib/cli.ts', ...args], {
    cwd: ROOT,
    encoding: 'utf8',
    timeout: 120_000,
    env: { ...process.env, NO_COLOR: '1' },
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

/** The CLI run from another working directory (so its results/ is a scratch folder). */
function cliIn(cwd: string, args: string[]) {
  const tsx = pathToFileURL(createRequire(import.meta.url).resolve('tsx')).href;
  const r = spawnSync(process.execPath, ['--import', tsx, path.join(ROOT, 'lib', 'cli.ts'), ...args], {
    cwd,
    encoding: 'utf8',
    timeout: 120_000,
    env: { ...process.env, NO_COLOR: '1' },
  });
  if (r.error) throw r.error;
  return { code: r.status, stdout: r.stdout, stderr: r.stderr };
}

test('issue #17 (3): list flags are strict and checked against the preset grid; nothing replaces a summary with an empty one', () => {
  const cwd = mkdtempSync(path.join(os.tmpdir(), 'ftda-cli-lists-'));
  try {
    // A summary from an earlier run that no bad command may touch.
    const dir = path.join(cwd, 'results', 'optimizer-mismatch', 'full');
    mkdirSync(dir, { recursive: true });
    for (const f of ['summary.json', 'summary.csv', 'gains.csv']) writeFileSync(path.join(dir, f), `earlier ${f}\n`);
    const cases: [string[], RegExp][] = [
      [['--seeds', '0,0'], /--seeds: '0' is listed twice in '0,0'/],
      [['--lrs', '5e-2'], /--lrs: 0\.05 is not in the optimizer-mismatch preset 'full' \(choose from /],
      [['--settings', 'nope'], /--settings: nope is not in the optimizer-mismatch preset 'full' \(choose from mlp, cnn, gpt2, llama\)/],
      [['--seeds', '1.5'], /--seeds: '1\.5' is not a non-negative integer/],
      [['--lrs', '1e-3,'], /--lrs: item 2 of '1e-3,' is empty/],
      [['--lrs', '0x10'], /--lrs: '0x10' is not a decimal number/],
      [['--settings', 'cnn', '--lrs', '1e-5'], /--lrs: 0\.00001 is not in the optimizer-mismatch preset 'full' \(choose from 0\.001, 0\.0001\)/],
    ];
    for (const [flags, msg] of cases) {
      const r = cliIn(cwd, ['experiment', 'optimizer-mismatch', '--preset', 'full', '--cached-only', ...flags]);
      assert.equal(r.code, 2, `${flags.join(' ')}: exit ${r.code}\n${r.stderr}`);
      assert.match(r.stderr, msg);
    }
    // A valid selection that matches no computed cell: refused, exit 2, the summary is left as it was.
    const empty = cliIn(cwd, ['experiment', 'optimizer-mismatch', '--preset', 'full', '--cached-only', '--settings', 'mlp']);
    assert.equal(empty.code, 2, empty.stderr);
    assert.match(empty.stderr, /nothing to write: the selection matches no computed cell/);
    for (const f of ['summary.json', 'summary.csv', 'gains.csv']) assert.equal(readFileSync(path.join(dir, f), 'utf8'), `earlier ${f}\n`, f);
    // The other experiments' lists and the demo's numbers are strict too.
    const taylor = cliIn(cwd, ['experiment', 'taylor-error', '--preset', 'full', '--cached-only', '--steps', '10,10']);
    assert.equal(taylor.code, 2);
    assert.match(taylor.stderr, /--steps: '10' is listed twice/);
    const acc = cliIn(cwd, ['experiment', 'acc-epochs', '--preset', 'quick', '--datasets', 'cifar']);
    assert.equal(acc.code, 2);
    assert.match(acc.stderr, /--datasets: cifar is not in the acc-epochs preset 'quick'/);
    const lr = cliIn(cwd, ['demo', '--lr', '0x10']);
    assert.equal(lr.code, 2);
    assert.match(lr.stderr, /--lr: '0x10' is not a decimal number/);
    assert.ok(!existsSync(path.join(cwd, 'results', 'demo')), 'a usage error trains nothing');
  } finally {
    rmSync(cwd, { recursive: true, force: true });
  }
});

test('issue #17 (5): killing the tsx parent with SIGKILL ends its node child too', async () => {
  const cwd = mkdtempSync(path.join(os.tmpdir(), 'ftda-cli-kill-'));
  const tsxCli = path.join(ROOT, 'node_modules', 'tsx', 'dist', 'cli.mjs');
  // A command that runs for minutes (killed long before it ends).
  const parent = spawn(process.execPath, [tsxCli, path.join(ROOT, 'lib', 'cli.ts'), 'experiment', 'optimizer-mismatch', '--preset', 'quick'], { cwd, stdio: 'ignore', env: { ...process.env, NO_COLOR: '1', FTDA_QUIET: '1' } });
  try {
    const children = () => {
      try {
        return readFileSync(`/proc/${parent.pid}/task/${parent.pid}/children`, 'utf8').trim().split(/\s+/).filter(Boolean).map(Number);
      } catch {
        return [];
      }
    };
    let kids: number[] = [];
    for (let i = 0; i < 100 && !kids.length; i++) {
      await new Promise((r) => setTimeout(r, 100));
      kids = children();
    }
    assert.ok(kids.length, 'tsx started a child process');
    await new Promise((r) => setTimeout(r, 2500));
    assert.equal(parent.exitCode, null, 'the command is still running when it is killed');
    process.kill(parent.pid!, 'SIGKILL');
    const alive = (pid: number) => {
      try {
        process.kill(pid, 0);
        return !readFileSync(`/proc/${pid}/stat`, 'utf8').includes(') Z ');
      } catch {
        return false;
      }
    };
    let left = kids;
    for (let i = 0; i < 50 && left.length; i++) {
      await new Promise((r) => setTimeout(r, 100));
      left = left.filter(alive);
    }
    assert.deepEqual(left, [], 'the child exited within 5 s of its parent');
  } finally {
    try {
      process.kill(parent.pid!, 'SIGKILL');
    } catch {
      /* gone */
    }
    rmSync(cwd, { recursive: true, force: true });
  }
});
