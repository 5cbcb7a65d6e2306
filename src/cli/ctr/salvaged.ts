// tsctr --salvage: read a damaged meta.db through src/bolt/salvage.ts. The evidence is only read;
// what salvage recovers goes into a new file in a private temporary directory (never beside
// meta.db), which is opened and at once unlinked, so nothing of it stays on disk after the command
// (nor after a crash). stderr says that what follows is salvaged and how much was lost.
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { salvage, type SalvageReport } from '../../bolt/index.js';
import { openMetadata, type MetadataDB } from '../../metadata/index.js';

export interface SalvagedIO {
  stderr: { write(s: string): unknown };
}

/** The one line tsctr prints on stderr before salvaged output. */
export function salvageNotice(path: string, r: SalvageReport): string {
  const from = r.meta ? `the tree of meta page ${r.meta.page} (txid ${r.meta.txid})` : 'a scan of every page (no valid meta page)';
  const lost = r.unreadablePages > 0 ? `${r.unreadablePages} page${r.unreadablePages === 1 ? '' : 's'} unreadable` : 'no page unreadable';
  const orphans = r.sources.filter((s) => s.placement === 'salvaged').length;
  const unplaced = orphans > 0 ? `; ${orphans} leaf page${orphans === 1 ? '' : 's'} found by the scan could not be placed and are not shown (tsbolt salvage keeps them under __salvaged__/<page>)` : '';
  return `ctr: warning: SALVAGED output: ${path} read through salvage (${r.strategy}: ${from}); ${r.keys} keys in ${r.buckets} buckets recovered, ${lost}${unplaced}\n`;
}

export function openSalvagedMetadata(path: string, io: SalvagedIO): MetadataDB {
  const dir = mkdtempSync(join(tmpdir(), 'tsctr-salvage-'));
  try {
    const out = join(dir, 'meta.db');
    const report = salvage(path, out);
    const m = openMetadata(out, { readOnly: true });
    io.stderr.write(salvageNotice(path, report));
    return m;
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}
