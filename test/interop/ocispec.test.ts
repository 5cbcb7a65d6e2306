// The OCI spec re-marshal (src/metadata/ocispec.ts) against Go's encoding/json with Debian's specs-go, the
// package the Debian-built ctr decodes container specs into (test/reference/ocispec/main.go): the committed
// field table is what reflection reads from that package, every container spec in the fixtures and the corpus
// prints as Go prints it, and so do seeded random specs (keys in any order or case, unknown keys, nulls,
// empty arrays and maps); where Go refuses a spec, so do we.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { marshalIndent } from '../../src/metadata/gojson.js';
import { remarshalSpec, SpecDecodeError } from '../../src/metadata/ocispec.js';
import { OCI_SPEC_TYPES } from '../../src/metadata/ocispec-schema.js';
import { openMetadata } from '../../src/metadata/index.js';
import { renderSchema } from '../../scripts/ocispec-schema.js';
import { goRemarshalSpec } from '../helpers/ocispec.js';
import { prng } from '../helpers/workload.js';

const here = (p: string): string => fileURLToPath(new URL(p, import.meta.url));
const CORPUS = here('../../../shared/corpus');

function ours(text: string): { out: string } | { error: string } {
  try {
    return { out: marshalIndent(remarshalSpec(text)) };
  } catch (e) {
    if (e instanceof SpecDecodeError) return { error: e.message };
    throw e;
  }
}

function same(text: string, what: string): void {
  // Printed or refused, the same bytes: Go's error text included (ctr prints it).
  assert.deepEqual(ours(text), goRemarshalSpec(text), what);
}

test('ocispecSchema_committed_isWhatReflectionReads', () => {
  assert.equal(readFileSync(here('../../src/metadata/ocispec-schema.ts'), 'utf8'), renderSchema());
});

test('remarshalSpec_storedSpecs_asGo', () => {
  const files = [here('../../fixtures/containerd/root/io.containerd.metadata.v1.bolt/meta.db'), here('../../fixtures/metadata/containerd-1.7.db'), here('../../fixtures/metadata/containerd-2.0.db')];
  for (const f of ['containerd-meta-linux.db', 'containerd-1.7-meta-windows.db', 'containerd-2021-meta-dfirlabs.db', 'containerd-meta-eks-trimmed.db', 'containerd-meta-gke-gcfs-trimmed.db']) {
    if (existsSync(join(CORPUS, f))) files.push(join(CORPUS, f));
  }
  let n = 0;
  for (const f of files) {
    const m = openMetadata(f);
    try {
      for (const { name } of m.namespaces()) {
        for (const c of m.containers(name)) {
          if (!c.spec || c.spec.value.length === 0) continue;
          same(Buffer.from(c.spec.value).toString('utf8'), `${f} ${name}/${c.id}`);
          n++;
        }
      }
    } finally {
      m.close();
    }
  }
  assert.ok(n > 10, `specs compared: ${n}`);
});

/** A random JSON value for a schema type, with Go's quirks in reach. */
function gen(r: () => number, t: string, depth: number): unknown {
  const pick = <T>(xs: T[]): T => xs[Math.floor(r() * xs.length)]!;
  if (r() < 0.05) return null;
  // Now and then a value of another JSON type (or a number Go's integers refuse): Go's type errors.
  if (r() < 0.01) return pick([5, 'x', true, [1], { a: 1 }, 1.5, 1e400, '1']);
  if (t.startsWith('*')) return gen(r, t.slice(1), depth);
  if (t.startsWith('[]')) return depth > 4 ? [] : Array.from({ length: pick([0, 1, 2, 3]) }, () => gen(r, t.slice(2), depth + 1));
  if (t.startsWith('map[string]')) {
    const o: Record<string, unknown> = {};
    for (let i = pick([0, 1, 3]); i > 0; i--) o[pick(['b', 'a', 'z.k', 'io.x/y', 'A', '<&>'])] = gen(r, t.slice('map[string]'.length), depth + 1);
    return o;
  }
  switch (t) {
    case 'string':
      return pick(['', 'x', 'rootfs', '/bin/sh', 'a<b>&c', 'ünï', 'line\nbreak', '"q"']);
    case 'bool':
      return r() < 0.5;
    case 'any':
      return pick([{ b: 1, a: [true, 'x'] }, 'text', 3, { nested: { z: null, y: 2.5 } }]);
    case 'bytes':
      return pick(['', 'AQID']);
  }
  if (/^u?int\d+$/.test(t)) return pick([0, 1, -1, 42, 255, 256, 65535, 65536, 1 << 30, 4294967295, 9007199254740991]);
  if (/^float\d+$/.test(t)) return pick([0, 0.5, 1e21, 1.5e-7]);
  const o: Record<string, unknown> = {};
  const fields = [...(OCI_SPEC_TYPES[t] ?? [])];
  // Keys in random order, some in another case, some left out, an unknown one now and then.
  for (let i = fields.length - 1; i > 0; i--) {
    const j = Math.floor(r() * (i + 1));
    [fields[i], fields[j]] = [fields[j]!, fields[i]!];
  }
  for (const [name, ft] of fields) {
    if (depth > 5 || r() < 0.45) continue;
    const key = r() < 0.1 ? name.toUpperCase() : name;
    o[key] = gen(r, ft, depth + 1);
  }
  if (r() < 0.2) o['unknownField'] = { whatever: [1, 2] };
  return o;
}

test('remarshalSpec_randomSpecs_asGo', () => {
  const seed = Number(process.env.FC_SEED ?? 20260101);
  const r = prng(seed);
  for (let i = 0; i < 150; i++) same(JSON.stringify(gen(r, 'Spec', 0)), `seed ${seed} case ${i}`);
});

test('remarshalSpec_typeMismatch_refusedAsGo', () => {
  for (const text of ['{"ociVersion": 1}', '{"process": {"args": "sh"}}', '{"process": {"user": {"uid": -1}}}', '{"linux": {"resources": {"memory": {"limit": 1.5}}}}', '[]', '{"annotations": {"a": 1}}']) {
    const go = goRemarshalSpec(text);
    assert.ok('error' in go, `Go refuses ${text}`);
    assert.deepEqual(ours(text), go, `we refuse ${text} in Go's words`);
  }
  same('null', 'a null spec is the zero Spec');
  same('{"ociVersion":"1.0.2","process":null,"linux":{"namespaces":[]},"annotations":{}}', 'nulls and empties');
});
