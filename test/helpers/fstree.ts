// Every file under a directory with the sha256 of its bytes and its mtime, so a test can assert
// that a read path changed nothing (evidence stays intact).
import fs from 'node:fs';
import path from 'node:path';
import { createHash } from 'node:crypto';

export function fileTree(dir: string): Map<string, string> {
  const m = new Map<string, string>();
  const walk = (d: string): void => {
    for (const n of fs.readdirSync(d)) {
      const p = path.join(d, n);
      const st = fs.lstatSync(p);
      if (st.isDirectory()) walk(p);
      else m.set(p, `${st.isFile() ? createHash('sha256').update(fs.readFileSync(p)).digest('hex') : 'link'} ${st.mtimeMs}`);
    }
  };
  walk(dir);
  return m;
}
