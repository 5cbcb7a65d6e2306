// stdref runs Go's standard library as containerd 1.6 uses it, with the Go that builds it, for the
// differential tests of src/content/rfc3339.ts and src/metadata/gojson-scan.ts.
//
//	stdref time: Time.UnmarshalText (time.Parse(time.RFC3339, s)), as an ingest's startedat is read
//	stdref jsontime: Time.UnmarshalJSON of a JSON value's raw text, as an image config's "created" is read
//	stdref json: json.Unmarshal's syntax check (into a json.RawMessage), as a blob's JSON is read
//	stdin: one hex string per line
//	stdout: one JSON object per line: {"unix": s, "nanos": n, "offset": seconds east} or {"ok": true}, or {"error": text}
package main

import (
	"bufio"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"os"
	"time"
)

func main() {
	// The local zone decides how Parse labels a "+00:00" offset; UTC here, as on the machines containerd runs.
	time.Local = time.UTC
	in := bufio.NewScanner(os.Stdin)
	in.Buffer(make([]byte, 1<<20), 1<<26)
	out := bufio.NewWriter(os.Stdout)
	defer out.Flush()
	enc := json.NewEncoder(out)
	for in.Scan() {
		b, err := hex.DecodeString(in.Text())
		if err != nil {
			fmt.Fprintln(os.Stderr, err)
			os.Exit(2)
		}
		if len(os.Args) > 1 && os.Args[1] == "json" {
			var v json.RawMessage // only the syntax check: numbers are not decoded
			if err := json.Unmarshal(b, &v); err != nil {
				enc.Encode(map[string]string{"error": err.Error()})
			} else {
				enc.Encode(map[string]bool{"ok": true})
			}
			continue
		}
		var t time.Time
		unmarshal := t.UnmarshalText
		if len(os.Args) > 1 && os.Args[1] == "jsontime" {
			unmarshal = t.UnmarshalJSON
		}
		if err := unmarshal(b); err != nil {
			enc.Encode(map[string]string{"error": err.Error()})
			continue
		}
		_, off := t.Zone()
		enc.Encode(map[string]interface{}{"unix": t.Unix(), "nanos": t.Nanosecond(), "offset": off})
	}
	if err := in.Err(); err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(2)
	}
}
