// Digest validation as go-digest does it, before any path is built from a digest.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { parseDigest, isDigest, digestOf, Digester, validateDigest, InvalidDigestError } from '../../src/content/index.js';

const hex = (alg: string, s: string) => createHash(alg).update(s).digest('hex');

test('parseDigest_validDigests_ofEachAlgorithm', () => {
  for (const alg of ['sha256', 'sha384', 'sha512'] as const) {
    const d = `${alg}:${hex(alg, 'x')}`;
    assert.deepEqual(parseDigest(d), { digest: d, algorithm: alg, encoded: hex(alg, 'x') });
    assert.equal(validateDigest(d), d);
    assert.equal(isDigest(d), true);
  }
});

test('parseDigest_badInput_isRefusedWithTheReason', () => {
  const h = hex('sha256', 'x');
  const cases: [unknown, string][] = [
    ['sha256:../../etc/passwd', 'length'],
    [`sha256:../../${h.slice(6)}`, 'encoding'],
    [`sha256:${h.toUpperCase()}`, 'encoding'],
    [`sha256:${h.slice(1)}`, 'length'],
    [`sha256:${h}0`, 'length'],
    [`md5:${hex('md5', 'x')}`, 'unsupported'],
    [`sha1:${hex('sha1', 'x')}`, 'unsupported'],
    [`SHA256:${h}`, 'format'],
    [h, 'format'],
    [`:${h}`, 'format'],
    ['sha256:', 'format'],
    ['', 'format'],
    [`sha256:${h}/x`, 'length'],
    [`sha256:${'a'.repeat(1 << 16)}`, 'format'],
    [42, 'format'],
    [undefined, 'format'],
  ];
  for (const [input, reason] of cases) {
    assert.throws(
      () => parseDigest(input),
      (e: unknown) => e instanceof InvalidDigestError && e.code === 'ERR_INVALID_DIGEST' && e.reason === reason,
      `${String(input).slice(0, 80)} -> ${reason}`,
    );
    assert.equal(isDigest(input), false);
  }
});

test('Digester_digestMidStream_keepsHashing', () => {
  const d = new Digester('sha512');
  d.update(Buffer.from('ab'));
  assert.equal(d.digest(), `sha512:${hex('sha512', 'ab')}`);
  d.update(Buffer.from('c'));
  assert.equal(d.digest(), `sha512:${hex('sha512', 'abc')}`);
  assert.equal(digestOf('abc', 'sha384'), `sha384:${hex('sha384', 'abc')}`);
});
