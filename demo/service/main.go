// Demo service for goscope: a small HTTP API whose handlers wait in the
// ways real services do — on a contended mutex, on a worker pool's
// channel, on a slow downstream over the network, on a sleep (a timer),
// and on a blocking file read — so `goscope offcpu` has something to show;
// and with the problems the other commands find: a handler that burns CPU
// and allocates (/report: `goscope cpu`, `goscope gc`), one that leaks a
// goroutine per request (/subscribe: `goscope leaks`), a contended mutex
// (/cache: `goscope contention`), a function worth timing
// (main.lockedLookup: `goscope funclat`). /admin/cause?name=lock|backend|none
// switches a cause of slow requests on from outside the handlers, for
// `goscope why` to name.
package main

import (
	"crypto/sha256"
	"flag"
	"fmt"
	"io"
	"log"
	"net"
	"net/http"
	"os"
	"sync"
	"sync/atomic"
	"time"
)

var (
	cacheMu sync.Mutex
	cache   = map[string]int{}
	jobs    = make(chan chan int)
)

// lockedLookup holds a global mutex while it "computes": concurrent
// requests queue on cacheMu (sync.Mutex.Lock / semacquire).
func lockedLookup(key string) int {
	cacheMu.Lock()
	defer cacheMu.Unlock()
	time.Sleep(2 * time.Millisecond)
	cache[key]++
	return cache[key]
}

// worker serves jobs from a small pool: requests wait on the channel.
func worker() {
	for reply := range jobs {
		time.Sleep(3 * time.Millisecond)
		reply <- 42
	}
}

func submitJob() int {
	reply := make(chan int)
	jobs <- reply
	return <-reply
}

// callDownstream makes a request to a slow backend over TCP (IO wait).
func callDownstream(addr string) error {
	c, err := net.Dial("tcp", addr)
	if err != nil {
		return err
	}
	defer c.Close()
	if _, err := c.Write([]byte("ping\n")); err != nil {
		return err
	}
	buf := make([]byte, 16)
	_, err = io.ReadFull(c, buf[:5])
	return err
}

// backendDelayMS is the slow backend's answer time (5 ms; /admin/cause
// switches it).
var backendDelayMS int64 = 5

// slowBackend answers each connection after backendDelayMS.
func slowBackend(l net.Listener) {
	for {
		c, err := l.Accept()
		if err != nil {
			return
		}
		go func(c net.Conn) {
			defer c.Close()
			buf := make([]byte, 5)
			if _, err := io.ReadFull(c, buf); err != nil {
				return
			}
			time.Sleep(time.Duration(atomic.LoadInt64(&backendDelayMS)) * time.Millisecond)
			c.Write([]byte("pong\n"))
		}(c)
	}
}

// renderReport burns CPU (hashing) and allocates (a fresh buffer per
// round): under load it shows in `goscope cpu` and keeps the GC busy.
func renderReport(rounds int) [32]byte {
	var sum [32]byte
	for i := 0; i < rounds; i++ {
		buf := make([]byte, 16<<10)
		copy(buf, sum[:])
		sum = sha256.Sum256(buf)
	}
	return sum
}

// updates is never written: every /subscribe leaves a goroutine parked
// on it for ever (a goroutine leak: `goscope leaks` names the go
// statement in the /subscribe handler).
var updates = make(chan string)

func watchUpdates(id int) {
	for u := range updates {
		_ = fmt.Sprint(id, u)
	}
}

var subscribers int

// pipeReader blocks in read(2) on a pipe that is written rarely: a
// goroutine in a blocking syscall.
func pipeReader(r *os.File) {
	buf := make([]byte, 64)
	for {
		if _, err := r.Read(buf); err != nil {
			return
		}
	}
}

// causeGen ends the cause goroutine of an earlier /admin/cause.
var causeGen int64

// setCause switches one cause of slow requests on, from outside the
// handlers (for `goscope why`): "lock" (a goroutine holds cacheMu 30 ms of
// every 40: /cache waits), "backend" (the backend answers in 40 ms:
// /downstream waits on its socket), "none".
func setCause(name string) string {
	gen := atomic.AddInt64(&causeGen, 1)
	atomic.StoreInt64(&backendDelayMS, 5)
	switch name {
	case "lock":
		go func() {
			for atomic.LoadInt64(&causeGen) == gen {
				cacheMu.Lock()
				time.Sleep(30 * time.Millisecond)
				cacheMu.Unlock()
				time.Sleep(10 * time.Millisecond)
			}
		}()
	case "backend":
		atomic.StoreInt64(&backendDelayMS, 40)
	case "none", "":
		name = "none"
	default:
		return "unknown cause " + name + " (lock, backend, none)"
	}
	return "cause " + name
}

func main() {
	addr := flag.String("addr", "127.0.0.1:8080", "listen address")
	flag.Parse()

	bl, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		log.Fatal(err)
	}
	go slowBackend(bl)
	for i := 0; i < 4; i++ {
		go worker()
	}
	pr, pw, err := os.Pipe()
	if err != nil {
		log.Fatal(err)
	}
	go pipeReader(pr)
	go func() {
		for range time.Tick(time.Second) {
			pw.Write([]byte("tick"))
		}
	}()

	http.HandleFunc("/admin/cause", func(w http.ResponseWriter, r *http.Request) {
		fmt.Fprintln(w, setCause(r.URL.Query().Get("name")))
	})
	http.HandleFunc("/fast", func(w http.ResponseWriter, r *http.Request) {
		fmt.Fprintln(w, "ok")
	})
	http.HandleFunc("/cache", func(w http.ResponseWriter, r *http.Request) {
		fmt.Fprintln(w, lockedLookup(r.URL.Query().Get("k")))
	})
	http.HandleFunc("/job", func(w http.ResponseWriter, r *http.Request) {
		fmt.Fprintln(w, submitJob())
	})
	http.HandleFunc("/downstream", func(w http.ResponseWriter, r *http.Request) {
		if err := callDownstream(bl.Addr().String()); err != nil {
			http.Error(w, err.Error(), 502)
			return
		}
		fmt.Fprintln(w, "ok")
	})
	http.HandleFunc("/sleep", func(w http.ResponseWriter, r *http.Request) {
		time.Sleep(10 * time.Millisecond)
		fmt.Fprintln(w, "ok")
	})
	http.HandleFunc("/report", func(w http.ResponseWriter, r *http.Request) {
		fmt.Fprintf(w, "%x\n", renderReport(40))
	})
	var subMu sync.Mutex
	http.HandleFunc("/subscribe", func(w http.ResponseWriter, r *http.Request) {
		subMu.Lock()
		subscribers++
		id := subscribers
		subMu.Unlock()
		go watchUpdates(id)
		fmt.Fprintln(w, "subscribed", id)
	})
	log.Printf("demo service pid %d listening on %s", os.Getpid(), *addr)
	log.Fatal(http.ListenAndServe(*addr, nil))
}
