// The log lines ctr writes to stderr: logrus's text formatter as ctr 1.6 sets it up (full RFC 3339
// timestamps), for a stderr that is not a terminal:
//
//   time="2026-12-01T22:30:00+01:00" level=error msg="failed calculating size for image x" error="..."
//
// `log.G(ctx).WithError(err).Errorf(...)` gives the error field; values are quoted as Go's %q does.

/** A logrus text line (time in RFC 3339, local zone), ending in a newline. */
export function logrusLine(level: 'warning' | 'error', message: string, error?: string, now = new Date(), fields: Record<string, string> = {}): string {
  const off = -now.getTimezoneOffset();
  const local = new Date(now.getTime() + off * 60_000).toISOString().slice(0, 19);
  const zone = off === 0 ? 'Z' : `${off < 0 ? '-' : '+'}${String(Math.floor(Math.abs(off) / 60)).padStart(2, '0')}:${String(Math.abs(off) % 60).padStart(2, '0')}`;
  let line = `time=${JSON.stringify(local + zone)} level=${level} msg=${JSON.stringify(message)}`;
  if (error !== undefined) line += ` error=${JSON.stringify(error)}`;
  // WithField data after the error, in key order (logrus sorts them; "error" sorts first here).
  for (const k of Object.keys(fields).sort()) line += ` ${k}=${JSON.stringify(fields[k])}`;
  return line + '\n';
}
