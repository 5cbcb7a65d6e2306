// ocispec: the OCI runtime spec as the Debian-built ctr 1.6 knows it (golang-github-opencontainers-specs-dev,
// the specs-go package ctr's `containers info` decodes a container's spec into and marshals back).
//
//	ocispec schema     the specs.Spec type tree by reflection: {"root": "Spec", "types": {Name: [[json name,
//	                   type, omitempty, Go type name], ...]}}, type one of string|bool|intN|uintN|floatN|any|bytes|*T|[]T|map[string]T|Name
//	ocispec marshal    stdin: JSON; stdout: json.MarshalIndent of it decoded into specs.Spec, with 4 spaces
//	                   (what ctr prints as the Spec), or {"error": ...} and exit 1 when Go refuses to decode it
//
// Built by test/helpers/ocispec.ts in GOPATH mode against /usr/share/gocode.
package main

import (
	"encoding/json"
	"fmt"
	"io"
	"os"
	"reflect"
	"strings"

	specs "github.com/opencontainers/runtime-spec/specs-go"
)

var types = map[string][][]interface{}{}

func typeName(t reflect.Type) string {
	switch t.Kind() {
	case reflect.String:
		return "string"
	case reflect.Bool:
		return "bool"
	case reflect.Int, reflect.Int8, reflect.Int16, reflect.Int32, reflect.Int64:
		return fmt.Sprintf("int%d", t.Bits())
	case reflect.Uint, reflect.Uint8, reflect.Uint16, reflect.Uint32, reflect.Uint64:
		return fmt.Sprintf("uint%d", t.Bits())
	case reflect.Float32, reflect.Float64:
		return fmt.Sprintf("float%d", t.Bits())
	case reflect.Interface:
		return "any"
	case reflect.Ptr:
		return "*" + typeName(t.Elem())
	case reflect.Slice:
		if t.Elem().Kind() == reflect.Uint8 {
			return "bytes"
		}
		return "[]" + typeName(t.Elem())
	case reflect.Map:
		if t.Key().Kind() != reflect.String {
			panic("map key " + t.Key().String())
		}
		return "map[string]" + typeName(t.Elem())
	case reflect.Struct:
		if _, ok := types[t.Name()]; !ok {
			types[t.Name()] = nil
			types[t.Name()] = fields(t)
		}
		return t.Name()
	}
	panic("kind " + t.Kind().String())
}

func fields(t reflect.Type) [][]interface{} {
	out := [][]interface{}{}
	for i := 0; i < t.NumField(); i++ {
		f := t.Field(i)
		if f.Anonymous && f.Tag.Get("json") == "" && f.Type.Kind() == reflect.Struct {
			// encoding/json promotes the fields of an untagged embedded struct (linuxBlockIODevice).
			out = append(out, fields(f.Type)...)
			continue
		}
		if f.Anonymous {
			panic("embedded field in " + t.Name())
		}
		if f.PkgPath != "" {
			continue
		}
		tag := f.Tag.Get("json")
		if tag == "-" {
			continue
		}
		parts := strings.Split(tag, ",")
		name := parts[0]
		if name == "" {
			name = f.Name
		}
		omit := false
		for _, p := range parts[1:] {
			if p == "omitempty" {
				omit = true
			} else {
				panic("tag option " + p)
			}
		}
		// The fourth: Go's own name of the type (named types kept: specs.LinuxSeccompAction, int), for
		// the type errors json.Unmarshal words with it.
		out = append(out, []interface{}{name, typeName(f.Type), omit, f.Type.String()})
	}
	return out
}

func main() {
	if len(os.Args) < 2 {
		fmt.Println(`{"error":"usage: ocispec schema|marshal"}`)
		os.Exit(1)
	}
	switch os.Args[1] {
	case "schema":
		root := typeName(reflect.TypeOf(specs.Spec{}))
		b, _ := json.Marshal(map[string]interface{}{"root": root, "version": specs.Version, "types": types})
		os.Stdout.Write(append(b, '\n'))
	case "marshal":
		in, _ := io.ReadAll(os.Stdin)
		var s specs.Spec
		if err := json.Unmarshal(in, &s); err != nil {
			b, _ := json.Marshal(map[string]string{"error": err.Error()})
			os.Stdout.Write(b)
			os.Exit(1)
		}
		b, err := json.MarshalIndent(&s, "", "    ")
		if err != nil {
			panic(err)
		}
		os.Stdout.Write(b)
	}
}
