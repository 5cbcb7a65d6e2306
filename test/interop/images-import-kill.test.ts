// tsctr images import killed with SIGKILL at random moments (the built bin, bin/tsctr.js): afterwards
// containerd opens the root, `ctr images ls` shows either no trace of the image or all of it
// (ctr images check: complete), its GC runs without errors, and importing again completes the image.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { execFileSync, spawn, type ChildProcess } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { fileURLToPath } from 'node:url';
import { digestOf } from '../../src/content/index.js';
import { containerdLogErrors, startContainerd } from '../helpers/containerd.js';

const repo = fileURLToPath(new URL('../../', import.meta.url));
const BIN = path.join(repo, 'bin', 'tsctr.js');
const NAME = 'example.com/big:1';
const LAYERS = 16;
const LAYER_SIZE = 3 << 20;

/** dist/ must hold the current sources: the bin runs the compiled code. */
function ensureBuilt(): void {
  const newest = (dir: string): number => {
    let t = 0;
    for (const e of fs.readdirSync(dir, { withFileTypes: true })) {
      const p = path.join(dir, e.name);
      t = Math.max(t, e.isDirectory() ? newest(p) : fs.statSync(p).mtimeMs);
    }
    return t;
  };
  const built = path.join(repo, 'dist', 'cli', 'ctr', 'images-import.js');
  if (!fs.existsSync(built) || fs.statSync(built).mtimeMs < newest(path.join(repo, 'src')) || fs.statSync(path.join(repo, 'dist', 'cli', 'tsctr.js')).mtimeMs < newest(path.join(repo, 'src'))) {
    execFileSync(process.execPath, [path.join(repo, 'node_modules', 'typescript', 'bin', 'tsc'), '-p', path.join(repo, 'tsconfig.json')], { stdio: 'inherit' });
  }
}

/** An OCI layout of LAYERS incompressible layers (random bytes: never unpacked here). Returns the tar and every digest. */
function bigArchive(dir: string): { tar: string; digests: string[] } {
  const l = path.join(dir, 'layout');
  fs.mkdirSync(path.join(l, 'blobs', 'sha256'), { recursive: true });
  const put = (b: Buffer) => {
    const d = digestOf(b);
    fs.writeFileSync(path.join(l, 'blobs', 'sha256', d.slice(7)), b);
    return { digest: d, size: b.length };
  };
  const layers = Array.from({ length: LAYERS }, () => ({ mediaType: 'application/vnd.oci.image.layer.v1.tar', ...put(randomBytes(LAYER_SIZE)) }));
  const config = { mediaType: 'application/vnd.oci.image.config.v1+json', ...put(Buffer.from(JSON.stringify({ architecture: 'amd64', os: 'linux', rootfs: { type: 'layers', diff_ids: layers.map((x) => x.digest) }, config: {} }))) };
  const manifest = put(Buffer.from(JSON.stringify({ schemaVersion: 2, mediaType: 'application/vnd.oci.image.manifest.v1+json', config, layers })));
  fs.writeFileSync(path.join(l, 'oci-layout'), '{"imageLayoutVersion":"1.0.0"}');
  fs.writeFileSync(
    path.join(l, 'index.json'),
    JSON.stringify({ schemaVersion: 2, manifests: [{ mediaType: 'application/vnd.oci.image.manifest.v1+json', ...manifest, annotations: { 'io.containerd.image.name': NAME } }] }),
  );
  const tar = path.join(dir, 'big.tar');
  execFileSync('tar', ['--format=gnu', '-C', l, '-cf', tar, '.']);
  fs.rmSync(l, { recursive: true });
  return { tar, digests: [manifest.digest, config.digest, ...layers.map((x) => x.digest)].sort() };
}

interface Run {
  child: ChildProcess;
  done: Promise<{ code: number | null; signal: NodeJS.Signals | null; err: string }>;
}

function runImport(root: string, tar: string): Run {
  const child = spawn(process.execPath, [BIN, '--root', root, 'images', 'import', '--no-unpack', tar], { stdio: ['ignore', 'ignore', 'pipe'] });
  let err = '';
  child.stderr!.on('data', (d: Buffer) => (err += d.toString()));
  return { child, done: new Promise((resolve) => child.on('exit', (code, signal) => resolve({ code, signal, err }))) };
}

test('Interop_imagesImport_killedAtRandomMoments_leavesNoImageOrAllOfIt', async () => {
  ensureBuilt();
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'tsbolt-import-kill-'));
  const { tar, digests } = bigArchive(dir);
  // How long a whole import takes here.
  const scratch = path.join(dir, 'scratch');
  fs.mkdirSync(scratch);
  const t0 = Date.now();
  const full = await runImport(scratch, tar).done;
  const duration = Date.now() - t0;
  assert.equal(full.code, 0, full.err);
  const outcomes: string[] = [];
  const RUNS = 6;
  for (let run = 0; run < RUNS; run++) {
    const cdir = path.join(dir, `run${run}`);
    const root = path.join(cdir, 'root');
    fs.mkdirSync(root, { recursive: true });
    // spread the kills over the whole import and a little past it (the last runs may finish or be
    // killed after the commit, while the files nothing names are removed)
    const delay = Math.round(((run + Math.random()) / RUNS) * duration * 1.6);
    const p = runImport(root, tar);
    await new Promise((r) => setTimeout(r, delay));
    p.child.kill('SIGKILL');
    const r = await p.done;
    const c = await startContainerd(cdir);
    try {
      const ls = await c.ctr(['images', 'ls', '-q']);
      assert.equal(ls.code, 0, ls.stderr);
      const content = (await c.ctr(['content', 'ls', '-q'])).stdout.trim().split('\n').filter(Boolean).sort();
      if (ls.stdout === '') {
        assert.deepEqual(content, [], `run ${run} (killed after ${delay} ms): no image, so no blob record either`);
        outcomes.push(`${delay}ms:none`);
      } else {
        assert.equal(ls.stdout, `${NAME}\n`);
        assert.deepEqual(content, digests, `run ${run}: every blob record`);
        const check = await c.ctr(['images', 'check']);
        assert.match(check.stdout, new RegExp(`complete \\(${LAYERS + 1}/${LAYERS + 1}\\)`), check.stdout);
        outcomes.push(`${delay}ms:${r.signal === null ? 'finished' : 'all'}`);
      }
      assert.equal((await c.ctr(['leases', 'ls', '-q'])).stdout, '');
      assert.equal((await c.ctr(['leases', 'create', '--id', 'gc'])).code, 0);
      const gc = await c.ctr(['leases', 'rm', '--sync', 'gc']);
      assert.equal(gc.code, 0, gc.stderr);
    } finally {
      await c.stop();
    }
    assert.deepEqual(containerdLogErrors(cdir), [], `run ${run}`);
    // Importing again over what the killed import left completes the image.
    const again = await runImport(root, tar).done;
    assert.equal(again.code, 0, again.err);
    const c2 = await startContainerd(cdir);
    try {
      assert.match((await c2.ctr(['images', 'check'])).stdout, new RegExp(`complete \\(${LAYERS + 1}/${LAYERS + 1}\\)`));
    } finally {
      await c2.stop();
    }
    assert.deepEqual(containerdLogErrors(cdir), [], `run ${run}, after the second import`);
  }
  console.log(`whole import ${duration} ms; kills: ${outcomes.join(', ')}`);
  fs.rmSync(dir, { recursive: true, force: true }); // ~400 MB of roots (kept when the test fails)
});
