// Command syscalldiet makes a known set of system calls, from one goroutine
// locked to one thread, so that `goscope syscalls` can be checked against
// exact truths: it prints its own pid, goroutine id (from the "goroutine N"
// header of runtime.Stack) and thread id (gettid) and, when triggered, does
// exactly:
//
//	doOpens           -open N      openat(2) of an existing file (then close)
//	doMissing         -missing K   openat(2) of a missing file: ENOENT
//	doRefused         -refused M   socket(2) + blocking connect(2) to a closed
//	                               loopback port: ECONNREFUSED from connect
//	                               itself (a raw blocking socket, not Go's
//	                               non-blocking connect + SO_ERROR)
//	doSleeps          -sleeps S    clock_nanosleep(2) of -sleep-ms each, made
//	                               directly with syscall.Syscall6: the Go
//	                               runtime never calls clock_nanosleep (it
//	                               sleeps with nanosleep, futex and epoll)
//	                  -interrupt-ms I: another goroutine sends SIGURG (the
//	                               runtime's preemption signal, harmless
//	                               here) to the diet's thread I ms into the
//	                               first sleep, which the kernel interrupts
//	                               ends with EINTR (a handler ran, so no
//	                               restart whatever SA_RESTART says); the
//	                               sleep is then made again: S+1 calls,
//	                               one EINTR
//	doFifo            -fifo-ms D   one openat(2) of a FIFO for reading that
//	                               blocks D ms, until a writer goroutine opens
//	                               it with open(2) (not openat, so that every
//	                               openat still comes from this goroutine)
//	doNanosleeps      -nanosleeps K nanosleep(2) of 1 ms, from this goroutine
//	deepSleep         -deep D      one clock_nanosleep(2) of -sleep-ms under D
//	                               recursive calls (D+1 deepSleep frames)
//	                  -ticker T    a goroutine sleeping T in a loop (time.Sleep:
//	                               the runtime's timers wake it, not a syscall)
//	helperMissing     -helper-missing K2  openat(2) of a missing file, K2
//	                               times, from a second goroutine (new each
//	                               run, not locked to the thread)
//	connectAllowed    -allowed N   connects to -allow HOST:PORT
//	connectForbidden  -forbidden M connects to -forbid HOST:PORT
//	                               (-dial net: Go's net.Dial, non-blocking
//	                               connect; -dial raw: blocking connect(2))
//
// With -serve the program listens on the -allow and -forbid addresses
// itself (at start-up), so those connects succeed.
//
// Trigger: each SIGUSR1 runs the diet once (the program keeps running);
// SIGUSR2 too, but with sleeps of -short-ms instead of -sleep-ms; or -delay
// D runs it once D after start-up; -exit exits after the first run.
//
// Stdout, one line each:
//
//	syscalldiet: ready pid=P goid=G tid=T [fifo=PATH]
//	syscalldiet: done round=R goid=G tid=T helper_goid=H eintr=E dial_refused=N sleeps_us=a,b,c,...
//
// sleeps_us are the durations of the sleeps as the program measured them
// around each call (monotonic clock, via the vDSO: no system call);
// dial_refused counts the net.Dial calls that failed with ECONNREFUSED.
package main

import (
	"bytes"
	"errors"
	"flag"
	"fmt"
	"net"
	"os"
	"os/signal"
	"path/filepath"
	"runtime"
	"strconv"
	"strings"
	"syscall"
	"time"
	"unsafe"
)

var (
	nOpen      = flag.Int("open", 10, "openat(2) of an existing file")
	openPath   = flag.String("file", "/etc/passwd", "the existing file")
	nMissing   = flag.Int("missing", 5, "openat(2) of a missing file (ENOENT)")
	nRefused   = flag.Int("refused", 3, "blocking connect(2) to a closed loopback port")
	refused    = flag.String("refused-addr", "", "closed address (default: a port found closed at start-up)")
	nSleeps    = flag.Int("sleeps", 20, "clock_nanosleep(2) calls")
	sleepMs    = flag.Float64("sleep-ms", 25, "length of each sleep (ms)")
	shortMs    = flag.Float64("short-ms", 2, "length of each sleep (ms) in runs SIGUSR2 triggers")
	fifoMs     = flag.Float64("fifo-ms", 0, "open a FIFO that blocks this long (0: no FIFO)")
	allowAddr  = flag.String("allow", "", "HOST:PORT connectAllowed dials")
	nAllowed   = flag.Int("allowed", 0, "connects to -allow")
	forbidAddr = flag.String("forbid", "", "HOST:PORT connectForbidden dials")
	nForbidden = flag.Int("forbidden", 0, "connects to -forbid")
	dial       = flag.String("dial", "net", "net (net.Dial) or raw (blocking connect(2))")
	serve      = flag.Bool("serve", false, "listen on -allow and -forbid")
	delay      = flag.Duration("delay", 0, "run the diet once after this delay (default: on SIGUSR1)")
	exitAfter  = flag.Bool("exit", false, "exit after the first run")
	nHelper    = flag.Int("helper-missing", 0, "openat(2) of a missing file from a second goroutine")
	interrupt  = flag.Float64("interrupt-ms", 0, "signal the diet's thread this long into the first sleep")
	nNanos     = flag.Int("nanosleeps", 0, "nanosleep(2) calls of 1 ms from the diet's goroutine")
	deep       = flag.Int("deep", 0, "one clock_nanosleep(2) of -sleep-ms under this many recursive calls")
	ticker     = flag.Duration("ticker", 0, "a goroutine that sleeps (time.Sleep) this long, forever")
)

var (
	fifoPath    string
	interrupted int // sleeps that failed with EINTR
	dialRefused int // net.Dial errors that are ECONNREFUSED
)

func goid() int {
	buf := make([]byte, 64)
	buf = buf[:runtime.Stack(buf, false)]
	// "goroutine 18 [running]:..."
	f := strings.Fields(string(bytes.TrimPrefix(buf, []byte("goroutine "))))
	n, err := strconv.Atoi(f[0])
	if err != nil {
		panic("cannot read the goroutine id from " + string(buf))
	}
	return n
}

func must(err error, what string) {
	if err != nil {
		fmt.Fprintf(os.Stderr, "syscalldiet: %s: %v\n", what, err)
		os.Exit(1)
	}
}

//go:noinline
func doOpens() {
	for i := 0; i < *nOpen; i++ {
		fd, err := syscall.Open(*openPath, syscall.O_RDONLY|syscall.O_CLOEXEC, 0)
		must(err, "open "+*openPath)
		syscall.Close(fd)
	}
}

//go:noinline
func doMissing() { missing(*nMissing) }

func missing(n int) {
	for i := 0; i < n; i++ {
		_, err := syscall.Open("/nonexistent-goscope-test/missing", syscall.O_RDONLY|syscall.O_CLOEXEC, 0)
		if err != syscall.ENOENT {
			must(fmt.Errorf("want ENOENT, got %v", err), "open missing")
		}
	}
}

func sockaddr(hostport string) *syscall.SockaddrInet4 {
	a, err := net.ResolveTCPAddr("tcp4", hostport)
	must(err, "address "+hostport)
	sa := &syscall.SockaddrInet4{Port: a.Port}
	copy(sa.Addr[:], a.IP.To4())
	return sa
}

// rawConnect: a blocking socket and connect(2), so that the kernel's answer
// is connect's own return value.
func rawConnect(sa *syscall.SockaddrInet4) error {
	fd, err := syscall.Socket(syscall.AF_INET, syscall.SOCK_STREAM|syscall.SOCK_CLOEXEC, 0)
	must(err, "socket")
	defer syscall.Close(fd)
	return syscall.Connect(fd, sa)
}

//go:noinline
func doRefused(sa *syscall.SockaddrInet4) {
	for i := 0; i < *nRefused; i++ {
		if err := rawConnect(sa); err != syscall.ECONNREFUSED {
			must(fmt.Errorf("want ECONNREFUSED, got %v", err), "connect refused")
		}
	}
}

//go:noinline
func doSleeps(ms float64) []time.Duration {
	ns := int64(ms * 1e6)
	ts := syscall.Timespec{Sec: ns / 1e9, Nsec: ns % 1e9}
	durs := make([]time.Duration, 0, *nSleeps)
	if *interrupt > 0 && *nSleeps > 0 {
		go interrupter(syscall.Gettid(), time.Duration(*interrupt*1e6))
	}
	for i := 0; i < *nSleeps; i++ {
		t0 := time.Now()
		// clock_nanosleep(CLOCK_MONOTONIC, 0, &ts, NULL)
		_, _, e := syscall.Syscall6(syscall.SYS_CLOCK_NANOSLEEP, 1, 0,
			uintptr(unsafe.Pointer(&ts)), 0, 0, 0)
		if e == syscall.EINTR {
			// A handler ran (-interrupt-ms): clock_nanosleep fails with
			// EINTR whatever SA_RESTART says; sleep again, in full.
			interrupted++
			i--
			continue
		}
		durs = append(durs, time.Since(t0))
		if e != 0 {
			must(e, "clock_nanosleep")
		}
	}
	return durs
}

//go:noinline
func interrupter(tid int, after time.Duration) {
	time.Sleep(after)
	must(syscall.Tgkill(os.Getpid(), tid, syscall.SIGURG), "tgkill")
}

//go:noinline
func fifoWriter(wait time.Duration, done chan int) {
	time.Sleep(wait)
	p, _ := syscall.BytePtrFromString(fifoPath)
	fd, _, e := syscall.Syscall(syscall.SYS_OPEN, uintptr(unsafe.Pointer(p)),
		syscall.O_WRONLY|syscall.O_CLOEXEC, 0)
	if e != 0 {
		must(e, "open fifo for writing")
	}
	done <- int(fd)
}

//go:noinline
func doFifo() {
	done := make(chan int)
	go fifoWriter(time.Duration(*fifoMs*1e6), done)
	fd, err := syscall.Open(fifoPath, syscall.O_RDONLY|syscall.O_CLOEXEC, 0)
	must(err, "open fifo for reading")
	syscall.Close(fd)
	syscall.Close(<-done)
}

func connectTo(addr string) {
	if *dial == "raw" {
		// Refused or not, the attempt is what counts.
		rawConnect(sockaddr(addr))
		return
	}
	c, err := net.DialTimeout("tcp4", addr, 5*time.Second)
	if err == nil {
		c.Close()
	} else if errors.Is(err, syscall.ECONNREFUSED) {
		dialRefused++
	}
}

// doNanosleeps: nanosleep(2) from the diet's own goroutine (the runtime
// makes the same call on goroutine 0: sysmon, osyield).
//
//go:noinline
func doNanosleeps() {
	ts := syscall.Timespec{Nsec: 1000000}
	for i := 0; i < *nNanos; i++ {
		must(syscall.Nanosleep(&ts, nil), "nanosleep")
	}
}

// deepSleep: n recursive calls (n+1 deepSleep frames), then one
// clock_nanosleep(2) of ms at the bottom.
//
//go:noinline
func deepSleep(n int, ms float64) {
	if n > 0 {
		deepSleep(n-1, ms)
		return
	}
	ns := int64(ms * 1e6)
	ts := syscall.Timespec{Sec: ns / 1e9, Nsec: ns % 1e9}
	syscall.Syscall6(syscall.SYS_CLOCK_NANOSLEEP, 1, 0, uintptr(unsafe.Pointer(&ts)), 0, 0, 0)
}

//go:noinline
func connectAllowed() {
	for i := 0; i < *nAllowed; i++ {
		connectTo(*allowAddr)
	}
}

//go:noinline
func connectForbidden() {
	for i := 0; i < *nForbidden; i++ {
		connectTo(*forbidAddr)
	}
}

//go:noinline
func helperMissing(goidc chan int) {
	missing(*nHelper)
	goidc <- goid()
}

// runDiet returns the sleeps' durations and the helper goroutine's id.
func runDiet(refusedSA *syscall.SockaddrInet4, sleepLen float64) ([]time.Duration, int) {
	doOpens()
	doMissing()
	doRefused(refusedSA)
	durs := doSleeps(sleepLen)
	if *fifoMs > 0 {
		doFifo()
	}
	connectAllowed()
	connectForbidden()
	doNanosleeps()
	if *deep > 0 {
		deepSleep(*deep, sleepLen)
	}
	helper := 0
	if *nHelper > 0 {
		goidc := make(chan int)
		go helperMissing(goidc)
		helper = <-goidc
	}
	return durs, helper
}

func listen(addr string) {
	l, err := net.Listen("tcp4", addr)
	must(err, "listen "+addr)
	go func() {
		for {
			c, err := l.Accept()
			if err != nil {
				return
			}
			c.Close()
		}
	}()
}

// closedPort: a loopback port nothing listens on (bound, then released).
func closedPort() string {
	l, err := net.Listen("tcp4", "127.0.0.1:0")
	must(err, "listen")
	addr := l.Addr().String()
	l.Close()
	return addr
}

func main() {
	flag.Parse()
	if *refused == "" {
		*refused = closedPort()
	}
	refusedSA := sockaddr(*refused)
	if *serve {
		for _, a := range []string{*allowAddr, *forbidAddr} {
			if a != "" {
				listen(a)
			}
		}
	}
	if *fifoMs > 0 {
		dir, err := os.MkdirTemp("", "syscalldiet")
		must(err, "mkdtemp")
		defer os.RemoveAll(dir)
		fifoPath = filepath.Join(dir, "fifo")
		must(syscall.Mkfifo(fifoPath, 0600), "mkfifo")
	}
	if *ticker > 0 {
		// Parks and is woken by the runtime's timers: no system call of
		// its own, the runtime's (network poller, idle threads) only.
		go func() {
			for {
				time.Sleep(*ticker)
			}
		}()
	}
	trigger := make(chan os.Signal, 16)
	if *delay == 0 {
		signal.Notify(trigger, syscall.SIGUSR1, syscall.SIGUSR2)
	}
	term := make(chan os.Signal, 1)
	signal.Notify(term, syscall.SIGTERM, syscall.SIGINT)
	finished := make(chan struct{})

	go func() {
		runtime.LockOSThread()
		g, tid := goid(), syscall.Gettid()
		fifo := ""
		if fifoPath != "" {
			fifo = " fifo=" + fifoPath
		}
		fmt.Printf("syscalldiet: ready pid=%d goid=%d tid=%d%s\n", os.Getpid(), g, tid, fifo)
		if *delay > 0 {
			time.Sleep(*delay)
		}
		for round := 1; ; round++ {
			sleepLen := *sleepMs
			if *delay == 0 && <-trigger == syscall.SIGUSR2 {
				sleepLen = *shortMs
			}
			interrupted, dialRefused = 0, 0
			durs, helper := runDiet(refusedSA, sleepLen)
			us := make([]string, len(durs))
			for i, d := range durs {
				us[i] = strconv.FormatFloat(float64(d.Nanoseconds())/1e3, 'f', 1, 64)
			}
			fmt.Printf("syscalldiet: done round=%d goid=%d tid=%d helper_goid=%d eintr=%d dial_refused=%d sleeps_us=%s\n",
				round, g, tid, helper, interrupted, dialRefused, strings.Join(us, ","))
			if *exitAfter || *delay > 0 {
				close(finished)
				return
			}
		}
	}()
	select {
	case <-finished:
	case <-term:
	}
	if fifoPath != "" {
		os.RemoveAll(filepath.Dir(fifoPath))
	}
}
