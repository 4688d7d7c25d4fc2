// Command blockers parks goroutines in distinct, well-known places and runs
// until killed, so that goscope's views of a live Go process (symbolization
// now, off-CPU and goroutine states later) can be checked against the
// runtime's own traceback (GOTRACEBACK=system + SIGQUIT).
//
// Each blocker runs in its own goroutine, in a function named block*, and
// reaches its blocking call through a small helper the compiler inlines, so
// tracebacks carry inlined frames:
//
//	blockChanRecv  chan receive        runtime.chanrecv1
//	blockSelect    select              runtime.selectgo
//	blockMutex     sync.Mutex.Lock     (main holds the lock)
//	blockSleep     sleep               time.Sleep
//	blockNetRead   IO wait             (*net.TCPConn).Read on loopback, peer silent
//	blockPipeRead  syscall             read(2) on a blocking pipe (thread in the kernel)
//
// With -tags goscope_cgo, cgo.go adds blockCgoSleep: a goroutine in a C
// function (usleep loop).
//
// Stdout: "blockers: pid=N" at start, then "blockers: ready" once every
// blocker is seen parked in its block* function (checked with
// runtime.Stack, so tests need no sleeps). SIGTERM/SIGINT exit 0; SIGQUIT
// keeps Go's default (dump all goroutines and exit 2).
package main

import (
	"bytes"
	"flag"
	"fmt"
	"net"
	"os"
	"os/signal"
	"runtime"
	"strings"
	"sync"
	"syscall"
	"time"
)

// A blocker parks its goroutine forever; start() returns once it is running.
type blocker struct {
	name string // function the goroutine parks in ("main." + name)
	run  func()
}

var (
	mu       sync.Mutex
	neverCh  = make(chan int)
	neverCh2 = make(chan string)
	sink     int
)

// Helpers small enough to be inlined into their block* caller.

func recvOne(ch chan int) int { return <-ch }

func sleepLong() { time.Sleep(time.Hour) }

func lockIt(m *sync.Mutex) { m.Lock() }

//go:noinline
func blockChanRecv() {
	for {
		sink += recvOne(neverCh)
	}
}

//go:noinline
func blockSelect() {
	for {
		select {
		case v := <-neverCh:
			sink += v
		case s := <-neverCh2:
			sink += len(s)
		}
	}
}

//go:noinline
func blockMutex() {
	lockIt(&mu)
	sink++
	mu.Unlock()
}

//go:noinline
func blockSleep() {
	for {
		sleepLong()
	}
}

// blockNetRead connects to a loopback listener whose accepted side never
// writes, and reads.
//
//go:noinline
func blockNetRead(ln net.Listener) {
	c, err := net.Dial("tcp", ln.Addr().String())
	if err != nil {
		fatal("dial: %v", err)
	}
	buf := make([]byte, 64)
	for {
		n, err := c.Read(buf)
		if err != nil {
			fatal("read: %v", err)
		}
		sink += n
	}
}

// blockPipeRead reads a pipe nobody writes, with a plain blocking read(2):
// the goroutine is in a syscall and its thread sleeps in the kernel (unlike
// os.Pipe, whose reads park on the netpoller).
//
//go:noinline
func blockPipeRead(fd int) {
	buf := make([]byte, 64)
	for {
		n, err := syscall.Read(fd, buf)
		if err != nil && err != syscall.EINTR {
			fatal("pipe read: %v", err)
		}
		sink += n
	}
}

// extraBlockers is filled by optional files (cgo.go).
var extraBlockers []blocker

func fatal(format string, args ...interface{}) {
	fmt.Fprintf(os.Stderr, "blockers: "+format+"\n", args...)
	os.Exit(1)
}

// parked reports whether every blocker's function appears in some
// goroutine of STACKS that is neither running nor runnable.
func parked(stacks []byte, names []string) bool {
	for _, name := range names {
		found := false
		for _, g := range bytes.Split(stacks, []byte("\n\n")) {
			hdr := g
			if i := bytes.IndexByte(g, '\n'); i >= 0 {
				hdr = g[:i]
			}
			if bytes.Contains(hdr, []byte("[running]")) ||
				bytes.Contains(hdr, []byte("[runnable]")) {
				continue
			}
			if bytes.Contains(g, []byte("\nmain."+name+"(")) {
				found = true
				break
			}
		}
		if !found {
			return false
		}
	}
	return true
}

func main() {
	timeout := flag.Duration("ready-timeout", 30*time.Second,
		"give up if the blockers are not all parked by then")
	flag.Parse()

	fmt.Printf("blockers: pid=%d\n", os.Getpid())

	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		fatal("listen: %v", err)
	}
	var held []net.Conn // accepted conns, kept open and silent
	var heldMu sync.Mutex
	go func() {
		for {
			c, err := ln.Accept()
			if err != nil {
				return
			}
			heldMu.Lock()
			held = append(held, c)
			heldMu.Unlock()
		}
	}()

	var p [2]int
	if err := syscall.Pipe2(p[:], syscall.O_CLOEXEC); err != nil {
		fatal("pipe: %v", err)
	}

	mu.Lock() // held forever: blockMutex waits on it
	all := []blocker{
		{"blockChanRecv", blockChanRecv},
		{"blockSelect", blockSelect},
		{"blockMutex", blockMutex},
		{"blockSleep", blockSleep},
		{"blockNetRead", func() { blockNetRead(ln) }},
		{"blockPipeRead", func() { blockPipeRead(p[0]) }},
	}
	all = append(all, extraBlockers...)
	var names []string
	for _, b := range all {
		go b.run()
		names = append(names, b.name)
	}

	buf := make([]byte, 1<<20)
	deadline := time.Now().Add(*timeout)
	for !parked(buf[:runtime.Stack(buf, true)], names) {
		if time.Now().After(deadline) {
			fatal("not all of %s parked after %v", strings.Join(names, ", "), *timeout)
		}
		time.Sleep(5 * time.Millisecond)
	}
	fmt.Println("blockers: ready")

	sig := make(chan os.Signal, 1)
	signal.Notify(sig, syscall.SIGTERM, syscall.SIGINT)
	<-sig
	syscall.Close(p[1])
	os.Exit(0)
}
