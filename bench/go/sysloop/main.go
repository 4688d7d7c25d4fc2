// Command sysloop measures what one system call costs its own thread: in
// rounds, getppid(2) -n times from one goroutine locked to its thread, and
// the thread's on-CPU time around them (/proc/thread-self/schedstat, ns,
// the scheduler's exact accounting: time the thread waits for a CPU on a
// busy machine is not in it). Prints one line per round:
//
//	sysloop: ns_per_call=N
//
// A tracer's per-call cost on the traced thread (tracepoint slow path and
// BPF programs run in the thread's own syscall path) is the difference
// between the traced and the untraced figures.
package main

import (
	"bytes"
	"flag"
	"fmt"
	"os"
	"runtime"
	"strconv"
	"syscall"
)

func oncpu() int64 {
	b, err := os.ReadFile("/proc/thread-self/schedstat")
	if err != nil {
		panic(err)
	}
	f := bytes.Fields(b)
	v, err := strconv.ParseInt(string(f[0]), 10, 64)
	if err != nil {
		panic(err)
	}
	return v
}

func main() {
	n := flag.Int("n", 200000, "calls per round")
	flag.Parse()
	runtime.LockOSThread()
	for {
		t0 := oncpu()
		for i := 0; i < *n; i++ {
			syscall.RawSyscall(syscall.SYS_GETPPID, 0, 0, 0)
		}
		t1 := oncpu()
		fmt.Printf("sysloop: ns_per_call=%.1f\n", float64(t1-t0)/float64(*n))
	}
}
