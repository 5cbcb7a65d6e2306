// tsctr --salvage: read a damaged meta.db through src/bolt/salvage.ts. The evidence is only read;
// what salvage recovers goes into a new file in a private temporary directory (never beside
// meta.db), which is opened and at once unlinked, so nothing of it stays on disk after the command
// (nor after a crash). stderr says that what follows is salvaged and how much was lost, and names
// each record that cannot be decoded and is left out.
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { salvage, type SalvageReport } from '../../bolt/index.js';
import { openMetadata, type MetadataDB } from '../../metadata/index.js';
import type { DamagedRecord } from '../../metadata/damaged-records.js';

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

/** The line for a record the salvaged listing leaves out because it cannot be decoded. */
export function damagedRecordNotice(r: DamagedRecord): string {
  if (r.kind === 'namespace') return `ctr: warning: the labels of namespace ${r.key} are left out: ${r.error.message}\n`;
  return `ctr: warning: ${r.kind} ${r.namespace}/${r.key} is left out: ${r.error.message}\n`;
}

export function openSalvagedMetadata(path: string, io: SalvagedIO): MetadataDB {
  const dir = mkdtempSync(join(tmpdir(), 'tsctr-salvage-'));
  try {
    const out = join(dir, 'meta.db');
    const report = salvage(path, out);
    // Pages salvage recovered can still hold records that do not decode (a value damaged in
    // place): those are named once each on stderr and left out, the rest is listed.
    const seen = new Set<string>();
    const onDamagedRecord = (r: DamagedRecord) => {
      const line = damagedRecordNotice(r);
      if (seen.has(line)) return;
      seen.add(line);
      io.stderr.write(line);
    };
    const m = openMetadata(out, { readOnly: true, onDamagedRecord });
    io.stderr.write(salvageNotice(path, report));
    return m;
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}
