// Go's flag package (FlagSet with ContinueOnError and an empty name), as the bbolt CLI uses it
// per subcommand, reproduced for its visible behaviour:
//   - flags come before positional arguments: parsing stops at the first non-flag, "-" or "--"
//     (the latter is consumed);
//   - -name, --name, -name=value, --name value (non-bool flags take the next argument);
//   - -h / -help when not defined print the default usage and fail with "flag: help requested";
//   - errors are printed to the set's output, followed by the default usage ("Usage:" and
//     PrintDefaults), and returned;
//   - PrintDefaults: flags sorted by name, "  -name type" then the usage on the same line
//     after a tab when the prefix is at most 4 bytes, else on the next line after "    \t",
//     then " (default ...)" when the default is not the type's zero value.
// Hidden flags (our extensions, e.g. --json) parse like any other but are left out of
// PrintDefaults, so bbolt's usage texts stay byte-identical.

import { goQuoteString } from './gostring.js';

export type FlagKind = 'bool' | 'string' | 'int' | 'float64' | 'duration';

interface FlagDef {
  name: string;
  kind: FlagKind;
  usage: string;
  defValue: string;
  value: boolean | string | number;
  hidden: boolean;
}

/** A flag error: the message Go's flag package returns (already printed with the usage). */
export class FlagError extends Error {
  static readonly code = 'ERR_FLAG';
  readonly code = FlagError.code;
  /** True for flag.ErrHelp (-h/-help when not defined). */
  readonly help: boolean;
  constructor(message: string, help = false) {
    super(message);
    this.name = 'FlagError';
    this.help = help;
  }
}

const BOOL_TRUE = new Set(['1', 't', 'T', 'TRUE', 'true', 'True']);
const BOOL_FALSE = new Set(['0', 'f', 'F', 'FALSE', 'false', 'False']);

/** strconv.ParseInt(s, 0, 64), reduced to what flag reports: a number or "parse error" / "value out of range". */
export function parseGoInt(s: string): number | 'parse error' | 'value out of range' {
  const m = /^([+-]?)(0[xX][0-9a-fA-F_]+|0[oO][0-7_]+|0[bB][01_]+|0[0-7_]*|[1-9][0-9_]*)$/.exec(s);
  if (!m) return 'parse error';
  let body = m[2]!;
  if (/__|_$/.test(body)) return 'parse error';
  body = body.replace(/_/g, '');
  let v: bigint;
  if (/^0[xX]/.test(body)) v = BigInt('0x' + body.slice(2));
  else if (/^0[oO]/.test(body)) v = BigInt('0o' + body.slice(2));
  else if (/^0[bB]/.test(body)) v = BigInt('0b' + body.slice(2));
  else if (body.length > 1 && body.startsWith('0')) v = BigInt('0o' + body.slice(1));
  else v = BigInt(body);
  if (m[1] === '-') v = -v;
  if (v > 0x7fffffffffffffffn || v < -0x8000000000000000n) return 'value out of range';
  if (v > BigInt(Number.MAX_SAFE_INTEGER) || v < BigInt(Number.MIN_SAFE_INTEGER)) return 'value out of range';
  return Number(v);
}

/** strconv.ParseFloat(s, 64), reduced as parseGoInt. */
export function parseGoFloat(s: string): number | 'parse error' | 'value out of range' {
  const t = s.replace(/_/g, '');
  if (/^[+-]?(inf|infinity)$/i.test(t)) return t.startsWith('-') ? -Infinity : Infinity;
  if (/^nan$/i.test(t)) return NaN;
  if (!/^[+-]?(\d+\.?\d*|\.\d+)([eE][+-]?\d+)?$/.test(t) && !/^[+-]?0[xX]/.test(t)) return 'parse error';
  const v = Number(t);
  if (Number.isNaN(v)) return 'parse error';
  if (!Number.isFinite(v)) return 'value out of range';
  return v;
}

/** time.ParseDuration's syntax: "0", or a sign and number+unit pairs ("1h30m", "-1.5s", ".5ms"). */
export function isGoDuration(s: string): boolean {
  return /^[-+]?(0|((\d+(\.\d*)?|\.\d+)(ns|us|\u00b5s|\u03bcs|ms|s|m|h))+)$/u.test(s);
}

/** Go's strconv.FormatFloat(v, 'g', -1, 64) for the defaults we print. */
function formatFloat(v: number): string {
  if (Number.isInteger(v) && Math.abs(v) < 1e21) return String(v);
  const s = String(v);
  return s.replace(/e\+?(-?)(\d)$/, 'e$1' + '0$2').replace(/e(\d)/, 'e+$1');
}

export class FlagSet {
  private readonly flags = new Map<string, FlagDef>();
  private readonly actual = new Set<string>();
  private rest: string[] = [];

  /** `output` receives usage and error text (Go's f.Output()); undefined discards it. */
  constructor(private readonly output: ((s: string) => void) | undefined) {}

  private define(name: string, kind: FlagKind, def: boolean | string | number, usage: string, hidden: boolean): FlagDef {
    const defValue = kind === 'float64' ? formatFloat(def as number) : String(def);
    const f: FlagDef = { name, kind, usage, defValue, value: def, hidden };
    this.flags.set(name, f);
    return f;
  }

  bool(name: string, def: boolean, usage: string, hidden = false): () => boolean {
    const f = this.define(name, 'bool', def, usage, hidden);
    return () => f.value as boolean;
  }
  string(name: string, def: string, usage: string, hidden = false): () => string {
    const f = this.define(name, 'string', def, usage, hidden);
    return () => f.value as string;
  }
  int(name: string, def: number, usage: string, hidden = false): () => number {
    const f = this.define(name, 'int', def, usage, hidden);
    return () => f.value as number;
  }
  float64(name: string, def: number, usage: string, hidden = false): () => number {
    const f = this.define(name, 'float64', def, usage, hidden);
    return () => f.value as number;
  }
  /** A time.Duration flag; its value is kept as written (checked against time.ParseDuration's syntax). */
  duration(name: string, def: string, usage: string, hidden = false): () => string {
    const f = this.define(name, 'duration', def, usage, hidden);
    return () => f.value as string;
  }

  /** The flag was given on the command line (Go's FlagSet.Visit). */
  isSet(name: string): boolean {
    return this.actual.has(name);
  }

  /** Positional arguments left after the flags. */
  args(): string[] {
    return this.rest;
  }
  /** fs.Arg(i): the i-th positional argument, or "" when missing. */
  arg(i: number): string {
    return this.rest[i] ?? '';
  }

  private print(s: string): void {
    this.output?.(s);
  }

  private fail(message: string): never {
    this.print(message + '\n');
    this.usage();
    throw new FlagError(message);
  }

  /** The default usage: "Usage:" then PrintDefaults. */
  usage(): void {
    this.print('Usage:\n');
    this.printDefaults();
  }

  printDefaults(): void {
    const names = [...this.flags.keys()].sort((a, b) => (Buffer.compare(Buffer.from(a), Buffer.from(b))));
    for (const n of names) {
      const f = this.flags.get(n)!;
      if (f.hidden) continue;
      let line = `  -${f.name}`;
      const [typeName, usage] = unquoteUsage(f);
      if (typeName.length > 0) line += ' ' + typeName;
      if (Buffer.byteLength(line) <= 4) line += '\t';
      else line += '\n    \t';
      line += usage.replace(/\n/g, '\n    \t');
      if (!isZeroValue(f)) {
        line += f.kind === 'string' ? ` (default ${goQuoteString(f.defValue)})` : ` (default ${f.defValue})`;
      }
      this.print(line + '\n');
    }
  }

  /** Parses `args`; throws FlagError (after printing as Go does) on a bad flag. */
  parse(args: string[]): void {
    let rest = args.slice();
    for (;;) {
      const s = rest[0];
      if (s === undefined || s.length < 2 || s[0] !== '-') break;
      let minuses = 1;
      if (s[1] === '-') {
        minuses = 2;
        if (s.length === 2) {
          rest = rest.slice(1);
          break;
        }
      }
      let name = s.slice(minuses);
      if (name.length === 0 || name[0] === '-' || name[0] === '=') this.fail(`bad flag syntax: ${s}`);
      rest = rest.slice(1);
      let hasValue = false;
      let value = '';
      const eq = name.indexOf('=', 1);
      if (eq > 0) {
        value = name.slice(eq + 1);
        hasValue = true;
        name = name.slice(0, eq);
      }
      const f = this.flags.get(name);
      if (!f) {
        if (name === 'help' || name === 'h') {
          this.usage();
          throw new FlagError('flag: help requested', true);
        }
        this.fail(`flag provided but not defined: -${name}`);
      }
      this.actual.add(name);
      if (f.kind === 'bool') {
        if (hasValue) {
          if (BOOL_TRUE.has(value)) f.value = true;
          else if (BOOL_FALSE.has(value)) f.value = false;
          else this.fail(`invalid boolean value ${goQuoteString(value)} for -${name}: parse error`);
        } else f.value = true;
        continue;
      }
      if (!hasValue && rest.length > 0) {
        hasValue = true;
        value = rest[0]!;
        rest = rest.slice(1);
      }
      if (!hasValue) this.fail(`flag needs an argument: -${name}`);
      if (f.kind === 'string') f.value = value;
      else if (f.kind === 'duration') {
        if (!isGoDuration(value)) this.fail(`invalid value ${goQuoteString(value)} for flag -${name}: parse error`);
        f.value = value;
      } else {
        const v = f.kind === 'int' ? parseGoInt(value) : parseGoFloat(value);
        if (typeof v === 'string') this.fail(`invalid value ${goQuoteString(value)} for flag -${name}: ${v}`);
        f.value = v;
      }
    }
    this.rest = rest;
  }
}

/** flag.UnquoteUsage: a `back-quoted` word in the usage names the argument; else the type. */
function unquoteUsage(f: FlagDef): [string, string] {
  const u = f.usage;
  const i = u.indexOf('`');
  if (i >= 0) {
    const j = u.indexOf('`', i + 1);
    if (j >= 0) return [u.slice(i + 1, j), u.slice(0, i) + u.slice(i + 1, j) + u.slice(j + 1)];
  }
  const names: Record<FlagKind, string> = { bool: '', string: 'string', int: 'int', float64: 'float', duration: 'duration' };
  return [names[f.kind], u];
}

function isZeroValue(f: FlagDef): boolean {
  const zero: Record<FlagKind, string> = { bool: 'false', string: '', int: '0', float64: '0', duration: '0s' };
  return f.defValue === zero[f.kind];
}
