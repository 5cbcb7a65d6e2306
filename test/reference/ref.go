// ref: the Go reference ("oracle") for tsbolt's tests, built against Debian's bbolt 1.3.6
// (golang-github-coreos-bbolt-dev) in GOPATH mode by test/helpers/reference.ts.
//
//	ref apply DB [--page-size N] [--no-freelist-sync] [--no-sync]   < workload.json
//	ref dump DB            read-only: meta fields, Check findings, every bucket/key/value/sequence
//	ref check DB           read-only: Check findings
//	ref pages DB           read-only: every page's id, type, count and overflow (0 for free pages)
//	ref hold DB MS         open read-write (LOCK_EX), print {"locked":true}, sleep MS, close
//	ref tryopen DB MS [--read-only]   {"opened":true} or {"error":"timeout"}
//	ref fill DB BUCKET COUNT BYTES [--batch N] [apply's flags]   put COUNT values of BYTES bytes
//	                       (keys: 8-byte big-endian index) into bucket BUCKET (hex), N puts a
//	                       transaction (default 64); {"txid":N}. For files too big to describe in JSON.
//	ref sandboxes DB NS    read-only: {"out": what ctr 1.7's `sandboxes ls` prints} for a containerd meta.db,
//	                       reading sandboxes where that file's containerd keeps them (dbVersion 4:
//	                       v1/NS/sandboxes, else the top-level NS/sandboxes) and formatting as ctr does.
//
// Everything prints one JSON document; an error prints {"error": "..."} and exits 1.
// Workload: {"txs":[{"rollback":bool,"ops":[{"op":..., "path":[hex...], "key":hex, "value":hex,
// "seq":"decimal", "value":fillPercent}]}]}; an op's bbolt error is recorded, not fatal.
package main

import (
	"encoding/binary"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"hash/fnv"
	"os"
	"strconv"
	"strings"
	"text/tabwriter"
	"time"

	bolt "go.etcd.io/bbolt"
)

type op struct {
	Op    string          `json:"op"`
	Path  []string        `json:"path"`
	Key   string          `json:"key"`
	Value json.RawMessage `json:"value"`
	Seq   string          `json:"seq"`
}

type txSpec struct {
	Rollback bool `json:"rollback"`
	Ops      []op `json:"ops"`
	// Before the write transaction: end the CloseReaders oldest read transactions held, then
	// begin one more when OpenReader (held until closed so, or to the end of the workload).
	CloseReaders int  `json:"closeReaders"`
	OpenReader   bool `json:"openReader"`
}

type workload struct {
	Txs []txSpec `json:"txs"`
}

func fail(err error) {
	out, _ := json.Marshal(map[string]string{"error": err.Error()})
	fmt.Println(string(out))
	os.Exit(1)
}

func emit(v interface{}) {
	out, err := json.Marshal(v)
	if err != nil {
		fail(err)
	}
	fmt.Println(string(out))
}

func unhex(s string) []byte {
	b, err := hex.DecodeString(s)
	if err != nil {
		fail(fmt.Errorf("bad hex %q: %v", s, err))
	}
	return b
}

// resolve opens the bucket at path, caching handles so FillPercent set on one sticks.
func resolve(tx *bolt.Tx, path []string, cache map[string]*bolt.Bucket) *bolt.Bucket {
	id := strings.Join(path, "/")
	if b, ok := cache[id]; ok {
		return b
	}
	b := tx.Bucket(unhex(path[0]))
	for _, n := range path[1:] {
		if b == nil {
			break
		}
		b = b.Bucket(unhex(n))
	}
	if b != nil {
		cache[id] = b
	}
	return b
}

func runOp(tx *bolt.Tx, o op, cache map[string]*bolt.Bucket) error {
	switch o.Op {
	case "createBucket", "createBucketIfNotExists", "deleteBucket":
		name := unhex(o.Path[len(o.Path)-1])
		if len(o.Path) == 1 {
			switch o.Op {
			case "createBucket":
				_, err := tx.CreateBucket(name)
				return err
			case "createBucketIfNotExists":
				_, err := tx.CreateBucketIfNotExists(name)
				return err
			}
			dropCache(cache, o.Path)
			return tx.DeleteBucket(name)
		}
		parent := resolve(tx, o.Path[:len(o.Path)-1], cache)
		if parent == nil {
			return bolt.ErrBucketNotFound
		}
		switch o.Op {
		case "createBucket":
			_, err := parent.CreateBucket(name)
			return err
		case "createBucketIfNotExists":
			_, err := parent.CreateBucketIfNotExists(name)
			return err
		}
		dropCache(cache, o.Path)
		return parent.DeleteBucket(name)
	}
	b := resolve(tx, o.Path, cache)
	if b == nil {
		return bolt.ErrBucketNotFound
	}
	switch o.Op {
	case "put":
		var v string
		if err := json.Unmarshal(o.Value, &v); err != nil {
			fail(err)
		}
		return b.Put(unhex(o.Key), unhex(v))
	case "delete":
		return b.Delete(unhex(o.Key))
	case "seekDelete":
		// Cursor.Delete where Seek(key) lands: the key, the next one, or past the end.
		c := b.Cursor()
		c.Seek(unhex(o.Key))
		return c.Delete()
	case "setSequence":
		n, err := strconv.ParseUint(o.Seq, 10, 64)
		if err != nil {
			fail(err)
		}
		return b.SetSequence(n)
	case "nextSequence":
		_, err := b.NextSequence()
		return err
	case "fillPercent":
		var f float64
		if err := json.Unmarshal(o.Value, &f); err != nil {
			fail(err)
		}
		b.FillPercent = f
		return nil
	}
	fail(fmt.Errorf("unknown op %q", o.Op))
	return nil
}

func dropCache(cache map[string]*bolt.Bucket, path []string) {
	id := strings.Join(path, "/")
	for k := range cache {
		if k == id || strings.HasPrefix(k, id+"/") {
			delete(cache, k)
		}
	}
}

// openOptions parses apply's flags (--page-size N, --initial-mmap-size N, --no-freelist-sync,
// --no-sync; a workload that holds readers needs a mapping it never outgrows: bbolt's remap
// waits for every reader, and here they are held by the one goroutine that writes); other
// flags are returned for the caller.
func openOptions(args []string) (*bolt.Options, []string) {
	opts := &bolt.Options{}
	rest := []string{}
	for i := 0; i < len(args); i++ {
		switch args[i] {
		case "--page-size":
			i++
			n, err := strconv.Atoi(args[i])
			if err != nil {
				fail(err)
			}
			opts.PageSize = n
		case "--initial-mmap-size":
			i++
			n, err := strconv.Atoi(args[i])
			if err != nil {
				fail(err)
			}
			opts.InitialMmapSize = n
		case "--no-freelist-sync":
			opts.NoFreelistSync = true
		case "--no-sync":
			opts.NoSync = true
		default:
			rest = append(rest, args[i])
		}
	}
	return opts, rest
}

func apply(path string, args []string) {
	opts, rest := openOptions(args)
	if len(rest) > 0 {
		fail(fmt.Errorf("unknown flag %q", rest[0]))
	}
	var w workload
	if err := json.NewDecoder(os.Stdin).Decode(&w); err != nil {
		fail(err)
	}
	db, err := bolt.Open(path, 0600, opts)
	if err != nil {
		fail(err)
	}
	results := make([][]interface{}, 0, len(w.Txs))
	var readers []*bolt.Tx
	for _, t := range w.Txs {
		for i := 0; i < t.CloseReaders && len(readers) > 0; i++ {
			if err := readers[0].Rollback(); err != nil {
				fail(err)
			}
			readers = readers[1:]
		}
		if t.OpenReader {
			r, err := db.Begin(false)
			if err != nil {
				fail(err)
			}
			readers = append(readers, r)
		}
		tx, err := db.Begin(true)
		if err != nil {
			fail(err)
		}
		cache := map[string]*bolt.Bucket{}
		res := make([]interface{}, 0, len(t.Ops))
		for _, o := range t.Ops {
			if err := runOp(tx, o, cache); err != nil {
				res = append(res, err.Error())
			} else {
				res = append(res, nil)
			}
		}
		if t.Rollback {
			err = tx.Rollback()
		} else {
			err = tx.Commit()
		}
		if err != nil {
			fail(err)
		}
		results = append(results, res)
	}
	for _, r := range readers {
		if err := r.Rollback(); err != nil {
			fail(err)
		}
	}
	var txid int
	_ = db.View(func(tx *bolt.Tx) error { txid = int(tx.ID()); return nil })
	if err := db.Close(); err != nil {
		fail(err)
	}
	emit(map[string]interface{}{"results": results, "txid": txid})
}

func fill(path string, args []string) {
	opts, rest := openOptions(args)
	batch := 64
	if len(rest) >= 5 && rest[3] == "--batch" {
		n, err := strconv.Atoi(rest[4])
		if err != nil || n < 1 {
			fail(fmt.Errorf("bad --batch %q", rest[4]))
		}
		batch, rest = n, rest[:3]
	}
	if len(rest) != 3 {
		fail(fmt.Errorf("usage: ref fill DB BUCKET COUNT BYTES [--batch N] [--page-size N] [--no-freelist-sync] [--no-sync]"))
	}
	name := unhex(rest[0])
	count, err1 := strconv.Atoi(rest[1])
	size, err2 := strconv.Atoi(rest[2])
	if err1 != nil || err2 != nil || count < 0 || size < 0 {
		fail(fmt.Errorf("bad COUNT or BYTES"))
	}
	db, err := bolt.Open(path, 0600, opts)
	if err != nil {
		fail(err)
	}
	value := make([]byte, size)
	for i := range value {
		value[i] = byte(i)
	}
	for i := 0; i < count; i += batch {
		err := db.Update(func(tx *bolt.Tx) error {
			b, err := tx.CreateBucketIfNotExists(name)
			if err != nil {
				return err
			}
			for j := i; j < i+batch && j < count; j++ {
				key := make([]byte, 8)
				binary.BigEndian.PutUint64(key, uint64(j))
				if err := b.Put(key, value); err != nil {
					return err
				}
			}
			return nil
		})
		if err != nil {
			fail(err)
		}
	}
	var txid int
	_ = db.View(func(tx *bolt.Tx) error { txid = int(tx.ID()); return nil })
	if err := db.Close(); err != nil {
		fail(err)
	}
	emit(map[string]interface{}{"txid": txid})
}

type item map[string]interface{}

func dumpBucket(b *bolt.Bucket) []item {
	items := []item{}
	c := b.Cursor()
	for k, v := c.First(); k != nil; k, v = c.Next() {
		if v == nil {
			if child := b.Bucket(k); child != nil {
				items = append(items, item{"k": hex.EncodeToString(k), "seq": strconv.FormatUint(child.Sequence(), 10), "bucket": dumpBucket(child)})
				continue
			}
		}
		items = append(items, item{"k": hex.EncodeToString(k), "v": hex.EncodeToString(v)})
	}
	return items
}

func checkAll(tx *bolt.Tx) []string {
	errs := []string{}
	for err := range tx.Check() {
		errs = append(errs, err.Error())
	}
	return errs
}

func openRO(path string) *bolt.DB {
	// bolt.Open creates a missing file even when read-only; a reader must not.
	if _, err := os.Stat(path); err != nil {
		fail(err)
	}
	db, err := bolt.Open(path, 0600, &bolt.Options{ReadOnly: true, Timeout: 5 * time.Second})
	if err != nil {
		fail(err)
	}
	return db
}

// metaFields reads the meta page that tx sees (the valid one whose txid is tx.ID()) straight
// from the file: bbolt 1.3.6 does not export its meta. Layout at page offset 16 (host order,
// little-endian here): magic u32, version u32, pageSize u32, flags u32, root u64, sequence u64,
// freelist u64, pgid (high-water mark) u64, txid u64, checksum u64 = FNV-1a 64 of the 56 bytes before.
func metaFields(path string, pageSize int, txid uint64) (root, rootSeq, freelist, hwm uint64, err error) {
	f, err := os.Open(path)
	if err != nil {
		return 0, 0, 0, 0, err
	}
	defer f.Close()
	for i := 0; i < 2; i++ {
		buf := make([]byte, 80)
		if _, err := f.ReadAt(buf, int64(i*pageSize)); err != nil {
			continue
		}
		m := buf[16:]
		h := fnv.New64a()
		_, _ = h.Write(m[:56])
		sum := binary.LittleEndian.Uint64(m[56:])
		valid := binary.LittleEndian.Uint32(m[0:]) == 0xED0CDAED && binary.LittleEndian.Uint32(m[4:]) == 2 &&
			(sum == 0 || sum == h.Sum64()) // 1.3.6 accepts a zero checksum
		if valid && binary.LittleEndian.Uint64(m[48:]) == txid {
			le := binary.LittleEndian
			return le.Uint64(m[16:]), le.Uint64(m[24:]), le.Uint64(m[32:]), le.Uint64(m[40:]), nil
		}
	}
	return 0, 0, 0, 0, fmt.Errorf("no valid meta page with txid %d", txid)
}

func dump(path string) {
	db := openRO(path)
	defer db.Close()
	out := map[string]interface{}{"pageSize": db.Info().PageSize}
	err := db.View(func(tx *bolt.Tx) error {
		out["txid"] = int(tx.ID())
		root, rootSeq, freelist, hwm, err := metaFields(path, db.Info().PageSize, uint64(tx.ID()))
		if err != nil {
			return err
		}
		out["rootPgid"] = strconv.FormatUint(root, 10)
		out["rootSeq"] = strconv.FormatUint(rootSeq, 10)
		out["freelistPgid"] = strconv.FormatUint(freelist, 10)
		out["hwm"] = strconv.FormatUint(hwm, 10)
		out["check"] = checkAll(tx)
		buckets := []item{}
		_ = tx.ForEach(func(name []byte, b *bolt.Bucket) error {
			buckets = append(buckets, item{"k": hex.EncodeToString(name), "seq": strconv.FormatUint(b.Sequence(), 10), "bucket": dumpBucket(b)})
			return nil
		})
		out["buckets"] = buckets
		out["size"] = tx.Size()
		return nil
	})
	if err != nil {
		fail(err)
	}
	emit(out)
}

func check(path string) {
	db := openRO(path)
	defer db.Close()
	_ = db.View(func(tx *bolt.Tx) error {
		emit(map[string]interface{}{"check": checkAll(tx)})
		return nil
	})
}

// stats: each top-level bucket's Bucket.Stats, by hex name (bbolt walks a page or nested
// bucket as often as it is referenced).
func stats(path string) {
	db := openRO(path)
	defer db.Close()
	_ = db.View(func(tx *bolt.Tx) error {
		out := map[string]bolt.BucketStats{}
		_ = tx.ForEach(func(name []byte, b *bolt.Bucket) error {
			out[hex.EncodeToString(name)] = b.Stats()
			return nil
		})
		emit(map[string]interface{}{"stats": out})
		return nil
	})
}

func pages(path string) {
	db := openRO(path)
	defer db.Close()
	_ = db.View(func(tx *bolt.Tx) error {
		// A read-only DB has no freelist until Check loads it; tx.Page needs it for "free".
		checkAll(tx)
		list := []item{}
		for id := 0; ; {
			p, err := tx.Page(id)
			if err != nil {
				fail(err)
			}
			if p == nil {
				break
			}
			// A free page's header is stale (often the middle of an old overflow run): like the
			// bbolt CLI, report count and overflow 0 for it and step one page.
			if p.Type == "free" {
				list = append(list, item{"id": p.ID, "type": p.Type, "count": 0, "overflow": 0})
				id++
				continue
			}
			list = append(list, item{"id": p.ID, "type": p.Type, "count": p.Count, "overflow": p.OverflowCount})
			id += 1 + p.OverflowCount
		}
		emit(map[string]interface{}{"pages": list})
		return nil
	})
}

func hold(path, ms string) {
	n, err := strconv.Atoi(ms)
	if err != nil {
		fail(err)
	}
	db, err := bolt.Open(path, 0600, nil)
	if err != nil {
		fail(err)
	}
	emit(map[string]bool{"locked": true})
	time.Sleep(time.Duration(n) * time.Millisecond)
	db.Close()
}

// compact copies SRC into a new DST with bbolt's own Compact (compact.go), the txMaxSize given,
// DST opened with the --page-size given (else the default).
func compact(src string, args []string) {
	opts, rest := openOptions(args)
	if len(rest) != 2 {
		fail(fmt.Errorf("usage: ref compact SRC DST TXMAXSIZE [--page-size N]"))
	}
	maxSize, err := strconv.ParseInt(rest[1], 10, 64)
	if err != nil {
		fail(err)
	}
	s := openRO(src)
	defer s.Close()
	d, err := bolt.Open(rest[0], 0600, opts)
	if err != nil {
		fail(err)
	}
	if err := bolt.Compact(d, s, maxSize); err != nil {
		d.Close()
		fail(err)
	}
	if err := d.Close(); err != nil {
		fail(err)
	}
	emit(map[string]bool{"compacted": true})
}

func tryopen(path, ms string, rest []string) {
	n, err := strconv.Atoi(ms)
	if err != nil {
		fail(err)
	}
	ro := len(rest) > 0 && rest[0] == "--read-only"
	db, err := bolt.Open(path, 0600, &bolt.Options{ReadOnly: ro, Timeout: time.Duration(n) * time.Millisecond})
	if err == bolt.ErrTimeout {
		emit(map[string]string{"error": "timeout"})
		return
	}
	if err != nil {
		fail(err)
	}
	db.Close()
	emit(map[string]bool{"opened": true})
}

// sandboxes prints ctr 1.7's sandboxes list (cmd/ctr/commands/sandboxes): tabwriter (1, 8, 1, ' '),
// "ID\tCREATED\tRUNTIME\t" and a row per sandbox with CreatedAt as %s. The time passes through gRPC
// (timestamppb), which drops the zone: time.Unix(sec, nsec).UTC().
func sandboxes(path, ns string) {
	db := openRO(path)
	defer db.Close()
	var sb strings.Builder
	w := tabwriter.NewWriter(&sb, 1, 8, 1, ' ', 0)
	fmt.Fprintln(w, "ID\tCREATED\tRUNTIME\t")
	err := db.View(func(tx *bolt.Tx) error {
		var bkt *bolt.Bucket
		v1 := tx.Bucket([]byte("v1"))
		version := int64(0)
		if v1 != nil {
			version, _ = binary.Varint(v1.Get([]byte("version")))
		}
		if version >= 4 {
			if n := v1.Bucket([]byte(ns)); n != nil {
				bkt = n.Bucket([]byte("sandboxes"))
			}
		} else if n := tx.Bucket([]byte(ns)); n != nil {
			bkt = n.Bucket([]byte("sandboxes"))
		}
		if bkt == nil {
			return nil
		}
		return bkt.ForEach(func(k, v []byte) error {
			if v != nil {
				return nil
			}
			b := bkt.Bucket(k)
			var created time.Time
			if c := b.Get([]byte("createdat")); len(c) > 0 {
				if err := created.UnmarshalBinary(c); err != nil {
					return err
				}
			}
			created = time.Unix(created.Unix(), int64(created.Nanosecond())).UTC()
			name := ""
			if r := b.Bucket([]byte("runtime")); r != nil {
				name = string(r.Get([]byte("name")))
			}
			_, err := fmt.Fprintf(w, "%s\t%s\t%s\t\n", k, created, name)
			return err
		})
	})
	if err != nil {
		fail(err)
	}
	w.Flush()
	emit(map[string]string{"out": sb.String()})
}

func main() {
	if len(os.Args) < 3 {
		fail(fmt.Errorf("usage: ref apply|dump|check|pages|stats|hold|tryopen|fill|sandboxes|compact DB ..."))
	}
	cmd, path, rest := os.Args[1], os.Args[2], os.Args[3:]
	switch cmd {
	case "apply":
		apply(path, rest)
	case "dump":
		dump(path)
	case "check":
		check(path)
	case "pages":
		pages(path)
	case "stats":
		stats(path)
	case "hold":
		hold(path, rest[0])
	case "tryopen":
		tryopen(path, rest[0], rest[1:])
	case "fill":
		fill(path, rest)
	case "sandboxes":
		sandboxes(path, rest[0])
	case "compact":
		compact(path, rest)
	default:
		fail(fmt.Errorf("unknown command %q", cmd))
	}
}
