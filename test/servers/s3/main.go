// Command s3server is the S3 test server for aim-fetch: gofakes3 (ListObjectsV2, GetObject with
// Range, HEAD, PUT) over a directory, behind a SigV4 verifier (header auth) and a small
// fault injector. Listens on 127.0.0.1 and prints "READY <port>" once up.
//
//	s3server -data DIR -seed SEEDDIR -access-key AK -secret-key SK [-region us-east-1] [-addr 127.0.0.1:0]
//	         [-checksum none|sha256|crc64nvme|crc32c|crc32]
//
// Every directory under SEEDDIR becomes a bucket holding its files (keys are relative paths).
// With -checksum, the seeded objects behave as if uploaded with that full-object checksum: a HEAD
// or whole-object GET that sends `x-amz-checksum-mode: ENABLED` gets `x-amz-checksum-<algo>`
// (base64 of the big-endian value) and `x-amz-checksum-type: FULL_OBJECT`, as S3 answers.
// Faults: POST /_admin/faults {"rate_limit":{"count":N},"interrupt":{"key":K,"at_byte":B,"times":T},
// "corrupt":{"key":K,"at_byte":B,"times":T}} ("times": -1 means always), DELETE /_admin/faults
// clears them.
package main

import (
	"crypto/sha256"
	"encoding/base64"
	"encoding/json"
	"flag"
	"fmt"
	"hash"
	"hash/crc32"
	"hash/crc64"
	"io"
	"log"
	"math"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"sync"

	"github.com/johannesboyne/gofakes3"
	"github.com/johannesboyne/gofakes3/backend/s3afero"
	"github.com/spf13/afero"
)

type faults struct {
	RateLimit *struct {
		Count int `json:"count"`
	} `json:"rate_limit"`
	Interrupt *byteFault `json:"interrupt"`
	Corrupt   *byteFault `json:"corrupt"`
}

// byteFault targets one byte of one object's GET responses ("times": -1 means always).
type byteFault struct {
	Key    string `json:"key"`
	AtByte int64  `json:"at_byte"`
	Times  int    `json:"times"`
}

// take returns the offset of the fault's byte within the response to r, or -1 when this response
// does not carry it (or the fault is used up), and consumes one use. Caller holds the lock.
func (b *byteFault) take(r *http.Request) int64 {
	if b == nil || b.Times == 0 || r.Method != http.MethodGet || !strings.HasSuffix(r.URL.Path, "/"+b.Key) {
		return -1
	}
	start, end := rangeBounds(r.Header.Get("Range"))
	if b.AtByte < start || b.AtByte > end { // only the response that carries the byte
		return -1
	}
	if b.Times > 0 {
		b.Times--
	}
	return b.AtByte - start
}

// flipWriter passes the body through with the byte at offset `at` XORed (a flipped bit in transit
// that TCP's checksum missed, or a bad disk on the server).
type flipWriter struct {
	http.ResponseWriter
	at  int64
	pos int64
}

func (w *flipWriter) Write(p []byte) (int, error) {
	if w.at >= w.pos && w.at < w.pos+int64(len(p)) {
		q := append([]byte(nil), p...)
		q[w.at-w.pos] ^= 0x5A
		p = q
	}
	w.pos += int64(len(p))
	return w.ResponseWriter.Write(p)
}

// cutWriter passes through the first n body bytes, then hijacks and closes the connection.
type cutWriter struct {
	http.ResponseWriter
	left int64
	cut  bool
}

func (c *cutWriter) Write(p []byte) (int, error) {
	if c.cut {
		return 0, io.ErrClosedPipe
	}
	if int64(len(p)) <= c.left {
		c.left -= int64(len(p))
		return c.ResponseWriter.Write(p)
	}
	n, _ := c.ResponseWriter.Write(p[:c.left])
	c.cut = true
	if f, ok := c.ResponseWriter.(http.Flusher); ok {
		f.Flush()
	}
	if hj, ok := c.ResponseWriter.(http.Hijacker); ok {
		if conn, _, err := hj.Hijack(); err == nil {
			conn.Close()
		}
	}
	return n, io.ErrClosedPipe
}

func main() {
	addr := flag.String("addr", "127.0.0.1:0", "listen address")
	data := flag.String("data", "", "backend storage directory")
	seed := flag.String("seed", "", "directory whose subdirectories become buckets")
	ak := flag.String("access-key", "AKIDTEST", "access key id")
	sk := flag.String("secret-key", "secret-test-key", "secret access key")
	region := flag.String("region", "us-east-1", "region")
	anonymous := flag.Bool("allow-anonymous", false, "accept unsigned requests")
	checksum := flag.String("checksum", "none", "full-object checksum of seeded objects: none, sha256, crc64nvme, crc32c, crc32")
	flag.Parse()
	newHash, ok := checksumAlgorithms[*checksum]
	if !ok && *checksum != "none" {
		log.Fatalf("unknown -checksum %q", *checksum)
	}
	if *data == "" {
		log.Fatal("-data is required")
	}
	if err := os.MkdirAll(*data, 0o755); err != nil {
		log.Fatal(err)
	}
	base, err := s3afero.NewBasePathFs(afero.NewOsFs(), *data, s3afero.FsPathCreateAll)
	if err != nil {
		log.Fatal(err)
	}
	backend, err := s3afero.MultiBucket(base)
	if err != nil {
		log.Fatal(err)
	}
	sums := map[string]string{} // "/bucket/key" -> base64 checksum
	if *seed != "" {
		if err := seedBuckets(backend, *seed, newHash, sums); err != nil {
			log.Fatal(err)
		}
	}
	s3 := gofakes3.New(backend, gofakes3.WithAutoBucket(true), gofakes3.WithLogger(gofakes3.DiscardLog()))
	verifier := &sigV4Verifier{keys: map[string]string{*ak: *sk}, region: *region, allowAnonymous: *anonymous}
	f := &faults{}
	var mu sync.Mutex

	handler := http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if strings.HasPrefix(r.URL.Path, "/_admin/faults") {
			mu.Lock()
			defer mu.Unlock()
			*f = faults{}
			if r.Method == http.MethodPost {
				if err := json.NewDecoder(r.Body).Decode(f); err != nil {
					http.Error(w, err.Error(), 400)
					return
				}
			}
			w.Write([]byte(`{"ok":true}`))
			return
		}
		if code, msg := verifier.verify(r); code != "" {
			writeError(w, http.StatusForbidden, code, msg)
			return
		}
		mu.Lock()
		if f.RateLimit != nil && f.RateLimit.Count > 0 {
			f.RateLimit.Count--
			mu.Unlock()
			writeError(w, http.StatusServiceUnavailable, "SlowDown", "Please reduce your request rate.")
			return
		}
		cut, flip := f.Interrupt.take(r), f.Corrupt.take(r)
		mu.Unlock()
		if cut >= 0 {
			w = &cutWriter{ResponseWriter: w, left: cut}
		}
		if flip >= 0 {
			w = &flipWriter{ResponseWriter: w, at: flip}
		}
		if sum, ok := sums[r.URL.Path]; ok && r.Header.Get("Range") == "" &&
			strings.EqualFold(r.Header.Get("x-amz-checksum-mode"), "ENABLED") &&
			(r.Method == http.MethodGet || r.Method == http.MethodHead) {
			w.Header().Set("x-amz-checksum-"+*checksum, sum)
			w.Header().Set("x-amz-checksum-type", "FULL_OBJECT")
		}
		s3.Server().ServeHTTP(w, r)
	})

	ln, err := net.Listen("tcp", *addr)
	if err != nil {
		log.Fatal(err)
	}
	fmt.Printf("READY %d\n", ln.Addr().(*net.TCPAddr).Port)
	log.Fatal(http.Serve(ln, handler))
}

// rangeBounds gives the inclusive byte range a request asks for (the whole object when none).
func rangeBounds(h string) (int64, int64) {
	var start, end int64
	if n, _ := fmt.Sscanf(h, "bytes=%d-%d", &start, &end); n == 2 {
		return start, end
	}
	if n, _ := fmt.Sscanf(h, "bytes=%d-", &start); n == 1 {
		return start, math.MaxInt64
	}
	return 0, math.MaxInt64
}

func writeError(w http.ResponseWriter, status int, code, msg string) {
	w.Header().Set("Content-Type", "application/xml")
	w.Header().Set("x-amz-error-code", code)
	w.WriteHeader(status)
	fmt.Fprintf(w, `<?xml version="1.0" encoding="UTF-8"?><Error><Code>%s</Code><Message>%s</Message></Error>`, code, msg)
}

// checksumAlgorithms are the S3 full-object checksums the server can publish.
var checksumAlgorithms = map[string]func() hash.Hash{
	"sha256":    sha256.New,
	"crc64nvme": func() hash.Hash { return crc64.New(crc64.MakeTable(0x9a6c9329ac4bc9b5)) },
	"crc32c":    func() hash.Hash { return crc32.New(crc32.MakeTable(crc32.Castagnoli)) },
	"crc32":     func() hash.Hash { return crc32.NewIEEE() },
}

func seedBuckets(backend gofakes3.Backend, dir string, newHash func() hash.Hash, sums map[string]string) error {
	entries, err := os.ReadDir(dir)
	if err != nil {
		return err
	}
	for _, e := range entries {
		if !e.IsDir() {
			continue
		}
		bucket := e.Name()
		if ok, _ := backend.BucketExists(bucket); !ok {
			if err := backend.CreateBucket(bucket); err != nil {
				return err
			}
		}
		root := filepath.Join(dir, bucket)
		err := filepath.Walk(root, func(p string, info os.FileInfo, err error) error {
			if err != nil || info.IsDir() {
				return err
			}
			key, _ := filepath.Rel(root, p)
			fh, err := os.Open(p)
			if err != nil {
				return err
			}
			defer fh.Close()
			if newHash != nil {
				h := newHash()
				if _, err := io.Copy(h, fh); err != nil {
					return err
				}
				sums["/"+bucket+"/"+filepath.ToSlash(key)] = base64.StdEncoding.EncodeToString(h.Sum(nil))
				if _, err := fh.Seek(0, io.SeekStart); err != nil {
					return err
				}
			}
			_, err = backend.PutObject(bucket, filepath.ToSlash(key), map[string]string{}, fh, info.Size(), nil)
			return err
		})
		if err != nil {
			return err
		}
	}
	return nil
}
