// cpuburn: a program whose CPU time is split by design: 60% in main.burnA,
// 20% in main.burnB (main.spinB and main.framed) and 20% in write(2) calls (64 KiB writes to a file on
// tmpfs, so the time is the kernel's copy), on one locked thread. Each
// phase runs until the thread's own CPU time (getrusage RUSAGE_THREAD) has
// advanced by its share of a 10 ms round, so the split holds on a busy
// machine. Prints its pid and "ready", then works until killed.
//
// SIGUSR1 starts a window of -secs seconds: with -prof FILE the program's
// own CPU profile (runtime/pprof) is written to FILE for that window; at
// its end it prints "window burnA A burnB B write W" (CPU seconds each
// phase used in the window, by the thread CPU clock). -hz sets the
// profile's sampling rate. -alloc adds a phase that allocates maps and
// strings (mallocgc, GC mark work on other threads).
package main

import (
	"flag"
	"fmt"
	"os"
	"os/signal"
	"runtime"
	"runtime/pprof"
	"sync/atomic"
	"syscall"
	"time"
	"unsafe"
)

var sink uint64

// threadCPU: this thread's CPU time (CLOCK_THREAD_CPUTIME_ID: exact, where
// getrusage's is rounded to scheduler ticks).
func threadCPU() time.Duration {
	var ts syscall.Timespec
	syscall.RawSyscall(syscall.SYS_CLOCK_GETTIME, 3, uintptr(unsafe.Pointer(&ts)), 0)
	return time.Duration(ts.Nano())
}

//go:noinline
func spinA(n int) {
	x := sink
	for i := 0; i < n; i++ {
		x = x*6364136223846793005 + 1442695040888963407
	}
	sink = x
}

//go:noinline
func spinB(n int) {
	x := sink
	for i := 0; i < n; i++ {
		x ^= x<<13 ^ x>>7 ^ x<<17
	}
	sink = x
}

//go:noinline
func burnA(d time.Duration) time.Duration {
	t0 := threadCPU()
	for {
		spinA(200000)
		if t := threadCPU() - t0; t >= d {
			return t
		}
	}
}

// framed: a small leaf with a frame (SUBQ/MOVQ BP/LEAQ prologue on Go
// <= 1.20), called in a tight loop: many samples land before its frame
// pointer is set up or after it is restored.
//
//go:noinline
func framed(x uint64) uint64 {
	var a [4]uint64
	a[x&3] = x
	return a[0] + a[1] + 1
}

//go:noinline
func burnB(d time.Duration) time.Duration {
	t0 := threadCPU()
	for {
		spinB(100000)
		for k := uint64(0); k < 20000; k++ {
			sink += framed(k)
		}
		if t := threadCPU() - t0; t >= d {
			return t
		}
	}
}

//go:noinline
func writes(f *os.File, buf []byte, d time.Duration) time.Duration {
	t0 := threadCPU()
	for i := 0; ; i++ {
		if i%16 == 0 {
			f.Seek(0, 0)
		}
		f.Write(buf)
		if t := threadCPU() - t0; t >= d {
			return t
		}
	}
}

var keep []map[int]string

//go:noinline
func allocs(d time.Duration) time.Duration {
	t0 := threadCPU()
	for {
		m := make(map[int]string, 64)
		for i := 0; i < 64; i++ {
			m[i] = fmt.Sprint(i)
		}
		keep = append(keep, m)
		if len(keep) > 2000 {
			keep = keep[:0]
		}
		if t := threadCPU() - t0; t >= d {
			return t
		}
	}
}

func main() {
	prof := flag.String("prof", "", "write a CPU profile here on SIGUSR1")
	secs := flag.Float64("secs", 5, "profile this long")
	alloc := flag.Bool("alloc", false, "add a phase that allocates (mallocgc, GC)")
	hz := flag.Int("hz", 100, "the profile's rate (runtime/pprof's default: 100)")
	flag.Parse()
	runtime.LockOSThread()
	f, err := os.CreateTemp("/dev/shm", "cpuburn")
	if err != nil {
		f, err = os.CreateTemp("", "cpuburn")
	}
	if err != nil {
		panic(err)
	}
	os.Remove(f.Name())
	buf := make([]byte, 64<<10)
	var a, b, w atomic.Int64
	usr1 := make(chan os.Signal, 1)
	signal.Notify(usr1, syscall.SIGUSR1)
	go func() {
		for range usr1 {
			var out *os.File
			if *prof != "" {
				out, err = os.Create(*prof)
				if err != nil {
					panic(err)
				}
				if *hz != 100 {
					// StartCPUProfile's own SetCPUProfileRate(100) then
					// complains on stderr and keeps this rate.
					runtime.SetCPUProfileRate(*hz)
				}
				pprof.StartCPUProfile(out)
			}
			a0, b0, w0 := a.Load(), b.Load(), w.Load()
			time.Sleep(time.Duration(*secs * float64(time.Second)))
			a1, b1, w1 := a.Load(), b.Load(), w.Load()
			if out != nil {
				pprof.StopCPUProfile()
				out.Close()
			}
			fmt.Printf("window burnA %.4f burnB %.4f write %.4f\n",
				time.Duration(a1-a0).Seconds(), time.Duration(b1-b0).Seconds(),
				time.Duration(w1-w0).Seconds())
		}
	}()
	fmt.Println(os.Getpid(), "ready")
	for {
		a.Add(int64(burnA(6 * time.Millisecond)))
		b.Add(int64(burnB(2 * time.Millisecond)))
		w.Add(int64(writes(f, buf, 2*time.Millisecond)))
		if *alloc {
			allocs(3 * time.Millisecond)
		}
	}
}
