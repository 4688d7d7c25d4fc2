// Command syscallrate makes system calls at steady rates, forever, and
// counts them itself, so that the sampled (duty-cycled) default view of
// `goscope syscalls` can be checked against the program's own counts:
//
//	a goroutine locked to its thread loops on: openat(2) of an existing
//	file, close(2), openat(2) of a missing file (ENOENT), and
//	clock_nanosleep(2) of -short-ms (default 1 ms): each made directly
//	with syscall.Syscall6 (the runtime never calls openat of a missing
//	file or clock_nanosleep on its own);
//	a second goroutine loops on pselect6(2) with no descriptors and a
//	timeout of -long-ms (default 300 ms): calls longer than a sampling
//	window.
//
// Stdout: "syscallrate: ready pid=P", then at each SIGUSR1 a snapshot of
// the cumulative counts (calls completed):
//
//	syscallrate: snap n=N openat=A enoent=E close=C clock_nanosleep=S pselect6=P short_p50_us=X long_p50_us=Y
//
// short_p50_us and long_p50_us are the medians of the durations the
// program measured around its clock_nanosleep and pselect6 calls since the
// previous snapshot (monotonic clock, via the vDSO: no system call).
package main

import (
	"flag"
	"fmt"
	"os"
	"os/signal"
	"runtime"
	"sort"
	"sync"
	"sync/atomic"
	"syscall"
	"time"
	"unsafe"
)

var (
	shortMs = flag.Float64("short-ms", 1, "clock_nanosleep length (ms)")
	longMs  = flag.Float64("long-ms", 300, "pselect6 timeout (ms)")
	file    = flag.String("file", "/etc/passwd", "the existing file")
)

var nOpen, nEnoent, nClose, nSleep, nSelect int64

var mu sync.Mutex
var shortDur, longDur []float64

var atFdcwd = -100

func openat(path *byte) (uintptr, syscall.Errno) {
	fd, _, e := syscall.Syscall6(syscall.SYS_OPENAT, uintptr(atFdcwd),
		uintptr(unsafe.Pointer(path)), syscall.O_RDONLY|syscall.O_CLOEXEC, 0, 0, 0)
	return fd, e
}

func record(d *[]float64, us float64) {
	mu.Lock()
	*d = append(*d, us)
	mu.Unlock()
}

func loop() {
	runtime.LockOSThread()
	have, _ := syscall.BytePtrFromString(*file)
	missing, _ := syscall.BytePtrFromString("/nonexistent/syscallrate")
	ts := syscall.NsecToTimespec(int64(*shortMs * 1e6))
	for {
		fd, e := openat(have)
		atomic.AddInt64(&nOpen, 1)
		if e == 0 {
			syscall.Syscall(syscall.SYS_CLOSE, fd, 0, 0)
			atomic.AddInt64(&nClose, 1)
		}
		_, e = openat(missing)
		atomic.AddInt64(&nOpen, 1)
		if e == syscall.ENOENT {
			atomic.AddInt64(&nEnoent, 1)
		}
		t0 := time.Now()
		syscall.Syscall6(syscall.SYS_CLOCK_NANOSLEEP, 1 /* CLOCK_MONOTONIC */, 0,
			uintptr(unsafe.Pointer(&ts)), 0, 0, 0)
		record(&shortDur, float64(time.Since(t0).Nanoseconds())/1e3)
		atomic.AddInt64(&nSleep, 1)
	}
}

func selects() {
	runtime.LockOSThread()
	for {
		ts := syscall.NsecToTimespec(int64(*longMs * 1e6))
		t0 := time.Now()
		syscall.Syscall6(syscall.SYS_PSELECT6, 0, 0, 0, 0, uintptr(unsafe.Pointer(&ts)), 0)
		record(&longDur, float64(time.Since(t0).Nanoseconds())/1e3)
		atomic.AddInt64(&nSelect, 1)
	}
}

func median(v []float64) float64 {
	if len(v) == 0 {
		return 0
	}
	sort.Float64s(v)
	return v[(len(v)-1)/2]
}

func main() {
	flag.Parse()
	sig := make(chan os.Signal, 4)
	signal.Notify(sig, syscall.SIGUSR1)
	go loop()
	go selects()
	fmt.Printf("syscallrate: ready pid=%d\n", os.Getpid())
	n := 0
	for range sig {
		n++
		mu.Lock()
		s, l := median(shortDur), median(longDur)
		shortDur, longDur = shortDur[:0], longDur[:0]
		mu.Unlock()
		fmt.Printf("syscallrate: snap n=%d openat=%d enoent=%d close=%d clock_nanosleep=%d pselect6=%d short_p50_us=%.1f long_p50_us=%.1f\n",
			n, atomic.LoadInt64(&nOpen), atomic.LoadInt64(&nEnoent), atomic.LoadInt64(&nClose),
			atomic.LoadInt64(&nSleep), atomic.LoadInt64(&nSelect), s, l)
	}
}
