// Command manyg parks N goroutines (default 100000) on a channel and
// waits: the load for measuring what a goroutine snapshot costs at scale.
// Stdout: "manyg: ready N" once all are parked. SIGTERM/SIGINT exit 0.
package main

import (
	"fmt"
	"os"
	"os/signal"
	"strconv"
	"sync"
	"syscall"
)

//go:noinline
func park(ch <-chan bool, wg *sync.WaitGroup) {
	wg.Done()
	<-ch
}

func main() {
	n := 100000
	if len(os.Args) > 1 {
		v, err := strconv.Atoi(os.Args[1])
		if err != nil || v < 1 {
			fmt.Fprintln(os.Stderr, "usage: manyg [N]")
			os.Exit(2)
		}
		n = v
	}
	ch := make(chan bool)
	var wg sync.WaitGroup
	wg.Add(n)
	for i := 0; i < n; i++ {
		go park(ch, &wg)
	}
	wg.Wait()
	fmt.Printf("manyg: ready %d\n", n)
	sig := make(chan os.Signal, 1)
	signal.Notify(sig, syscall.SIGTERM, syscall.SIGINT)
	<-sig
}
