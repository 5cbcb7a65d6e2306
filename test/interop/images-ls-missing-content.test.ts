// `images ls` when an image's blobs are missing from the content store (a partly copied root, a
// content store lost from a disk image): ctr 1.6 still prints the row (SIZE is what it summed before
// the walk failed, PLATFORMS "-") and logs two errors per image on stderr, as logrus lines, before the
// table. Real ctr against containerd 1.6 on the root our metadata writer made, and tsctr on the same
// root, must print the same stdout and the same stderr (each line's time= masked).
import { test } from 'node:test';
import assert from 'node:assert/strict';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { createMetadata } from '../../src/metadata/index.js';
import { startContainerd } from '../helpers/containerd.js';
import { runTsctr } from '../helpers/tsctr.js';

const INDEX = 'sha256:2cf24dba5fb0a30e26e83b2ac5b9e29e1b161e5c1fa7425e73043362938b9824';
const MANIFEST = 'sha256:486ea46224d1bb4fb680f34f7c9ad96a8f24ec88be73ea8e5a6c65260e9cb8a7';
const maskTime = (s: string) => s.replace(/time="[^"]*"/g, 'time="T"');

test('Interop_imagesLs_missingBlobs_sameRowsAndLogLinesAsCtr', async () => {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'tsbolt-ls-missing-'));
  const root = path.join(dir, 'root');
  fs.mkdirSync(path.join(root, 'io.containerd.metadata.v1.bolt'), { recursive: true });
  const m = createMetadata(path.join(root, 'io.containerd.metadata.v1.bolt', 'meta.db'));
  m.createImage('default', { name: 'docker.io/library/gone:1', target: { mediaType: 'application/vnd.oci.image.index.v1+json', digest: INDEX, size: 5 }, labels: { a: 'b' } });
  m.createImage('default', { name: 'docker.io/library/gone:2', target: { mediaType: 'application/vnd.oci.image.manifest.v1+json', digest: MANIFEST, size: 1234 } });
  m.close();

  const ours = await runTsctr(['--root', root, 'images', 'ls']);
  const c = await startContainerd(dir);
  let theirs;
  try {
    theirs = await c.ctr(['images', 'ls']);
  } finally {
    await c.stop();
  }
  assert.equal(theirs.code, 0, theirs.stderr);
  assert.equal(ours.code, 0);
  assert.equal(ours.out, theirs.stdout);
  assert.equal(maskTime(ours.err), maskTime(theirs.stderr));
  // What the comparison covers: both images listed, two logged errors for each.
  assert.match(ours.out, /gone:1 .* 5\.0 B +- +a=b/);
  assert.equal(maskTime(ours.err).split('\n').filter((l) => l.startsWith('time="T" level=error msg="failed ')).length, 4);
});
