// Command leaky leaks goroutines at a known rate at one site and keeps a
// steady pool of parked workers at another, for `goscope leaks`.
//
//	leak: every 100 ms (10 a second) leakOne is started by leakLoop; it
//	      sends its result on a channel nobody will ever read, so it stays
//	      parked in "chan send" for good (the classic abandoned-result leak).
//	pool: 50 workers started by startPool wait on a jobs channel that is
//	      never sent to ("chan receive"): a steady pool, never a suspect.
//
// Stdout: "leaky: pid=N", then "leaky: ready" once the pool is up and the
// leak has started. On SIGUSR1 it prints "leaky: leaked N" (goroutines
// started by leakLoop so far). SIGTERM/SIGINT exit 0.
package main

import (
	"fmt"
	"os"
	"os/signal"
	"sync/atomic"
	"syscall"
	"time"
)

var leaked int64

//go:noinline
func leakOne(id int) {
	result := make(chan int) // abandoned by the caller: nobody receives
	result <- id * 2
}

func leakLoop() {
	t := time.NewTicker(100 * time.Millisecond)
	for i := 0; ; i++ {
		<-t.C
		atomic.AddInt64(&leaked, 1)
		go leakOne(i)
	}
}

//go:noinline
func worker(jobs <-chan int) {
	for j := range jobs {
		_ = j
	}
}

func startPool(n int, jobs chan int) {
	for i := 0; i < n; i++ {
		go worker(jobs)
	}
}

func main() {
	fmt.Printf("leaky: pid=%d\n", os.Getpid())
	jobs := make(chan int)
	startPool(50, jobs)
	go leakLoop()
	sig := make(chan os.Signal, 4)
	signal.Notify(sig, syscall.SIGUSR1, syscall.SIGTERM, syscall.SIGINT)
	time.Sleep(200 * time.Millisecond)
	fmt.Println("leaky: ready")
	for s := range sig {
		if s == syscall.SIGUSR1 {
			fmt.Printf("leaky: leaked %d\n", atomic.LoadInt64(&leaked))
			continue
		}
		os.Exit(0)
	}
}
