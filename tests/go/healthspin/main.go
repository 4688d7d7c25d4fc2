// Command healthspin keeps N goroutines busy on the CPU, for the
// run-queue, CFS-throttling and lifecycle tests of goscope health.
//
//	healthspin [-g N] [-for DURATION]
//
// -g goroutines spin in main.spin (default 4; GOMAXPROCS comes from the
// environment, e.g. GOMAXPROCS=4); with -for the program exits by itself
// after DURATION. It prints "healthspin: ready pid P gomaxprocs M" once the
// goroutines run.
package main

import (
	"flag"
	"fmt"
	"os"
	"runtime"
	"sync"
	"time"
)

var sinks [64]uint64

//go:noinline
func spin(i int, started *sync.WaitGroup) {
	started.Done()
	x := uint64(i) + 1
	for {
		for j := 0; j < 1<<20; j++ {
			x = x*6364136223846793005 + 1442695040888963407
		}
		sinks[i%len(sinks)] = x
	}
}

func main() {
	n := flag.Int("g", 4, "spinning goroutines")
	d := flag.Duration("for", 0, "exit after this long (0: never)")
	flag.Parse()
	var started sync.WaitGroup
	started.Add(*n)
	for i := 0; i < *n; i++ {
		go spin(i, &started)
	}
	started.Wait()
	fmt.Printf("healthspin: ready pid %d gomaxprocs %d\n", os.Getpid(), runtime.GOMAXPROCS(0))
	if *d > 0 {
		time.Sleep(*d)
		fmt.Println("healthspin: exiting")
		return
	}
	select {}
}
