// Fuzzing the metadata layer: a copy of the real containerd 1.6 root (fixtures/containerd) whose
// meta.db and snapshotter databases have records changed at the value level (random, truncated or
// bit-flipped values, deleted keys, values turned into buckets and buckets into values) and now and
// then a blob's bytes damaged (cut, bit-flipped, extended, replaced), then every
// read-only tsctr command on it. Each must print a listing or a one-line error from our typed errors:
// no stack trace, no "internal error" (what main() prints for a TypeError and the like), and the
// files it read must stay as they were. The bolt-level fuzz (test/bolt/fuzz.test.ts) damages pages;
// this one keeps every page valid and damages what containerd stored in them.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import fs from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { open, type Bucket } from '../../src/bolt/index.js';
import { prng } from '../helpers/workload.js';
import { tmpdir } from '../helpers/bolt.js';
import { runTsctr } from '../helpers/tsctr.js';

const SEED = Number(process.env.FUZZ_SEED ?? Date.now() % 1e9);
const CASES = Math.max(1, Math.ceil(Number(process.env.FUZZ_CASES ?? 1500) / 25));
console.log(`tsctr fuzz seed ${SEED} cases ${CASES}`);

const FIXTURE = fileURLToPath(new URL('../../fixtures/containerd/root', import.meta.url));
const DBS = [
  path.join('io.containerd.metadata.v1.bolt', 'meta.db'),
  path.join('io.containerd.snapshotter.v1.overlayfs', 'metadata.db'),
  path.join('io.containerd.snapshotter.v1.native', 'metadata.db'),
];

interface Entry {
  path: Uint8Array[];
  key: Uint8Array;
  bucket: boolean;
}

function entries(file: string): Entry[] {
  const out: Entry[] = [];
  const db = open(file, { readOnly: true });
  try {
    db.view((tx) => {
      const walk = (b: Bucket, p: Uint8Array[]) =>
        b.forEach((k, v) => {
          const key = k.slice();
          out.push({ path: p, key, bucket: v === undefined });
          if (v === undefined) walk(b.bucket(key)!, [...p, key]);
        });
      tx.forEach((name, b) => {
        const key = name.slice();
        out.push({ path: [], key, bucket: true });
        walk(b, [key]);
      });
    });
  } finally {
    db.close();
  }
  return out;
}

/** Changes 1-3 records of `file` (a copy); returns what was done, for the failure message. */
function mutate(file: string, all: Entry[], r: () => number): string[] {
  const done: string[] = [];
  const db = open(file);
  try {
    db.update((tx) => {
      for (let i = 0, n = 1 + Math.floor(r() * 3); i < n; i++) {
        // Not the top-level buckets (v1, and the snapshotters' v1): a missing v1 is an empty root.
        const cands = all.filter((e) => e.path.length > 0);
        const e = cands[Math.floor(r() * cands.length)]!;
        let parent: Bucket | undefined = tx.bucket(e.path[0]!);
        for (const p of e.path.slice(1)) parent = parent?.bucket(p);
        if (!parent) continue; // an earlier change of this case removed it
        const name = `${e.path.map((p) => Buffer.from(p).toString('latin1')).join('/')}/${Buffer.from(e.key).toString('latin1')}`;
        const kind = Math.floor(r() * 7);
        const rand = (len: number) => Uint8Array.from({ length: len }, () => Math.floor(r() * 256));
        if (e.bucket) {
          if (!parent.bucket(e.key)) continue;
          if (kind < 3) {
            parent.deleteBucket(e.key);
            done.push(`bucket ${name} deleted`);
          } else if (kind < 6) {
            parent.deleteBucket(e.key);
            parent.put(e.key, rand(Math.floor(r() * 40)));
            done.push(`bucket ${name} made a value`);
          } else {
            const child = parent.bucket(e.key)!;
            child.put(rand(1 + Math.floor(r() * 12)), rand(Math.floor(r() * 40)));
            done.push(`bucket ${name} given a random key`);
          }
          continue;
        }
        const old = parent.get(e.key);
        if (old === undefined) continue;
        const v = old.slice();
        switch (kind) {
          case 0:
            parent.put(e.key, rand(Math.floor(r() * 64)));
            done.push(`${name} random`);
            break;
          case 1:
            parent.put(e.key, v.subarray(0, Math.floor(r() * v.length)));
            done.push(`${name} truncated`);
            break;
          case 2:
          case 3: {
            for (let j = 0, m = 1 + Math.floor(r() * 4); j < m && v.length > 0; j++) {
              const o = Math.floor(r() * v.length);
              v[o] = v[o]! ^ (1 << Math.floor(r() * 8));
            }
            parent.put(e.key, v);
            done.push(`${name} bit flips`);
            break;
          }
          case 4:
            parent.delete(e.key);
            done.push(`${name} deleted`);
            break;
          case 5:
            parent.delete(e.key);
            parent.createBucket(e.key).put('x', rand(8));
            done.push(`${name} made a bucket`);
            break;
          default:
            parent.put(e.key, new Uint8Array(1 + Math.floor(r() * 12)).fill(0xff));
            done.push(`${name} 0xff bytes`);
        }
      }
    });
  } finally {
    db.close();
  }
  return done;
}

test('Fuzz_damagedRecords_everyReadCommandPrintsOrFailsCleanly', async () => {
  const dir = tmpdir('tsctr-fuzz-');
  const root = path.join(dir, 'root');
  fs.cpSync(FIXTURE, root, { recursive: true });
  const pristine = DBS.map((d) => fs.readFileSync(path.join(root, d)));
  const lists = DBS.map((d) => entries(path.join(root, d)));
  const r = prng(SEED);
  const namespaces = ['default', 'k8s.io', 'tools', 'empty'];
  const commands = (ns: string): string[][] => [
    ['namespaces', 'ls'],
    ['-n', ns, 'images', 'ls'],
    ['-n', ns, 'images', 'ls', '--json'],
    ['-n', ns, 'containers', 'ls'],
    ['-n', ns, 'containers', 'info', 'bigspec'],
    ['-n', ns, 'containers', 'info', 'web1'],
    ['-n', ns, 'content', 'ls'],
    ['-n', ns, 'content', 'active'],
    ['-n', ns, 'snapshots', 'ls'],
    ['-n', ns, 'snapshots', '--snapshotter', 'native', 'ls'],
    ['-n', ns, 'snapshots', 'tree'],
    ['-n', ns, 'snapshots', 'info', 'bigspec'],
    // A layer's chain id: which images use it walks every image's manifests and configs.
    ['-n', ns, 'snapshots', 'which', 'sha256:71fb0ce0c0260d429d7343dd0494aa16a8aafc8713e9da0af34dd1ba4faf00bb'],
    ['-n', ns, 'leases', 'ls'],
    ['-n', ns, 'sandboxes', 'ls'],
    ['overview'],
    ['doctor'],
    ['gc', '--dry-run'],
    ['-n', ns, 'gc', 'why', 'docker.io/library/alpha:1.0'],
    ['--salvage', '-n', ns, 'images', 'ls'],
  ];
  const blobDir = path.join(root, 'io.containerd.content.v1.content', 'blobs', 'sha256');
  const blobs = fs.readdirSync(blobDir).sort();
  const pristineBlobs = blobs.map((b) => fs.readFileSync(path.join(blobDir, b)));
  for (let i = 0; i < CASES; i++) {
    DBS.forEach((d, j) => fs.writeFileSync(path.join(root, d), pristine[j]!));
    blobs.forEach((b, j) => fs.writeFileSync(path.join(blobDir, b), pristineBlobs[j]!));
    // Mostly meta.db; now and then a snapshotter's database as well, or a blob's bytes (manifests,
    // indexes and configs are JSON the listings parse).
    const done = mutate(path.join(root, DBS[0]!), lists[0]!, r);
    if (r() < 0.3) {
      const j = Math.floor(r() * blobs.length);
      const b = Buffer.from(pristineBlobs[j]!);
      const kind = Math.floor(r() * 4);
      let m: Buffer;
      if (kind === 0) m = b.subarray(0, Math.floor(r() * b.length));
      else if (kind === 1) {
        m = Buffer.from(b);
        for (let k = 0, n = 1 + Math.floor(r() * 4); k < n && m.length > 0; k++) {
          const x = Math.floor(r() * m.length);
          m[x] = m[x]! ^ (1 << Math.floor(r() * 8));
        }
      } else if (kind === 2) m = Buffer.concat([b, Buffer.from(' x')]);
      else m = Buffer.from(Array.from({ length: b.length }, () => Math.floor(r() * 256)));
      fs.writeFileSync(path.join(blobDir, blobs[j]!), m);
      done.push(`blob ${blobs[j]!.slice(0, 12)} ${['cut', 'bit flips', 'extended', 'random'][kind]}`);
    }
    if (r() < 0.3) {
      const j = 1 + Math.floor(r() * 2);
      done.push(...mutate(path.join(root, DBS[j]!), lists[j]!, r).map((s) => `${DBS[j]}: ${s}`));
    }
    const before = DBS.map((d) => fs.readFileSync(path.join(root, d)));
    const mtimes = DBS.map((d) => fs.statSync(path.join(root, d)).mtimeMs);
    const ns = namespaces[Math.floor(r() * namespaces.length)]!;
    for (const argv of commands(ns)) {
      const what = `case ${i} (seed ${SEED}; ${done.join('; ')}): ${argv.join(' ')}`;
      const t0 = Date.now();
      const res = await runTsctr(['--root', root, ...argv]);
      assert.ok(Date.now() - t0 < 20_000, `${what}: took ${Date.now() - t0} ms`);
      assert.equal(typeof res.code, 'number');
      const all = res.out + res.err;
      assert.ok(!/\n\s+at /.test(all), `${what}: stack trace:\n${all.slice(0, 800)}`);
      assert.ok(!all.includes('internal error'), `${what}: ${res.err.slice(0, 800)}`);
      // doctor exits 1 with its findings on stdout; every other failure says why on stderr.
      if (res.code !== 0) assert.ok((argv[0] === 'doctor' ? all : res.err).trim().length > 0, `${what}: failed silently`);
    }
    DBS.forEach((d, j) => {
      assert.equal(fs.statSync(path.join(root, d)).mtimeMs, mtimes[j], `case ${i}: ${d} touched`);
      assert.ok(fs.readFileSync(path.join(root, d)).equals(before[j]!), `case ${i}: ${d} changed`);
    });
  }
  fs.rmSync(dir, { recursive: true, force: true });
});

test('Fuzz_damagedRecords_writeCommandsSucceedOrChangeNothing', async () => {
  // The write commands on the same kind of damage: each either succeeds, leaving databases that
  // check clean, or fails with a typed error and leaves every database byte for byte as it was.
  const { check } = await import('../../src/bolt/index.js').then((m) => ({ check: (f: string) => {
    const db = m.open(f, { readOnly: true });
    try {
      return db.view((tx) => tx.check());
    } finally {
      db.close();
    }
  } }));
  const dir = tmpdir('tsctr-fuzz-w-');
  const root = path.join(dir, 'root');
  fs.cpSync(FIXTURE, root, { recursive: true });
  const lists = DBS.map((d) => entries(path.join(root, d)));
  const r = prng(SEED + 1);
  const digest = 'sha256:280c4f0c4cceba06cd273122712ab1e1d4c3b3cb7339d41947fbee6d0a3575ac';
  const commands: string[][] = [
    ['-n', 'default', 'images', 'label', 'docker.io/library/alpha:latest', 'fuzz=1'],
    ['-n', 'default', 'images', 'rm', 'docker.io/library/alpha:1.0'],
    ['-n', 'default', 'containers', 'delete', 'web1'],
    ['-n', 'default', 'leases', 'rm', 'fixture-lease'],
    ['-n', 'default', 'content', 'label', digest, 'fuzz=2'],
    ['-n', 'default', 'content', 'rm', digest],
    ['namespaces', 'label', 'tools', 'fuzz=3'],
    ['namespaces', 'create', 'fuzz-new'],
    ['namespaces', 'remove', 'empty'],
    ['gc'],
  ];
  const cases = Math.ceil(CASES / 3);
  for (let i = 0; i < cases; i++) {
    fs.rmSync(root, { recursive: true, force: true });
    fs.cpSync(FIXTURE, root, { recursive: true });
    const done = mutate(path.join(root, DBS[0]!), lists[0]!, r);
    if (r() < 0.3) {
      const j = 1 + Math.floor(r() * 2);
      done.push(...mutate(path.join(root, DBS[j]!), lists[j]!, r).map((s) => `${DBS[j]}: ${s}`));
    }
    // A random order of a random half of the commands.
    const cmds = commands.filter(() => r() < 0.5).sort(() => r() - 0.5);
    for (const argv of cmds) {
      const what = `case ${i} (seed ${SEED + 1}; ${done.join('; ')}): ${argv.join(' ')}`;
      const before = DBS.map((d) => fs.readFileSync(path.join(root, d)));
      const res = await runTsctr(['--root', root, ...argv]);
      const all = res.out + res.err;
      assert.ok(!/\n\s+at /.test(all), `${what}: stack trace:\n${all.slice(0, 800)}`);
      assert.ok(!all.includes('internal error'), `${what}: ${res.err.slice(0, 800)}`);
      if (res.code !== 0) {
        assert.ok(res.err.trim().length > 0, `${what}: failed silently`);
        DBS.forEach((d, j) => assert.ok(fs.readFileSync(path.join(root, d)).equals(before[j]!), `${what}: failed, yet ${d} changed`));
      } else {
        for (const d of DBS) assert.deepEqual(check(path.join(root, d)), [], `${what}: ${d} fails check`);
      }
    }
  }
  fs.rmSync(dir, { recursive: true, force: true });
});
