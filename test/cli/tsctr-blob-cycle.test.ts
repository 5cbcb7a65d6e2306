// tsctr images ls on a copy of the real containerd 1.6 root whose multi-platform index blob has
// been overwritten with an index that lists itself (the content store does not hash blobs on
// read, and neither does containerd's ReadBlob). ctr walks such an index until its stack
// overflows; tsctr prints every row, logs the cycle for that image's SIZE the way ctr logs a
// failed size, and leaves the root as it was. The other rows are ctr's recorded ones.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { runTsctr } from '../helpers/tsctr.js';
import { fileTree } from '../helpers/fstree.js';

const FIXTURE = fileURLToPath(new URL('../../fixtures/containerd', import.meta.url));
const MULTI = 'sha256:8abcfd481aa9a1284f5598ab9b5f3a12d59e654fdd30488ec406f4259515f583';

test('ImagesLs_indexBlobListsItself_rowsPrinted_cycleLoggedForItsSize_rootUnchanged', async () => {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'tsctr-blob-cycle-'));
  const root = path.join(dir, 'root');
  fs.cpSync(path.join(FIXTURE, 'root'), root, { recursive: true });
  const blob = path.join(root, 'io.containerd.content.v1.content', 'blobs', 'sha256', MULTI.slice(7));
  const size = fs.statSync(blob).size;
  const doc = JSON.stringify({ schemaVersion: 2, mediaType: 'application/vnd.oci.image.index.v1+json', manifests: [{ mediaType: 'application/vnd.oci.image.index.v1+json', digest: MULTI, size, platform: { os: 'linux', architecture: 'amd64' } }] });
  assert.ok(doc.length <= size);
  fs.writeFileSync(blob, doc.padEnd(size, ' ')); // the size the content record gives
  const before = fileTree(root);

  const r = await runTsctr(['--root', root, 'images', 'ls']);
  assert.equal(r.code, 0, r.err);
  const fields = (s: string) =>
    s
      .split('\n')
      .filter(Boolean)
      .map((l) => l.trim().split(/\s+/));
  const recorded = fields(fs.readFileSync(path.join(FIXTURE, 'expected', 'default', 'images-ls.txt'), 'utf8'));
  const ours = fields(r.out);
  assert.equal(ours.length, recorded.length);
  for (let i = 0; i < ours.length; i++) {
    // The index's row: the index and its one entry (the same blob) summed, as Go sums them before
    // it would walk below the entry again; the entry's platform, which Go's Platforms handler
    // takes without walking below it.
    const want = recorded[i]![0] === 'docker.io/library/multi:latest' ? [...recorded[i]!.slice(0, 3), '1012.0', 'B', 'linux/amd64', recorded[i]!.at(-1)!] : recorded[i]!;
    assert.deepEqual(ours[i], want);
  }
  assert.match(
    r.err,
    new RegExp(`^time="[^"]+" level=error msg="failed calculating size for image docker.io/library/multi:latest" error="children: invalid desc ${MULTI}: descriptor cycle: ${MULTI} -> ${MULTI}"\n$`),
  );
  assert.deepEqual(fileTree(root), before, 'the root changed');
  fs.rmSync(dir, { recursive: true, force: true });
});
