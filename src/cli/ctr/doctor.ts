// tsctr doctor [--verify] [--json] (not a ctr command): every inconsistency between meta.db, the
// snapshotters' metadata.db files and the files of the root (src/metadata/doctor.ts), one line each
// ("<code>: <message>"), then "N problems found" and exit status 1; "OK" and 0 when there are none.
import type { MetadataDB } from '../../metadata/index.js';
import { doctor } from '../../metadata/doctor.js';
import { CliError } from '../format/errors.js';

export interface DoctorIO {
  stdout: { write(s: string): unknown };
}

export async function doctorCmd(root: string, argv: string[], m: MetadataDB, io: DoctorIO): Promise<number> {
  let verify = false;
  let json = false;
  for (const a of argv) {
    if (a === '--verify' || a === '-verify') verify = true;
    else if (a === '--json' || a === '-json') json = true;
    else throw new CliError(`doctor: unexpected argument ${a} (flags: --verify, --json)`);
  }
  const r = await doctor(root, m, { verify });
  if (json) io.stdout.write(JSON.stringify({ ok: r.findings.length === 0, ...r }, null, 2) + '\n');
  else if (r.findings.length === 0) io.stdout.write('OK\n');
  else io.stdout.write(r.findings.map((f) => `${f.code}: ${f.message}\n`).join('') + `${r.findings.length} problem${r.findings.length === 1 ? '' : 's'} found\n`);
  return r.findings.length === 0 ? 0 : 1;
}
