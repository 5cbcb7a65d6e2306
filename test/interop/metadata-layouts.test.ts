// containerd 1.6 and ctr on the 1.7 and 2.0 layouts (fixtures/metadata, written by Go bbolt following
// containerd's schema): 1.6 opens both (it never lowers a newer dbVersion), and ctr's listings of images,
// containers, leases, namespaces and content are what tsctr prints for the same file.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import fs from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { META_FIXTURES } from '../../fixtures/metadata/make.js';
import { openMetadata } from '../../src/metadata/index.js';
import { rootWithMetaDB } from '../helpers/containerd.js';
import { assertCtrPrintsAsTsctr } from '../helpers/tsctr.js';

const DIR = fileURLToPath(new URL('../../fixtures/metadata/', import.meta.url));

for (const f of META_FIXTURES) {
  test(`Interop_ctr16ListsTheLayout_asTsctr ${f.name}`, async () => {
    const { dir, root } = rootWithMetaDB('tsbolt-layouts-', path.join(DIR, `${f.name}.db`));
    const cmds: string[][] = [['namespaces', 'ls']];
    for (const ns of ['default', 'k8s.io', 'empty']) {
      cmds.push(['-n', ns, 'images', 'ls', '-q'], ['-n', ns, 'containers', 'ls'], ['-n', ns, 'containers', 'ls', '-q'], ['-n', ns, 'leases', 'ls'], ['-n', ns, 'leases', 'ls', '-q'], ['-n', ns, 'content', 'ls']);
      cmds.push(['-n', ns, 'containers', 'ls', 'labels.app==web'], ['-n', ns, 'leases', 'ls', 'id==pull-1'], ['-n', ns, 'content', 'ls', '-q', 'labels."containerd.io/uncompressed"~=sha']);
    }
    // images ls: the blobs are not in this root, so ctr and tsctr report sizes of 0 with an error each on stderr.
    for (const [ns, id] of [['default', 'web'], ['default', 'job'], ['k8s.io', 'kube-main']]) cmds.push(['-n', ns!, 'containers', 'info', id!]);
    cmds.push(['-n', 'default', 'images', 'ls'], ['-n', 'k8s.io', 'images', 'ls', 'labels."io.cri-containerd.pinned"==pinned']);
    const offline = await assertCtrPrintsAsTsctr(dir, cmds);
    assert.notEqual(offline.get('-n default containers ls -q'), '');
    const m = openMetadata(path.join(root, 'io.containerd.metadata.v1.bolt', 'meta.db'));
    assert.equal(m.version, f.dbVersion, 'containerd 1.6 left the version as it was');
    m.close();
    fs.rmSync(dir, { recursive: true, force: true });
  });
}
