// anyref decodes google.protobuf.Any values as containerd 1.6 does (gogo/protobuf 1.3.2's
// proto.Unmarshal into types.Any), for the differential test of src/metadata/any.ts.
//
//	stdin: one hex string per line
//	stdout: one JSON object per line: {"typeUrl": hex, "value": hex} or {"error": text}
package main

import (
	"bufio"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"os"

	"github.com/gogo/protobuf/proto"
	"github.com/gogo/protobuf/types"
)

func main() {
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
		var a types.Any
		if err := proto.Unmarshal(b, &a); err != nil {
			enc.Encode(map[string]string{"error": err.Error()})
			continue
		}
		enc.Encode(map[string]string{"typeUrl": hex.EncodeToString([]byte(a.TypeUrl)), "value": hex.EncodeToString(a.Value)})
	}
	if err := in.Err(); err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(2)
	}
}
