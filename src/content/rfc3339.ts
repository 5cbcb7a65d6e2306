// Go's time.Parse(time.RFC3339, s) as Go 1.19 runs it (the Go that builds Debian's containerd
// 1.6), which is how containerd reads the text timestamps of an ingest (startedat, updatedat:
// Time.UnmarshalText) and gc.expire labels: what it accepts and, for what it does not, its
// ParseError text, which ctr prints. It works on bytes, as Go's strings are, and takes no shortcut
// a regular expression would (an hour of one digit passes, a trailing newline is "extra text").
//
//   layout "2006-01-02T15:04:05Z07:00", one chunk at a time:
//     2006  four bytes, the first a digit, all digits   01 02  two digits (month 1-12)
//     15    one or two digits (< 24)                    04 05  two digits (< 60)
//     after 05: "." or "," and digits, any number of them (nine kept), even where 05 failed
//     Z07:00  "Z", or a sign, two bytes, ":", two bytes (each part through atoi, signs allowed)
//   a literal ("-", "T", ":") that does not match: cannot parse "<rest>" as "<literal>"
//   a chunk that does not parse: cannot parse "<rest>" as "<chunk>" (rest as Go leaves it)
//   a number out of range: ": month out of range" (hour, minute, second; the day at the end)

import { ContentError } from './errors.js';

const LAYOUT = '2006-01-02T15:04:05Z07:00';

/** A time as Go's Parse gives it: seconds since the Unix epoch, nanoseconds, the zone's offset (undefined for "Z"). */
export interface GoTimestamp {
  unix: number;
  nanos: number;
  /** Seconds east of UTC; undefined when the text says Z (or +00:00). */
  offset?: number;
}

/** time.ParseError: its message is Go's Error() text. */
export class GoTimeParseError extends ContentError {
  static override readonly code = 'ERR_TIME_PARSE';
}

const HEX = '0123456789abcdef';

/** time's quote(): printable ASCII as is (\" and \\ escaped), every byte of anything else as \xNN. */
function quote(b: Uint8Array): string {
  let out = '"';
  for (let i = 0; i < b.length; ) {
    const c = b[i]!;
    if (c >= 0x20 && c < 0x80) {
      out += c === 0x22 || c === 0x5c ? '\\' + String.fromCharCode(c) : String.fromCharCode(c);
      i++;
      continue;
    }
    const w = c < 0x80 ? 1 : runeWidth(b, i);
    for (let j = 0; j < w; j++) out += '\\x' + HEX[b[i + j]! >> 4] + HEX[b[i + j]! & 15];
    i += w;
  }
  return out + '"';
}

/** The byte length of the UTF-8 sequence at b[i] when it is well formed, else 1 (Go's range over a string). */
function runeWidth(b: Uint8Array, i: number): number {
  const c = b[i]!;
  const n = c >= 0xf0 && c <= 0xf4 ? 4 : c >= 0xe0 ? 3 : c >= 0xc2 && c <= 0xdf ? 2 : 1;
  if (n === 1 || c > 0xf4) return 1;
  for (let j = 1; j < n; j++) {
    const x = b[i + j];
    if (x === undefined || (x & 0xc0) !== 0x80) return 1;
  }
  const c1 = b[i + 1]!;
  if ((c === 0xe0 && c1 < 0xa0) || (c === 0xed && c1 > 0x9f) || (c === 0xf0 && c1 < 0x90) || (c === 0xf4 && c1 > 0x8f)) return 1;
  return n;
}

const digit = (b: Uint8Array, i: number): boolean => i < b.length && b[i]! >= 0x30 && b[i]! <= 0x39;

/** time's atoi over b[from, to): an optional sign, then digits only; undefined where Go errs. */
function atoi(b: Uint8Array, from: number, to: number): number | undefined {
  let i = from;
  let neg = false;
  if (i < to && (b[i] === 0x2d || b[i] === 0x2b)) {
    neg = b[i] === 0x2d;
    i++;
  }
  let x = 0;
  for (; i < to; i++) {
    if (!digit(b, i)) return undefined;
    x = x * 10 + (b[i]! - 0x30);
  }
  return neg ? -x : x;
}

function isLeap(y: number): boolean {
  return y % 4 === 0 && (y % 100 !== 0 || y % 400 === 0);
}

const DAYS_IN = [31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31];

/** Days from 1970-01-01 to the civil date (proleptic Gregorian). */
function daysFromCivil(y: number, m: number, d: number): number {
  const yy = m <= 2 ? y - 1 : y;
  const era = Math.floor(yy / 400);
  const yoe = yy - era * 400;
  const doy = Math.floor((153 * (m + (m > 2 ? -3 : 9)) + 2) / 5) + d - 1;
  const doe = yoe * 365 + Math.floor(yoe / 4) - Math.floor(yoe / 100) + doy;
  return era * 146097 + doe - 719468;
}

/**
 * time.Parse(time.RFC3339, text); throws GoTimeParseError with Go's text. `quoted`: the layout
 * Time.UnmarshalJSON parses a JSON value's raw text with, RFC3339 between double quotes.
 */
export function parseGoRFC3339(text: string | Uint8Array, quoted = false): GoTimestamp {
  const b = typeof text === 'string' ? Buffer.from(text, 'utf8') : text;
  const whole = quote(b);
  const layout = quoted ? '\\"' + LAYOUT + '\\"' : LAYOUT;
  const cannot = (at: number, elem: string): GoTimeParseError => new GoTimeParseError(`parsing time ${whole} as "${layout}": cannot parse ${quote(b.subarray(at))} as "${elem === '"' ? '\\"' : elem}"`);
  const range = (what: string): GoTimeParseError => new GoTimeParseError(`parsing time ${whole}: ${what} out of range`);
  let i = 0;
  const literal = (c: string): void => {
    if (i >= b.length || b[i] !== c.charCodeAt(0)) throw cannot(i, c);
    i++;
  };
  /** getnum: two digits (fixed) or one or two. */
  const getnum = (fixed: boolean, elem: string): number => {
    if (!digit(b, i)) throw cannot(i, elem);
    if (!digit(b, i + 1)) {
      if (fixed) throw cannot(i, elem);
      return b[i++]! - 0x30;
    }
    const n = (b[i]! - 0x30) * 10 + (b[i + 1]! - 0x30);
    i += 2;
    return n;
  };

  if (quoted) literal('"');
  // 2006
  if (b.length - i < 4 || !digit(b, i)) throw cannot(i, '2006');
  const year = atoi(b, i, i + 4);
  i += 4;
  if (year === undefined) throw cannot(i, '2006');
  literal('-');
  const month = getnum(true, '01');
  if (month < 1 || month > 12) throw range('month');
  literal('-');
  const day = getnum(true, '02');
  literal('T');
  const hour = getnum(false, '15');
  if (hour >= 24) throw range('hour');
  literal(':');
  const min = getnum(true, '04');
  if (min >= 60) throw range('minute');
  literal(':');
  // Seconds, then a fraction. Go parses the fraction even when the seconds did not parse, and the
  // fraction's success replaces the seconds' error ("04:.5" reads as 0.5 s): kept, as Go 1.19 does it.
  let sec = 0;
  let secondsError: GoTimeParseError | undefined;
  try {
    sec = getnum(true, '05');
  } catch (e) {
    secondsError = e as GoTimeParseError;
  }
  if (sec >= 60) throw range('second');
  let nanos = 0;
  if (b.length - i >= 2 && (b[i] === 0x2e || b[i] === 0x2c) && digit(b, i + 1)) {
    let n = 2;
    while (digit(b, i + n)) n++;
    const kept = Math.min(n, 10);
    nanos = atoi(b, i + 1, i + kept)! * 10 ** (10 - kept);
    i += n;
    secondsError = undefined;
  }
  if (secondsError) throw secondsError;
  // Z07:00
  let offset: number | undefined;
  if (i < b.length && b[i] === 0x5a) i++;
  else {
    if (b.length - i < 6 || b[i + 3] !== 0x3a) throw cannot(i, 'Z07:00');
    const sign = b[i]!;
    const hr = atoi(b, i + 1, i + 3);
    const mm = hr === undefined ? undefined : atoi(b, i + 4, i + 6);
    i += 6;
    // Go slices the zone off before it checks the parts, so the error names what follows it.
    if (hr === undefined || mm === undefined || (sign !== 0x2b && sign !== 0x2d)) throw cannot(i, 'Z07:00');
    offset = (sign === 0x2d ? -1 : 1) * (hr * 60 + mm) * 60;
  }
  if (quoted) literal('"');
  if (i < b.length) throw new GoTimeParseError(`parsing time ${whole}: extra text: ${quote(b.subarray(i))}`);
  const days = month === 2 && isLeap(year) ? 29 : DAYS_IN[month - 1]!;
  if (day < 1 || day > days) throw new GoTimeParseError(`parsing time ${whole}: day out of range`);
  const unix = daysFromCivil(year, month, day) * 86400 + hour * 3600 + min * 60 + sec - (offset ?? 0);
  const t: GoTimestamp = { unix, nanos };
  if (offset !== undefined && offset !== 0) t.offset = offset;
  return t;
}
