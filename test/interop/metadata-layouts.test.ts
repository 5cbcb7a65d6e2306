// containerd 1.6 and ctr on the 1.7 and 2.0 layouts (fixtures/metadata, written by Go bbolt following
// containerd's schema): 1.6 opens both (it never lowers a newer dbVersion), and ctr's listings of images,
// containers, leases, namespaces and content are what tsctr prints for the same file.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { main } from '../../src/cli/tsctr.js';
import { META_FIXTURES } from '../../fixtures/metadata/make.js';
import { openMetadata } from '../../src/metadata/index.js';
import { startContainerd } from '../helpers/containerd.js';

const DIR = fileURLToPath(new URL('../../fixtures/metadata/', import.meta.url));

async function tsctr(argv: string[]): Promise<{ code: number; out: string; err: string }> {
  let out = '';
  let err = '';
  const code = await main(argv, { stdout: { write: (s: string) => (out += s) }, stderr: { write: (s: string) => (err += s) } }, {});
  return { code, out, err };
}

/** content ls without AGE (column 3), LABELS (Go map order in ctr 1.6) as a set. */
const contentRows = (s: string): string[] =>
  s.split('\n').map((l) =>
    l
      .split('\t')
      .filter((c) => c !== '')
      .filter((_, i) => i !== 2)
      .map((c, i) => (i === 2 ? c.split(',').sort().join(',') : c))
      .join('|'),
  );

for (const f of META_FIXTURES) {
  test(`Interop_ctr16ListsTheLayout_asTsctr ${f.name}`, async () => {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'tsbolt-layouts-'));
    const root = path.join(dir, 'root');
    fs.mkdirSync(path.join(root, 'io.containerd.metadata.v1.bolt'), { recursive: true });
    fs.copyFileSync(path.join(DIR, `${f.name}.db`), path.join(root, 'io.containerd.metadata.v1.bolt', 'meta.db'));
    const cmds: string[][] = [['namespaces', 'ls']];
    for (const ns of ['default', 'k8s.io', 'empty']) {
      cmds.push(['-n', ns, 'images', 'ls', '-q'], ['-n', ns, 'containers', 'ls'], ['-n', ns, 'containers', 'ls', '-q'], ['-n', ns, 'leases', 'ls'], ['-n', ns, 'leases', 'ls', '-q'], ['-n', ns, 'content', 'ls']);
      cmds.push(['-n', ns, 'containers', 'ls', 'labels.app==web'], ['-n', ns, 'leases', 'ls', 'id==pull-1'], ['-n', ns, 'content', 'ls', '-q', 'labels."containerd.io/uncompressed"~=sha']);
    }
    // images ls: the blobs are not in this root, so ctr and tsctr report sizes of 0 with an error each on stderr.
    for (const [ns, id] of [['default', 'web'], ['default', 'job'], ['k8s.io', 'kube-main']]) cmds.push(['-n', ns!, 'containers', 'info', id!]);
    cmds.push(['-n', 'default', 'images', 'ls'], ['-n', 'k8s.io', 'images', 'ls', 'labels."io.cri-containerd.pinned"==pinned']);
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
      assert.notEqual(offline.get('-n default containers ls -q'), '');
    } finally {
      await c.stop();
    }
    const m = openMetadata(path.join(root, 'io.containerd.metadata.v1.bolt', 'meta.db'));
    assert.equal(m.version, f.dbVersion, 'containerd 1.6 left the version as it was');
    m.close();
    fs.rmSync(dir, { recursive: true, force: true });
  });
}
