// containerd's filter syntax (filters/parser.go), as ctr passes listing arguments:
//
//   filter     := selector (',' selector)*          all selectors must match
//   selector   := fieldpath [operator value]         no operator: the field must be present
//   fieldpath  := field ('.' field)*
//   field      := [A-Za-z0-9_]+ | "quoted"
//   operator   := '==' | '!=' | '~='                 ~= is an unanchored regular expression
//   value      := unquoted run (no ',' or space) | "quoted" | /quoted/ or |quoted| (~= only)
//
// Several filter arguments are alternatives: parseFilters(a, b) matches when a or b does.
// The one implementation in the package: the content store filters blobs and ingests with it,
// and src/metadata re-exports it for images, containers, leases and content records.
// Syntax errors are InvalidFilterError with containerd's own message text.

import { InvalidFilterError } from './errors.js';

/** Looks a field path up on an object: [value, present]. */
export type Adaptor = (fieldpath: string[]) => [string, boolean];

export interface Filter {
  match(adaptor: Adaptor): boolean;
}

const ALWAYS: Filter = { match: () => true };

type Op = 'present' | '==' | '!=' | '~=';

interface Selector {
  fieldpath: string[];
  op: Op;
  value: string;
  re?: RegExp | null;
}

const EOF = -1;
const ILLEGAL = -2;
type Tok = 'eof' | 'illegal' | 'quoted' | 'separator' | 'operator' | 'value' | 'field' | 'char';

function isFieldRune(c: string): boolean {
  return /^[A-Za-z0-9_]$/.test(c);
}
function isSpace(c: string): boolean {
  return /^\s$/u.test(c);
}
function isValueRune(c: string): boolean {
  return c !== ',' && !isSpace(c) && /^[\p{L}\p{N}\p{P}\p{S}\p{M} ]$/u.test(c);
}

class Scanner {
  private readonly chars: string[];
  /** Start of the last rune read, and the next rune (indexes into chars). */
  pos = 0;
  ppos = 0;
  value = false;
  err = '';
  constructor(readonly input: string) {
    this.chars = Array.from(input);
  }
  /** Byte offset of a rune index, for error messages. */
  offset(i: number): number {
    return this.chars.slice(0, i).join('').length;
  }
  text(from: number, to: number): string {
    return this.chars.slice(from, to).join('');
  }
  next(): string | typeof EOF | typeof ILLEGAL {
    if (this.ppos >= this.chars.length) {
      this.pos = this.ppos;
      return EOF;
    }
    this.pos = this.ppos;
    const c = this.chars[this.ppos++]!;
    if (c === '\0') {
      this.error('unexpected null');
      return ILLEGAL;
    }
    return c;
  }
  peek(): string | typeof EOF | typeof ILLEGAL {
    const [p, pp] = [this.pos, this.ppos];
    const c = this.next();
    this.pos = p;
    this.ppos = pp;
    return c;
  }
  error(msg: string): void {
    if (this.err === '') this.err = msg;
  }
  scan(): [number, Tok, string] {
    let ch = this.next();
    let pos = this.pos;
    for (;;) {
      if (ch === EOF) return [pos, 'eof', ''];
      if (ch === ILLEGAL) return [pos, 'illegal', ''];
      if (ch === '/' || ch === '|' || ch === '"') {
        if (!this.scanQuoted(ch)) return [pos, 'illegal', this.text(pos, this.ppos)];
        return [pos, 'quoted', this.text(pos, this.ppos)];
      }
      if (ch === ',' || ch === '.') {
        this.value = false;
        return [pos, 'separator', ch];
      }
      if (ch === '=' || ch === '!' || ch === '~') {
        while (['=', '!', '~'].includes(this.peek() as string)) this.next();
        this.value = true;
        return [pos, 'operator', this.text(pos, this.ppos)];
      }
      if (isSpace(ch)) {
        ch = this.next();
        pos = this.pos;
        continue;
      }
      if (this.value) {
        while (typeof this.peek() === 'string' && isValueRune(this.peek() as string)) this.next();
        this.value = false;
        return [pos, 'value', this.text(pos, this.ppos)];
      }
      if (isFieldRune(ch)) {
        while (typeof this.peek() === 'string' && isFieldRune(this.peek() as string)) this.next();
        return [pos, 'field', this.text(pos, this.ppos)];
      }
      return [pos, 'char', ch];
    }
  }
  private scanQuoted(quote: string): boolean {
    let illegal = false;
    let ch = this.next();
    while (ch !== quote) {
      if (ch === '\n' || ch === EOF || ch === ILLEGAL) {
        this.error('quoted literal not terminated');
        return false;
      }
      if (ch === '\\') {
        const [c, legal] = this.scanEscape(quote);
        ch = c as string | typeof EOF | typeof ILLEGAL;
        if (!legal) illegal = true;
      } else ch = this.next();
    }
    return !illegal;
  }
  private scanEscape(quote: string): [string | number, boolean] {
    const ch = this.next();
    if (typeof ch === 'string' && ('abfnrtv\\'.includes(ch) || ch === quote)) return [this.next(), true];
    const digits = (first: string | number, base: number, n: number): [string | number, boolean] => {
      let c = first;
      while (n > 0 && typeof c === 'string' && parseInt(c, base) >= 0 && /^[0-9a-fA-F]$/.test(c) && parseInt(c, 16) < base) {
        c = this.next();
        n--;
      }
      if (n > 0) {
        this.error('illegal numeric escape sequence');
        return [c, false];
      }
      return [c, true];
    };
    if (typeof ch === 'string' && /^[0-7]$/.test(ch)) return digits(ch, 8, 3);
    if (ch === 'x') return digits(this.next(), 16, 2);
    if (ch === 'u') return digits(this.next(), 16, 4);
    if (ch === 'U') return digits(this.next(), 16, 8);
    this.error('illegal escape sequence');
    return [ch, false];
  }
}

const SIMPLE_ESCAPES: Record<string, string> = { a: '\x07', b: '\b', f: '\f', n: '\n', r: '\r', t: '\t', v: '\v', '\\': '\\' };

/** strconv.ErrSyntax of Go's unquote: internal, the parser turns it into an InvalidFilterError. */
class UnquoteSyntaxError extends Error {
  constructor() {
    super('invalid syntax');
  }
}

/** Go-style unquoting with the filter quotes (", / and |). */
function unquote(s: string): string {
  const quote = s[0]!;
  if (s.length < 2 || s[s.length - 1] !== quote) throw new UnquoteSyntaxError();
  const body = s.slice(1, -1);
  let out = '';
  for (let i = 0; i < body.length; ) {
    const c = body[i]!;
    if (c === quote) throw new UnquoteSyntaxError();
    if (c !== '\\') {
      out += c;
      i++;
      continue;
    }
    const e = body[i + 1];
    if (e === undefined) throw new UnquoteSyntaxError();
    if (e in SIMPLE_ESCAPES) {
      out += SIMPLE_ESCAPES[e];
      i += 2;
    } else if (e === quote) {
      out += quote;
      i += 2;
    } else if (e === 'x' || e === 'u' || e === 'U') {
      const n = e === 'x' ? 2 : e === 'u' ? 4 : 8;
      const hex = body.slice(i + 2, i + 2 + n);
      if (!new RegExp(`^[0-9a-fA-F]{${n}}$`).test(hex)) throw new UnquoteSyntaxError();
      out += String.fromCodePoint(parseInt(hex, 16));
      i += 2 + n;
    } else if (/[0-7]/.test(e)) {
      const oct = body.slice(i + 1, i + 4);
      if (!/^[0-7]{3}$/.test(oct) || parseInt(oct, 8) > 255) throw new UnquoteSyntaxError();
      out += String.fromCharCode(parseInt(oct, 8));
      i += 4;
    } else throw new UnquoteSyntaxError();
  }
  return out;
}

class Parser {
  private readonly s: Scanner;
  constructor(private readonly input: string) {
    this.s = new Scanner(input);
  }
  private err(pos: number, msg: string): InvalidFilterError {
    const off = this.s.offset(pos);
    const enc = Buffer.from(this.input);
    let where: string;
    if (off < enc.length) {
      where = `[${enc.subarray(0, off).toString()} >|${enc.subarray(off, off + 1).toString('latin1')}|< ${enc.subarray(off + 1).toString()}]`;
    } else where = `[${this.input}]`;
    return new InvalidFilterError(`filters: parse error: ${where}: ${msg}: invalid argument`, this.input);
  }
  parse(): Selector[] {
    const ss = [this.selector()];
    for (;;) {
      const t = this.s.peek();
      if (t === ',') {
        this.s.scan();
        ss.push(this.selector());
      } else if (t === EOF) return ss;
      else throw this.err(this.s.ppos, `unexpected input: ${typeof t === 'string' ? t : ''}`);
    }
  }
  private selector(): Selector {
    const fieldpath = this.fieldpath();
    const t = this.s.peek();
    if (t === ',' || t === '.' || t === EOF) return { fieldpath, op: 'present', value: '' };
    const op = this.operator();
    const value = this.value(op === '~=');
    return { fieldpath, op, value };
  }
  private fieldpath(): string[] {
    const fs = [this.field()];
    while (this.s.peek() === '.') {
      this.s.scan();
      fs.push(this.field());
    }
    return fs;
  }
  private field(): string {
    const [pos, tok, text] = this.s.scan();
    if (tok === 'field') return text;
    if (tok === 'quoted') return this.unquote(pos, text, false);
    if (tok === 'illegal') throw this.err(pos, this.s.err);
    throw this.err(pos, 'expected field or quoted');
  }
  private operator(): Op {
    const [pos, tok, text] = this.s.scan();
    if (tok === 'operator') {
      if (text === '==' || text === '!=' || text === '~=') return text;
      throw this.err(pos, `unsupported operator ${JSON.stringify(text)}`);
    }
    if (tok === 'illegal') throw this.err(pos, this.s.err);
    throw this.err(pos, 'expected an operator ("=="|"!="|"~=")');
  }
  private value(allowAlt: boolean): string {
    const [pos, tok, text] = this.s.scan();
    if (tok === 'value' || tok === 'field') return text;
    if (tok === 'quoted') return this.unquote(pos, text, allowAlt);
    if (tok === 'illegal') throw this.err(pos, this.s.err);
    throw this.err(pos, 'expected value or quoted');
  }
  private unquote(pos: number, text: string, allowAlt: boolean): string {
    if (!allowAlt && text[0] !== '"') throw this.err(pos, 'invalid quote encountered');
    try {
      return unquote(text);
    } catch (e) {
      if (!(e instanceof UnquoteSyntaxError)) throw e;
      throw this.err(pos, `unquoting failed: ${e.message}`);
    }
  }
}

function matchSelector(m: Selector, adaptor: Adaptor): boolean {
  const [value, present] = adaptor(m.fieldpath);
  switch (m.op) {
    case 'present':
      return present;
    case '==':
      return present && value === m.value;
    case '!=':
      return value !== m.value;
    case '~=':
      if (m.re === undefined) {
        try {
          m.re = new RegExp(m.value, 'u');
        } catch {
          m.re = null; // containerd logs and matches nothing
        }
      }
      return m.re !== null && m.re.test(value);
  }
}

/** Parses one filter expression ("" matches everything). */
export function parseFilter(expr: string): Filter {
  if (expr === '') return ALWAYS;
  const sels = new Parser(expr).parse();
  return { match: (a) => sels.every((s) => matchSelector(s, a)) };
}

/** filters.ParseAll: any of the expressions; none given matches everything. */
export function parseFilters(...exprs: string[]): Filter {
  if (exprs.length === 0) return ALWAYS;
  const fs = exprs.map(parseFilter);
  return { match: (a) => fs.some((f) => f.match(a)) };
}

/** The adaptors' map lookup: labels.<key...> joined with '.'. */
export function checkMap(fieldpath: string[], m: Record<string, string> | undefined): [string, boolean] {
  if (!m || Object.keys(m).length === 0) return ['', false];
  const k = fieldpath.join('.');
  return Object.prototype.hasOwnProperty.call(m, k) ? [m[k]!, true] : ['', false];
}
