// Go's encoding/json syntax check (the scanner json.Unmarshal runs before it decodes anything), for
// the text ctr prints when a blob's JSON is damaged: "unexpected end of JSON input" when the input
// stops inside a value, else "invalid character 'x' <where>" at the first byte the scanner refuses.
//
//   value:   { [ " - 0-9 t f n       else "looking for beginning of value"
//   object:  { then " or }           else "looking for beginning of object key string"
//            key then :              else "after object key"
//            value then , or }       else "after object key:value pair"
//   array:   value then , or ]       else "after array element"
//   string:  a byte < 0x20           "in string literal"; \ then one of "\/bfnrtu, else
//            "in string escape code"; \u then 4 hex digits, else "in \u hexadecimal character escape"
//   number:  - then a digit ("in numeric literal"), . then a digit ("after decimal point in numeric
//            literal"), e then [+-] digit ("in exponent of numeric literal"); after a number the
//            next byte is judged by what encloses it (01 is "after top-level value")
//   true/false/null, one byte at a time: "in literal true (expecting 'r')"
//   after the top-level value only spaces     else "after top-level value"

const SPACE = (c: number): boolean => c === 0x20 || c === 0x09 || c === 0x0a || c === 0x0d;
const DIGIT = (c: number): boolean => c >= 0x30 && c <= 0x39;
const HEXDIGIT = (c: number): boolean => DIGIT(c) || (c >= 0x61 && c <= 0x66) || (c >= 0x41 && c <= 0x46);

/** strconv.IsPrint for a Latin-1 code point (what string(rune(byte)) gives). */
const printable = (c: number): boolean => (c >= 0x20 && c < 0x7f) || (c >= 0xa1 && c !== 0xad);

/** The scanner's quoteChar: the byte as a Go rune literal. */
function quoteChar(c: number): string {
  if (c === 0x27) return "'\\''";
  if (c === 0x22) return "'\"'";
  if (printable(c)) return `'${c === 0x5c ? '\\\\' : String.fromCharCode(c)}'`;
  const named: Record<number, string> = { 7: '\\a', 8: '\\b', 12: '\\f', 10: '\\n', 13: '\\r', 9: '\\t', 11: '\\v' };
  if (named[c] !== undefined) return `'${named[c]}'`;
  if (c < 0x80) return `'\\x${c.toString(16).padStart(2, '0')}'`;
  return `'\\u${c.toString(16).padStart(4, '0')}'`;
}

class SyntaxStop {
  constructor(readonly message: string) {}
}

/** Go's message for the first syntax error of b, or undefined when b is valid JSON. */
export function goJSONSyntaxError(b: Uint8Array): string | undefined {
  let i = 0;
  const eof = (): never => {
    throw new SyntaxStop('unexpected end of JSON input');
  };
  // At the end of the input Go's scanner is fed one space first: where a space is an error (inside
  // a number, a literal or an escape), that error is the one reported.
  const eofIn = (where: string): never => {
    throw new SyntaxStop(`invalid character ' ' ${where}`);
  };
  const bad = (where: string): never => {
    throw new SyntaxStop(`invalid character ${quoteChar(b[i]!)} ${where}`);
  };
  const skipSpace = (): void => {
    while (i < b.length && SPACE(b[i]!)) i++;
  };
  const literal = (word: string): void => {
    // The first byte is matched by the caller.
    for (let k = 1; k < word.length; k++) {
      i++;
      if (i >= b.length) eofIn(`in literal ${word} (expecting '${word[k]}')`);
      if (b[i] !== word.charCodeAt(k)) bad(`in literal ${word} (expecting '${word[k]}')`);
    }
    i++;
  };
  const string = (): void => {
    i++; // the opening quote
    for (;;) {
      if (i >= b.length) eof();
      const c = b[i]!;
      if (c === 0x22) {
        i++;
        return;
      }
      if (c === 0x5c) {
        i++;
        if (i >= b.length) eofIn('in string escape code');
        const e = b[i]!;
        if (e === 0x75) {
          for (let k = 0; k < 4; k++) {
            i++;
            if (i >= b.length) eofIn('in \\u hexadecimal character escape');
            if (!HEXDIGIT(b[i]!)) bad('in \\u hexadecimal character escape');
          }
          i++;
          continue;
        }
        if (!'"\\/bfnrt'.includes(String.fromCharCode(e))) bad('in string escape code');
        i++;
        continue;
      }
      if (c < 0x20) bad('in string literal');
      i++;
    }
  };
  const number = (): void => {
    if (b[i] === 0x2d) {
      i++;
      if (i >= b.length) eofIn('in numeric literal');
      if (!DIGIT(b[i]!)) bad('in numeric literal');
    }
    if (b[i] === 0x30) i++;
    else while (i < b.length && DIGIT(b[i]!)) i++;
    if (i < b.length && b[i] === 0x2e) {
      i++;
      if (i >= b.length) eofIn('after decimal point in numeric literal');
      if (!DIGIT(b[i]!)) bad('after decimal point in numeric literal');
      while (i < b.length && DIGIT(b[i]!)) i++;
    }
    if (i < b.length && (b[i] === 0x65 || b[i] === 0x45)) {
      i++;
      if (i >= b.length) eofIn('in exponent of numeric literal');
      if (b[i] === 0x2b || b[i] === 0x2d) {
        i++;
        if (i >= b.length) eofIn('in exponent of numeric literal');
      }
      if (!DIGIT(b[i]!)) bad('in exponent of numeric literal');
      while (i < b.length && DIGIT(b[i]!)) i++;
    }
  };
  let depth = 0;
  const value = (): void => {
    skipSpace();
    if (i >= b.length) eof();
    const c = b[i]!;
    if (c === 0x7b) {
      if (++depth > 10000) bad('exceeded max depth');
      i++;
      skipSpace();
      if (i >= b.length) eof();
      if (b[i] === 0x7d) {
        i++;
        depth--;
        return;
      }
      for (;;) {
        if (b[i] !== 0x22) bad('looking for beginning of object key string');
        string();
        skipSpace();
        if (i >= b.length) eof();
        if (b[i] !== 0x3a) bad('after object key');
        i++;
        value();
        skipSpace();
        if (i >= b.length) eof();
        if (b[i] === 0x2c) {
          i++;
          skipSpace();
          if (i >= b.length) eof();
          continue;
        }
        if (b[i] === 0x7d) {
          i++;
          depth--;
          return;
        }
        bad('after object key:value pair');
      }
    }
    if (c === 0x5b) {
      if (++depth > 10000) bad('exceeded max depth');
      i++;
      skipSpace();
      if (i >= b.length) eof();
      if (b[i] === 0x5d) {
        i++;
        depth--;
        return;
      }
      for (;;) {
        value();
        skipSpace();
        if (i >= b.length) eof();
        if (b[i] === 0x2c) {
          i++;
          continue;
        }
        if (b[i] === 0x5d) {
          i++;
          depth--;
          return;
        }
        bad('after array element');
      }
    }
    if (c === 0x22) return string();
    if (c === 0x2d || DIGIT(c)) return number();
    if (c === 0x74) return literal('true');
    if (c === 0x66) return literal('false');
    if (c === 0x6e) return literal('null');
    bad('looking for beginning of value');
  };
  try {
    value();
    skipSpace();
    if (i < b.length) bad('after top-level value');
  } catch (e) {
    if (e instanceof SyntaxStop) return e.message;
    throw e;
  }
  return undefined;
}

/** A JSON number with its text, as Go's decoder sees it (an integer field takes "1" but not "1.0"). */
export class GoJSONNumber {
  constructor(readonly text: string) {}
  get value(): number {
    return Number(this.text);
  }
}

/**
 * JSON as Go's decoder walks it: objects keep every member in order (duplicates too), with the
 * member's raw text (what a json.Unmarshaler such as time.Time is given); numbers keep their text.
 */
export type GoJSON = null | boolean | string | GoJSONNumber | GoJSON[] | { members: [string, GoJSON, Uint8Array][] };

/** The JSON kind as Go's UnmarshalTypeError names it ("number", "string", "bool", "array", "object"). */
export function goJSONKind(v: GoJSON): string {
  if (v instanceof GoJSONNumber) return 'number';
  if (Array.isArray(v)) return 'array';
  if (v === null) return 'null';
  if (typeof v === 'object') return 'object';
  return typeof v === 'boolean' ? 'bool' : 'string';
}

/** Parses b as Go would; throws SyntaxError with Go's text where its scanner refuses b. */
export function parseGoJSON(b: Uint8Array): GoJSON {
  const err = goJSONSyntaxError(b);
  if (err !== undefined) throw new GoJSONSyntaxError(err);
  let i = 0;
  const space = (): void => {
    while (i < b.length && SPACE(b[i]!)) i++;
  };
  const str = (): string => {
    const start = i;
    i++;
    while (b[i] !== 0x22) i += b[i] === 0x5c ? 2 : 1;
    i++;
    return JSON.parse(Buffer.from(b.subarray(start, i)).toString('utf8')) as string;
  };
  const val = (): GoJSON => {
    space();
    const c = b[i]!;
    if (c === 0x7b) {
      i++;
      const members: [string, GoJSON, Uint8Array][] = [];
      space();
      if (b[i] === 0x7d) {
        i++;
        return { members };
      }
      for (;;) {
        space();
        const k = str();
        space();
        i++; // :
        space();
        const start = i;
        const v = val();
        members.push([k, v, b.subarray(start, i)]);
        space();
        if (b[i++] === 0x7d) return { members };
      }
    }
    if (c === 0x5b) {
      i++;
      const out: GoJSON[] = [];
      space();
      if (b[i] === 0x5d) {
        i++;
        return out;
      }
      for (;;) {
        out.push(val());
        space();
        if (b[i++] === 0x5d) return out;
      }
    }
    if (c === 0x22) return str();
    if (c === 0x74) return (i += 4), true;
    if (c === 0x66) return (i += 5), false;
    if (c === 0x6e) return (i += 4), null;
    const start = i;
    while (i < b.length && !SPACE(b[i]!) && b[i] !== 0x2c && b[i] !== 0x5d && b[i] !== 0x7d) i++;
    return new GoJSONNumber(Buffer.from(b.subarray(start, i)).toString('latin1'));
  };
  return val();
}

/** Go's json.SyntaxError: the message is Go's. */
export class GoJSONSyntaxError extends Error {
  readonly code = 'ERR_JSON_SYNTAX';
}
