// gcload: a Go program that keeps the garbage collector busy, for the
// `goscope gc` tests.
//
// Workers allocate garbage at two sites in a known byte ratio:
// main.allocA makes 3 blocks for every block main.allocB makes (same size),
// so 75% of the sampled allocation bytes are under allocA. A live set of
// -live MB is kept (replaced piecewise) so each cycle marks real work. With
// a small GOGC (set by the test) the program collects tens of times a
// second and its workers are drafted into mark assists. It prints
// "gcload: ready" once running, and on SIGUSR1 writes a runtime/pprof heap
// profile to -heapprof (if given) and prints "gcload: heapprof written".
// With -memstats D it calls runtime.ReadMemStats (a stop-the-world pause
// "read mem stats") every D and prints the number of calls made so far
// on SIGUSR2 ("gcload: memstats N").
package main

import (
	"flag"
	"fmt"
	"os"
	"os/signal"
	"runtime"
	"runtime/pprof"
	"sync"
	"sync/atomic"
	"syscall"
	"time"
	"unsafe"
)

var sink [64][]byte
var sinkMu sync.Mutex

//go:noinline
func allocA(n int) []byte { return make([]byte, n) }

//go:noinline
func allocB(n int) []byte { return make([]byte, n) }

// worker allocates blocks of size bytes: 3 at allocA, 1 at allocB, and
// keeps one in sink now and then so garbage and live data mix.
func worker(id, size int, pause time.Duration) {
	for i := 0; ; i++ {
		var b []byte
		if i%4 == 3 {
			b = allocB(size)
		} else {
			b = allocA(size)
		}
		b[0] = byte(i)
		if i%64 == 0 {
			sinkMu.Lock()
			sink[(id*7+i/64)%len(sink)] = b
			sinkMu.Unlock()
		}
		if pause > 0 && i%256 == 0 {
			time.Sleep(pause)
		}
	}
}

// monotonic: CLOCK_MONOTONIC in ns, the clock goscope's timestamps use.
func monotonic() int64 {
	var ts syscall.Timespec
	syscall.Syscall(syscall.SYS_CLOCK_GETTIME, 1, uintptr(unsafe.Pointer(&ts)), 0)
	return ts.Nano()
}

func main() {
	workers := flag.Int("workers", 2, "allocating goroutines")
	size := flag.Int("size", 8192, "bytes per block")
	live := flag.Int("live", 8, "live heap to keep, MB")
	pause := flag.Duration("pause", 0, "sleep every 256 blocks (slows the GC rate)")
	heapprof := flag.String("heapprof", "", "write a heap profile here on SIGUSR1")
	memstats := flag.Duration("memstats", 0, "call runtime.ReadMemStats this often")
	memlog := flag.Bool("memlog", false, "print each ReadMemStats call's CLOCK_MONOTONIC start and end")
	flag.Parse()

	var nmemstats int64
	if *memstats > 0 {
		go func() {
			var ms runtime.MemStats
			for {
				time.Sleep(*memstats)
				t0 := monotonic()
				runtime.ReadMemStats(&ms)
				t1 := monotonic()
				n := atomic.AddInt64(&nmemstats, 1)
				if *memlog {
					fmt.Printf("gcload: readmemstats %d %d %d\n", n, t0, t1)
				}
			}
		}()
	}
	usr2 := make(chan os.Signal, 1)
	signal.Notify(usr2, syscall.SIGUSR2)
	go func() {
		for range usr2 {
			fmt.Printf("gcload: memstats %d\n", atomic.LoadInt64(&nmemstats))
		}
	}()

	keep := make([][]byte, *live)
	for i := range keep {
		keep[i] = make([]byte, 1<<20)
	}
	for w := 0; w < *workers; w++ {
		go worker(w, *size, *pause)
	}
	sig := make(chan os.Signal, 1)
	signal.Notify(sig, syscall.SIGUSR1)
	fmt.Printf("gcload: ready pid %d\n", os.Getpid())
	for range sig {
		if *heapprof == "" {
			continue
		}
		f, err := os.Create(*heapprof)
		if err == nil {
			runtime.GC()
			err = pprof.Lookup("allocs").WriteTo(f, 0)
			f.Close()
		}
		if err != nil {
			fmt.Printf("gcload: heapprof error %v\n", err)
		} else {
			fmt.Printf("gcload: heapprof written\n")
		}
		runtime.KeepAlive(keep)
	}
}
