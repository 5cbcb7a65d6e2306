// sandboxStore semantics (containerd metadata/sandbox.go): validation and its texts, Create refusing a
// duplicate, Update's field paths and immutable runtime name, Delete, both layouts; every test ends with a
// clean tx.check(). Byte identity with Go-written files is in test/interop/layouts-reference.test.ts.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { openMetadata, specAny, ErrAlreadyExists, ErrInvalidArgument, ErrNotFound, type GoTime, type MetadataDB } from '../../src/metadata/index.js';
import { createMetaDB } from '../helpers/metadata.js';

const T0: GoTime = { unix: 1700000000, nanos: 1 };
const T1: GoTime = { unix: 1700000500, nanos: 2 };

function withDB(version: 3 | 4, fn: (m: MetadataDB, set: (t: GoTime) => void) => void): void {
  const dir = mkdtempSync(join(tmpdir(), 'tsbolt-sandbox-'));
  const path = join(dir, 'meta.db');
  let now = T0;
  try {
    createMetaDB(path, version);
    const m = openMetadata(path, { readOnly: false, clock: () => now });
    try {
      fn(m, (t) => (now = t));
      assert.deepEqual(m.db.view((tx) => tx.check()), []);
    } finally {
      m.close();
    }
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

function expect(fn: () => unknown, cls: new (...a: never[]) => Error, msg: string): void {
  assert.throws(fn, (e: unknown) => e instanceof cls && (e as Error).message === msg);
}

const RUNC = { name: 'io.containerd.runc.v2', options: { typeUrl: 'containerd.runc.v1.Options', value: new Uint8Array([0x50, 1]) } };

for (const version of [3, 4] as const) {
  test(`MetadataDB_createSandbox_roundTripAndValidation v${version}`, () => {
    withDB(version, (m) => {
      const s = m.createSandbox('default', { id: 'pod', runtime: RUNC, labels: { a: '1', drop: '' }, spec: specAny({ hostname: 'pod' }), extensions: { x: { typeUrl: 't', value: new Uint8Array([9]) } }, sandboxer: 'podsandbox' });
      assert.deepEqual(s, {
        id: 'pod',
        runtime: RUNC,
        labels: { a: '1' },
        spec: specAny({ hostname: 'pod' }),
        extensions: { x: { typeUrl: 't', value: new Uint8Array([9]) } },
        createdAt: T0,
        updatedAt: T0,
        layout: version === 4 ? 'v1' : 'top-level',
        ...(version === 4 ? { sandboxer: 'podsandbox' } : {}),
      });
      assert.deepEqual(m.sandboxes('default'), [s]);
      expect(() => m.createSandbox('default', { id: 'pod', runtime: RUNC }), ErrAlreadyExists, 'write error: sandbox bucket "pod" already exists: already exists');
      expect(
        () => m.createSandbox('default', { id: 'bad id', runtime: RUNC }),
        ErrInvalidArgument,
        'failed to validate sandbox: invalid sandbox ID: identifier "bad id" must match ^[A-Za-z0-9]+(?:[._-](?:[A-Za-z0-9]+))*$: invalid argument',
      );
      expect(() => m.createSandbox('default', { id: 'z', runtime: RUNC, createdAt: { unix: -62135596800, nanos: 0 } }), ErrInvalidArgument, 'failed to validate sandbox: creation date must not be zero: invalid argument');
      expect(() => m.createSandbox('', { id: 'z', runtime: RUNC }), ErrInvalidArgument, 'namespace is required: failed precondition');
    });
  });

  test(`MetadataDB_updateSandbox_fieldpathsAndImmutables v${version}`, () => {
    withDB(version, (m, set) => {
      expect(() => m.updateSandbox('default', { id: 'pod', runtime: RUNC }), ErrNotFound, 'no sandbox buckets: not found');
      m.createSandbox('default', { id: 'pod', runtime: RUNC, labels: { a: '1', b: '2' }, extensions: { keep: { typeUrl: 'k', value: new Uint8Array([1]) } } });
      expect(() => m.updateSandbox('default', { id: 'nope', runtime: RUNC }), ErrNotFound, 'bucket "nope" not found: not found');
      expect(() => m.updateSandbox('default', { id: 'pod', runtime: { name: 'other' } }), ErrInvalidArgument, 'sandbox.Runtime.Name field is immutable: invalid argument');
      expect(() => m.updateSandbox('default', { id: 'pod', runtime: RUNC }, ['sandboxer']), ErrInvalidArgument, 'cannot update "sandboxer" field on sandbox "pod": invalid argument');
      set(T1);
      const u = m.updateSandbox('default', { id: 'pod', runtime: RUNC, labels: { b: '', c: '3' } }, ['labels.b', 'labels.c']);
      assert.deepEqual(u.labels, { a: '1', c: '3' });
      assert.deepEqual([u.createdAt, u.updatedAt], [T0, T1]);
      // Without field paths: labels, extensions, spec and runtime replaced; extensions/ keeps old keys (WriteExtensions never clears).
      const all = m.updateSandbox('default', { id: 'pod', runtime: { name: RUNC.name }, spec: specAny({}), extensions: { add: { typeUrl: 'a', value: new Uint8Array([2]) } } });
      assert.equal(all.labels, undefined);
      assert.deepEqual(Object.keys(all.extensions ?? {}), ['add', 'keep']);
      assert.deepEqual(all.spec, specAny({}));
      // runtime/ is reused: options written before stay when the new runtime has none (as containerd's write).
      assert.deepEqual(all.runtime, RUNC);
      assert.deepEqual(m.sandbox('default', 'pod'), all);
    });
  });

  test(`MetadataDB_deleteSandbox_missingAndPresent v${version}`, () => {
    withDB(version, (m) => {
      expect(() => m.deleteSandbox('default', 'pod'), ErrNotFound, 'no sandbox buckets: not found');
      m.createSandbox('default', { id: 'pod', runtime: RUNC });
      expect(() => m.deleteSandbox('default', 'other'), ErrNotFound, 'failed to delete sandbox "other": not found');
      m.deleteSandbox('default', 'pod');
      assert.deepEqual(m.sandboxes('default'), []);
      expect(() => m.sandbox('default', 'pod'), ErrNotFound, 'sandbox "pod": not found');
    });
  });
}

test('MetadataDB_createSandbox_namespaceV1RefusedInTopLevelLayout', () => {
  withDB(3, (m) => {
    expect(() => m.createSandbox('v1', { id: 'pod', runtime: RUNC }), ErrInvalidArgument, 'namespace "v1" cannot hold sandboxes in the 1.7 layout: invalid argument');
  });
});
