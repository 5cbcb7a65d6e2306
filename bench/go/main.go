// The Go side of `npm run bench`: bbolt 1.3.6 on the same workloads as bench/worker.ts.
// Each invocation runs one row and prints {"nsPerOp": ..., "ops": ..., "maxRssKB": ...}.
//
//	bench ROW FILE N
//
// Rows: seq-write, rand-write (batches of 1,000), seq-write-1, rand-write-1 (one key per
// transaction), scan, get, nested-get (over files prepared by `prepare-*`), list-images,
// prepare-keys FILE N, prepare-images FILE N.
package main

import (
	"encoding/binary"
	"encoding/json"
	"fmt"
	"os"
	"strconv"
	"syscall"
	"time"

	bolt "go.etcd.io/bbolt"
)

func fail(err error) {
	json.NewEncoder(os.Stdout).Encode(map[string]string{"error": err.Error()})
	os.Exit(1)
}

// xorshift so both engines draw the same random keys from the same seed.
type rng struct{ s uint64 }

func (r *rng) next() uint64 {
	r.s ^= r.s << 13
	r.s ^= r.s >> 7
	r.s ^= r.s << 17
	return r.s
}

func key(i uint64) []byte {
	k := make([]byte, 8)
	binary.BigEndian.PutUint64(k, i)
	return k
}

var value = make([]byte, 100)

func report(start time.Time, ops int) {
	el := time.Since(start)
	var ru syscall.Rusage
	syscall.Getrusage(syscall.RUSAGE_SELF, &ru)
	json.NewEncoder(os.Stdout).Encode(map[string]interface{}{"nsPerOp": float64(el.Nanoseconds()) / float64(ops), "ops": ops, "maxRssKB": ru.Maxrss})
}

func write(db *bolt.DB, n, batch int, random bool) {
	r := &rng{s: 88172645463325252}
	start := time.Now()
	for i := 0; i < n; i += batch {
		err := db.Update(func(tx *bolt.Tx) error {
			b, err := tx.CreateBucketIfNotExists([]byte("bench"))
			if err != nil {
				return err
			}
			for j := i; j < i+batch && j < n; j++ {
				k := uint64(j)
				if random {
					k = r.next()
				}
				if err := b.Put(key(k), value); err != nil {
					return err
				}
			}
			return nil
		})
		if err != nil {
			fail(err)
		}
	}
	report(start, n)
}

// warmPasses is how many passes a -warm row makes in one process; the last is timed.
const warmPasses = 4

// listImages reads every image's target digest, as `ctr images ls` does: the images it found.
func listImages(db *bolt.DB) int {
	count := 0
	db.View(func(tx *bolt.Tx) error {
		imgs := tx.Bucket([]byte("v1")).Bucket([]byte("default")).Bucket([]byte("images"))
		return imgs.ForEach(func(k, v []byte) error {
			if imgs.Bucket(k).Bucket([]byte("target")).Get([]byte("digest")) != nil {
				count++
			}
			return nil
		})
	})
	return count
}

// scan walks every key of the bench bucket with a cursor, as a scan row times it.
func scan(db *bolt.DB) int {
	count := 0
	db.View(func(tx *bolt.Tx) error {
		c := tx.Bucket([]byte("bench")).Cursor()
		for k, _ := c.First(); k != nil; k, _ = c.Next() {
			count++
		}
		return nil
	})
	return count
}

func main() {
	if len(os.Args) < 4 {
		fail(fmt.Errorf("usage: bench ROW FILE N"))
	}
	row, file := os.Args[1], os.Args[2]
	n, err := strconv.Atoi(os.Args[3])
	if err != nil {
		fail(err)
	}
	readOnly := row == "scan" || row == "scan-warm" || row == "get" || row == "nested-get" || row == "list-images" || row == "list-images-warm"
	openStart := time.Now()
	// BENCH_NOSYNC=1: commits without fdatasync (see bench/worker.ts).
	db, err := bolt.Open(file, 0600, &bolt.Options{ReadOnly: readOnly, NoSync: os.Getenv("BENCH_NOSYNC") == "1"})
	if err != nil {
		fail(err)
	}
	defer db.Close()
	switch row {
	case "seq-write", "rand-write":
		write(db, n, 1000, row == "rand-write")
	case "seq-write-1", "rand-write-1":
		write(db, n, 1, row == "rand-write-1")
	case "prepare-keys":
		for i := 0; i < n; i += 10000 {
			err := db.Update(func(tx *bolt.Tx) error {
				b, err := tx.CreateBucketIfNotExists([]byte("bench"))
				if err != nil {
					return err
				}
				b.FillPercent = 1.0
				for j := i; j < i+10000 && j < n; j++ {
					if err := b.Put(key(uint64(j)), value); err != nil {
						return err
					}
				}
				return nil
			})
			if err != nil {
				fail(err)
			}
		}
		report(time.Now(), 1)
	case "scan":
		start := time.Now()
		count := scan(db)
		report(start, count)
	case "scan-warm":
		// warmPasses over the same file in one process, the last one timed (the row our JIT'd
		// engine is compared on in steady state; Go's passes differ only by the first's faults).
		for i := 1; i < warmPasses; i++ {
			scan(db)
		}
		start := time.Now()
		count := scan(db)
		report(start, count)
	case "get":
		r := &rng{s: 2463534242}
		start := time.Now()
		db.View(func(tx *bolt.Tx) error {
			b := tx.Bucket([]byte("bench"))
			for i := 0; i < n; i++ {
				if b.Get(key(r.next()%1000000)) == nil {
					fail(fmt.Errorf("missing key"))
				}
			}
			return nil
		})
		report(start, n)
	case "prepare-images":
		err := db.Update(func(tx *bolt.Tx) error {
			v1, _ := tx.CreateBucketIfNotExists([]byte("v1"))
			v1.Put([]byte("version"), []byte{6})
			ns, _ := v1.CreateBucketIfNotExists([]byte("default"))
			imgs, _ := ns.CreateBucketIfNotExists([]byte("images"))
			for i := 0; i < n; i++ {
				img, err := imgs.CreateBucket([]byte(fmt.Sprintf("registry.example.com/team/app-%05d:v1", i)))
				if err != nil {
					return err
				}
				img.Put([]byte("createdat"), make([]byte, 15))
				img.Put([]byte("updatedat"), make([]byte, 15))
				t, _ := img.CreateBucket([]byte("target"))
				t.Put([]byte("digest"), []byte(fmt.Sprintf("sha256:%064x", i)))
				t.Put([]byte("mediatype"), []byte("application/vnd.oci.image.manifest.v1+json"))
				t.Put([]byte("size"), []byte{0xa4, 0x07})
			}
			return nil
		})
		if err != nil {
			fail(err)
		}
		report(time.Now(), 1)
	case "nested-get":
		r := &rng{s: 2463534242}
		imgs := 10000
		start := time.Now()
		db.View(func(tx *bolt.Tx) error {
			for i := 0; i < n; i++ {
				name := fmt.Sprintf("registry.example.com/team/app-%05d:v1", r.next()%uint64(imgs))
				d := tx.Bucket([]byte("v1")).Bucket([]byte("default")).Bucket([]byte("images")).Bucket([]byte(name)).Bucket([]byte("target")).Get([]byte("digest"))
				if d == nil {
					fail(fmt.Errorf("missing digest"))
				}
			}
			return nil
		})
		report(start, n)
	case "list-images":
		if count := listImages(db); count != n {
			fail(fmt.Errorf("listed %d images, want %d", count, n))
		}
		report(openStart, 1)
	case "list-images-warm":
		// Open + list warmPasses times in one process (each pass its own handle), the last one timed.
		pass := func() int {
			d, err := bolt.Open(file, 0600, &bolt.Options{ReadOnly: true})
			if err != nil {
				fail(err)
			}
			defer d.Close()
			return listImages(d)
		}
		for i := 1; i < warmPasses; i++ {
			pass()
		}
		start := time.Now()
		if count := pass(); count != n {
			fail(fmt.Errorf("listed %d images, want %d", count, n))
		}
		report(start, 1)
	default:
		fail(fmt.Errorf("unknown row %s", row))
	}
}
