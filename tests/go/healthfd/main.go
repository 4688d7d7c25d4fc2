// Command healthfd opens file descriptors at a known rate, for
// tests/e2e/test_health_fds.sh.
//
//	healthfd -mode leak   opens /dev/null every 20 ms and keeps it (50 fds/s,
//	                      on a wall-clock schedule: a late tick is caught up)
//	healthfd -mode churn  opens /dev/null every 20 ms and closes it at once:
//	                      the count stays flat
//
// SIGUSR1 pauses the leak (prints "healthfd: paused open N") and resumes it
// on the next SIGUSR1 ("healthfd: resumed").
package main

import (
	"flag"
	"fmt"
	"os"
	"os/signal"
	"syscall"
	"time"
)

const every = 20 * time.Millisecond

var kept []*os.File

// leakOne opens /dev/null and keeps it: the leak.
//
//go:noinline
func leakOne() {
	f, err := os.Open("/dev/null")
	if err != nil {
		fmt.Fprintf(os.Stderr, "healthfd: %v\n", err)
		os.Exit(1)
	}
	kept = append(kept, f)
}

func churnOne() {
	f, err := os.Open("/dev/null")
	if err != nil {
		fmt.Fprintf(os.Stderr, "healthfd: %v\n", err)
		os.Exit(1)
	}
	f.Close()
}

func main() {
	mode := flag.String("mode", "leak", "leak or churn")
	flag.Parse()
	if *mode != "leak" && *mode != "churn" {
		fmt.Fprintf(os.Stderr, "healthfd: unknown mode %q\n", *mode)
		os.Exit(2)
	}
	sig := make(chan os.Signal, 4)
	signal.Notify(sig, syscall.SIGUSR1)
	fmt.Printf("healthfd: ready pid %d mode %s\n", os.Getpid(), *mode)
	paused := false
	start, n := time.Now(), 0
	for {
		select {
		case <-sig:
			paused = !paused
			if paused {
				fmt.Printf("healthfd: paused open %d\n", len(kept))
			} else {
				start, n = time.Now(), 0
				fmt.Println("healthfd: resumed")
			}
			continue
		case <-time.After(time.Until(start.Add(time.Duration(n+1) * every))):
		}
		if paused {
			start, n = time.Now(), 0
			continue
		}
		// every tick due by now (a late wake-up catches up)
		for due := int(time.Since(start) / every); n < due; n++ {
			if *mode == "leak" {
				leakOne()
			} else {
				churnOne()
			}
		}
	}
}
