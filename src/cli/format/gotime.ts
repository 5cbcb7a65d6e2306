// Go's time.Time.String() ("2006-01-02 15:04:05.999999999 -0700 MST"), for the times ctr prints with %s.
// Times that came through gRPC are UTC (timestamppb's AsTime), so the zone prints as "+0000 UTC".
import { formatRFC3339, type GoTime } from '../../metadata/index.js';

/** t.UTC().String(): the fraction with trailing zeros trimmed (none when zero), then "+0000 UTC". */
export function goTimeStringUTC(t: GoTime): string {
  const rfc = formatRFC3339({ unix: t.unix, nanos: t.nanos }, true, 0); // 2006-01-02T15:04:05.999999999Z
  return `${rfc.slice(0, 10)} ${rfc.slice(11, -1)} +0000 UTC`;
}
