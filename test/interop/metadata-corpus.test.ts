// containerd 1.6 and ctr on the real meta.db files of ../shared/corpus (when present): for every namespace,
// ctr's namespaces, images, containers (and `containers info` of each), leases, content and snapshots
// listings are what tsctr prints for the same file.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { main } from '../../src/cli/tsctr.js';
import { openMetadata } from '../../src/metadata/index.js';
import { startContainerd } from '../helpers/containerd.js';

const CORPUS = fileURLToPath(new URL('../../../shared/corpus', import.meta.url));
/** meta.db files, with the overlayfs metadata.db that belongs to them. */
const FILES: [string, string | undefined][] = [
  ['containerd-meta-linux.db', undefined],
  ['containerd-1.7-meta-windows.db', undefined],
  ['containerd-2021-meta-dfirlabs.db', 'snapshotter-2021-metadata-dfirlabs.db'],
  ['containerd-meta-eks-trimmed.db', undefined],
  ['containerd-meta-gke-gcfs-trimmed.db', undefined],
];

async function tsctr(argv: string[]): Promise<{ code: number; out: string; err: string }> {
  let out = '';
  let err = '';
  const code = await main(argv, { stdout: { write: (s: string) => (out += s) }, stderr: { write: (s: string) => (err += s) } }, {});
  return { code, out, err };
}

const contentRows = (s: string): string[] =>
  s.split('\n').map((l) =>
    l
      .split('\t')
      .filter((c) => c !== '')
      .filter((_, i) => i !== 2)
      .map((c, i) => (i === 2 ? c.split(',').sort().join(',') : c))
      .join('|'),
  );

for (const [f, sn] of FILES) {
  if (!fs.existsSync(path.join(CORPUS, f))) continue;
  test(`Interop_ctr16ListsCorpusFile_asTsctr ${f}`, async () => {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'tsbolt-corpus-ctr-'));
    const root = path.join(dir, 'root');
    fs.mkdirSync(path.join(root, 'io.containerd.metadata.v1.bolt'), { recursive: true });
    fs.copyFileSync(path.join(CORPUS, f), path.join(root, 'io.containerd.metadata.v1.bolt', 'meta.db'));
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
    const offline = new Map<string, string>();
    for (const argv of cmds) {
      const r = await tsctr(['--root', root, ...argv]);
      assert.equal(r.code, 0, `${argv.join(' ')}: ${r.err}`);
      offline.set(argv.join(' '), r.out);
    }
    const c = await startContainerd(dir);
    try {
      for (const argv of cmds) {
        const r = await c.ctr(argv);
        assert.equal(r.code, 0, `ctr ${argv.join(' ')}: ${r.stderr}`);
        const want = offline.get(argv.join(' '))!;
        if (argv.includes('content') && !argv.includes('-q')) assert.deepEqual(contentRows(r.stdout), contentRows(want), `ctr ${argv.join(' ')}`);
        else assert.equal(r.stdout, want, `ctr ${argv.join(' ')}`);
      }
    } finally {
      await c.stop();
    }
    fs.rmSync(dir, { recursive: true, force: true });
  });
}
