// Command httproutes is a net/http server that times its own requests per
// route, so that `goscope http` can be checked against it.
//
// Routes: GET /fast (no wait), GET /sleep5 (5 ms), POST /sleep5 (5 ms),
// GET /sleep20/<anything> (20 ms; each distinct path its own route), GET
// /panic (the handler panics; net/http recovers and drops the connection).
// A middleware in front of the mux times each request with time.Since
// (the panicking ones are not timed).
//
// With -tls it also serves the same routes over TLS (a self-signed
// certificate made at start; HTTP/2 negotiated by ALPN, as net/http does by
// default) and prints "httproutes: tls on ADDR".
//
// Stdout: "httproutes: listening on ADDR", then on SIGUSR2 one line
// "httproutes: truth {JSON}": per "METHOD PATH" the requests served
// ("n") and their median in microseconds ("p50_us"). SIGTERM/SIGINT exit 0.
package main

import (
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/tls"
	"crypto/x509"
	"crypto/x509/pkix"
	"math/big"
	"encoding/json"
	"flag"
	"fmt"
	"net"
	"net/http"
	"os"
	"os/signal"
	"sort"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"time"
)

var (
	mu   sync.Mutex
	durs = map[string][]float64{}
)

func timed(h http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		t0 := time.Now()
		h.ServeHTTP(w, r)
		d := float64(time.Since(t0).Microseconds())
		key := r.Method + " " + r.URL.Path
		mu.Lock()
		durs[key] = append(durs[key], d)
		mu.Unlock()
	})
}

func main() {
	addr := flag.String("addr", "127.0.0.1:0", "listen address")
	withTLS := flag.Bool("tls", false, "also serve over TLS (HTTP/2 and HTTP/1.1)")
	flag.Parse()
	mux := http.NewServeMux()
	mux.HandleFunc("/fast", func(w http.ResponseWriter, r *http.Request) {
		fmt.Fprint(w, "fast")
	})
	mux.HandleFunc("/sleep5", func(w http.ResponseWriter, r *http.Request) {
		time.Sleep(5 * time.Millisecond)
		fmt.Fprint(w, "sleep5")
	})
	mux.HandleFunc("/sleep20/", func(w http.ResponseWriter, r *http.Request) {
		time.Sleep(20 * time.Millisecond)
		fmt.Fprint(w, "sleep20")
	})
	mux.HandleFunc("/code/", func(w http.ResponseWriter, r *http.Request) {
		code, err := strconv.Atoi(strings.TrimPrefix(r.URL.Path, "/code/"))
		if err != nil || code < 200 || code > 599 {
			code = http.StatusBadRequest
		}
		w.WriteHeader(code)
		fmt.Fprint(w, "code")
	})
	mux.HandleFunc("/slowcode/", func(w http.ResponseWriter, r *http.Request) {
		code, err := strconv.Atoi(strings.TrimPrefix(r.URL.Path, "/slowcode/"))
		if err != nil || code < 200 || code > 599 {
			code = http.StatusBadRequest
		}
		time.Sleep(20 * time.Millisecond)
		w.WriteHeader(code)
		fmt.Fprint(w, "code")
	})
	mux.HandleFunc("/mix", func(w http.ResponseWriter, r *http.Request) {
		code, err := strconv.Atoi(r.URL.Query().Get("c"))
		if err != nil || code < 200 || code > 599 {
			code = http.StatusBadRequest
		}
		w.WriteHeader(code)
		fmt.Fprint(w, "mix")
	})
	mux.HandleFunc("/empty", func(w http.ResponseWriter, r *http.Request) {})
	mux.HandleFunc("/panic", func(w http.ResponseWriter, r *http.Request) {
		panic("httproutes: deliberate panic")
	})
	ln, err := net.Listen("tcp", *addr)
	if err != nil {
		fmt.Println("httproutes:", err)
		os.Exit(1)
	}
	fmt.Printf("httproutes: listening on %s\n", ln.Addr())
	srv := &http.Server{Handler: timed(mux), ErrorLog: nil}
	go srv.Serve(ln)
	if *withTLS {
		serveTLS(timed(mux))
	}
	sigs := make(chan os.Signal, 2)
	signal.Notify(sigs, syscall.SIGUSR2, syscall.SIGTERM, syscall.SIGINT)
	for s := range sigs {
		if s != syscall.SIGUSR2 {
			os.Exit(0)
		}
		out := map[string]interface{}{}
		mu.Lock()
		for k, ds := range durs {
			c := append([]float64(nil), ds...)
			sort.Float64s(c)
			out[k] = map[string]interface{}{"n": len(c), "p50_us": c[(len(c)-1)/2]}
		}
		mu.Unlock()
		b, _ := json.Marshal(out)
		fmt.Printf("httproutes: truth %s\n", b)
	}
}

// serveTLS serves H over TLS on a new loopback port with a self-signed
// certificate; net/http offers h2 and http/1.1 by ALPN.
func serveTLS(h http.Handler) {
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		fmt.Println("httproutes:", err)
		os.Exit(1)
	}
	tmpl := &x509.Certificate{
		SerialNumber: big.NewInt(1),
		Subject:      pkix.Name{CommonName: "127.0.0.1"},
		NotBefore:    time.Now().Add(-time.Hour),
		NotAfter:     time.Now().Add(24 * time.Hour),
		IPAddresses:  []net.IP{net.ParseIP("127.0.0.1")},
	}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, tmpl, &key.PublicKey, key)
	if err != nil {
		fmt.Println("httproutes:", err)
		os.Exit(1)
	}
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		fmt.Println("httproutes:", err)
		os.Exit(1)
	}
	srv := &http.Server{Handler: h, TLSConfig: &tls.Config{
		Certificates: []tls.Certificate{{Certificate: [][]byte{der}, PrivateKey: key}},
	}}
	fmt.Printf("httproutes: tls on %s\n", ln.Addr())
	go srv.ServeTLS(ln, "", "")
}
