// Records damaged in place (pages intact) on a copy of the real containerd 1.6 root (fixtures/containerd):
// for each listing, tsctr prints what ctr 1.6 prints against containerd 1.6 on the same root — exit status,
// stdout and stderr (logrus times masked). containerd fails a listing on a timestamp that does not decode and
// wraps the error as its code does ("failed to read container ...", "failed to list images: ...", ": unknown"
// from errdefs), but reads a number that does not decode as 0 (`x, _ := binary.Varint(v)`), reads an ingest's
// expireat only in its GC, and a snapshot's Stat reads only that snapshot's record; a stored Any is decoded as
// gogo/protobuf decodes it (its error texts), and a digest that does not parse fails validation first. The
// content store's ingest files are read as its store.status reads them (timestamps through Go's time.Parse), and
// its blobs as content.ReadBlob, images.Children and images.Platforms read them (the size their record gives,
// media-type validation, Go's type errors).
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { open, type Bucket } from '../../src/bolt/index.js';
import { startContainerd } from '../helpers/containerd.js';
import { runTsctr } from '../helpers/tsctr.js';
import { decodeAny, encodeAny } from '../../src/metadata/any.js';

const FIXTURE = fileURLToPath(new URL('../../fixtures/containerd/root', import.meta.url));

type Damage = (v1: Bucket) => void;

/**
 * A copy of the fixture root damaged by `damage` (given the v1 bucket of `file`, or the root itself when
 * `file` is ''); each command through tsctr, then through ctr on containerd.
 */
async function assertCtrPrintsAsTsctrOnDamagedRoot(damage: Damage | ((root: string) => void), cmds: string[][], check: (ours: Map<string, Run>) => void, file = path.join('io.containerd.metadata.v1.bolt', 'meta.db')): Promise<void> {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'tsbolt-damaged-ctr-'));
  const root = path.join(dir, 'root');
  fs.cpSync(FIXTURE, root, { recursive: true });
  if (file === '') (damage as (root: string) => void)(root);
  else {
    const db = open(path.join(root, file));
    db.update((tx) => (damage as Damage)(tx.bucket('v1')!));
    db.close();
  }
  const mask = (s: string) => s.replace(/time="[^"]*"/g, 'time="T"');
  const ours = new Map<string, Run>();
  for (const argv of cmds) {
    const r = await runTsctr(['--root', root, ...argv]);
    ours.set(argv.join(' '), { code: r.code, stdout: r.out, stderr: mask(r.err) });
  }
  check(ours);
  const c = await startContainerd(dir);
  try {
    for (const argv of cmds) {
      const r = await c.ctr(argv);
      const want = { code: r.code, stdout: r.stdout, stderr: mask(r.stderr) };
      const got = ours.get(argv.join(' '))!;
      if (argv.includes('content') && argv.includes('active')) {
        // containerd lists active ingests in Go map order: compare the rows sorted.
        const rows = (s: string) => [s.split('\n')[0], ...s.split('\n').slice(1).sort()];
        assert.deepEqual({ ...got, stdout: rows(got.stdout) }, { ...want, stdout: rows(want.stdout) }, argv.join(' '));
      } else if (argv.includes('content') && argv.includes('ls') && !argv.includes('-q') && want.code === 0) {
        // ctr 1.6 prints a blob's labels in Go map order: compare the rows with the labels sorted.
        const rows = (s: string) => s.split('\n').map((l) => l.split('\t').filter((x) => x !== '').filter((_, i) => i !== 2).map((x, i) => (i === 2 ? x.split(',').sort().join(',') : x)).join('|'));
        assert.deepEqual({ ...got, stdout: rows(got.stdout) }, { ...want, stdout: rows(want.stdout) }, argv.join(' '));
      } else assert.deepEqual(got, want, argv.join(' '));
    }
  } finally {
    await c.stop();
  }
  fs.rmSync(dir, { recursive: true, force: true });
}

interface Run {
  code: number;
  stdout: string;
  stderr: string;
}

test('Interop_damagedTimestampsAndNumbers_tsctrPrintsWhatCtrPrints', async () => {
  const damage: Damage = (v1) => {
    const def = v1.bucket('default')!;
    const version255 = new Uint8Array([0xff, 1]); // time: an unknown version byte
    def.bucket('containers')!.bucket('web1')!.put('createdat', version255);
    def.bucket('leases')!.bucket('fixture-lease')!.put('createdat', new Uint8Array([1, 2, 3])); // time: bad length
    const blobs = def.bucket('content')!.bucket('blob')!;
    const firstBlob = blobs.cursor().first()![0].slice();
    blobs.bucket(firstBlob)!.put('updatedat', new Uint8Array(0)); // time: present but empty ("no data")
    def.bucket('snapshots')!.bucket('overlayfs')!.bucket('web2')!.put('createdat', version255);
    const ingests = def.bucket('content')!.bucket('ingests')!;
    ingests.forEach((k, v) => {
      if (v === undefined) ingests.bucket(k)!.put('expireat', version255);
    });
    const images = def.bucket('images')!;
    images.bucket('docker.io/library/alpha:latest')!.bucket('target')!.put('size', new Uint8Array([0xff])); // varint: truncated
    images.bucket('docker.io/library/multi:latest')!.bucket('target')!.put('size', new Uint8Array(10).fill(0xff)); // varint: overflows
    const tools = v1.bucket('tools')!;
    const toolBlobs = tools.bucket('content')!.bucket('blob')!;
    toolBlobs.forEach((k, v) => {
      if (v === undefined) toolBlobs.bucket(k)!.put('size', new Uint8Array([0x80]));
    });
    const toolImages = tools.bucket('images')!;
    toolImages.bucket(toolImages.cursor().first()![0].slice())!.deleteBucket('target');
    const k8s = v1.bucket('k8s.io')!.bucket('images')!;
    const c = k8s.cursor();
    c.first();
    c.next();
    k8s.bucket(c.next()![0].slice())!.put('updatedat', new Uint8Array(14).fill(1));
  };
  const cmds = [
    ['namespaces', 'ls'],
    ['-n', 'default', 'images', 'ls'],
    ['-n', 'default', 'containers', 'ls'],
    ['-n', 'default', 'containers', 'ls', '-q'],
    ['-n', 'default', 'containers', 'info', 'web1'],
    ['-n', 'default', 'containers', 'info', 'web2'],
    ['-n', 'default', 'leases', 'ls'],
    ['-n', 'default', 'leases', 'ls', '-q'],
    ['-n', 'default', 'content', 'ls'],
    ['-n', 'default', 'content', 'ls', '-q'],
    ['-n', 'default', 'content', 'active'],
    ['-n', 'default', 'snapshots', 'ls'],
    ['-n', 'default', 'snapshots', 'tree'],
    ['-n', 'default', 'snapshots', 'info', 'web2'],
    ['-n', 'default', 'snapshots', 'info', 'web1'],
    ['-n', 'default', 'snapshots', 'info', 'no-such'],
    ['-n', 'default', 'snapshots', '--snapshotter', 'native', 'ls'],
    ['-n', 'tools', 'content', 'ls'],
    ['-n', 'tools', 'images', 'ls'],
    ['-n', 'tools', 'images', 'ls', '-q'],
    ['-n', 'k8s.io', 'images', 'ls'],
  ];
  await assertCtrPrintsAsTsctrOnDamagedRoot(damage, cmds, (ours) => {
    // The damage must show: some listings fail, others list (the numbers read as 0).
    assert.ok([...ours.values()].filter((r) => r.code !== 0).length >= 8);
    assert.equal(ours.get('-n default images ls')!.code, 0);
    assert.equal(ours.get('-n tools content ls')!.code, 0);
  });
});

test('Interop_damagedProtobufLabelsAndDigests_tsctrPrintsWhatCtrPrints', async () => {
  const damage: Damage = (v1) => {
    const def = v1.bucket('default')!;
    const cs = def.bucket('containers')!;
    cs.bucket('web2')!.put('spec', Uint8Array.of(0x0a, 0x05, 1, 2)); // an Any cut short
    cs.bucket('db1')!.bucket('runtime')!.put('options', Uint8Array.of(0xff, 0xff)); // a tag that does not end
    // A value where a bucket of labels belongs: containerd reads no labels.
    cs.bucket('bigspec')!.deleteBucket('labels');
    cs.bucket('bigspec')!.put('labels', 'x');
    const web2 = def.bucket('snapshots')!.bucket('overlayfs')!.bucket('web2')!;
    if (web2.bucket('labels')) web2.deleteBucket('labels');
    web2.put('labels', 'x');
    const empty = v1.bucket('empty')!;
    if (empty.bucket('labels')) empty.deleteBucket('labels');
    empty.put('labels', 'x');
    const tools = v1.bucket('tools')!;
    const leases = tools.bucket('leases')!;
    leases.forEach((k, v) => {
      const l = v === undefined ? leases.bucket(k)! : undefined;
      if (l?.bucket('content')) {
        l.deleteBucket('content');
        l.put('content', 'x');
      }
    });
    const k8s = v1.bucket('k8s.io')!.bucket('images')!;
    k8s.bucket(k8s.cursor().first()![0].slice())!.bucket('target')!.put('digest', 'not-a-digest');
  };
  const cmds = [
    ['namespaces', 'ls'],
    ['-n', 'default', 'containers', 'ls'],
    ['-n', 'default', 'containers', 'info', 'web2'],
    ['-n', 'default', 'containers', 'info', 'db1'],
    ['-n', 'default', 'containers', 'info', 'bigspec'],
    ['-n', 'default', 'snapshots', 'ls'],
    ['-n', 'default', 'snapshots', 'info', 'web2'],
    ['-n', 'tools', 'leases', 'ls'],
    ['-n', 'k8s.io', 'images', 'ls'],
    ['-n', 'k8s.io', 'images', 'ls', '-q'],
  ];
  await assertCtrPrintsAsTsctrOnDamagedRoot(damage, cmds, (ours) => {
    assert.equal(ours.get('-n default containers info web2')!.code, 1);
    assert.equal(ours.get('-n default containers info bigspec')!.code, 0);
  });
});

test('Interop_damagedSnapshotterRecords_tsctrPrintsWhatCtrPrints', async () => {
  // The overlayfs snapshotter's own database: a timestamp, a kind byte it does not know (gRPC
  // carries it as Committed), a record that is a value, a number that does not decode.
  const damage: Damage = (v1) => {
    const s = v1.bucket('snapshots')!;
    s.bucket('default/8/web2')!.put('createdat', Uint8Array.of(0xff, 1));
    s.bucket('default/11/overlayfs-active')!.put('kind', Uint8Array.of(9));
    s.deleteBucket('default/12/overlayfs-view');
    s.put('default/12/overlayfs-view', 'x');
    s.bucket('default/14/overlayfs-committed')!.put('inodes', Uint8Array.of(0xff));
  };
  const cmds = [
    ['-n', 'default', 'snapshots', 'ls'],
    ['-n', 'default', 'snapshots', 'tree'],
    ['-n', 'default', 'snapshots', 'info', 'web2'],
    ['-n', 'default', 'snapshots', 'info', 'overlayfs-active'],
    ['-n', 'default', 'snapshots', 'info', 'overlayfs-view'],
    ['-n', 'default', 'snapshots', 'info', 'overlayfs-committed'],
    ['-n', 'k8s.io', 'snapshots', 'ls'],
  ];
  await assertCtrPrintsAsTsctrOnDamagedRoot(damage, cmds, (ours) => {
    assert.equal(ours.get('-n default snapshots info web2')!.code, 1);
    assert.match(ours.get('-n default snapshots info overlayfs-active')!.stdout, /"Kind": "Committed"/);
  }, path.join('io.containerd.snapshotter.v1.overlayfs', 'metadata.db'));
});

test('Interop_damagedIngestFiles_tsctrContentActivePrintsWhatCtrPrints', async () => {
  // The content store's files of the fixture's three ingests (fixtures/containerd/README.md):
  // containerd's store.status reads data, ref, startedat and updatedat; a missing one skips the
  // ingest (not found), a timestamp Go cannot parse fails the listing with containerd's text.
  const ingest = (root: string, ref: string) => path.join(root, 'io.containerd.content.v1.content', 'ingest', createHash('sha256').update(ref).digest('hex'));
  const cmds = [
    ['-n', 'default', 'content', 'active'],
    ['-n', 'default', 'content', 'active', 'ref~=killed'],
    ['-n', 'default', 'content', 'active', 'killed'], // a bare word is a field name (ctr passes a filter, not a regexp)
    ['-n', 'tools', 'content', 'active'],
  ];
  const variants: ((root: string) => void)[] = [
    (root) => {
      fs.writeFileSync(path.join(ingest(root, 'default/1/short-upload'), 'startedat'), 'garbage');
      fs.writeFileSync(path.join(ingest(root, 'default/1/killed-upload'), 'total'), 'abc');
      fs.rmSync(path.join(ingest(root, 'tools/1/tar-blobs/sha256/e591c96a87d13c993215dc57ecfe0c50a8889667816655e79473e199b84f96b6'), 'updatedat'));
    },
    (root) => {
      fs.rmSync(path.join(ingest(root, 'default/1/short-upload'), 'ref'));
      fs.appendFileSync(path.join(ingest(root, 'default/1/killed-upload'), 'updatedat'), '\n'); // Go's "extra text"
      fs.rmSync(path.join(ingest(root, 'tools/1/tar-blobs/sha256/e591c96a87d13c993215dc57ecfe0c50a8889667816655e79473e199b84f96b6'), 'data'));
    },
    (root) => {
      fs.rmSync(path.join(ingest(root, 'default/1/short-upload'), 'ref'));
      fs.writeFileSync(path.join(ingest(root, 'default/1/killed-upload'), 'startedat'), '2026-11-22T1:12:13.5Z'); // one-digit hour: Go accepts it
    },
  ];
  const checks: ((ours: Map<string, Run>) => void)[] = [
    (ours) => {
      assert.match(ours.get('-n default content active')!.stderr, /^ctr: could not read startedat: could not parse timestamp file .*: parsing time "garbage" as "2006-01-02T15:04:05Z07:00": cannot parse "garbage" as "2006": unknown\n$/);
      assert.equal(ours.get('-n tools content active')!.stdout, 'REF\tSIZE\tAGE\t\n'); // skipped: updatedat is gone
    },
    (ours) => assert.match(ours.get('-n default content active')!.stderr, /: extra text: "\\x0a": unknown\n$/),
    (ours) => assert.match(ours.get('-n default content active')!.stdout, /^killed-upload\t/m),
  ];
  for (let i = 0; i < variants.length; i++) await assertCtrPrintsAsTsctrOnDamagedRoot(variants[i]!, cmds, checks[i]!, '');
});

test('Interop_damagedBlobs_tsctrImagesLsPrintsWhatCtrPrints', async () => {
  // The blobs of alpha's manifest and config and multi's index, rewritten: ctr reads a blob through
  // the content service as content.ReadBlob does (exactly the size the blob's record gives: a
  // shorter file is "unexpected EOF", bytes past it go unread), then images.Children validates the media type
  // (its errors wrapped "children: invalid desc ...") and decodes the descriptors (Go's type
  // errors). Each failure is a logrus line, and the listing goes on.
  const blob = (root: string, hex: string) => path.join(root, 'io.containerd.content.v1.content', 'blobs', 'sha256', hex);
  const MANIFEST = '548f0576b5066181ea230403e8cf4090ecece130a223eb748583f9b461f439fa';
  const INDEX = '8abcfd481aa9a1284f5598ab9b5f3a12d59e654fdd30488ec406f4259515f583';
  const CONFIG = '2e2f6916cf6a0164160344107cb020ad3a053e542f607fda0af11ccf28fa1c74';
  // The same length as before, the rest spaces (JSON allows them).
  const sameSize = (root: string, hex: string, text: string) => fs.writeFileSync(blob(root, hex), text.padEnd(fs.statSync(blob(root, hex)).size, ' '));
  const variants: [(root: string) => void, RegExp][] = [
    [(root) => fs.writeFileSync(blob(root, MANIFEST), 'garbage'), /error="unexpected EOF"/],
    [(root) => (sameSize(root, MANIFEST, '{"layers": 5}'), sameSize(root, INDEX, '{"manifests": [1]}')), /Manifest\.layers of type \[\]v1\.Descriptor/],
    [(root) => (sameSize(root, MANIFEST, '{"config": {"size": "x"}, "layers": []}'), sameSize(root, INDEX, '{"manifests": [{"size": 1.5}]}')), /number 1\.5 into Go struct field Descriptor\.manifests\.size/],
    [(root) => (sameSize(root, MANIFEST, '{"manifests": [{}]}'), sameSize(root, INDEX, '{"config": null}')), /expected index but found manifest/],
    [(root) => (sameSize(root, MANIFEST, '{"layers": [{"platform": {"os": 3}}]}'), sameSize(root, INDEX, '{"manifests": [{"annotations": {"a": 1}}]}')), /Platform\.layers\.platform\.os/],
    [(root) => (sameSize(root, MANIFEST, '[1]'), sameSize(root, INDEX, '{"fsLayers": [1]}')), /schema 1 not supported/],
    [(root) => (fs.appendFileSync(blob(root, MANIFEST), 'garbage after'), sameSize(root, INDEX, '{"mediaType": 5}')), /unknownDocument\.mediaType of type string/],
    // Sizes are checked on their literal (ParseInt), and a key in another case is the same field (the last one wins).
    [(root) => (sameSize(root, MANIFEST, '{"layers": [{"size": 1e3}]}'), sameSize(root, INDEX, '{"manifests": [], "MANIFESTS": 5}')), /number 1e3 into Go struct field Descriptor\.layers\.size of type int64/],
    // alpha's config: images.Platforms decodes it into ocispec.Image (type errors, and a "created"
    // that Time.UnmarshalJSON refuses); with no os, platforms.Normalize gives ctr's own (linux).
    [(root) => sameSize(root, CONFIG, '{"os": 5, "architecture": "amd64"}'), /Go struct field Image\.os of type string/],
    [(root) => sameSize(root, CONFIG, '{"history": [1], "created": "bad"}'), /parsing time \\"\\\\\\"bad\\\\\\"\\"/],
    [(root) => sameSize(root, CONFIG, '{"config": {"Labels": {"a": 1}}, "os": "linux", "architecture": "arm64"}'), /ImageConfig\.config\.Labels of type string/],
    [(root) => sameSize(root, CONFIG, '{"architecture": "amd64"}'), /^$/],
    // The blob's record, not the file: its size decides how much is read, its timestamps must decode.
    [
      (root) => {
        const db = open(path.join(root, 'io.containerd.metadata.v1.bolt', 'meta.db'));
        db.update((tx) => {
          const blobs = tx.bucket('v1')!.bucket('default')!.bucket('content')!.bucket('blob')!;
          blobs.bucket(`sha256:${MANIFEST}`)!.put('size', Uint8Array.of(0x10)); // 8 bytes: a cut manifest
          blobs.bucket(`sha256:${INDEX}`)!.put('createdat', Uint8Array.of(0xff, 1));
        });
        db.close();
      },
      /error="Time\.UnmarshalBinary: unsupported version: unknown"/,
    ],
  ];
  for (const [damage, shows] of variants) {
    await assertCtrPrintsAsTsctrOnDamagedRoot(damage, [['-n', 'default', 'images', 'ls']], (ours) => {
      const r = ours.get('-n default images ls')!;
      assert.equal(r.code, 0);
      assert.match(r.stderr, shows);
    }, '');
  }
});

test('Interop_damagedSpecJSON_tsctrContainersInfoFailsAsCtr', async () => {
  // The spec inside a container's Any: ctr decodes it into specs.Spec (typeurl.UnmarshalAny) and
  // fails with Go's json error, a type mismatch or a syntax error.
  const damage: Damage = (v1) => {
    const cs = v1.bucket('default')!.bucket('containers')!;
    const setSpec = (id: string, json: string) => {
      const a = decodeAny(cs.bucket(id)!.get('spec')!);
      cs.bucket(id)!.put('spec', encodeAny({ typeUrl: a.typeUrl, value: Buffer.from(json) }));
    };
    setSpec('web1', '{"ociVersion": 5}');
    setSpec('web2', '{"process": {"args": "x"');
    setSpec('db1', '{"process": {"user": {"uid": -1}}, "mounts": [{"options": [1]}]}');
  };
  const cmds = [
    ['-n', 'default', 'containers', 'info', 'web1'],
    ['-n', 'default', 'containers', 'info', '--spec', 'web1'],
    ['-n', 'default', 'containers', 'info', 'web2'],
    ['-n', 'default', 'containers', 'info', 'db1'],
    ['-n', 'default', 'containers', 'ls'],
  ];
  await assertCtrPrintsAsTsctrOnDamagedRoot(damage, cmds, (ours) => {
    assert.equal(ours.get('-n default containers info web1')!.stderr, 'ctr: json: cannot unmarshal number into Go struct field Spec.ociVersion of type string\n');
    assert.equal(ours.get('-n default containers ls')!.code, 0);
  });
});
