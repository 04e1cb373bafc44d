// SPDX-License-Identifier: MIT

// tlsgo: Go crypto/tls peers for tlspcap's end-to-end tests (standard library only).
//
//	tlsgo http-server -port P -cert C -key K [-h1]     GET /blob/N: N pattern bytes;
//	                                                   POST /echo: "received N bytes SHA"
//	tlsgo http-client -url BASE -ca C -get N -post F [-h1] [-repeat R -pause D] [-headers F]
//	                                                   checks both answers, prints the protocol;
//	                                                   F: "Name: value" lines sent with each request
//	tlsgo echo-server -port P -cert C -key K -out DIR -conns N [-slow]
//	tlsgo echo-client -port P -ca C -out DIR -conns N
//	tlsgo pattern N FILE                               the N bytes GET /blob/N serves
//
// The echo pair runs one goroutine per connection: the client writes a length header and
// writes of 1 B, 16 KiB, 16 KiB+1 and 1 MiB; the server answers with the same sizes in
// another order; -slow makes the readers sleep and the socket buffers small, so that writers
// find them full (EAGAIN) and park on the netpoller. Both sides
// keep the exact bytes of each connection as DIR/<client port>.c2s and .s2c.
package main

import (
	"crypto/sha256"
	"crypto/tls"
	"crypto/x509"
	"encoding/binary"
	"encoding/hex"
	"errors"
	"flag"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"time"
)

func die(format string, args ...interface{}) {
	fmt.Fprintf(os.Stderr, "tlsgo: "+format+"\n", args...)
	os.Exit(1)
}

// pattern returns n bytes that depend on seed and position: every byte value occurs.
func pattern(seed uint64, n int) []byte {
	b := make([]byte, n)
	x := seed*0x9e3779b97f4a7c15 + 1
	for i := range b {
		x ^= x << 13
		x ^= x >> 7
		x ^= x << 17
		b[i] = byte(x)
	}
	return b
}

func loadCA(path string) *x509.CertPool {
	pem, err := os.ReadFile(path)
	if err != nil {
		die("%v", err)
	}
	pool := x509.NewCertPool()
	if !pool.AppendCertsFromPEM(pem) {
		die("%s: no certificate", path)
	}
	return pool
}

func httpServer(args []string) {
	fs := flag.NewFlagSet("http-server", flag.ExitOnError)
	port := fs.Int("port", 0, "")
	cert := fs.String("cert", "", "")
	key := fs.String("key", "", "")
	h1 := fs.Bool("h1", false, "HTTP/1.1 only")
	fs.Parse(args)
	mux := http.NewServeMux()
	mux.HandleFunc("/blob/", func(w http.ResponseWriter, r *http.Request) {
		n, err := strconv.Atoi(strings.TrimPrefix(r.URL.Path, "/blob/"))
		if err != nil || n < 0 {
			http.Error(w, "bad size", http.StatusBadRequest)
			return
		}
		w.Header().Set("Content-Type", "application/octet-stream")
		w.Write(pattern(uint64(n), n))
	})
	mux.HandleFunc("/echo", func(w http.ResponseWriter, r *http.Request) {
		h := sha256.New()
		n, err := io.Copy(h, r.Body)
		if err != nil {
			http.Error(w, err.Error(), http.StatusBadRequest)
			return
		}
		fmt.Fprintf(w, "received %d bytes %s\n", n, hex.EncodeToString(h.Sum(nil)))
	})
	srv := &http.Server{Handler: mux}
	if *h1 {
		srv.TLSNextProto = map[string]func(*http.Server, *tls.Conn, http.Handler){}
	}
	ln, err := net.Listen("tcp", fmt.Sprintf("127.0.0.1:%d", *port))
	if err != nil {
		die("%v", err)
	}
	fmt.Println("ready")
	die("%v", srv.ServeTLS(ln, *cert, *key))
}

func httpClient(args []string) {
	fs := flag.NewFlagSet("http-client", flag.ExitOnError)
	base := fs.String("url", "", "")
	ca := fs.String("ca", "", "")
	get := fs.Int("get", 0, "bytes to GET from /blob/N (a file name under the server's root: -getpath)")
	getPath := fs.String("getpath", "", "path to GET instead of /blob/N; -getfile is its expected content")
	getFile := fs.String("getfile", "", "")
	post := fs.String("post", "", "file to POST to /echo")
	expect := fs.String("expect", "sha", "answer to /echo: sha (tlsgo) or nginx")
	h1 := fs.Bool("h1", false, "HTTP/1.1 only")
	repeat := fs.Int("repeat", 1, "")
	pause := fs.Duration("pause", 0, "between repeats")
	headerFile := fs.String("headers", "", "file of \"Name: value\" lines sent with every request")
	fs.Parse(args)
	tr := &http.Transport{TLSClientConfig: &tls.Config{RootCAs: loadCA(*ca)}, ForceAttemptHTTP2: !*h1}
	if *h1 {
		tr.TLSNextProto = map[string]func(string, *tls.Conn) http.RoundTripper{}
	}
	client := &http.Client{Transport: tr, Timeout: 30 * time.Second}
	header := http.Header{}
	if *headerFile != "" {
		b, err := os.ReadFile(*headerFile)
		if err != nil {
			die("%v", err)
		}
		for _, line := range strings.Split(strings.TrimSpace(string(b)), "\n") {
			if name, value, ok := strings.Cut(line, ": "); ok {
				header.Add(name, value)
			}
		}
	}
	do := func(method, url string, body io.Reader) (*http.Response, error) {
		req, err := http.NewRequest(method, url, body)
		if err != nil {
			return nil, err
		}
		for name, values := range header {
			req.Header[name] = values
		}
		if body != nil {
			req.Header.Set("Content-Type", "application/octet-stream")
		}
		return client.Do(req)
	}
	proto := ""
	for i := 0; i < *repeat; i++ {
		if i > 0 {
			time.Sleep(*pause)
		}
		path, want := fmt.Sprintf("/blob/%d", *get), pattern(uint64(*get), *get)
		if *getPath != "" {
			b, err := os.ReadFile(*getFile)
			if err != nil {
				die("%v", err)
			}
			path, want = *getPath, b
		}
		resp, err := do("GET", *base+path, nil)
		if err != nil {
			die("GET: %v", err)
		}
		body, err := io.ReadAll(resp.Body)
		resp.Body.Close()
		if err != nil || resp.StatusCode != 200 || string(body) != string(want) {
			die("GET %s: status %d, %d bytes, err %v: not what was served", path, resp.StatusCode, len(body), err)
		}
		proto = resp.Proto
		if *post == "" {
			continue
		}
		data, err := os.ReadFile(*post)
		if err != nil {
			die("%v", err)
		}
		resp, err = do("POST", *base+"/echo", strings.NewReader(string(data)))
		if err != nil {
			die("POST: %v", err)
		}
		body, err = io.ReadAll(resp.Body)
		resp.Body.Close()
		sum := sha256.Sum256(data)
		answer := fmt.Sprintf("received %d bytes %s\n", len(data), hex.EncodeToString(sum[:]))
		if *expect == "nginx" {
			answer = fmt.Sprintf("received %d bytes\n", len(data))
		}
		if err != nil || string(body) != answer {
			die("POST: answer %q, want %q (err %v)", body, answer, err)
		}
	}
	fmt.Println("ok", proto)
}

var sizes = []int{1, 16384, 16385, 1 << 20}

// exchange writes its header and pieces on c and reads the peer's, keeping both.
type recorder struct {
	sent, received []byte
}

func (r *recorder) write(c net.Conn, b []byte) {
	if _, err := c.Write(b); err != nil {
		die("write: %v", err)
	}
	r.sent = append(r.sent, b...)
}

// readAll reads exactly n bytes in reads of varying sizes (small ones are often served
// from crypto/tls's buffer, with no syscall); slow sleeps between reads.
func (r *recorder) readAll(c net.Conn, n int, slow bool) {
	bufSizes := []int{1, 7, 100, 4096, 16384, 65536}
	for i := 0; n > 0; i++ {
		b := make([]byte, bufSizes[i%len(bufSizes)])
		if len(b) > n {
			b = b[:n]
		}
		k, err := c.Read(b)
		if err != nil {
			die("read: %v (%d bytes missing)", err, n)
		}
		r.received = append(r.received, b[:k]...)
		n -= k
		if slow && i%8 == 0 {
			time.Sleep(2 * time.Millisecond)
		}
	}
}

// slowSocket shrinks the buffers of the TCP connection under c (-slow): a 1 MiB write
// cannot fit in them while the peer sleeps.
func slowSocket(c net.Conn) {
	tc := c.(*net.TCPConn)
	if err := tc.SetReadBuffer(16384); err != nil {
		die("%v", err)
	}
	if err := tc.SetWriteBuffer(16384); err != nil {
		die("%v", err)
	}
}

func (r *recorder) send(c net.Conn, seed uint64, order []int) {
	total := 0
	for _, i := range order {
		total += sizes[i]
	}
	var hdr [8]byte
	binary.BigEndian.PutUint64(hdr[:], uint64(total))
	r.write(c, hdr[:])
	for k, i := range order {
		r.write(c, pattern(seed+uint64(k), sizes[i]))
	}
}

func (r *recorder) receive(c net.Conn, slow bool) {
	r.readAll(c, 8, slow)
	n := binary.BigEndian.Uint64(r.received[len(r.received)-8:])
	if n > 64<<20 {
		die("header announces %d bytes", n)
	}
	r.readAll(c, int(n), slow)
}

func save(dir string, port int, c2s, s2c []byte) {
	for name, b := range map[string][]byte{".c2s": c2s, ".s2c": s2c} {
		if err := os.WriteFile(filepath.Join(dir, strconv.Itoa(port)+name), b, 0o644); err != nil {
			die("%v", err)
		}
	}
}

func echoServer(args []string) {
	fs := flag.NewFlagSet("echo-server", flag.ExitOnError)
	port := fs.Int("port", 0, "")
	cert := fs.String("cert", "", "")
	key := fs.String("key", "", "")
	out := fs.String("out", "", "")
	conns := fs.Int("conns", 1, "")
	slow := fs.Bool("slow", false, "")
	fs.Parse(args)
	pair, err := tls.LoadX509KeyPair(*cert, *key)
	if err != nil {
		die("%v", err)
	}
	cfg := &tls.Config{Certificates: []tls.Certificate{pair}}
	ln, err := net.Listen("tcp", fmt.Sprintf("127.0.0.1:%d", *port))
	if err != nil {
		die("%v", err)
	}
	fmt.Println("ready")
	var wg sync.WaitGroup
	for i := 0; i < *conns; i++ {
		raw, err := ln.Accept()
		if err != nil {
			die("%v", err)
		}
		if *slow {
			slowSocket(raw)
		}
		c := tls.Server(raw, cfg)
		wg.Add(1)
		go func(c net.Conn) {
			defer wg.Done()
			var r recorder
			cport := c.RemoteAddr().(*net.TCPAddr).Port
			r.receive(c, *slow)
			r.send(c, uint64(cport)<<8, []int{3, 0, 2, 1})
			// the client closes first: its close_notify ends our read
			if _, err := c.Read(make([]byte, 1)); !errors.Is(err, io.EOF) {
				die("after the exchange: %v", err)
			}
			c.Close()
			save(*out, cport, r.received, r.sent)
		}(c)
	}
	wg.Wait()
	fmt.Println("done")
}

func echoClient(args []string) {
	fs := flag.NewFlagSet("echo-client", flag.ExitOnError)
	port := fs.Int("port", 0, "")
	ca := fs.String("ca", "", "")
	out := fs.String("out", "", "")
	conns := fs.Int("conns", 1, "")
	slow := fs.Bool("slow", false, "")
	fs.Parse(args)
	cfg := &tls.Config{RootCAs: loadCA(*ca), ServerName: "localhost"}
	var wg sync.WaitGroup
	for i := 0; i < *conns; i++ {
		wg.Add(1)
		go func(i int) {
			defer wg.Done()
			raw, err := net.Dial("tcp", fmt.Sprintf("127.0.0.1:%d", *port))
			if err != nil {
				die("dial: %v", err)
			}
			if *slow {
				slowSocket(raw)
			}
			c := tls.Client(raw, cfg)
			var r recorder
			cport := c.LocalAddr().(*net.TCPAddr).Port
			r.send(c, uint64(cport), [][]int{{0, 1, 2, 3}, {3, 2, 1, 0}, {1, 3, 0, 2}}[i%3])
			r.receive(c, *slow)
			c.Close()
			save(*out, cport, r.sent, r.received)
		}(i)
	}
	wg.Wait()
	fmt.Println("ok")
}

func patternFile(args []string) {
	if len(args) != 2 {
		die("usage: tlsgo pattern N FILE")
	}
	n, err := strconv.Atoi(args[0])
	if err != nil || n < 0 {
		die("bad size %q", args[0])
	}
	if err := os.WriteFile(args[1], pattern(uint64(n), n), 0o644); err != nil {
		die("%v", err)
	}
}

func main() {
	if len(os.Args) < 2 {
		die("usage: tlsgo http-server|http-client|echo-server|echo-client ...")
	}
	cmds := map[string]func([]string){
		"http-server": httpServer, "http-client": httpClient,
		"echo-server": echoServer, "echo-client": echoClient, "pattern": patternFile,
	}
	cmd, found := cmds[os.Args[1]]
	if !found {
		die("unknown command %s", os.Args[1])
	}
	cmd(os.Args[2:])
}
