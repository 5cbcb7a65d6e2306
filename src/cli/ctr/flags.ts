// A ctr command's flags as urfave/cli (Go's flag package) finds them: they come before the first
// positional argument ("-" alone is one) and end early at "--", which is dropped.
import { CtrCommandError } from '../format/errors.js';

/**
 * Calls onFlag with each leading flag argument as written (dashes and any "=value" included); `next()`
 * takes the argument after it as the flag's value (undefined when there is none). Returns the positionals.
 */
export function eachLeadingFlag(argv: string[], onFlag: (arg: string, next: () => string | undefined) => void): string[] {
  let i = 0;
  for (; i < argv.length; i++) {
    const a = argv[i]!;
    if (a === '--') {
      i++;
      break;
    }
    if (!a.startsWith('-') || a === '-') break;
    onFlag(a, () => argv[++i]);
  }
  return argv.slice(i);
}

/** Leading boolean flags, each one of `allowed` (no "=value"); any other is ctr's "flag provided but not defined". */
export function takeBoolFlags(argv: string[], allowed: string[]): { flags: Set<string>; args: string[] } {
  const flags = new Set<string>();
  const args = eachLeadingFlag(argv, (a) => {
    const name = a.replace(/^--?/, '');
    if (!allowed.includes(name)) throw new CtrCommandError(`flag provided but not defined: -${name}`, { exitCode: 2 });
    flags.add(name);
  });
  return { flags, args };
}
