/**
 * On-disk trajectory store (a directory). Layout and crash semantics are documented in FORMAT.md:
 *
 *   run.json               header of the run (written first, atomically) — identifies the run for resume
 *   steps/000123.bin       state 123: raw little-endian float32 [θ | slot₁ | slot₂], P values each
 *   steps/000123.json      commit marker of that state: {t, optStep, prevT, losses[prevT..t), evals, bytes, sha256}
 *   manifest.json          written last (atomically) when the run completes: header + arrays
 *
 * Every file is written to a temporary name and renamed, so a killed process leaves either a complete
 * file or none; a `.bin` without its `.json` is an incomplete checkpoint and is ignored.
 *
 * @module
 */
import * as fs from 'node:fs';
import * as path from 'node:path';
import { createHash } from 'node:crypto';
import type { EvalRecord, FlatState, TrajectoryManifest } from './trajectory.ts';
import { packState, unpackState } from './trajectory.ts';
import type { StateSlot } from '../optim/optimizer.ts';

/** run.json: the header of a (possibly unfinished) run. */
export type RunHeader = Omit<TrajectoryManifest, 'endStep' | 'complete' | 'recordedSteps'> & {
  batches: number[][];
  lrs: number[];
  divisors: number[];
};

/** manifest.json: the full description of a complete run. */
export interface StoredManifest extends TrajectoryManifest {
  batches: number[][];
  lrs: number[];
  divisors: number[];
  losses: number[];
  evals: EvalRecord[];
  trajectoryHash: string;
}

/** Commit marker of one stored state. */
export interface CheckpointMeta {
  t: number;
  optStep: number;
  /** Previous checkpoint of this run's chain (−1 for the start state). */
  prevT: number;
  /** Losses of steps prevT..t−1 (empty for the start state). */
  losses: number[];
  /** Evaluations made on states in (prevT, t]. */
  evals: EvalRecord[];
  bytes: number;
  sha256: string;
}

const LITTLE_ENDIAN = new Uint8Array(new Uint32Array([1]).buffer)[0] === 1;

function leBytes(a: Float32Array): Uint8Array {
  if (LITTLE_ENDIAN) return new Uint8Array(a.buffer, a.byteOffset, a.byteLength);
  const out = new Uint8Array(a.length * 4);
  const dv = new DataView(out.buffer);
  a.forEach((x, i) => dv.setFloat32(i * 4, x, true));
  return out;
}

function fromLeBytes(b: Uint8Array): Float32Array {
  const out = new Float32Array(b.byteLength / 4);
  if (LITTLE_ENDIAN) {
    new Uint8Array(out.buffer).set(b);
    return out;
  }
  const dv = new DataView(b.buffer, b.byteOffset, b.byteLength);
  for (let i = 0; i < out.length; i++) out[i] = dv.getFloat32(i * 4, true);
  return out;
}

/** Writes `data` to `file` via a temporary file + rename (atomic on one filesystem). */
export function writeAtomic(file: string, data: string | Uint8Array): void {
  const tmp = `${file}.tmp-${process.pid}`;
  fs.writeFileSync(tmp, data);
  fs.renameSync(tmp, file);
}

/** A trajectory directory. Creating the object touches nothing; writes create the directory. */
export class TrajectoryStore {
  /** @param dir directory of this trajectory (created on first write) */
  constructor(readonly dir: string) {
    if (typeof dir !== 'string' || dir === '') throw new Error(`TrajectoryStore: dir must be a non-empty path, got ${dir}`);
  }

  private stepsDir(): string {
    return path.join(this.dir, 'steps');
  }

  private stepFile(t: number, ext: 'bin' | 'json'): string {
    return path.join(this.stepsDir(), `${String(t).padStart(6, '0')}.${ext}`);
  }

  private readJson<T>(name: string): T | undefined {
    const f = path.join(this.dir, name);
    if (!fs.existsSync(f)) return undefined;
    try {
      return JSON.parse(fs.readFileSync(f, 'utf8')) as T;
    } catch (e) {
      throw new Error(`trajectory store ${this.dir}: ${name} is not valid JSON (${(e as Error).message})`);
    }
  }

  /** The completed run's manifest, or undefined. */
  readManifest(): StoredManifest | undefined {
    return this.readJson<StoredManifest>('manifest.json');
  }

  /** The run header, or undefined for an empty store. */
  readRun(): RunHeader | undefined {
    return this.readJson<RunHeader>('run.json');
  }

  /** Writes run.json (start of a run). */
  writeRun(h: RunHeader): void {
    fs.mkdirSync(this.stepsDir(), { recursive: true });
    writeAtomic(path.join(this.dir, 'run.json'), JSON.stringify(h));
  }

  /** Writes manifest.json (end of a run). */
  writeManifest(m: StoredManifest): void {
    writeAtomic(path.join(this.dir, 'manifest.json'), JSON.stringify(m));
  }

  /** Stores state t ([θ | slots] bytes first, then the commit marker). */
  writeCheckpoint(
    state: FlatState,
    slots: StateSlot[],
    nParams: number,
    meta: Omit<CheckpointMeta, 'bytes' | 'sha256' | 'optStep'>,
  ): void {
    fs.mkdirSync(this.stepsDir(), { recursive: true });
    const bytes = leBytes(packState(state, slots, nParams));
    writeAtomic(this.stepFile(meta.t, 'bin'), bytes);
    const full: CheckpointMeta = {
      ...meta,
      optStep: state.optStep,
      bytes: bytes.byteLength,
      sha256: createHash('sha256').update(bytes).digest('hex'),
    };
    writeAtomic(this.stepFile(meta.t, 'json'), JSON.stringify(full));
  }

  /** Commit marker of state t if that checkpoint is complete (marker present, .bin of the right size). */
  checkpointMeta(t: number): CheckpointMeta | undefined {
    const jf = this.stepFile(t, 'json');
    const bf = this.stepFile(t, 'bin');
    if (!fs.existsSync(jf) || !fs.existsSync(bf)) return undefined;
    let meta: CheckpointMeta;
    try {
      meta = JSON.parse(fs.readFileSync(jf, 'utf8')) as CheckpointMeta;
    } catch {
      return undefined;
    }
    return fs.statSync(bf).size === meta.bytes ? meta : undefined;
  }

  /** Steps with a complete checkpoint, ascending. */
  listCheckpoints(): number[] {
    if (!fs.existsSync(this.stepsDir())) return [];
    return fs
      .readdirSync(this.stepsDir())
      .filter((f) => /^\d{6,}\.json$/.test(f))
      .map((f) => Number(f.slice(0, -5)))
      .filter((t) => this.checkpointMeta(t) !== undefined)
      .sort((a, b) => a - b);
  }

  /**
   * Reads state t.
   * @param verify also check the sha256 recorded in the commit marker
   */
  readState(t: number, slots: StateSlot[], nParams: number, verify = false): FlatState {
    const meta = this.checkpointMeta(t);
    if (!meta) throw new Error(`trajectory store ${this.dir}: no complete checkpoint for step ${t}`);
    const buf = fs.readFileSync(this.stepFile(t, 'bin'));
    const bytes = new Uint8Array(buf.buffer, buf.byteOffset, buf.byteLength);
    if (verify) {
      const h = createHash('sha256').update(bytes).digest('hex');
      if (h !== meta.sha256) throw new Error(`trajectory store ${this.dir}: step ${t} data does not match its sha256 (corrupt file)`);
    }
    return unpackState(fromLeBytes(bytes), slots, nParams, meta.optStep);
  }
}
