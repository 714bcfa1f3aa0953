/**
 * One writer per cache entry. {@link withLock} holds `<target>.lock` while a phase computes `target`: a second
 * process asking for the same entry waits (printing who holds it), then reuses what the first wrote; two
 * different entries never wait for each other.
 *
 * The lock file records the holder's pid, host and process start time. A lock whose holder is gone (killed with
 * SIGKILL, machine rebooted) is stale and is taken over; a pid reused by an unrelated process is told apart by
 * its start time (Linux `/proc/<pid>/stat`).
 *
 * @example
 * ```ts
 * await withLock(storeDir, 'MLP base trajectory', async () => train({ ... }));
 * ```
 * @module
 */
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { LockError } from '../runtime/errors.ts';
import { log } from '../runtime/log.ts';

/** What a lock file holds. */
export interface LockInfo {
  pid: number;
  host: string;
  /** Process start time in clock ticks since boot (Linux), or null where unknown. */
  procStart: string | null;
  what: string;
  since: string;
}

/** Options of {@link withLock}. */
export interface LockOptions {
  /** Wait for a live holder (default true); false throws {@link LockError} at once. */
  wait?: boolean;
  /** Poll interval while waiting, ms (default 1000). */
  pollMs?: number;
}

/** Targets this process holds (re-entrant: a nested call for the same target runs at once). */
const held = new Map<string, number>();
let exitHook = false;

/** On exit (also process.exit from a signal handler) this process's locks are removed at once. */
function releaseAllOnExit(): void {
  if (exitHook) return;
  exitHook = true;
  process.on('exit', () => {
    for (const key of held.keys()) {
      try {
        const info = readLock(key + '.lock');
        if (info?.pid === process.pid) fs.unlinkSync(key + '.lock');
      } catch {
        /* best effort: a stale lock is taken over anyway */
      }
    }
  });
}

function procStart(pid: number): string | null {
  try {
    const stat = fs.readFileSync(`/proc/${pid}/stat`, 'utf8');
    // Field 22 (starttime); the command name (field 2) may hold spaces, so count from its closing paren.
    return stat.slice(stat.lastIndexOf(')') + 2).split(' ')[19] ?? null;
  } catch {
    return null;
  }
}

/** True when the holder recorded in `info` is still running. */
export function holderAlive(info: LockInfo): boolean {
  if (info.pid < 0) return false;
  if (info.host !== os.hostname()) return true; // cannot tell: assume alive
  try {
    process.kill(info.pid, 0);
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code === 'ESRCH') return false;
  }
  const now = procStart(info.pid);
  return info.procStart === null || now === null || now === info.procStart;
}

function readLock(file: string): LockInfo | undefined {
  try {
    return JSON.parse(fs.readFileSync(file, 'utf8')) as LockInfo;
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code === 'ENOENT') return undefined; // released meanwhile
    // Unreadable content cannot come from tryAcquire (it links a complete file): treat it as a dead holder's.
    return { pid: -1, host: os.hostname(), procStart: null, what: 'unreadable lock file', since: '?' };
  }
}

/** Creates the lock file with its content in one step (a hard link of a written temp file), or returns false. */
function tryAcquire(file: string, what: string): boolean {
  const info: LockInfo = { pid: process.pid, host: os.hostname(), procStart: procStart(process.pid), what, since: new Date().toISOString() };
  const tmp = `${file}.tmp-${process.pid}`;
  fs.writeFileSync(tmp, JSON.stringify(info));
  try {
    fs.linkSync(tmp, file); // atomic, and fails if the lock exists: no one ever reads a half-written lock
    return true;
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code === 'EEXIST') return false;
    throw e;
  } finally {
    fs.rmSync(tmp, { force: true });
  }
}

/**
 * Takes the lock of `target` (a file or directory path; the lock file is `target + '.lock'`), waiting for a live
 * holder; returns the function that releases it. Prefer {@link withLock}.
 * @param what what is being computed, shown to a process that waits
 * @throws LockError when another live process holds the lock and `wait` is false
 */
export async function acquireLock(target: string, what: string, o: LockOptions = {}): Promise<() => void> {
  const key = path.resolve(target);
  if (held.has(key)) {
    held.set(key, held.get(key)! + 1);
    return () => held.set(key, held.get(key)! - 1);
  }
  const file = key + '.lock';
  fs.mkdirSync(path.dirname(file), { recursive: true });
  let told = false;
  for (;;) {
    if (tryAcquire(file, what)) break;
    const info = readLock(file);
    if (!info) continue; // released between our two calls: try again
    if (!holderAlive(info)) {
      // Stale: remove it only if it is still the file we judged (another waiter may have replaced it).
      const again = readLock(file);
      if (JSON.stringify(again) === JSON.stringify(info)) {
        try {
          fs.unlinkSync(file);
        } catch {
          /* another waiter removed it first */
        }
        log(`lock: taking over ${file} from process ${info.pid} (no longer running)`);
      }
      continue;
    }
    if (o.wait === false) throw new LockError(`${target} is being computed by process ${info.pid} (${info.what}, since ${info.since}); wait for it, or stop it`, file);
    if (!told) {
      log(`lock: waiting for process ${info.pid} on ${info.host} (${info.what}, since ${info.since}); this run reuses its result`);
      told = true;
    }
    await new Promise((r) => setTimeout(r, o.pollMs ?? 1000));
  }
  held.set(key, 1);
  releaseAllOnExit();
  return () => {
    const n = held.get(key)! - 1;
    if (n > 0) {
      held.set(key, n);
      return;
    }
    held.delete(key);
    try {
      fs.unlinkSync(file);
    } catch {
      /* already gone */
    }
  };
}

/**
 * Runs `fn` while holding the lock of `target` ({@link acquireLock}).
 * @throws LockError when another live process holds the lock and `wait` is false
 */
export async function withLock<T>(target: string, what: string, fn: () => Promise<T>, o: LockOptions = {}): Promise<T> {
  const release = await acquireLock(target, what, o);
  try {
    return await fn();
  } finally {
    release();
  }
}

/**
 * A short lock taken synchronously (spinning, for writes that last milliseconds): the same lock file and stale
 * rules as {@link acquireLock}. Returns its release.
 * @throws LockError after `timeoutMs` (default 60 s) of a live holder
 */
export function lockSync(target: string, what = 'writing results', timeoutMs = 60_000): () => void {
  const key = path.resolve(target);
  const file = key + '.lock';
  fs.mkdirSync(path.dirname(file), { recursive: true });
  const t0 = Date.now();
  for (;;) {
    if (tryAcquire(file, what)) break;
    const info = readLock(file);
    if (info && !holderAlive(info)) {
      try {
        fs.unlinkSync(file);
      } catch {
        /* removed by another waiter */
      }
      continue;
    }
    if (Date.now() - t0 > timeoutMs) throw new LockError(`${target} has been locked by process ${info?.pid} for over ${timeoutMs / 1000} s`, file);
    Atomics.wait(new Int32Array(new SharedArrayBuffer(4)), 0, 0, 20);
  }
  return () => {
    try {
      fs.unlinkSync(file);
    } catch {
      /* already gone */
    }
  };
}
