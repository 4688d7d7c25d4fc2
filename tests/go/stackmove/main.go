// Command stackmove parks one goroutine on a channel with a stack the
// runtime keeps moving: the goroutine first grows its stack past 1 MB
// (a deep recursion), returns, then parks in main.parkHere with a shallow
// stack; every GC then halves the stack (copystack: a new address, the
// same content) until it fits. One wait, many moves: the truth for
// `goscope offcpu` telling a moved stack from a new wait.
//
// Stdout: "stackmove: ready" once parked. SIGUSR1 starts runtime.GC() in a
// loop (every 20 ms); SIGUSR2 wakes the goroutine, which prints
// "stackmove: woke moved=true|false" (whether the address of a local of
// parkHere changed while it was parked) and "stackmove: gcs N".
// SIGTERM/SIGINT exit 0.
package main

import (
	"fmt"
	"os"
	"os/signal"
	"runtime"
	"sync/atomic"
	"syscall"
	"time"
	"unsafe"
)

//go:noinline
func grow(n int) int {
	var pad [1024]byte
	pad[n%1024] = byte(n)
	if n == 0 {
		return int(pad[0])
	}
	return grow(n-1) + int(pad[n%1024])
}

// parkHere parks on ch and says whether its stack moved meanwhile: the
// address of a local (which stays on the stack: only its address, as an
// integer, leaves the function) is compared before and after.
//
//go:noinline
func parkHere(ch <-chan bool, parked chan<- uintptr) bool {
	var local int
	before := uintptr(unsafe.Pointer(&local))
	parked <- before
	<-ch
	return uintptr(unsafe.Pointer(&local)) != before
}

func main() {
	wake := make(chan bool)
	parked := make(chan uintptr)
	moved := make(chan bool)
	go func() {
		grow(1200) // ~1.2 MB of frames: the stack grows to 2 MB
		moved <- parkHere(wake, parked)
	}()
	<-parked
	fmt.Println("stackmove: ready")
	sig := make(chan os.Signal, 4)
	signal.Notify(sig, syscall.SIGUSR1, syscall.SIGUSR2, syscall.SIGTERM, syscall.SIGINT)
	var gcs int64
	for s := range sig {
		switch s {
		case syscall.SIGUSR1:
			go func() {
				for {
					runtime.GC()
					atomic.AddInt64(&gcs, 1)
					time.Sleep(20 * time.Millisecond)
				}
			}()
		case syscall.SIGUSR2:
			wake <- true
			fmt.Printf("stackmove: woke moved=%v\n", <-moved)
			fmt.Printf("stackmove: gcs %d\n", atomic.LoadInt64(&gcs))
		default:
			os.Exit(0)
		}
	}
}
