/**
 * On-disk trajectory store (a directory). Layout and crash semantics are documented in FORMAT.md:
 *
 *   run.json               header of the run (written first, atomically) — identifies the run for resume
 *   steps/000123.bin       state 123: raw little-endian float32 [θ | slot₁ | slot₂], P values each
 *   steps/000123.json      commit marker of that state: {t, optStep, prevT, losses[prevT..t), evals, bytes, sha256}
 *   manifest.json          written last (atomically) when the run completes: header + arrays
 *   run.json.sha256, manifest.json.sha256   integrity records (lib/cache/integrity.ts)
 *
 * Every file is written to a temporary name and renamed, so a killed process leaves either a complete
 * file or none; a `.bin` without its `.json` is an incomplete checkpoint and is ignored.
 *
 * Every read is verified: a state's bytes against the sha256 in its commit marker, run.json and manifest.json
 * against their records. A mismatch is a {@link CorruptFileError} naming the file; the trainer and the replay
 * accessor then regenerate what they can (trainer.ts, replay.ts).
 *
 * @module
 */
import * as fs from 'node:fs';
import * as path from 'node:path';
import { createHash } from 'node:crypto';
import { CorruptFileError } from '../runtime/errors.ts';
import { quarantine, readVerifiedJson, writeAtomic, writeVerified } from '../cache/integrity.ts';
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
    return readVerifiedJson<T>(path.join(this.dir, name), `the trainer rebuilds it from the checkpoints when the same run is trained again, or delete ${this.dir} to retrain`);
  }

  /**
   * The completed run's manifest, or undefined.
   * @throws CorruptFileError when manifest.json fails its integrity check
   */
  readManifest(): StoredManifest | undefined {
    return this.readJson<StoredManifest>('manifest.json');
  }

  /**
   * The run header, or undefined for an empty store.
   * @throws CorruptFileError when run.json fails its integrity check
   */
  readRun(): RunHeader | undefined {
    return this.readJson<RunHeader>('run.json');
  }

  /** Moves a bad run.json / manifest.json aside (never deletes); returns where it went. */
  quarantineFile(name: 'run.json' | 'manifest.json'): string {
    return quarantine(path.join(this.dir, name));
  }

  /** Writes run.json (start of a run). */
  writeRun(h: RunHeader): void {
    fs.mkdirSync(this.stepsDir(), { recursive: true });
    writeVerified(path.join(this.dir, 'run.json'), JSON.stringify(h));
  }

  /** Writes manifest.json (end of a run). */
  writeManifest(m: StoredManifest): void {
    writeVerified(path.join(this.dir, 'manifest.json'), JSON.stringify(m));
  }

  /** Path of state t's data file. */
  stateFile(t: number): string {
    return this.stepFile(t, 'bin');
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
   * Reads state t, verified against the sha256 in its commit marker.
   * @throws CorruptFileError when the bytes do not match (or the checkpoint is incomplete)
   */
  readState(t: number, slots: StateSlot[], nParams: number): FlatState {
    const meta = this.checkpointMeta(t);
    const file = this.stepFile(t, 'bin');
    if (!meta) throw new CorruptFileError(file, `no complete checkpoint for step ${t} (data file or commit marker missing, or sizes differ)`);
    const buf = fs.readFileSync(file);
    const bytes = new Uint8Array(buf.buffer, buf.byteOffset, buf.byteLength);
    const h = createHash('sha256').update(bytes).digest('hex');
    if (h !== meta.sha256) throw new CorruptFileError(file, `state ${t} does not match the sha256 recorded when it was written (damaged or edited)`);
    return unpackState(fromLeBytes(bytes), slots, nParams, meta.optStep);
  }

  /**
   * Rewrites state t's data file with a regenerated state, after checking that it is bit-identical to what was
   * recorded (so a repair can never change a run).
   * @returns false (and writes nothing) when the regenerated bytes differ from the record
   */
  repairState(t: number, state: FlatState, slots: StateSlot[], nParams: number): boolean {
    const meta = this.checkpointMeta(t) ?? this.markerOf(t);
    if (!meta) return false;
    const bytes = leBytes(packState(state, slots, nParams));
    if (createHash('sha256').update(bytes).digest('hex') !== meta.sha256 || state.optStep !== meta.optStep) return false;
    writeAtomic(this.stepFile(t, 'bin'), bytes);
    return true;
  }

  /** Moves state t's data file and marker aside (never deletes); returns where the data went. */
  quarantineState(t: number): string {
    const moved = quarantine(this.stepFile(t, 'bin'));
    quarantine(this.stepFile(t, 'json'));
    return moved;
  }

  /** The commit marker of t even when the data file is missing or of the wrong size. */
  private markerOf(t: number): CheckpointMeta | undefined {
    try {
      return JSON.parse(fs.readFileSync(this.stepFile(t, 'json'), 'utf8')) as CheckpointMeta;
    } catch {
      return undefined;
    }
  }
}
