// containerd's filter syntax (github.com/containerd/containerd/filters), the part the content
// store uses. A filter is selectors joined by ',' (all must match); several filters passed
// together match when any one does.
//
//   filter    := selector (',' selector)*
//   selector  := fieldpath [op value]        op: '==' | '!=' | '~=' (regular expression)
//   fieldpath := field ('.' field)*          field: [A-Za-z0-9_]+ or a quoted string
//   value     := quoted string | run of characters other than ',' and quotes
//
// A bare fieldpath matches when the field is present. Quoted strings use "..." or '...' with
// backslash escapes, or /.../ for a value taken literally (handy for regular expressions).

import { InvalidFilterError } from './errors.js';

/** Looks a field path up in an object; returns undefined when the field is absent. */
export type Adaptor = (fieldpath: string[]) => string | undefined;

type Op = '==' | '!=' | '~=' | 'present';
interface Selector {
  fieldpath: string[];
  op: Op;
  value: string;
  re?: RegExp;
}
export interface Filter {
  match(adaptor: Adaptor): boolean;
}

const MAX_FILTER_LENGTH = 4096;

class Scanner {
  i = 0;
  constructor(readonly src: string) {}
  eof(): boolean {
    return this.i >= this.src.length;
  }
  peek(n = 0): string {
    return this.src[this.i + n] ?? '';
  }
  fail(detail: string): never {
    throw new InvalidFilterError(this.src, `${detail} at offset ${this.i}`);
  }
  skipSpace(): void {
    while (/\s/.test(this.peek())) this.i++;
  }
  quoted(): string {
    const q = this.peek();
    this.i++;
    let out = '';
    while (!this.eof()) {
      const c = this.peek();
      this.i++;
      if (c === q) return out;
      if (c === '\\' && q !== '/') {
        const e = this.peek();
        this.i++;
        out += e === 'n' ? '\n' : e === 't' ? '\t' : e === 'r' ? '\r' : e;
        continue;
      }
      if (c === '\\' && q === '/' && this.peek() === '/') {
        this.i++;
        out += '/';
        continue;
      }
      out += c;
    }
    return this.fail('unterminated quoted string');
  }
  field(): string {
    const c = this.peek();
    if (c === '"' || c === "'") return this.quoted();
    const start = this.i;
    while (/[A-Za-z0-9_]/.test(this.peek())) this.i++;
    if (this.i === start) this.fail('expected a field name');
    return this.src.slice(start, this.i);
  }
  value(): string {
    const c = this.peek();
    if (c === '"' || c === "'" || c === '/') return this.quoted();
    const start = this.i;
    while (!this.eof() && this.peek() !== ',' && this.peek() !== '"' && this.peek() !== "'") this.i++;
    return this.src.slice(start, this.i).trim();
  }
}

function parseSelector(s: Scanner): Selector {
  s.skipSpace();
  const fieldpath = [s.field()];
  while (s.peek() === '.') {
    s.i++;
    fieldpath.push(s.field());
  }
  s.skipSpace();
  const two = s.peek() + s.peek(1);
  if (two === '==' || two === '!=' || two === '~=') {
    s.i += 2;
    s.skipSpace();
    const value = s.value();
    s.skipSpace();
    const sel: Selector = { fieldpath, op: two, value };
    if (two === '~=') {
      try {
        sel.re = new RegExp(value);
      } catch (e) {
        s.fail(`bad regular expression ${JSON.stringify(value)}: ${(e as Error).message}`);
      }
    }
    return sel;
  }
  return { fieldpath, op: 'present', value: '' };
}

/** Parses one filter string (selectors joined by ','). Throws InvalidFilterError. */
export function parseFilter(src: string): Filter {
  if (typeof src !== 'string') throw new InvalidFilterError(String(src), 'not a string');
  if (src.length > MAX_FILTER_LENGTH) throw new InvalidFilterError(src.slice(0, 200), `longer than ${MAX_FILTER_LENGTH} characters`);
  const s = new Scanner(src);
  const selectors: Selector[] = [];
  s.skipSpace();
  if (s.eof()) s.fail('empty filter');
  for (;;) {
    selectors.push(parseSelector(s));
    s.skipSpace();
    if (s.eof()) break;
    if (s.peek() !== ',') s.fail(`unexpected ${JSON.stringify(s.peek())}`);
    s.i++;
  }
  return {
    match(adaptor) {
      return selectors.every((sel) => {
        const v = adaptor(sel.fieldpath);
        switch (sel.op) {
          case 'present':
            return v !== undefined;
          case '==':
            return v === sel.value;
          case '!=':
            return v !== sel.value;
          case '~=':
            return v !== undefined && sel.re!.test(v);
        }
      });
    },
  };
}

/** Parses several filters; the result matches when any matches (or always, given none). */
export function parseFilters(filters: readonly string[]): Filter {
  const parsed = filters.map(parseFilter);
  return { match: (a) => parsed.length === 0 || parsed.some((f) => f.match(a)) };
}
