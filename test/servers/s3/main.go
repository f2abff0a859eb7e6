// Command s3server is the S3 test server for aim-fetch: gofakes3 (ListObjectsV2, GetObject with
// Range, HEAD, PUT) over a directory, behind a SigV4 verifier (header auth) and a small
// fault injector. Listens on 127.0.0.1 and prints "READY <port>" once up.
//
//	s3server -data DIR -seed SEEDDIR -access-key AK -secret-key SK [-region us-east-1] [-addr 127.0.0.1:0]
//
// Every directory under SEEDDIR becomes a bucket holding its files (keys are relative paths).
// Faults: POST /_admin/faults {"rate_limit":{"count":N},"interrupt":{"key":K,"at_byte":B,"times":T}},
// DELETE /_admin/faults clears them.
package main

import (
	"encoding/json"
	"flag"
	"fmt"
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
	Interrupt *struct {
		Key    string `json:"key"`
		AtByte int64  `json:"at_byte"`
		Times  int    `json:"times"`
	} `json:"interrupt"`
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
	flag.Parse()
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
	if *seed != "" {
		if err := seedBuckets(backend, *seed); err != nil {
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
		var cut int64 = -1
		if it := f.Interrupt; it != nil && it.Times != 0 && r.Method == http.MethodGet && strings.HasSuffix(r.URL.Path, "/"+it.Key) {
			start, end := rangeBounds(r.Header.Get("Range"))
			if it.AtByte >= start && it.AtByte <= end { // only the response that carries the byte
				cut = it.AtByte - start
				if it.Times > 0 {
					it.Times--
				}
			}
		}
		mu.Unlock()
		if cut >= 0 {
			w = &cutWriter{ResponseWriter: w, left: cut}
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

func seedBuckets(backend gofakes3.Backend, dir string) error {
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
			_, err = backend.PutObject(bucket, filepath.ToSlash(key), map[string]string{}, fh, info.Size(), nil)
			return err
		})
		if err != nil {
			return err
		}
	}
	return nil
}
