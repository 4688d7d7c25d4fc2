// execer: a Go program that replaces itself with exec, for goscope's exec
// detection. `execer one SECS NEXT` parks a goroutine in phaseOneWait,
// then after SECS seconds execs NEXT: "two" (this program again, a new
// image: a goroutine in phaseTwoWait, and 100 openat calls a second) or
// "sleep" (/bin/sleep 30, not a Go program).
package main

import (
	"fmt"
	"os"
	"strconv"
	"syscall"
	"time"
)

//go:noinline
func phaseOneWait(c chan int) { <-c }

//go:noinline
func phaseTwoWait() {
	for {
		time.Sleep(50 * time.Millisecond)
	}
}

func main() {
	if len(os.Args) > 1 && os.Args[1] == "two" {
		go phaseTwoWait()
		fmt.Println("execer: two ready")
		for {
			f, err := os.Open("/dev/null")
			if err == nil {
				f.Close()
			}
			time.Sleep(10 * time.Millisecond)
		}
	}
	if len(os.Args) < 4 {
		fmt.Fprintln(os.Stderr, "usage: execer one SECS two|sleep")
		os.Exit(2)
	}
	secs, _ := strconv.ParseFloat(os.Args[2], 64)
	go phaseOneWait(make(chan int))
	fmt.Println("execer: one ready")
	time.Sleep(time.Duration(secs * float64(time.Second)))
	var err error
	if os.Args[3] == "sleep" {
		err = syscall.Exec("/bin/sleep", []string{"sleep", "30"}, os.Environ())
	} else {
		exe, _ := os.Executable()
		err = syscall.Exec(exe, []string{os.Args[0], "two"}, os.Environ())
	}
	fmt.Fprintln(os.Stderr, "exec:", err)
	os.Exit(1)
}
