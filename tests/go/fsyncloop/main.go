// Command fsyncloop writes a block to a file and fsyncs it, in a loop, in
// one goroutine that times every fsync itself: the truth for the time
// `goscope offcpu` attributes to [syscall: fsync].
//
// Usage: fsyncloop DIR (a directory on a disk file system: tmpfs makes
// fsync free). Stdout: "fsyncloop: ready" once the loop runs; on SIGUSR1
// one line "fsyncloop: truth {JSON}" with seq (1, 2, ...), mono_ns
// (monotonic ns since start), fsync_ns (time inside f.Sync so far, the
// call in progress included) and fsync_n (calls completed). SIGTERM/SIGINT
// remove the file and exit 0.
package main

import (
	"encoding/json"
	"fmt"
	"os"
	"os/signal"
	"path/filepath"
	"sync"
	"syscall"
	"time"
)

var start = time.Now()

type meter struct {
	mu    sync.Mutex
	total time.Duration
	n     int64
	since time.Time
	in    bool
}

func (m *meter) begin() {
	m.mu.Lock()
	m.since, m.in = time.Now(), true
	m.mu.Unlock()
}

func (m *meter) end() {
	m.mu.Lock()
	m.total += time.Since(m.since)
	m.n++
	m.in = false
	m.mu.Unlock()
}

func (m *meter) read() (time.Duration, int64) {
	m.mu.Lock()
	defer m.mu.Unlock()
	t := m.total
	if m.in {
		t += time.Since(m.since)
	}
	return t, m.n
}

var fsyncs meter

//go:noinline
func syncOnce(f *os.File) {
	fsyncs.begin()
	if err := f.Sync(); err != nil {
		fmt.Fprintln(os.Stderr, "fsyncloop:", err)
		os.Exit(1)
	}
	fsyncs.end()
}

//go:noinline
func fsyncLoop(f *os.File, ready chan<- bool) {
	block := make([]byte, 4096)
	for i := 0; ; i++ {
		block[0] = byte(i)
		if _, err := f.WriteAt(block, int64(i%256)*4096); err != nil {
			fmt.Fprintln(os.Stderr, "fsyncloop:", err)
			os.Exit(1)
		}
		syncOnce(f)
		if i == 0 {
			ready <- true
		}
	}
}

func main() {
	if len(os.Args) != 2 {
		fmt.Fprintln(os.Stderr, "usage: fsyncloop DIR")
		os.Exit(2)
	}
	path := filepath.Join(os.Args[1], fmt.Sprintf("fsyncloop.%d", os.Getpid()))
	f, err := os.OpenFile(path, os.O_CREATE|os.O_RDWR|os.O_TRUNC, 0o600)
	if err != nil {
		fmt.Fprintln(os.Stderr, "fsyncloop:", err)
		os.Exit(1)
	}
	sig := make(chan os.Signal, 4)
	signal.Notify(sig, syscall.SIGUSR1, syscall.SIGTERM, syscall.SIGINT)
	ready := make(chan bool)
	go fsyncLoop(f, ready)
	<-ready
	fmt.Println("fsyncloop: ready")
	seq := 0
	for s := range sig {
		if s != syscall.SIGUSR1 {
			os.Remove(path)
			os.Exit(0)
		}
		seq++
		t, n := fsyncs.read()
		b, _ := json.Marshal(map[string]int64{"seq": int64(seq),
			"mono_ns": int64(time.Since(start)), "fsync_ns": int64(t), "fsync_n": n})
		fmt.Printf("fsyncloop: truth %s\n", b)
	}
}
