// Digests as go-digest (github.com/opencontainers/go-digest) validates them: `alg:hex`, with
// alg one of sha256 / sha384 / sha512 and hex exactly 64 / 96 / 128 lowercase hex characters.
// Validation happens before any path is built from a digest, so `sha256:../../etc/passwd`
// never reaches the file system.
//
// Hashing uses node:crypto (OpenSSL, SHA-NI where the CPU has it): bench/content-hash.ts
// measures it against @noble/hashes (bench/RESULTS-content-hash.md: sha256 1550 MB/s against
// 90 MB/s, sha512 408 against 37, on this project's 2-vCPU machine), so node:crypto is the
// only hasher the store uses. A hash can be read mid-stream (`digest()` copies the
// state), which the writer needs for `Writer.digest()` before commit.

import { createHash, type Hash } from 'node:crypto';
import { InvalidDigestError } from './errors.js';

export type Algorithm = 'sha256' | 'sha384' | 'sha512';

/** Hex length of each supported algorithm's encoded part (go-digest's `Size() * 2`). */
export const ALGORITHMS: Readonly<Record<Algorithm, number>> = Object.freeze({ sha256: 64, sha384: 96, sha512: 128 });

/** go-digest's Canonical algorithm; what a writer hashes with when no expected digest names another. */
export const CANONICAL: Algorithm = 'sha256';

// go-digest DigestRegexp, anchored: algorithm components joined by [+._-], then ':' and the encoded part.
const DIGEST_RE = /^[a-z0-9]+(?:[.+_-][a-z0-9]+)*:[a-zA-Z0-9=_-]+$/;
const HEX_RE = /^[a-f0-9]+$/;
// The longest valid digest is "sha512:" + 128 hex; anything much longer is refused before a regex runs.
const MAX_DIGEST_LENGTH = 256;

export interface ParsedDigest {
  readonly digest: string;
  readonly algorithm: Algorithm;
  /** The hex part: a single path component of [a-f0-9] only. */
  readonly encoded: string;
}

export function isAlgorithm(s: string): s is Algorithm {
  return Object.prototype.hasOwnProperty.call(ALGORITHMS, s);
}

/**
 * Parses and validates a digest as go-digest's `Digest.Validate` does, in the same order:
 * format (a ':' with text on both sides), algorithm available (else "unsupported" when the
 * string is well formed, "format" when not), exact hex length, lowercase hex.
 * Throws InvalidDigestError; never returns a digest that could name a path outside blobs/<alg>/.
 */
export function parseDigest(input: unknown): ParsedDigest {
  if (typeof input !== 'string') throw new InvalidDigestError(String(input), 'format', `expected a string, got ${typeof input}`);
  if (input.length > MAX_DIGEST_LENGTH) throw new InvalidDigestError(input, 'format', `longer than ${MAX_DIGEST_LENGTH} characters`);
  const i = input.indexOf(':');
  if (i <= 0 || i + 1 === input.length) throw new InvalidDigestError(input, 'format', 'invalid checksum digest format');
  const alg = input.slice(0, i);
  const encoded = input.slice(i + 1);
  if (!isAlgorithm(alg)) {
    if (!DIGEST_RE.test(input)) throw new InvalidDigestError(input, 'format', 'invalid checksum digest format');
    throw new InvalidDigestError(input, 'unsupported', `unsupported digest algorithm ${JSON.stringify(alg)} (sha256, sha384, sha512)`);
  }
  const want = ALGORITHMS[alg];
  if (encoded.length !== want) {
    throw new InvalidDigestError(input, 'length', `invalid checksum digest length: ${alg} needs ${want} hex characters, got ${encoded.length}`);
  }
  if (!HEX_RE.test(encoded)) throw new InvalidDigestError(input, 'encoding', 'invalid checksum digest format: the hex must be lowercase [a-f0-9]');
  return { digest: input, algorithm: alg, encoded };
}

/** Returns the digest unchanged if valid; throws InvalidDigestError otherwise. */
export function validateDigest(input: unknown): string {
  return parseDigest(input).digest;
}

/** True when `input` is a valid digest of a supported algorithm. */
export function isDigest(input: unknown): input is string {
  try {
    parseDigest(input);
    return true;
  } catch {
    return false;
  }
}

/** An incremental hash that can report its digest at any point and keep going. */
export class Digester {
  readonly algorithm: Algorithm;
  private hash: Hash;
  constructor(algorithm: Algorithm = CANONICAL) {
    this.algorithm = algorithm;
    this.hash = createHash(algorithm);
  }
  update(bytes: Uint8Array): this {
    this.hash.update(bytes);
    return this;
  }
  /** The digest of everything so far (`alg:hex`); the state is kept, so more can be added. */
  digest(): string {
    return `${this.algorithm}:${this.hash.copy().digest('hex')}`;
  }
  reset(): void {
    this.hash = createHash(this.algorithm);
  }
}

/** The digest of `bytes` (go-digest's `FromBytes`). */
export function digestOf(bytes: Uint8Array | string, algorithm: Algorithm = CANONICAL): string {
  return `${algorithm}:${createHash(algorithm).update(bytes).digest('hex')}`;
}
