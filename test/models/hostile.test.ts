/**
 * Issue #17 (4): readers bound every count by what the file can hold before allocating, so hostile headers fail
 * fast with a clear error; and a bounded, seeded fuzz of every binary and text reader (GGUF, safetensors, IDX,
 * CIFAR, CSV, JSONL): a mutated file either parses or throws an Error naming its source, quickly.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { initBackend } from '../../lib/runtime/backend.ts';
import { tf } from '../../lib/runtime/tf.ts';
import { Rng } from '../../lib/runtime/rng.ts';
import { ggufToLlama, readGguf } from '../../lib/models/gguf.ts';
import { encodeSafetensors, readSafetensors, tensorData } from '../../lib/models/safetensors.ts';
import { parseIdxImages, parseIdxLabels } from '../../lib/data/idx.ts';
import { parseCifar10 } from '../../lib/data/cifar.ts';
import { parseAdultRows, parseCsv } from '../../lib/data/csv.ts';
import { parseJsonl } from '../../lib/data/jsonl.ts';
import { buildGguf, f32b, type Builder, type T } from './fixtures/gguf-builder.ts';

await initBackend({ backend: 'wasm' });

const num = (k: string, v: number) => (b: Builder) => b.str(k).u32(4).u32(v);
/** A llama GGUF header whose block count is `layers`, holding only an embedding (a 250-byte-class file). */
function llamaHeader(layers: number, extra: T[] = []): Uint8Array {
  return buildGguf(
    [
      (b) => b.str('general.architecture').u32(8).str('llama'),
      num('llama.context_length', 32), num('llama.embedding_length', 8), num('llama.block_count', layers),
      num('llama.feed_forward_length', 12), num('llama.attention.head_count', 2),
      (b) => b.str('llama.attention.layer_norm_rms_epsilon').u32(6).f32(1e-5),
    ],
    [{ name: 'token_embd.weight', dims: [8, 4], type: 0, data: f32b(new Float32Array(32)) }, ...extra],
  );
}

/** A complete one-block llama GGUF (dim 8, 2 heads, 2 kv heads, hidden 12, vocab 4; zero weights). */
function llamaFile(): Uint8Array {
  const m = (r: number, c: number) => ({ dims: [r, c], data: f32b(new Float32Array(r * c)) });
  const blk = (n: string, t: { dims: number[]; data: Uint8Array }): T => ({ name: `blk.0.${n}.weight`, type: 0, ...t });
  const vec = (n: number) => ({ dims: [n], data: f32b(new Float32Array(n).fill(1)) });
  return llamaHeader(1, [
    { name: 'output_norm.weight', type: 0, ...vec(8) },
    blk('attn_norm', vec(8)), blk('ffn_norm', vec(8)),
    blk('attn_q', m(8, 8)), blk('attn_k', m(8, 8)), blk('attn_v', m(8, 8)), blk('attn_output', m(8, 8)),
    blk('ffn_gate', m(8, 12)), blk('ffn_up', m(8, 12)), blk('ffn_down', m(12, 8)),
  ]);
}

function fast<R>(what: string, f: () => R, ms = 1000): R {
  const t0 = performance.now();
  try {
    return f();
  } finally {
    const dt = performance.now() - t0;
    assert.ok(dt < ms, `${what} took ${dt.toFixed(0)} ms`);
  }
}

test('gguf: a block_count of 1e9 or 3e6 fails at once, before any layer is built', () => {
  for (const layers of [1e9, 3e6, 2]) {
    const bytes = llamaHeader(layers);
    assert.ok(bytes.length < 1024);
    fast(`block_count ${layers}`, () => assert.throws(() => ggufToLlama(readGguf(bytes, 'hostile.gguf')), /hostile\.gguf.*(block_count|blk\.0)|'layers' \d+ exceeds/));
  }
});

test('gguf: counts that cannot fit in the file are refused before allocating', () => {
  const ok = llamaHeader(1);
  const claim = (offset: number, v: bigint) => {
    const b = ok.slice();
    new DataView(b.buffer).setBigUint64(offset, v, true);
    return b;
  };
  fast('tensor count 2^40', () => assert.throws(() => readGguf(claim(8, 2n ** 40n), 'h.gguf'), /h\.gguf': tensor count 1099511627776 at byte 8 cannot fit in the \d+ bytes that follow/));
  fast('metadata count 1e7', () => assert.throws(() => readGguf(claim(16, 10_000_000n), 'h.gguf'), /metadata count 10000000 .* cannot fit/));
  const arr = buildGguf([(b) => b.str('k').u32(9).u32(0).u64(5_000_000).u8(1)], []);
  fast('array of 5e6 u8 in 60 bytes', () => assert.throws(() => readGguf(arr, 'a.gguf'), /metadata 'k' element count 5000000 .* cannot fit/));
});

test('safetensors: an absurd header length is refused by size (not by a UTF-8 error), and dtype "toString" is unknown', () => {
  const good = encodeSafetensors({ w: { shape: [2], data: new Float32Array([1, 2]) } });
  const withLen = (n: bigint) => {
    const b = good.slice();
    new DataView(b.buffer).setBigUint64(0, n, true);
    return b;
  };
  fast('2^40', () => assert.throws(() => readSafetensors(withLen(2n ** 40n), 's.st'), /s\.st': header length 1099511627776 exceeds the format's limit of 100000000 bytes/));
  fast('near the file size', () => assert.throws(() => readSafetensors(withLen(BigInt(good.length - 8)), 's.st'), /s\.st'/));
  const header = JSON.stringify({ w: { dtype: 'toString', shape: [2], data_offsets: [0, 8] } });
  const n = Math.ceil(header.length / 8) * 8;
  const bytes = new Uint8Array(8 + n + 8);
  new DataView(bytes.buffer).setBigUint64(0, BigInt(n), true);
  bytes.set(new TextEncoder().encode(header.padEnd(n, ' ')), 8);
  assert.throws(() => readSafetensors(bytes, 'd.st'), /tensor 'w': unknown dtype "toString"/);
});

/** Seeded mutations: flipped bytes, a field set to 0xff…, a truncation, a splice of random bytes. */
function mutants(base: Uint8Array, n: number, seed: number): Uint8Array[] {
  const r = new Rng(seed);
  const out: Uint8Array[] = [];
  for (let i = 0; i < n; i++) {
    const b = base.slice();
    const kind = i % 4;
    const at = Math.floor(r.next() * b.length);
    if (kind === 0) for (let k = 0; k < 3; k++) b[Math.floor(r.next() * b.length)] ^= 1 << Math.floor(r.next() * 8);
    else if (kind === 1) b.fill(0xff, at, Math.min(b.length, at + 8));
    else if (kind === 2) {
      out.push(b.subarray(0, at));
      continue;
    } else for (let k = at; k < Math.min(b.length, at + 16); k++) b[k] = Math.floor(r.next() * 256);
    out.push(b);
  }
  return out;
}

/** Every mutant either parses or throws an Error whose message names `label`, each within the time bound. */
function fuzz(label: string, base: Uint8Array, parse: (b: Uint8Array) => unknown, n = 200): { parsed: number; refused: number } {
  let parsed = 0;
  let refused = 0;
  mutants(base, n, label.length).forEach((m, i) => {
    const t0 = performance.now();
    try {
      parse(m);
      parsed++;
    } catch (e) {
      refused++;
      assert.ok(e instanceof Error, `${label} #${i}: threw a non-Error ${String(e)}`);
      assert.ok(!(e instanceof RangeError) || !/allocation|Array buffer|Invalid array length/.test(e.message), `${label} #${i}: allocation failure ${e.message}`);
      assert.ok(e.message.includes(label), `${label} #${i}: the error does not name the source: ${e.message}`);
    }
    assert.ok(performance.now() - t0 < 1000, `${label} #${i} took ${(performance.now() - t0).toFixed(0)} ms`);
  });
  return { parsed, refused };
}

test('fuzz (seeded, 200 mutants per reader): parse or a clear error naming the file, never a hang or an allocation', () => {
  const dec = new TextDecoder();
  const gguf = llamaFile();
  const { params } = ggufToLlama(readGguf(gguf, 'base.gguf'));
  tf.dispose(Object.values(params));
  const st = encodeSafetensors({ a: { shape: [3, 2], data: new Float32Array(6).fill(1.5) }, b: { shape: [4], data: new Int32Array([1, 2, 3, 4]) } }, { k: 'v' });
  const idxImages = new Uint8Array([0, 0, 8, 3, 0, 0, 0, 2, 0, 0, 0, 2, 0, 0, 0, 2, 1, 2, 3, 4, 5, 6, 7, 8]);
  const idxLabels = new Uint8Array([0, 0, 8, 1, 0, 0, 0, 3, 1, 2, 3]);
  const cifar = new Uint8Array(2 * 3073).map((_, i) => (i * 7) % 251);
  cifar[0] = 3;
  cifar[3073] = 9;
  const csv = new TextEncoder().encode('39, State-gov, 77516, Bachelors, 13, Never-married, Adm-clerical, Not-in-family, White, Male, 2174, 0, 40, United-States, <=50K\n50, Self-emp-not-inc, 83311, Bachelors, 13, Married-civ-spouse, Exec-managerial, Husband, White, Male, 0, 0, 13, United-States, >50K\n');
  const jsonl = new TextEncoder().encode('{"text": "a", "label": 1}\n{"text": "b", "label": 0}\n');
  const results = {
    gguf: fuzz('fuzz.gguf', gguf, (b) => tf.dispose(Object.values(ggufToLlama(readGguf(b, 'fuzz.gguf')).params))),
    safetensors: fuzz('fuzz.safetensors', st, (b) => {
      const f = readSafetensors(b, 'fuzz.safetensors');
      for (const n of f.names) tensorData(f, n);
    }),
    idxImages: fuzz('fuzz-images.idx', idxImages, (b) => parseIdxImages(b, 'fuzz-images.idx')),
    idxLabels: fuzz('fuzz-labels.idx', idxLabels, (b) => parseIdxLabels(b, 'fuzz-labels.idx')),
    cifar: fuzz('fuzz.cifar', cifar, (b) => parseCifar10(b, 'fuzz.cifar')),
    csv: fuzz('fuzz.csv', csv, (b) => {
      parseCsv(dec.decode(b), 'fuzz.csv');
      parseAdultRows(dec.decode(b), 'fuzz.csv');
    }),
    jsonl: fuzz('fuzz.jsonl', jsonl, (b) => parseJsonl(dec.decode(b), 'fuzz.jsonl')),
  };
  for (const [k, r] of Object.entries(results)) {
    assert.equal(r.parsed + r.refused, 200, k);
    if (k !== 'csv' && k !== 'cifar') assert.ok(r.refused > 0, `${k}: some mutants must be refused (the fuzz would not test anything)`);
  }
  console.log(`fuzz: ${Object.entries(results).map(([k, r]) => `${k} ${r.refused}/${r.parsed + r.refused} refused`).join(', ')}`);
});
