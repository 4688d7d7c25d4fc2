// Command contend makes known contention for `goscope contention` and
// measures it itself.
//
//	hot:   8 goroutines (contender) loop { hotMu.Lock(); hold ~5 ms
//	       (time.Sleep); hotMu.Unlock() }: about 7 of them wait at any time.
//	cold:  one goroutine locks and unlocks coldMu every millisecond:
//	       never contended.
//	full:  a channel of capacity 3 holding 3 values, and 4 goroutines
//	       (sender) blocked sending to it for good.
//	rw:    rwWriter holds rw for writing 50 ms at a time (1 ms apart);
//	       2 readers (rwReader) RLock it in a loop: they wait on it.
//	wg:    wg.Add(1) never done; one goroutine (wgWaiter) in wg.Wait().
//	cond:  3 goroutines (condWaiter) in cond.Wait(), never signalled.
//
// Each goroutine times its own waits (hotMu.Lock, the send) with the
// monotonic clock. Stdout: "contend: pid=N", "contend: ready"; on SIGUSR1
// one line "contend: truth {JSON}" with mono_ns and, per pattern, the
// total wait so far in ns (waits in progress included): hot_ns, chan_ns,
// and hot_n (Lock calls completed). SIGTERM/SIGINT exit 0.
package main

import (
	"encoding/json"
	"fmt"
	"os"
	"os/signal"
	"sync"
	"sync/atomic"
	"syscall"
	"time"
)

var (
	hotMu  sync.Mutex
	coldMu sync.Mutex
	rw     sync.RWMutex
	wg     sync.WaitGroup
	condMu sync.Mutex
	cond   = sync.NewCond(&condMu)
	start  = time.Now()
)

// waiter keeps one goroutine's total wait and the start of the current one.
type waiter struct {
	total int64 // ns, completed waits
	since int64 // ns since start when the current wait began, 0 if none
	n     int64
}

func now() int64 { return int64(time.Since(start)) }

func (w *waiter) begin() { atomic.StoreInt64(&w.since, now()) }

func (w *waiter) end() {
	d := now() - atomic.LoadInt64(&w.since)
	atomic.AddInt64(&w.total, d)
	atomic.StoreInt64(&w.since, 0)
	atomic.AddInt64(&w.n, 1)
}

// sum: completed waits plus those in progress at T.
func sum(ws []*waiter, t int64) (int64, int64) {
	var s, n int64
	for _, w := range ws {
		s += atomic.LoadInt64(&w.total)
		if b := atomic.LoadInt64(&w.since); b != 0 && t > b {
			s += t - b
		}
		n += atomic.LoadInt64(&w.n)
	}
	return s, n
}

//go:noinline
func contender(w *waiter) {
	for {
		w.begin()
		hotMu.Lock()
		w.end()
		time.Sleep(5 * time.Millisecond)
		hotMu.Unlock()
	}
}

//go:noinline
func coldLoop() {
	for {
		coldMu.Lock()
		coldMu.Unlock()
		time.Sleep(time.Millisecond)
	}
}

//go:noinline
func sender(ch chan int, i int, w *waiter) {
	w.begin()
	ch <- i // the channel is full and nobody receives
	w.end()
}

//go:noinline
func rwWriter() {
	for {
		rw.Lock()
		time.Sleep(50 * time.Millisecond)
		rw.Unlock()
		time.Sleep(time.Millisecond)
	}
}

//go:noinline
func rwReader() {
	for {
		rw.RLock()
		rw.RUnlock()
		time.Sleep(time.Millisecond)
	}
}

//go:noinline
func wgWaiter() {
	wg.Wait()
}

//go:noinline
func condWaiter() {
	condMu.Lock()
	cond.Wait()
	condMu.Unlock()
}

func main() {
	fmt.Printf("contend: pid=%d\n", os.Getpid())
	hot := make([]*waiter, 8)
	for i := range hot {
		hot[i] = &waiter{}
		go contender(hot[i])
	}
	go coldLoop()
	go rwWriter()
	go rwReader()
	go rwReader()
	wg.Add(1)
	go wgWaiter()
	for i := 0; i < 3; i++ {
		go condWaiter()
	}
	full := make(chan int, 3)
	for i := 0; i < 3; i++ {
		full <- i
	}
	snd := make([]*waiter, 4)
	for i := range snd {
		snd[i] = &waiter{}
		go sender(full, i, snd[i])
	}
	sig := make(chan os.Signal, 4)
	signal.Notify(sig, syscall.SIGUSR1, syscall.SIGTERM, syscall.SIGINT)
	time.Sleep(300 * time.Millisecond)
	fmt.Println("contend: ready")
	seq := 0
	for s := range sig {
		if s != syscall.SIGUSR1 {
			os.Exit(0)
		}
		seq++
		t := now()
		h, hn := sum(hot, t)
		c, _ := sum(snd, t)
		b, _ := json.Marshal(map[string]int64{"seq": int64(seq), "mono_ns": t,
			"hot_ns": h, "hot_n": hn, "chan_ns": c, "chan_cap": int64(cap(full)),
			"chan_len": int64(len(full))})
		fmt.Printf("contend: truth %s\n", b)
	}
}
