// Hashing at disk speed: node:crypto (OpenSSL) against @noble/hashes (pure JS) for the
// digests the content store supports, on a large input fed in 1 MiB chunks as the writer
// feeds it. The faster one is what src/content/digest.ts uses.
//
//   node --import tsx bench/content-hash.ts [MiB]      (default 256)
import { createHash, randomFillSync } from 'node:crypto';
import { sha256, sha384, sha512 } from '@noble/hashes/sha2.js';
import { pathToFileURL } from 'node:url';

export type HashRow = { algorithm: string; impl: 'node:crypto' | '@noble/hashes'; mbPerSec: number };

const CHUNK = 1 << 20;
const noble = { sha256, sha384, sha512 } as const;

function time(fn: () => void): number {
  const t = process.hrtime.bigint();
  fn();
  return Number(process.hrtime.bigint() - t) / 1e9;
}

/** MB/s (10^6 bytes) of each implementation and algorithm over `mib` MiB, median of `runs`. */
export function measureContentHash(mib = 256, runs = 3): HashRow[] {
  const chunk = randomFillSync(new Uint8Array(CHUNK));
  const rows: HashRow[] = [];
  for (const alg of ['sha256', 'sha384', 'sha512'] as const) {
    const impls: [HashRow['impl'], () => void][] = [
      ['node:crypto', () => {
        const h = createHash(alg);
        for (let i = 0; i < mib; i++) h.update(chunk);
        h.digest();
      }],
      ['@noble/hashes', () => {
        const h = noble[alg].create();
        for (let i = 0; i < mib; i++) h.update(chunk);
        h.digest();
      }],
    ];
    for (const [impl, fn] of impls) {
      const secs: number[] = [];
      for (let r = 0; r < runs; r++) secs.push(time(fn));
      secs.sort((a, b) => a - b);
      rows.push({ algorithm: alg, impl, mbPerSec: (mib * CHUNK) / 1e6 / secs[Math.floor(secs.length / 2)]! });
    }
  }
  return rows;
}

if (import.meta.url === pathToFileURL(process.argv[1] ?? '').href) {
  const mib = Number(process.argv[2] ?? 256);
  console.log(`hashing ${mib} MiB in 1 MiB chunks, median of 3`);
  console.log('ALGORITHM  IMPLEMENTATION   MB/s');
  for (const r of measureContentHash(mib)) console.log(`${r.algorithm.padEnd(10)} ${r.impl.padEnd(16)} ${r.mbPerSec.toFixed(0)}`);
}
