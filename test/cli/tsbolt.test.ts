// tsbolt CLI: byte-identical to the bbolt 1.3.7 CLI on every recorded run (../shared/corpus and
// fixtures/bolt/expected, when present), read commands never change the file, bad input gives
// one line and a non-zero status, and the built bin runs.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { spawnSync } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { open } from '../../src/bolt/index.js';
import { corpusCases, fingerprint, firstDifference, replaceAll, runMain } from './helpers.js';

const root = fileURLToPath(new URL('../..', import.meta.url));
const sharedCorpus = fileURLToPath(new URL('../../../shared/corpus', import.meta.url));
const fixtures = path.join(root, 'fixtures', 'bolt');

let tmp = '';
before(() => {
  tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'tsbolt-cli-'));
});
after(() => {
  fs.rmSync(tmp, { recursive: true, force: true });
});

// ---- recorded runs of Go bbolt 1.3.7 ----------------------------------------------------------

for (const [label, dir] of [
  ['Corpus', sharedCorpus],
  ['Fixture', fixtures],
] as const) {
  if (!fs.existsSync(path.join(dir, 'expected'))) continue;
  for (const c of corpusCases(dir)) {
    test(`${label}_${c.name}_matchesBbolt137ByteForByte`, async () => {
      const before = fingerprint(c.db);
      const failures: string[] = [];
      for (const r of c.recordings) {
        const argv = r.argv.map((a) => (a === 'FILE' ? c.db : a));
        const got = await runMain(argv);
        const out = replaceAll(got.out, c.db, 'FILE');
        const shown = r.argv.map((a) => (typeof a === 'string' ? a : `<${a.toString('hex')}>`)).join(' ');
        if (got.code !== r.code) failures.push(`${shown}: exit ${got.code}, want ${r.code}`);
        if (!out.equals(r.out)) failures.push(`${shown}: ${firstDifference(out, r.out)}`);
        assert.deepEqual(fingerprint(c.db), before, `${shown} changed the file`);
      }
      assert.deepEqual(failures, [], `${failures.length} of ${c.recordings.length} runs differ`);
    });
  }
}

// ---- a database of our own --------------------------------------------------------------------

function makeDB(file: string): void {
  const db = open(file);
  try {
    db.update((tx) => {
      const a = tx.createBucket('alpha');
      a.put('k1', 'v1');
      a.put(new Uint8Array([0xff, 0x00]), new Uint8Array([1, 2, 3]));
      a.setSequence(7);
      const n = a.createBucket('nested');
      n.put('deep', 'value');
      const big = tx.createBucket('big');
      for (let i = 0; i < 500; i++) big.put(`key-${String(i).padStart(4, '0')}`, 'x'.repeat(100));
    });
  } finally {
    db.close();
  }
}

function fresh(name: string): string {
  const f = path.join(tmp, name);
  makeDB(f);
  return f;
}

async function run(...argv: string[]) {
  const r = await runMain(argv);
  return { ...r, text: r.out.toString('utf8') };
}

function assertOneLineError(r: { text: string; code: number }, what: string): void {
  assert.notEqual(r.code, 0, `${what}: exit status`);
  assert.match(r.text, /^[^\n]+\n$/, `${what}: one line, got ${JSON.stringify(r.text)}`);
  assert.doesNotMatch(r.text, /\n\s+at |Error:|node:internal/, `${what}: no stack trace`);
}

test('Main_NoCommand_PrintsUsageExit2', async () => {
  const r = await run();
  assert.equal(r.code, 2);
  assert.equal(r.stdout.length, 0);
  assert.ok(r.stderr.toString().startsWith('Bbolt is a tool for inspecting bbolt databases.\n\nUsage:\n\n\tbbolt command [arguments]\n'));
  assert.ok(r.stderr.toString().endsWith('Use "bbolt [command] -h" for more information about a command.\n\n'));
  assert.deepEqual(await run('help'), r);
  assert.equal((await run('-x')).code, 2);
});

test('Main_UnknownCommand_PrintsUnknownCommand', async () => {
  const r = await run('frobnicate');
  assert.equal(r.text, 'unknown command\n');
  assert.equal(r.code, 1);
});

test('Main_PathChecks_AsBbolt', async () => {
  for (const cmd of ['info', 'check', 'buckets', 'pages', 'stats', 'keys', 'get', 'page', 'dump']) {
    const none = await run(cmd);
    assert.equal(none.text, 'path required\n', cmd);
    assert.equal(none.code, 1);
    const missing = await run(cmd, path.join(tmp, 'does-not-exist.db'), 'b', 'k');
    assert.equal(missing.text, 'file not found\n', cmd);
    assert.equal(missing.code, 1);
  }
});

test('Flags_HelpAndUnknownFlag_AsGoFlagPackage', async () => {
  const h = await run('info', '-h');
  assert.equal(h.code, 2);
  assert.equal(h.stderr.toString(), 'usage: bolt info PATH\n\nInfo prints basic information about the Bolt database at PATH.\n\n');
  const bad = await run('keys', '-nope', 'x');
  assert.equal(bad.code, 1);
  assert.equal(
    bad.stderr.toString(),
    'flag provided but not defined: -nope\nUsage:\n' +
      '  -format string\n    \tOutput format. One of: auto|ascii-encoded|hex|bytes|redacted (default: bytes) (default "bytes")\n' +
      '  -h\t\n',
  );
  assert.equal(bad.stdout.toString(), 'flag provided but not defined: -nope\n');
  const help = await run('info', '-help');
  assert.equal(help.stderr.toString(), 'Usage:\n  -h\t\n');
  assert.equal(help.stdout.toString(), 'flag: help requested\n');
  const noArg = await run('get', '--format');
  assert.equal(noArg.stdout.toString(), 'flag needs an argument: -format\n');
  const badBool = await run('page', '-all=maybe', 'x');
  assert.equal(badBool.stdout.toString(), 'invalid boolean value "maybe" for -all: parse error\n');
});

test('Keys_NestedBucketsAndFormats', async () => {
  const f = fresh('keys.db');
  assert.equal((await run('keys', f, 'alpha')).out.toString('hex'), Buffer.from('k1\nnested\n\xff\x00\n', 'latin1').toString('hex'));
  assert.equal((await run('keys', '--format', 'hex', f, 'alpha')).text, '6b31\n6e6573746564\nff00\n');
  assert.equal((await run('keys', '-format=ascii-encoded', f, 'alpha')).text, '"k1"\n"nested"\n"\\xff\\x00"\n');
  assert.equal((await run('keys', '-format=auto', f, 'alpha')).text, 'k1\nnested\nff00\n');
  assert.equal((await run('keys', f, 'alpha', 'nested')).text, 'deep\n');
  const missing = await run('keys', f, 'alpha', 'nope');
  assert.equal(missing.text, 'bucket not found\n');
  assert.equal(missing.code, 1);
  const badFormat = await run('keys', '-format=xml', f, 'alpha');
  assert.equal(badFormat.text, 'formatBytes: unsupported format: xml\n');
  assert.equal((await run('keys', f)).text, 'bucket required\n');
});

test('Get_ValuesKeysAndErrors', async () => {
  const f = fresh('get.db');
  assert.equal((await run('get', f, 'alpha', 'k1')).text, 'v1\n');
  assert.equal((await run('get', f, 'alpha', 'nested', 'deep')).text, 'value\n');
  assert.equal((await run('get', '-parse-format', 'hex', '-format', 'hex', f, 'alpha', 'ff00')).text, '010203\n');
  assert.equal((await run('get', '-format', 'redacted', f, 'alpha', 'k1')).text, '<redacted len:2 sha256:7631e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855>\n');
  const nf = await run('get', f, 'alpha', 'k9');
  assert.equal(nf.text, 'Error key not found for key: "k9" hex: "6b39"\n');
  assert.equal(nf.code, 1);
  assert.equal((await run('get', '-parse-format', 'hex', f, 'alpha', 'zz')).text, "encoding/hex: invalid byte: U+007A 'z'\n");
  assert.equal((await run('get', '-parse-format', 'hex', f, 'alpha', 'abc')).text, 'encoding/hex: odd length hex string\n');
  assert.equal((await run('get', f, 'alpha', '')).text, 'key required\n');
  // Binary arguments can be passed as bytes.
  const bin = await runMain(['get', f, 'alpha', new Uint8Array([0xff, 0x00])]);
  assert.equal(bin.out.toString('hex'), '0102030a');
});

test('Page_LeafBranchMetaFreelistAndSeparators', async () => {
  const f = fresh('page.db');
  const r = await run('page', f, '0', '1');
  assert.match(r.text, /^Page ID:    0\nPage Type:  meta\nTotal Size: 4096 bytes\nOverflow pages: 0\nVersion:    2\n/);
  assert.match(r.text, /\n===============================================\nPage ID:    1\n/);
  assert.equal(r.code, 0);
  const all = await run('page', '-all', f);
  assert.equal(all.code, 0);
  assert.match(all.text, /Page Type:  branch\n/);
  assert.match(all.text, /"key-0000": xxxx/);
  assert.match(all.text, /"alpha": <pgid=\d+,seq=7>\n/);
  assert.match(all.text, /"nested": <pgid=0,seq=0>\n/);
  const bad = await run('page', f, 'x1');
  assert.equal(bad.text, 'strconv.ParseUint: parsing "x1": invalid syntax\n');
  assert.equal((await run('page', f)).text, 'page id required\n');
});

test('Stats_PrefixAndPercentages', async () => {
  const f = fresh('stats.db');
  const r = await run('stats', f, 'al');
  assert.match(r.text, /^Aggregate statistics for 1 buckets\n\nPage count statistics\n/);
  assert.match(r.text, /\tTotal number of buckets: 2\n\tTotal number on inlined buckets: 1 \(50%\)\n/);
});

test('Json_ShapesOfEveryJsonCommand', async () => {
  const f = fresh('json.db');
  const j = async (...argv: string[]) => {
    const r = await run(...argv);
    return { code: r.code, doc: JSON.parse(r.text) as Record<string, unknown> };
  };
  const info = await j('info', '--json', f);
  assert.equal(info.doc.pageSize, 4096);
  assert.equal(typeof info.doc.txid, 'number');
  assert.deepEqual(await j('check', '--json', f), { code: 0, doc: { ok: true, errors: [] } });
  assert.deepEqual((await j('buckets', '--json', f)).doc, {
    buckets: [
      { name: 'alpha', hex: '616c706861', bucket: true },
      { name: 'big', hex: '626967', bucket: true },
    ],
  });
  assert.deepEqual((await j('keys', '--json', f, 'alpha')).doc, {
    bucket: ['alpha'],
    keys: [
      { key: 'k1', hex: '6b31', bucket: false },
      { key: 'nested', hex: '6e6573746564', bucket: true },
      { key: null, hex: 'ff00', bucket: false },
    ],
  });
  assert.deepEqual((await j('get', '--json', f, 'alpha', 'k1')).doc, { bucket: ['alpha'], key: 'k1', keyHex: '6b31', value: 'v1', valueHex: '7631' });
  const pages = (await j('pages', '--json', f)).doc.pages as { id: number; type: string }[];
  assert.deepEqual(pages[0], { id: 0, type: 'meta', count: 0, overflow: 0 });
  const stats = await j('stats', '--json', f);
  assert.equal(stats.doc.bucketCount, 2);
  assert.equal((stats.doc.stats as { keyN: number }).keyN, 504);
  assert.deepEqual(await j('get', '--json', f, 'alpha', 'nope'), { code: 1, doc: { error: 'Error key not found for key: "nope" hex: "6e6f7065"' } });
});

// ---- bad input --------------------------------------------------------------------------------

test('BadInput_OneLineErrorNonZeroNoStack', async () => {
  const good = fresh('good.db');
  const bytes = fs.readFileSync(good);
  const files: Record<string, Buffer> = {
    empty: Buffer.alloc(0),
    truncated: bytes.subarray(0, 3000),
    random: Buffer.from(Array.from({ length: 40960 }, (_, i) => (i * 2654435761) >>> 24)),
    metasZeroed: Buffer.concat([Buffer.alloc(8192), bytes.subarray(8192)]),
  };
  for (const [name, content] of Object.entries(files)) {
    const f = path.join(tmp, `${name}.db`);
    fs.writeFileSync(f, content);
    const fp = fingerprint(f);
    for (const argv of [['info', f], ['check', f], ['buckets', f], ['pages', f], ['stats', f], ['keys', f, 'alpha'], ['get', f, 'alpha', 'k1'], ['dump', f, '0'], ['page-item', f, '2', '0']]) {
      const r = await run(...argv);
      assertOneLineError(r, `${name}: ${argv[0]}`);
    }
    assert.deepEqual(fingerprint(f), fp, `${name} unchanged`);
  }
  // bbolt's texts for these cases.
  assert.equal((await run('info', path.join(tmp, 'empty.db'))).text, `write ${path.join(tmp, 'empty.db')}: bad file descriptor\n`);
  assert.equal((await run('info', path.join(tmp, 'random.db'))).text, 'invalid database\n');
  assert.equal((await run('info', path.join(tmp, 'metasZeroed.db'))).text, 'invalid database\n');
  assert.equal((await run('dump', path.join(tmp, 'truncated.db'), '0')).text, 'unexpected EOF\n');
  assert.equal((await run('page', path.join(tmp, 'empty.db'), '0')).text, 'Prining page 0 failed: read Page size: EOF. Continuuing...\n');
});

test('BadInput_PageIdPastTheEnd', async () => {
  const f = fresh('past.db');
  const dump = await run('dump', f, '100000');
  assertOneLineError(dump, 'dump');
  assert.equal(dump.text, 'EOF\n');
  const item = await run('page-item', f, '100000', '0');
  assertOneLineError(item, 'page-item');
  assert.equal(item.text, 'EOF\n');
  // bbolt's page command reports the failure and exits 0.
  const page = await run('page', f, '100000');
  assert.equal(page.text, 'Prining page 100000 failed: EOF. Continuuing...\n');
  assert.equal(page.code, 0);
  const huge = await run('dump', f, '18446744073709551615');
  assertOneLineError(huge, 'dump huge id');
});

test('BadInput_CycleInThePageTree_NoHang', async () => {
  const f = fresh('cycle.db');
  // Point the first child of the "big" bucket's branch root at the branch page itself.
  const db = open(f, { readOnly: true });
  let branch = 0;
  try {
    db.view((tx) => {
      branch = tx.bucket('big')!.root;
      assert.ok(tx.page(branch).isBranch);
    });
  } finally {
    db.close();
  }
  const fd = fs.openSync(f, 'r+');
  const pgid = Buffer.alloc(8);
  pgid.writeBigUInt64LE(BigInt(branch));
  fs.writeSync(fd, pgid, 0, 8, branch * 4096 + 16 + 8);
  fs.closeSync(fd);
  for (const argv of [['keys', f, 'big'], ['get', f, 'big', 'key-0499'], ['stats', f]]) {
    const r = await run(...argv);
    if (r.code !== 0) assertOneLineError(r, argv[0]!);
  }
  const check = await run('check', f);
  assert.equal(check.code, 1);
  assert.match(check.text, /errors found\ninvalid value\n$/);
  assert.doesNotMatch(check.text, /\n\s+at /);
});

// ---- compact ------------------------------------------------------------------------------------

test('Compact_CopiesEverythingAndReportsTheGain', async () => {
  const src = fresh('compact-src.db');
  const dst = path.join(tmp, 'compact-dst.db');
  const fp = fingerprint(src);
  const r = await run('compact', '-tx-max-size', '4096', '-o', dst, src);
  assert.equal(r.code, 0, r.text);
  assert.match(r.text, /^\d+ -> \d+ bytes \(gain=\d+\.\d\dx\)\n$/);
  assert.deepEqual(fingerprint(src), fp);
  assert.equal((await run('check', dst)).text, 'OK\n');
  for (const b of [['alpha'], ['alpha', 'nested'], ['big']]) {
    assert.deepEqual((await run('keys', dst, ...b)).out, (await run('keys', src, ...b)).out);
  }
  const sdb = open(dst, { readOnly: true });
  try {
    sdb.view((tx) => assert.equal(tx.bucket('alpha')!.sequence(), 7n));
  } finally {
    sdb.close();
  }
  assert.equal((await run('compact', src)).text, 'output file required\n');
});

// ---- the built binary ---------------------------------------------------------------------------

test('Bin_InfoRunsFromTheBuiltPackage', () => {
  // Build the CLI (and what it imports) into a scratch package that resolves node_modules here.
  const out = path.join(tmp, 'pkg');
  fs.mkdirSync(path.join(out, 'bin'), { recursive: true });
  fs.writeFileSync(path.join(out, 'package.json'), JSON.stringify({ type: 'module' }));
  fs.symlinkSync(path.join(root, 'node_modules'), path.join(out, 'node_modules'));
  fs.copyFileSync(path.join(root, 'bin', 'tsbolt.js'), path.join(out, 'bin', 'tsbolt.js'));
  fs.writeFileSync(
    path.join(out, 'tsconfig.json'),
    JSON.stringify({
      extends: path.join(root, 'tsconfig.json'),
      compilerOptions: { rootDir: path.join(root, 'src'), outDir: path.join(out, 'dist'), declaration: false, sourceMap: false },
      files: [path.join(root, 'src', 'cli', 'tsbolt.ts')],
      include: [],
    }),
  );
  const tsc = spawnSync(process.execPath, [path.join(root, 'node_modules', 'typescript', 'bin', 'tsc'), '-p', path.join(out, 'tsconfig.json')], { encoding: 'utf8' });
  assert.equal(tsc.status, 0, tsc.stdout + tsc.stderr);
  const f = fresh('bin.db');
  const r = spawnSync(process.execPath, [path.join(out, 'bin', 'tsbolt.js'), 'info', f], { encoding: 'utf8' });
  assert.equal(r.stdout, 'Page Size: 4096\n');
  assert.equal(r.status, 0);
  const bad = spawnSync(process.execPath, [path.join(out, 'bin', 'tsbolt.js'), 'keys', f, 'nope'], { encoding: 'utf8' });
  assert.equal(bad.stdout, 'bucket not found\n');
  assert.equal(bad.status, 1);
  // Arguments that are not UTF-8 reach the CLI as bytes (Linux: from /proc/self/cmdline).
  if (fs.existsSync('/proc/self/cmdline') && fs.existsSync('/bin/sh')) {
    // node's spawn encodes arguments as UTF-8; a shell's printf passes the raw byte.
    const script = 'exec "$0" "$1" get "$2" alpha "$(printf \'\\377\')"';
    const bin = spawnSync('/bin/sh', ['-c', script, process.execPath, path.join(out, 'bin', 'tsbolt.js'), f]);
    assert.equal(bin.stdout.toString(), 'Error key not found for key: "\\xff" hex: "ff"\n');
  }
});
