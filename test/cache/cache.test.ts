/**
 * lib/cache: integrity records, cached entries, locks and resume files (issue #17, items 2 and 5).
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { spawn, spawnSync } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { quarantine, readCachedJson, readVerifiedJson, writeVerifiedJson } from '../../lib/cache/integrity.ts';
import { cachedJson } from '../../lib/cache/entry.ts';
import { acquireLock, withLock } from '../../lib/cache/lock.ts';
import { loadResume, removeResume, saveResume } from '../../lib/cache/resume.ts';
import { CacheMismatchError, CorruptFileError, LockError } from '../../lib/runtime/errors.ts';
import { onWarning } from '../../lib/runtime/log.ts';

const HERE = path.dirname(fileURLToPath(import.meta.url));
const ROOT = path.resolve(HERE, '../..');
const tmp = () => fs.mkdtempSync(path.join(os.tmpdir(), 'ftda-cache-'));

function warnings<T>(f: () => T): { value: T; seen: string[] } {
  const seen: string[] = [];
  const stop = onWarning((m) => seen.push(m));
  try {
    return { value: f(), seen };
  } finally {
    stop();
  }
}

test('integrity: a verified file reads back; edited, truncated or record-less files raise CorruptFileError naming the file', () => {
  const dir = tmp();
  try {
    const f = path.join(dir, 'sub', 'x.json');
    writeVerifiedJson(f, { a: [1, 2, 3] });
    assert.deepEqual(readVerifiedJson(f), { a: [1, 2, 3] });
    assert.match(fs.readFileSync(f + '.sha256', 'utf8'), /^[0-9a-f]{64} {2}x\.json\n$/, 'sha256sum format');
    assert.equal(readVerifiedJson(path.join(dir, 'absent.json')), undefined);
    fs.writeFileSync(f, '{"a":[1,2,4]}');
    assert.throws(() => readVerifiedJson(f), (e: Error) => e instanceof CorruptFileError && e.message.startsWith(f) && /does not match/.test(e.message));
    fs.writeFileSync(f, '{"a":[1,');
    assert.throws(() => readVerifiedJson(f, 'delete it'), (e: Error) => e instanceof CorruptFileError && /; delete it$/.test(e.message));
    fs.rmSync(f + '.sha256');
    assert.throws(() => readVerifiedJson(f), /has no integrity record/);
    const moved = quarantine(f);
    assert.ok(fs.existsSync(moved) && !fs.existsSync(f), 'quarantine moves, never deletes');
  } finally {
    fs.rmSync(dir, { recursive: true, force: true });
  }
});

test('readCachedJson: a bad entry is moved aside with a warning and reads as absent (so it is recomputed)', () => {
  const dir = tmp();
  try {
    const f = path.join(dir, 'scores.json');
    writeVerifiedJson(f, { n: 3 });
    fs.writeFileSync(f, '{"n":4}');
    const { value, seen } = warnings(() => readCachedJson<{ n: number }>(f, 'test scores'));
    assert.equal(value, undefined);
    assert.equal(seen.length, 1);
    assert.match(seen[0], new RegExp(`cache entry \\(test scores\\) ${f.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')}: .*moved it to .*corrupt-.* and recomputing`));
    // A validator's reason counts as bad too.
    writeVerifiedJson(f, { n: 3 });
    const v = warnings(() => readCachedJson<{ n: number }>(f, 'test scores', (x) => (x.n === 5 ? undefined : `holds n = ${x.n}, expected 5`)));
    assert.equal(v.value, undefined);
    assert.match(v.seen[0], /holds n = 3, expected 5/);
  } finally {
    fs.rmSync(dir, { recursive: true, force: true });
  }
});

test('cachedJson: computes once, then serves the verified entry; a damaged entry is recomputed', async () => {
  const dir = tmp();
  try {
    const f = path.join(dir, 'e.json');
    let calls = 0;
    const compute = async () => ({ k: ++calls });
    assert.deepEqual(await cachedJson(f, 'e', compute), { value: { k: 1 }, cached: false });
    assert.deepEqual(await cachedJson(f, 'e', compute), { value: { k: 1 }, cached: true });
    fs.writeFileSync(f, fs.readFileSync(f, 'utf8').slice(0, 3));
    const stop = onWarning(() => undefined);
    try {
      assert.deepEqual(await cachedJson(f, 'e', compute), { value: { k: 2 }, cached: false });
    } finally {
      stop();
    }
    assert.ok(!fs.existsSync(f + '.lock'), 'the lock is released');
  } finally {
    fs.rmSync(dir, { recursive: true, force: true });
  }
});

test('two processes asking for one entry at once: one computes, the other waits and reuses it', async () => {
  const dir = tmp();
  try {
    const f = path.join(dir, 'slow.json');
    const log = path.join(dir, 'log');
    const run = () =>
      new Promise<{ cached: boolean; value: number }>((resolve, reject) => {
        const c = spawn(process.execPath, ['--import', 'tsx', path.join(HERE, 'fixtures', 'cached-child.ts'), f, log], { cwd: ROOT, env: { ...process.env, FTDA_QUIET: '1' } });
        let out = '';
        c.stdout.on('data', (d) => (out += d));
        c.on('close', (code) => (code === 0 ? resolve(JSON.parse(out)) : reject(new Error(`child exit ${code}`))));
      });
    const [a, b] = await Promise.all([run(), run()]);
    assert.equal(fs.readFileSync(log, 'utf8').trim().split('\n').length, 1, 'computed exactly once');
    assert.deepEqual([a.value, b.value], [42, 42]);
    assert.deepEqual([a.cached, b.cached].sort(), [false, true]);
  } finally {
    fs.rmSync(dir, { recursive: true, force: true });
  }
});

test('locks: a lock of a dead process is taken over; a live holder is reported (or waited for); re-entrant in one process', async () => {
  const dir = tmp();
  try {
    const target = path.join(dir, 'entry');
    // A holder that no longer runs (SIGKILLed): its lock is stale.
    const dead = spawnSync(process.execPath, ['-e', 'process.stdout.write(String(process.pid))'], { encoding: 'utf8' });
    fs.writeFileSync(target + '.lock', JSON.stringify({ pid: Number(dead.stdout), host: os.hostname(), procStart: null, what: 'old', since: 'then' }));
    assert.equal(await withLock(target, 'now', async () => 7), 7);
    assert.ok(!fs.existsSync(target + '.lock'));
    // A live holder (this process's parent stands in for another process).
    fs.writeFileSync(target + '.lock', JSON.stringify({ pid: process.ppid, host: os.hostname(), procStart: null, what: 'TSLOO of 200 ids', since: 'now' }));
    await assert.rejects(withLock(target, 'x', async () => 0, { wait: false }), (e: Error) => e instanceof LockError && /process \d+ \(TSLOO of 200 ids/.test(e.message));
    let released = false;
    setTimeout(() => {
      fs.rmSync(target + '.lock');
      released = true;
    }, 300);
    await withLock(target, 'x', async () => assert.ok(released, 'waited until the holder was done'), { pollMs: 50 });
    // Re-entrant: a nested lock of the same target in this process does not deadlock.
    const release = await acquireLock(target, 'outer');
    assert.equal(await withLock(target, 'inner', async () => 'ok'), 'ok');
    assert.ok(fs.existsSync(target + '.lock'), 'still held by the outer call');
    release();
    assert.ok(!fs.existsSync(target + '.lock'));
  } finally {
    fs.rmSync(dir, { recursive: true, force: true });
  }
});

test('resume files: round trip; another request is refused; a damaged file is set aside (start over)', () => {
  const dir = tmp();
  try {
    const f = path.join(dir, 'loop.resume');
    const a = Float64Array.from([1, 2, 3]);
    const b = Float64Array.from([Math.PI, -0, 1e-300]);
    saveResume(f, { key: 'k1', next: 5 }, [a, b]);
    const r = loadResume<{ next: number }>(f, 'k1')!;
    assert.equal(r.header.next, 5);
    assert.deepEqual(r.arrays, [a, b]);
    assert.throws(() => loadResume(f, 'k2'), (e: Error) => e instanceof CacheMismatchError && /another request/.test(e.message));
    const buf = fs.readFileSync(f);
    buf[buf.length - 1] ^= 1;
    fs.writeFileSync(f, buf);
    const w = warnings(() => loadResume(f, 'k1'));
    assert.equal(w.value, undefined);
    assert.match(w.seen[0], /starting over/);
    removeResume(f);
  } finally {
    fs.rmSync(dir, { recursive: true, force: true });
  }
});
