import { test } from 'node:test';
import assert from 'node:assert/strict';
import { decodeUtf8, splitTinyStories } from '../../lib/data/text.ts';
import { encodeAdult, parseAdultRows, parseCsv, parseDigitsCsv } from '../../lib/data/csv.ts';
import { parseJsonl, parseNewsgroups, stripNewsgroupText } from '../../lib/data/jsonl.ts';
import { fitTfidf, tokenize, transformTfidf } from '../../lib/data/tfidf.ts';

test('text: strict UTF-8 and TinyStories splitting', () => {
  assert.equal(decodeUtf8(new Uint8Array([0xe2, 0x80, 0x9c, 0x61])), '“a');
  assert.throws(() => decodeUtf8(new Uint8Array([0x61, 0xff]), 'wiki.tokens'), /wiki\.tokens: not valid UTF-8/);
  const t = 'One day.\n\nMore  \n<|endoftext|>\nOnce upon.\n<|endoftext|>\n';
  assert.deepEqual(splitTinyStories(t), ['One day.\n\nMore  ', 'Once upon.']);
  assert.deepEqual(splitTinyStories('<|endoftext|>\nA\n<|endoftext|>\nB'), ['A', 'B']);
});

const ROW = (age: number, work: string, inc: string) =>
  `${age}, ${work}, 1000, Bachelors, 13, Never-married, Sales, Own-child, White, Male, 0, 0, 40, United-States, ${inc}`;

test('csv: Adult rows drop "?", map labels with or without a period, skip the test-file banner', () => {
  const train = [ROW(20, 'Private', '<=50K'), ROW(40, 'State-gov', '>50K'), ROW(30, '?', '>50K'), ROW(60, 'Private', '>50K'), ''].join('\n');
  const test_ = ['|1x3 Cross validator', ROW(40, 'Never-worked', '>50K.'), ROW(30, 'Private', '<=50K.')].join('\n');
  const tr = parseAdultRows(train, 'adult.data');
  const te = parseAdultRows(test_, 'adult.test');
  assert.equal(tr.features.length, 3);
  assert.equal(tr.dropped, 1);
  assert.deepEqual([...tr.labels], [0, 1, 1]);
  assert.deepEqual([...te.labels], [1, 0]);
  const enc = encodeAdult(tr, te);
  // 6 numeric + workclass {Private, State-gov} + one category for each of the other 7 categoricals
  assert.equal(enc.columns.length, 6 + 2 + 7);
  assert.deepEqual(enc.columns.slice(0, 4), ['age', 'workclass=Private', 'workclass=State-gov', 'fnlwgt']);
  const mean = 40, std = Math.sqrt((400 + 0 + 400) / 3); // ages 20, 40, 60 (population std)
  assert.equal(enc.stats.age.mean, mean);
  const d = enc.columns.length;
  assert.equal(enc.train.x[0], Math.fround((20 - mean) / std));
  assert.deepEqual([...enc.train.x.subarray(1, 3)], [1, 0]);
  assert.equal(enc.train.x[3], 0); // fnlwgt constant → std replaced by 1, value 0
  // test row 0: unseen workclass → all-zero one-hot, counted
  assert.deepEqual([...enc.test.x.subarray(1, 3)], [0, 0]);
  assert.equal(enc.test.unseen?.workclass, 1);
  assert.equal(enc.test.x.length, 2 * d);
  assert.throws(() => parseAdultRows('1, 2, 3', 'bad.csv'), /bad\.csv: row 1 has 3 fields, expected 15/);
  assert.throws(() => parseAdultRows(ROW(1, 'Private', 'rich'), 'f'), /income 'rich'/);
  assert.deepEqual(parseCsv('a, b\n\n c,d\n'), [['a', 'b'], ['c', 'd']]);
});

test('csv: digits rows are 64 values 0–16 plus a label', () => {
  const row = [...new Array(64).fill(0).map((_, i) => i % 17), 3].join(',');
  const d = parseDigitsCsv(row + '\n' + row + '\n');
  assert.equal(d.n, 2);
  assert.equal(d.x[16], 16);
  assert.deepEqual([...d.y], [3, 3]);
  assert.throws(() => parseDigitsCsv(row.replace(/^0/, '17'), 'digits.csv'), /digits\.csv: row 1, field 1: '17'/);
});

test('jsonl: bad line names the file and line; newsgroup records are validated; stripping follows sklearn', () => {
  assert.deepEqual(parseJsonl('{"a":1}\n\n[2]\n'), [{ a: 1 }, [2]]);
  assert.throws(() => parseJsonl('{"a":1}\n{oops\n', 'x.jsonl'), /x\.jsonl: line 2 is not valid JSON/);
  const rec = { split: 'train', label: 4, group: 'comp.sys.mac.hardware', id: 1, text: 't' };
  assert.equal(parseNewsgroups(JSON.stringify(rec)).length, 1);
  assert.throws(() => parseNewsgroups(JSON.stringify({ ...rec, label: 3 }), 'n.jsonl'), /n\.jsonl: record 1/);
  const msg = 'From: a@b\nSubject: x\n\nIn article <1@x>, b writes:\n> quoted\nMy own words.\nMore words.\n\n--\nSig line\n';
  assert.equal(stripNewsgroupText(msg), 'My own words.\nMore words.\n');
});

test('tfidf: top-k vocabulary by train frequency, smoothed idf, l2 rows', () => {
  assert.deepEqual(tokenize('Hello, WORLD! a b2 Ünï_x'), ['hello', 'world', 'b2', 'ünï_x']);
  const train = [['aa', 'bb'], ['aa', 'cc', 'cc']];
  const m = fitTfidf(train, { k: 3 });
  assert.deepEqual(m.vocab, ['aa', 'cc', 'bb']);
  const w = Math.log(3 / 2) + 1;
  assert.deepEqual([...m.idf], [1, w, w]);
  const x = transformTfidf(m, [['aa', 'cc', 'cc'], ['zz']]);
  const norm = Math.sqrt(1 + 4 * w * w);
  assert.deepEqual([...x], [1 / norm, (2 * w) / norm, 0, 0, 0, 0].map(Math.fround));
  assert.deepEqual(fitTfidf(train, { k: 1 }).vocab, ['aa']);
  assert.deepEqual(fitTfidf(train, { maxDf: 0.5 }).vocab, ['cc', 'bb']); // 'aa' is in every document
});
