// docker/go-units (v0.4.0, as ctr 1.6 links it) and the Go float formatting it relies on.
//   HumanSize(size)  decimal, "%.4g%s":  183 -> "183B", 40960 -> "40.96kB"
//   ctr's progress.Bytes  binary, "%02.1f %s": 41574 -> "40.6 KiB"
//   HumanDuration(d) "Less than a second", "2 minutes", "About an hour", "3 days", ...
// Go rounds the exact binary value half-to-even; JS toFixed/toPrecision round ties up, so the digits are
// computed here from the double's exact decimal expansion.

const DECIMAL_ABBRS = ['B', 'kB', 'MB', 'GB', 'TB', 'PB', 'EB', 'ZB', 'YB'];
const BINARY_ABBRS = ['B', 'KiB', 'MiB', 'GiB', 'TiB', 'PiB', 'EiB', 'ZiB', 'YiB'];

/** The exact decimal digits of a finite non-negative double: value = 0.digits * 10^dp. */
function exactDecimal(x: number): { digits: string; dp: number } {
  if (x === 0) return { digits: '', dp: 0 };
  const dv = new DataView(new ArrayBuffer(8));
  dv.setFloat64(0, x);
  const bits = dv.getBigUint64(0);
  const bexp = Number((bits >> 52n) & 0x7ffn);
  let mant = bits & ((1n << 52n) - 1n);
  let e: number;
  if (bexp === 0) e = -1074;
  else {
    mant |= 1n << 52n;
    e = bexp - 1075;
  }
  let intDigits: string;
  let frac = 0;
  if (e >= 0) intDigits = (mant << BigInt(e)).toString();
  else {
    intDigits = (mant * 5n ** BigInt(-e)).toString();
    frac = -e;
  }
  // value = intDigits * 10^-frac
  let digits = intDigits.replace(/0+$/, '');
  const trailing = intDigits.length - digits.length;
  let dp = intDigits.length - frac;
  digits = digits.replace(/^0+/, (m) => {
    dp -= m.length;
    return '';
  });
  void trailing;
  return { digits, dp };
}

/** Rounds decimal digits to nd digits, half to even (strconv's decimal.Round). */
function roundDigits(d: { digits: string; dp: number }, nd: number): { digits: string; dp: number } {
  if (nd < 0) return { digits: '', dp: d.dp };
  if (nd >= d.digits.length) return d;
  const next = d.digits.charCodeAt(nd) - 48;
  let up: boolean;
  if (next > 5) up = true;
  else if (next < 5) up = false;
  else if (nd + 1 < d.digits.length) up = true; // more digits after the 5
  else up = nd > 0 && (d.digits.charCodeAt(nd - 1) - 48) % 2 === 1; // exactly half: to even
  let digits = d.digits.slice(0, nd);
  let dp = d.dp;
  if (up) {
    const arr = digits.split('').map(Number);
    let i = arr.length - 1;
    while (i >= 0 && arr[i] === 9) {
      arr[i] = 0;
      i--;
    }
    if (i < 0) {
      arr.unshift(1);
      arr.pop();
      dp++;
      if (arr.length === 0) arr.push(1);
    } else arr[i]!++;
    digits = arr.join('');
  }
  return { digits: digits.replace(/0+$/, ''), dp };
}

function fixedFromDigits(d: { digits: string; dp: number }, prec: number): string {
  let int = '';
  if (d.dp <= 0) int = '0';
  else for (let i = 0; i < d.dp; i++) int += d.digits[i] ?? '0';
  let frac = '';
  for (let i = 0; i < prec; i++) {
    const k = d.dp + i;
    frac += k >= 0 ? (d.digits[k] ?? '0') : '0';
  }
  return prec > 0 ? `${int}.${frac}` : int;
}

/** Go's fmt "%.{prec}f" for a non-negative finite number. */
export function formatFixed(x: number, prec: number): string {
  const d = roundDigits(exactDecimal(x), exactDecimal(x).dp + prec);
  return fixedFromDigits(d, prec);
}

/** Go's fmt "%.{prec}g" for a non-negative finite number. */
export function formatG(x: number, prec: number): string {
  if (x === 0) return '0';
  if (prec === 0) prec = 1;
  const d = roundDigits(exactDecimal(x), prec);
  let eprec = prec;
  if (eprec > d.digits.length && d.digits.length >= d.dp) eprec = d.digits.length;
  const exp = d.dp - 1;
  if (exp < -4 || exp >= eprec) {
    const mant = d.digits.length > 1 ? `${d.digits[0]}.${d.digits.slice(1)}` : d.digits;
    const ae = Math.abs(exp);
    return `${mant}e${exp < 0 ? '-' : '+'}${ae < 10 ? '0' : ''}${ae}`;
  }
  return fixedFromDigits(d, Math.max(d.digits.length - d.dp, 0));
}

function sizeAndUnit(size: number, base: number, map: string[]): [number, string] {
  let i = 0;
  while (size >= base && i < map.length - 1) {
    size /= base;
    i++;
  }
  return [size, map[i]!];
}

/** go-units HumanSize: decimal units, 4 significant digits ("40.96kB"). */
export function humanSize(size: number): string {
  const [s, u] = sizeAndUnit(size, 1000, DECIMAL_ABBRS);
  return formatG(s, 4) + u;
}

/** go-units BytesSize: binary units ("40.6KiB" style, "%.4g"). */
export function bytesSize(size: number): string {
  const [s, u] = sizeAndUnit(size, 1024, BINARY_ABBRS);
  return formatG(s, 4) + u;
}

/** ctr's progress.Bytes: CustomSize("%02.1f %s", size, 1024, binary units) -> "40.6 KiB". */
export function progressBytes(size: number): string {
  const neg = size < 0;
  const [s, u] = sizeAndUnit(Math.abs(size), 1024, BINARY_ABBRS);
  let f = formatFixed(s, 1);
  if (f.length < 2) f = f.padStart(2, '0');
  return `${neg ? '-' : ''}${f} ${u}`;
}

/** go-units HumanDuration for a duration in milliseconds. */
export function humanDuration(ms: number): string {
  const seconds = Math.trunc(ms / 1000);
  if (seconds < 1) return 'Less than a second';
  if (seconds === 1) return '1 second';
  if (seconds < 60) return `${seconds} seconds`;
  const minutes = Math.trunc(ms / 60000);
  if (minutes === 1) return 'About a minute';
  if (minutes < 60) return `${minutes} minutes`;
  const hours = Math.round(ms / 3600000);
  if (hours === 1) return 'About an hour';
  if (hours < 48) return `${hours} hours`;
  if (hours < 24 * 7 * 2) return `${Math.trunc(hours / 24)} days`;
  if (hours < 24 * 30 * 2) return `${Math.trunc(hours / 24 / 7)} weeks`;
  if (hours < 24 * 365 * 2) return `${Math.trunc(hours / 24 / 30)} months`;
  return `${Math.trunc(ms / 3600000 / 24 / 365)} years`;
}
