// Command opener opens and closes one temporary file at a fixed rate, and
// counts its own opens, so that a tracer's openat(2) rate can be checked
// against the program's own count.
//
// A ticker paces the work; each tick catches up to rate * elapsed time
// since the start (a late tick does the opens it owes), so that the average
// rate is exact even when the machine is busy. Each open is one os.Open
// (one openat(2) on Linux) and one Close.
//
// Stdout: "opener: pid=N" at start, then once a second
// "opener: t=UNIX_SECONDS opens=N" (opens completed at that wall time).
// SIGTERM/SIGINT exit 0.
package main

import (
	"flag"
	"fmt"
	"os"
	"os/signal"
	"syscall"
	"time"
)

func main() {
	rate := flag.Float64("rate", 100, "opens per second")
	flag.Parse()
	if *rate <= 0 || *rate > 100000 {
		fmt.Fprintln(os.Stderr, "opener: -rate wants 0 < rate <= 100000")
		os.Exit(2)
	}

	f, err := os.CreateTemp("", "opener-*")
	if err != nil {
		fmt.Fprintln(os.Stderr, "opener:", err)
		os.Exit(1)
	}
	path := f.Name()
	f.Close()
	defer os.Remove(path)

	fmt.Printf("opener: pid=%d\n", os.Getpid())

	sig := make(chan os.Signal, 1)
	signal.Notify(sig, syscall.SIGTERM, syscall.SIGINT)

	period := time.Duration(float64(time.Second) / *rate)
	if period < time.Millisecond {
		period = time.Millisecond
	}
	tick := time.NewTicker(period)
	report := time.NewTicker(time.Second)
	start := time.Now()
	var opens int64
	for {
		select {
		case <-sig:
			os.Remove(path)
			os.Exit(0)
		case <-report.C:
			fmt.Printf("opener: t=%.3f opens=%d\n",
				float64(time.Now().UnixNano())/1e9, opens)
		case <-tick.C:
			due := int64(time.Since(start).Seconds() * *rate)
			for opens < due {
				g, err := os.Open(path)
				if err != nil {
					fmt.Fprintln(os.Stderr, "opener:", err)
					os.Exit(1)
				}
				g.Close()
				opens++
			}
		}
	}
}
