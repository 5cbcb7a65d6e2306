// containerd 1.6 and ctr on the real meta.db files of ../shared/corpus (when present): for every namespace,
// ctr's namespaces, images, containers (and `containers info` of each), leases, content and snapshots
// listings are what tsctr prints for the same file.
import { test } from 'node:test';
import fs from 'node:fs';
import path from 'node:path';
import { openMetadata } from '../../src/metadata/index.js';
import { rootWithMetaDB } from '../helpers/containerd.js';
import { assertCtrPrintsAsTsctr } from '../helpers/tsctr.js';
import { CORPUS } from '../helpers/corpus.js';

/** meta.db files, with the overlayfs metadata.db that belongs to them. */
const FILES: [string, string | undefined][] = [
  ['containerd-meta-linux.db', undefined],
  ['containerd-1.7-meta-windows.db', undefined],
  ['containerd-2021-meta-dfirlabs.db', 'snapshotter-2021-metadata-dfirlabs.db'],
  ['containerd-meta-eks-trimmed.db', undefined],
  ['containerd-meta-gke-gcfs-trimmed.db', undefined],
];

for (const [f, sn] of FILES) {
  if (!fs.existsSync(path.join(CORPUS, f))) continue;
  test(`Interop_ctr16ListsCorpusFile_asTsctr ${f}`, async () => {
    const { dir, root } = rootWithMetaDB('tsbolt-corpus-ctr-', path.join(CORPUS, f));
    if (sn) {
      fs.mkdirSync(path.join(root, 'io.containerd.snapshotter.v1.overlayfs'), { recursive: true });
      fs.copyFileSync(path.join(CORPUS, sn), path.join(root, 'io.containerd.snapshotter.v1.overlayfs', 'metadata.db'));
    }
    const m = openMetadata(path.join(root, 'io.containerd.metadata.v1.bolt', 'meta.db'));
    const cmds: string[][] = [['namespaces', 'ls']];
    for (const { name } of m.namespaces()) {
      cmds.push(['-n', name, 'images', 'ls'], ['-n', name, 'images', 'ls', '-q'], ['-n', name, 'containers', 'ls'], ['-n', name, 'leases', 'ls'], ['-n', name, 'content', 'ls'], ['-n', name, 'content', 'ls', '-q']);
      for (const c of m.containers(name)) cmds.push(['-n', name, 'containers', 'info', c.id]);
      if (sn) cmds.push(['-n', name, 'snapshots', '--snapshotter', 'overlayfs', 'ls'], ['-n', name, 'snapshots', '--snapshotter', 'overlayfs', 'tree']);
    }
    m.close();
    await assertCtrPrintsAsTsctr(dir, cmds);
    fs.rmSync(dir, { recursive: true, force: true });
  });
}
