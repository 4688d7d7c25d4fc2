// Command periodic runs goroutines that block for a known share of their
// time and measures that share itself, so that the time `goscope offcpu`
// attributes to each blocking call can be checked against the truth.
//
// Patterns (each blocking call is a function of its own, never inlined; the
// program times every call to it with the wall clock):
//
//	sleep   sleepLoop:   { waitSleep: time.Sleep(~40ms); spin ~10 ms }  ~80% blocked
//	chan    chanLoop:    { waitChan: <-ch }, ch fed every 100 ms         ~100% blocked
//	mutex   mutexLoop:   { mu.TryLock() or waitMutex: mu.Lock(); mu.Unlock(); spin 2 ms }
//	        while holdLoop holds mu ~30 ms out of every ~60 ms          ~50% blocked
//	hold    holdLoop:    { mu.Lock(); holdSleep: time.Sleep(~30ms); mu.Unlock();
//	rest                   restSleep: time.Sleep(~30ms) }               ~50% each
//
// holdSleep and restSleep are twins: the holder parks in time.Sleep at the
// same pc and stack pointer in both, only the caller differs, and it runs
// for microseconds between them.
//
// The durations marked ~ are drawn uniformly from +-25% around the value,
// so that the patterns do not stay in phase with a sampler's period. Every
// other call to waitSleep and waitMutex goes through one more frame
// (sleepVia, mutexVia), so that two consecutive waits never park at the
// same stack pointer: a sampler that misses the short run between them
// still sees two waits, not one long one.
//
// Stdout: "periodic: pid=N", then "periodic: goids {JSON}" (the goroutine
// id of each loop, and of holdLoop and the feeder), then "periodic: ready".
// On SIGUSR1 it prints one line "periodic: truth {JSON}" with
// seq (1, 2, ...), mono_ns (monotonic ns since start) and, per pattern,
// the blocked ns so far (the call in progress included) and the number of
// calls completed: {"sleep_ns":..,"sleep_n":..,"chan_ns":.., ...}.
// SIGTERM/SIGINT exit 0.
package main

import (
	"bytes"
	"encoding/json"
	"fmt"
	"math/rand"
	"os"
	"os/signal"
	"runtime"
	"strconv"
	"sync"
	"syscall"
	"time"
)

var start = time.Now()

// meter accumulates the time spent inside one kind of blocking call.
type meter struct {
	mu    sync.Mutex
	total time.Duration
	n     int64
	since time.Time
	in    bool
}

func (m *meter) begin() {
	now := time.Now()
	m.mu.Lock()
	m.since, m.in = now, true
	m.mu.Unlock()
}

func (m *meter) end() {
	now := time.Now()
	m.mu.Lock()
	m.total += now.Sub(m.since)
	m.n++
	m.in = false
	m.mu.Unlock()
}

func (m *meter) read(now time.Time) (time.Duration, int64) {
	m.mu.Lock()
	defer m.mu.Unlock()
	t := m.total
	if m.in {
		t += now.Sub(m.since)
	}
	return t, m.n
}

var (
	sleepM, chanM, mutexM meter
	holdM, restM          meter
	mu                    sync.Mutex
	ch                    = make(chan int)
	sink                  int
)

// spin keeps the CPU busy for d of wall time.
//
//go:noinline
func spin(d time.Duration) int {
	x := 0
	end := time.Now().Add(d)
	for time.Now().Before(end) {
		for i := 0; i < 1000; i++ {
			x += i
		}
	}
	return x
}

// about returns d +- 25%, uniformly.
func about(d time.Duration) time.Duration {
	return d*3/4 + time.Duration(rand.Int63n(int64(d/2)+1))
}

//go:noinline
func waitSleep(d time.Duration) { time.Sleep(d) }

//go:noinline
func sleepVia(d time.Duration) { waitSleep(d) }

//go:noinline
func waitChan() int { return <-ch }

//go:noinline
func waitMutex() { mu.Lock() }

//go:noinline
func mutexVia() { waitMutex() }

//go:noinline
func holdSleep(d time.Duration) { time.Sleep(d) }

//go:noinline
func restSleep(d time.Duration) { time.Sleep(d) }

func goid() int64 {
	buf := make([]byte, 64)
	buf = buf[:runtime.Stack(buf, false)]
	buf = bytes.TrimPrefix(buf, []byte("goroutine "))
	if i := bytes.IndexByte(buf, ' '); i > 0 {
		n, _ := strconv.ParseInt(string(buf[:i]), 10, 64)
		return n
	}
	return -1
}

type idmsg struct {
	name string
	id   int64
}

//go:noinline
func sleepLoop(ids chan<- idmsg) {
	ids <- idmsg{"sleep", goid()}
	for i := 0; ; i++ {
		sleepM.begin()
		if i%2 == 0 {
			waitSleep(about(40 * time.Millisecond))
		} else {
			sleepVia(about(40 * time.Millisecond))
		}
		sleepM.end()
		spin(about(10 * time.Millisecond))
	}
}

//go:noinline
func chanLoop(ids chan<- idmsg) {
	ids <- idmsg{"chan", goid()}
	for {
		chanM.begin()
		sink += waitChan()
		chanM.end()
	}
}

//go:noinline
func feedLoop(ids chan<- idmsg) {
	ids <- idmsg{"feeder", goid()}
	t := time.NewTicker(100 * time.Millisecond)
	for range t.C {
		ch <- 1
	}
}

//go:noinline
func holdLoop(ids chan<- idmsg) {
	ids <- idmsg{"holder", goid()}
	for {
		mu.Lock()
		holdM.begin()
		holdSleep(about(30 * time.Millisecond))
		holdM.end()
		mu.Unlock()
		restM.begin()
		restSleep(about(30 * time.Millisecond))
		restM.end()
	}
}

//go:noinline
func mutexLoop(ids chan<- idmsg) {
	ids <- idmsg{"mutex", goid()}
	for i := 0; ; {
		if !mu.TryLock() {
			// Held: this call blocks. Alternate the path per blocking call.
			mutexM.begin()
			if i%2 == 0 {
				waitMutex()
			} else {
				mutexVia()
			}
			mutexM.end()
			i++
		}
		mu.Unlock()
		spin(2 * time.Millisecond)
	}
}

func main() {
	fmt.Printf("periodic: pid=%d\n", os.Getpid())
	rand.Seed(time.Now().UnixNano())
	sig := make(chan os.Signal, 4)
	signal.Notify(sig, syscall.SIGUSR1, syscall.SIGTERM, syscall.SIGINT)

	ids := make(chan idmsg)
	loops := []func(chan<- idmsg){sleepLoop, chanLoop, feedLoop, holdLoop, mutexLoop}
	for _, l := range loops {
		go l(ids)
	}
	goids := map[string]int64{}
	for range loops {
		m := <-ids
		goids[m.name] = m.id
	}
	b, _ := json.Marshal(goids)
	fmt.Printf("periodic: goids %s\n", b)
	fmt.Println("periodic: ready")

	seq := 0
	for s := range sig {
		if s != syscall.SIGUSR1 {
			os.Exit(0)
		}
		seq++
		now := time.Now()
		out := map[string]int64{"seq": int64(seq), "mono_ns": int64(now.Sub(start))}
		for name, m := range map[string]*meter{"sleep": &sleepM, "chan": &chanM,
			"mutex": &mutexM, "hold": &holdM, "rest": &restM} {
			t, n := m.read(now)
			out[name+"_ns"] = int64(t)
			out[name+"_n"] = n
		}
		b, _ := json.Marshal(out)
		fmt.Printf("periodic: truth %s\n", b)
	}
}
