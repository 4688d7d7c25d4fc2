// Command whysvc is the service, its downstream and its load client for the
// tests of `goscope why` (tests/e2e/test_why_*.sh, tests/e2e/why_lib.sh).
//
// -mode server (default): an HTTP service whose one handler, GET /work
// (main.work), always does the same thing:
//   - burns a fixed amount of CPU work (-burn MS, calibrated at start on the
//     thread's own CPU clock, so that it is work, not wall time);
//   - takes a shared sync.Mutex for a moment;
//   - reads -pages pages of an mmapped file (-file; MADV_RANDOM, one byte
//     per page, at a position moving with each request), then drops its own
//     page table entries for them (MADV_DONTNEED: the pages stay in the page
//     cache, so the next read is a minor fault unless someone evicts them);
//   - calls a downstream (-downstream HOST:PORT, optional) with a plain
//     HTTP/1.1 GET /d over a kept-alive TCP connection read on the handler's
//     own goroutine (it parks in IO wait; net/http's client would park it in
//     select while its readLoop goroutine waits);
//   - allocates -alloc KB in 1 KiB pieces.
//
// It records, per request, its goroutine id, CLOCK_MONOTONIC start and end
// and the time of each step; for the CPU work, the page reads and the
// allocations (run with the goroutine locked to its thread), the thread's
// CPU time and run-queue wait (/proc/thread-self/schedstat) and the major
// faults of the page reads (getrusage RUSAGE_THREAD). Allocations not
// locked (-lock-alloc=false) record the run-queue wait of all the
// process's threads during the step instead.
//
// Causes are switched on from outside the handler:
//   - /admin/alloc?on=1&live=MB&chunk=KB&sleep=US&copy=MB: an allocation
//     storm in another goroutine (a live heap of LIVE MB of pointerful nodes,
//     CHUNK KB of it replaced per round, and with copy= a COPY MB copy per
//     round: one memmove, which a stop-the-world must wait for); on=0 stops
//     it and drops the heap;
//   - /admin/hold?ms=X&gap=Y: another goroutine takes the handler's mutex
//     for X ms every Y ms and records each hold (its own clock); ms=0 stops;
//   - the rest (CPU quota, page cache eviction, CPU hogs, packet loss, a
//     slow downstream) are set up by the tests around the process.
//
// /admin/stats gives the truth as one JSON object: the per-request records,
// the holds, the storm's state. /admin/reset clears the records and holds.
//
// -mode downstream: GET /d (any path but /stats) sleeps -delay MS, answers -size bytes and records
// each request's CLOCK_MONOTONIC start and end (its own measured time);
// /stats gives them.
//
// -mode load: -c workers each send GET -url back to back (closed loop, one
// kept-alive connection each, -think MS between requests) for -duration
// seconds or -n requests, and write one JSON line per request to -out:
// {"start_ns","end_ns","code"} (CLOCK_MONOTONIC, the client's own record).
// With -until-n N it goes on past -duration (up to -max-duration) until N
// requests took at least -until-slow MS by the server's own clock (the
// handler's wall time, the second figure of its "ok GOID NS" answer).
//
// Each mode prints "whysvc: ready mode M addr A pid P gomaxprocs G mono_ns T ..."
// on stdout once serving (T: CLOCK_MONOTONIC at its start, to align gctrace's
// "@Ns" on goscope's clock). Stdlib only (Go 1.19).
package main

import (
	"bufio"
	"encoding/json"
	"flag"
	"fmt"
	"io"
	"math/rand"
	"net"
	"net/http"
	"os"
	"os/signal"
	"runtime"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"syscall"
	"time"
	"unsafe"
)

var (
	mode       = flag.String("mode", "server", "server, downstream or load")
	addr       = flag.String("addr", "127.0.0.1:0", "listen address (server, downstream)")
	burnMS     = flag.Float64("burn", 2, "server: CPU work per request, in ms of this machine's CPU")
	burnIters  = flag.Int64("burn-iters", 0, "server: CPU work per request in loop iterations (overrides -burn)")
	file       = flag.String("file", "", "server: the data file to mmap")
	pages      = flag.Int("pages", 32, "server: pages of the file read per request")
	downstream = flag.String("downstream", "", "server: HOST:PORT of the downstream (GET /d)")
	allocKB    = flag.Int("alloc", 64, "server: KiB allocated per request")
	lockAlloc  = flag.Bool("lock-alloc", true, "server: allocate on a locked thread (schedstat of the step)")
	delayMS    = flag.Float64("delay", 0, "downstream: time each request takes, ms")
	size       = flag.Int("size", 128, "downstream: response body bytes")
	url        = flag.String("url", "", "load: URL to GET")
	conc       = flag.Int("c", 1, "load: concurrent workers")
	duration   = flag.Float64("duration", 5, "load: seconds")
	nreq       = flag.Int("n", 0, "load: requests in all (0: -duration)")
	thinkMS    = flag.Float64("think", 0, "load: pause between a worker's requests, ms")
	out        = flag.String("out", "", "load: file of per-request records (default stdout)")
	untilN     = flag.Int64("until-n", 0, "load: go on past -duration until this many slow requests (server's clock)")
	untilSlow  = flag.Float64("until-slow", 0, "load: what -until-n counts: requests of at least this many ms")
	maxDur     = flag.Float64("max-duration", 60, "load: seconds at most, with -until-n")
)

// --- clocks ---------------------------------------------------------------

// startMono: CLOCK_MONOTONIC at package initialisation, a fraction of a
// millisecond after the runtime's own start (gctrace's "@Ns" origin).
var startMono = mono()

func clock(id uintptr) int64 {
	var ts syscall.Timespec
	syscall.Syscall(syscall.SYS_CLOCK_GETTIME, id, uintptr(unsafe.Pointer(&ts)), 0)
	return ts.Nano()
}

// mono is CLOCK_MONOTONIC, goscope's clock (and the runtime's nanotime).
func mono() int64 { return clock(1) }

// threadCPU is CLOCK_THREAD_CPUTIME_ID.
func threadCPU() int64 { return clock(3) }

// goid is the current goroutine's id, from the first line of its
// traceback ("goroutine N [...]").
func goid() int64 {
	var b [64]byte
	n := runtime.Stack(b[:], false)
	var id int64
	for i := len("goroutine "); i < n && b[i] >= '0' && b[i] <= '9'; i++ {
		id = id*10 + int64(b[i]-'0')
	}
	return id
}

// threadSched is this thread's /proc/thread-self/schedstat: time on a CPU
// and time waiting on a run queue (ns). It does not allocate: an
// allocation inside a measured step could make the goroutine assist the
// GC there, and the step's CPU time would hide GC work.
var schedstatPath = [...]byte{'/', 'p', 'r', 'o', 'c', '/', 't', 'h', 'r', 'e', 'a', 'd', '-', 's', 'e', 'l', 'f',
	'/', 's', 'c', 'h', 'e', 'd', 's', 't', 'a', 't', 0}

func threadSched() (run, delay int64) {
	var b [128]byte
	fd, _, e := syscall.RawSyscall6(syscall.SYS_OPENAT, atFDCWD,
		uintptr(unsafe.Pointer(&schedstatPath[0])), syscall.O_RDONLY, 0, 0, 0)
	if e != 0 {
		return 0, 0
	}
	n, _ := syscall.Read(int(fd), b[:])
	syscall.Close(int(fd))
	var f [2]int64
	k := 0
	for i := 0; i < n && k < 2; i++ {
		switch c := b[i]; {
		case c >= '0' && c <= '9':
			f[k] = f[k]*10 + int64(c-'0')
		case c == ' ':
			k++
		}
	}
	return f[0], f[1]
}

// AT_FDCWD (-100) as a system call argument
const atFDCWD = ^uintptr(99)

// processRunDelay is the run-queue wait of all this process's threads
// together (the second field of each /proc/self/task/*/schedstat, ns).
func processRunDelay() (delay int64) {
	tasks, err := os.ReadDir("/proc/self/task")
	if err != nil {
		return 0
	}
	for _, t := range tasks {
		b, err := os.ReadFile("/proc/self/task/" + t.Name() + "/schedstat")
		if err != nil {
			continue // the thread exited
		}
		if f := strings.Fields(string(b)); len(f) >= 2 {
			d, _ := strconv.ParseInt(f[1], 10, 64)
			delay += d
		}
	}
	return delay
}

// onThread runs f with the goroutine locked to its thread and returns the
// thread's CPU time and run-queue wait during it (the step's truth: its
// wall time minus these is time off CPU and off the run queue).
func onThread(f func()) (cpu, rq int64) {
	runtime.LockOSThread()
	defer runtime.UnlockOSThread()
	r0, d0 := threadSched()
	f()
	r1, d1 := threadSched()
	return r1 - r0, d1 - d0
}

// --- CPU work ----------------------------------------------------------------

var spinSink uint64

//go:noinline
func spin(n int64) {
	x := uint64(n) | 1
	for i := int64(0); i < n; i++ {
		x ^= x << 13
		x ^= x >> 7
		x ^= x << 17
	}
	atomic.AddUint64(&spinSink, x)
}

// calibrate: loop iterations per ms of this thread's CPU time (the best of
// a few runs, so that a busy machine does not shrink it).
func calibrate() float64 {
	runtime.LockOSThread()
	defer runtime.UnlockOSThread()
	best := 0.0
	for try := 0; try < 5; try++ {
		n := int64(200000)
		for {
			c0 := threadCPU()
			spin(n)
			d := threadCPU() - c0
			if d > 20e6 {
				if r := float64(n) / (float64(d) / 1e6); r > best {
					best = r
				}
				break
			}
			n *= 2
		}
	}
	return best
}

// --- the server ----------------------------------------------------------------

type record struct {
	Goid    int64 `json:"goid"`
	Start   int64 `json:"start_ns"`
	End     int64 `json:"end_ns"`
	BurnNS  int64 `json:"burn_ns"`
	LockNS  int64 `json:"lock_ns"`
	ReadNS  int64 `json:"read_ns"`
	Majflt  int64 `json:"majflt"`
	DownNS  int64 `json:"down_ns"`
	DownErr bool  `json:"down_err,omitempty"`
	AllocNS int64 `json:"alloc_ns"`
	ReadTID int   `json:"read_tid"`
	// per step, the thread's CPU time and run-queue wait (schedstat)
	BurnCPU  int64 `json:"burn_cpu_ns"`
	BurnRQ   int64 `json:"burn_rq_ns"`
	ReadCPU  int64 `json:"read_cpu_ns"`
	ReadRQ   int64 `json:"read_rq_ns"`
	AllocCPU int64 `json:"alloc_cpu_ns"`
	AllocRQ  int64 `json:"alloc_rq_ns"`
	// the allocations not locked (-lock-alloc=false): the run-queue wait of
	// all the process's threads together during the step, an upper bound
	// of the handler's own (it may move between threads)
	AllocAllRQ int64 `json:"alloc_all_rq_ns,omitempty"`
}

type hold struct {
	Start int64 `json:"start_ns"`
	End   int64 `json:"end_ns"`
}

var (
	iters    int64
	mu       sync.Mutex // the handler's shared mutex
	shared   int64
	data     []byte
	npages   int
	reqno    int64
	recMu    sync.Mutex
	records  []record
	holds    []hold
	holdGen  int64
	allocGen int64
	stormOn  int64
	stormGCs int64
	dsPool   chan *dsConn
	allocSnk [][]byte
	allocMu  sync.Mutex
)

const pageSize = 4096

// readPages reads one byte of each of -pages pages from a moving position
// and then drops its page table entries for them; the goroutine stays on
// its thread so that RUSAGE_THREAD counts its faults. Returns majflt and
// the thread id.
//
//go:noinline
func readPages() (int64, int) {
	if data == nil || *pages <= 0 {
		return 0, 0
	}
	n := *pages
	if n > npages {
		n = npages
	}
	first := int(atomic.AddInt64(&reqno, 1)*int64(n)) % (npages - n + 1)
	var r0, r1 syscall.Rusage
	syscall.Getrusage(1, &r0) // RUSAGE_THREAD
	var s byte
	for p := first; p < first+n; p++ {
		s += data[p*pageSize]
	}
	syscall.Getrusage(1, &r1)
	region := data[first*pageSize : (first+n)*pageSize]
	syscall.Madvise(region, 4) // MADV_DONTNEED: our PTEs only
	atomic.AddUint64(&spinSink, uint64(s))
	return r1.Majflt - r0.Majflt, syscall.Gettid()
}

type dsConn struct {
	c  net.Conn
	br *bufio.Reader
}

// callDownstream: GET /d on a kept-alive connection, read on this goroutine.
//
//go:noinline
func callDownstream() error {
	var dc *dsConn
	select {
	case dc = <-dsPool:
	default:
		c, err := net.DialTimeout("tcp", *downstream, 10*time.Second)
		if err != nil {
			return err
		}
		dc = &dsConn{c: c, br: bufio.NewReader(c)}
	}
	dc.c.SetDeadline(time.Now().Add(20 * time.Second))
	_, err := io.WriteString(dc.c, "GET /d HTTP/1.1\r\nHost: downstream\r\n\r\n")
	if err == nil {
		var resp *http.Response
		resp, err = http.ReadResponse(dc.br, nil)
		if err == nil {
			_, err = io.Copy(io.Discard, resp.Body)
			resp.Body.Close()
		}
	}
	if err != nil {
		dc.c.Close()
		return err
	}
	select {
	case dsPool <- dc:
	default:
		dc.c.Close()
	}
	return nil
}

// work is the handler: the same steps for every request.
//
//go:noinline
func work(w http.ResponseWriter, r *http.Request) {
	var rec record
	rec.Start = mono()
	rec.BurnCPU, rec.BurnRQ = onThread(func() { spin(iters) })
	t1 := mono()
	mu.Lock()
	t2 := mono()
	shared++
	spin(iters / 200)
	mu.Unlock()
	t3 := mono()
	rec.ReadCPU, rec.ReadRQ = onThread(func() { rec.Majflt, rec.ReadTID = readPages() })
	t4 := mono()
	if *downstream != "" {
		rec.DownErr = callDownstream() != nil
	}
	t5 := mono()
	// goid allocates (runtime.Stack's buffer): here, where allocations
	// (and the GC assists they cause) belong, not in a measured CPU step
	rec.Goid = goid()
	var bufs [][]byte
	alloc := func() {
		bufs = make([][]byte, 0, *allocKB)
		for i := 0; i < *allocKB; i++ {
			bufs = append(bufs, make([]byte, 1024))
		}
	}
	if *lockAlloc {
		rec.AllocCPU, rec.AllocRQ = onThread(alloc)
	} else {
		rq0 := processRunDelay()
		alloc()
		rec.AllocAllRQ = processRunDelay() - rq0
	}
	allocMu.Lock()
	allocSnk = bufs
	allocMu.Unlock()
	rec.End = mono()
	rec.BurnNS, rec.LockNS, rec.ReadNS = t1-rec.Start, t2-t1, t4-t3
	rec.DownNS, rec.AllocNS = t5-t4, rec.End-t5
	recMu.Lock()
	if len(records) < 1000000 {
		records = append(records, rec)
	}
	recMu.Unlock()
	if rec.DownErr {
		w.WriteHeader(502)
	}
	fmt.Fprintf(w, "ok %d %d\n", rec.Goid, rec.End-rec.Start)
}

// holder takes the handler's mutex for ms every gap ms until its
// generation is superseded.
func holder(gen int64, ms, gap float64) {
	for atomic.LoadInt64(&holdGen) == gen {
		mu.Lock()
		a := mono()
		time.Sleep(time.Duration(ms * 1e6))
		b := mono()
		mu.Unlock()
		recMu.Lock()
		holds = append(holds, hold{a, b})
		recMu.Unlock()
		time.Sleep(time.Duration(gap * 1e6))
	}
}

type node struct {
	next *node
	kids [6]*node
	pad  [2]uint64
}

// storm: a live heap of live MB of pointerful nodes: half of it a fixed
// base (never replaced), half of it slots whose nodes point into the base
// and are replaced, chunk KB per round (garbage: nothing else points at a
// slot's node), sleep us between rounds. The live heap stays live MB.
func storm(gen int64, live, chunk, sleepUS, copyMB int) {
	var src, dst []byte
	if copyMB > 0 {
		src, dst = make([]byte, copyMB<<20), make([]byte, copyMB<<20)
	}
	const nodeSize = int(unsafe.Sizeof(node{}))
	n := live << 20 / nodeSize / 2
	if n < 1 {
		n = 1
	}
	base := make([]*node, n)
	for i := range base {
		base[i] = &node{}
		if i > 0 {
			base[i].next = base[i-1]
		}
	}
	slots := make([]*node, n)
	rng := rand.New(rand.NewSource(1))
	for i := range slots {
		slots[i] = &node{next: base[rng.Intn(n)]}
	}
	per := chunk << 10 / nodeSize
	for atomic.LoadInt64(&allocGen) == gen {
		for i := 0; i < per; i++ {
			nd := &node{next: base[rng.Intn(n)]}
			nd.kids[0] = base[rng.Intn(n)]
			slots[rng.Intn(n)] = nd
		}
		if copyMB > 0 {
			// one runtime.memmove: no safe point inside, so a stop-the-world
			// requested meanwhile waits for it (the world stays stopping)
			copy(dst, src)
		}
		if sleepUS > 0 {
			time.Sleep(time.Duration(sleepUS) * time.Microsecond)
		}
	}
}

func qint(r *http.Request, k string, def int) int {
	if v, err := strconv.Atoi(r.URL.Query().Get(k)); err == nil {
		return v
	}
	return def
}

func qfloat(r *http.Request, k string, def float64) float64 {
	if v, err := strconv.ParseFloat(r.URL.Query().Get(k), 64); err == nil {
		return v
	}
	return def
}

func serve() {
	if *burnIters > 0 {
		iters = *burnIters
	} else {
		iters = int64(calibrate() * *burnMS)
	}
	if *file != "" {
		f, err := os.Open(*file)
		if err != nil {
			fatal(err)
		}
		st, err := f.Stat()
		if err != nil {
			fatal(err)
		}
		data, err = syscall.Mmap(int(f.Fd()), 0, int(st.Size()), syscall.PROT_READ, syscall.MAP_SHARED)
		if err != nil {
			fatal(err)
		}
		syscall.Madvise(data, 1) // MADV_RANDOM: no read-around, one fault per page
		npages = len(data) / pageSize
		f.Close()
	}
	dsPool = make(chan *dsConn, 64)
	mux := http.NewServeMux()
	mux.HandleFunc("/work", work)
	mux.HandleFunc("/admin/hold", func(w http.ResponseWriter, r *http.Request) {
		gen := atomic.AddInt64(&holdGen, 1)
		if ms := qfloat(r, "ms", 0); ms > 0 {
			go holder(gen, ms, qfloat(r, "gap", ms))
		}
		fmt.Fprintln(w, "ok")
	})
	mux.HandleFunc("/admin/alloc", func(w http.ResponseWriter, r *http.Request) {
		gen := atomic.AddInt64(&allocGen, 1)
		on := qint(r, "on", 0)
		atomic.StoreInt64(&stormOn, int64(on))
		if on > 0 {
			go storm(gen, qint(r, "live", 64), qint(r, "chunk", 256), qint(r, "sleep", 500), qint(r, "copy", 0))
		}
		fmt.Fprintln(w, "ok")
	})
	mux.HandleFunc("/admin/reset", func(w http.ResponseWriter, r *http.Request) {
		recMu.Lock()
		records, holds = nil, nil
		recMu.Unlock()
		fmt.Fprintln(w, "ok")
	})
	mux.HandleFunc("/admin/stats", func(w http.ResponseWriter, r *http.Request) {
		recMu.Lock()
		b, _ := json.Marshal(map[string]interface{}{
			"records": records, "holds": holds, "iters": iters, "storm": atomic.LoadInt64(&stormOn),
			"pages": npages, "mono_ns": mono(),
		})
		recMu.Unlock()
		w.Header().Set("Content-Type", "application/json")
		w.Write(b)
	})
	listen(mux)
}

// --- the downstream --------------------------------------------------------------

func downstreamServe() {
	var dmu sync.Mutex
	var recs []hold
	body := strings.Repeat("d", *size)
	mux := http.NewServeMux()
	mux.HandleFunc("/", func(w http.ResponseWriter, r *http.Request) {
		a := mono()
		if *delayMS > 0 {
			time.Sleep(time.Duration(*delayMS * 1e6))
		}
		b := mono()
		w.Header().Set("Content-Length", strconv.Itoa(len(body)))
		io.WriteString(w, body)
		dmu.Lock()
		recs = append(recs, hold{a, b})
		dmu.Unlock()
	})
	mux.HandleFunc("/stats", func(w http.ResponseWriter, r *http.Request) {
		dmu.Lock()
		b, _ := json.Marshal(map[string]interface{}{"requests": recs, "delay_ms": *delayMS})
		dmu.Unlock()
		w.Write(b)
	})
	listen(mux)
}

func listen(h http.Handler) {
	ln, err := net.Listen("tcp", *addr)
	if err != nil {
		fatal(err)
	}
	fmt.Printf("whysvc: ready mode %s addr %s pid %d gomaxprocs %d mono_ns %d iters %d pages %d\n",
		*mode, ln.Addr(), os.Getpid(), runtime.GOMAXPROCS(0), startMono, iters, npages)
	os.Stdout.Sync()
	fatal(http.Serve(ln, h))
}

// --- the load client -------------------------------------------------------------

type sample struct {
	Start int64 `json:"start_ns"`
	End   int64 `json:"end_ns"`
	Code  int   `json:"code"`
}

func load() {
	tr := &http.Transport{MaxIdleConnsPerHost: *conc, DisableCompression: true}
	cl := &http.Client{Transport: tr, Timeout: 30 * time.Second}
	deadline := mono() + int64(*duration*1e9)
	maxDeadline := mono() + int64(*maxDur*1e9)
	var left int64 = int64(*nreq)
	var slowSeen int64
	// enough: the run may end (-duration over, and -until-n slow requests
	// seen or -max-duration over)
	enough := func() bool {
		now := mono()
		if now < deadline {
			return false
		}
		return *untilN <= 0 || atomic.LoadInt64(&slowSeen) >= *untilN || now >= maxDeadline
	}
	res := make([][]sample, *conc)
	var wg sync.WaitGroup
	stop := make(chan os.Signal, 1)
	signal.Notify(stop, syscall.SIGINT, syscall.SIGTERM)
	var stopped int32
	go func() { <-stop; atomic.StoreInt32(&stopped, 1) }()
	fmt.Printf("whysvc: ready mode load pid %d gomaxprocs %d mono_ns %d\n", os.Getpid(), runtime.GOMAXPROCS(0), mono())
	os.Stdout.Sync()
	for i := 0; i < *conc; i++ {
		wg.Add(1)
		go func(i int) {
			defer wg.Done()
			for atomic.LoadInt32(&stopped) == 0 {
				if *nreq > 0 {
					if atomic.AddInt64(&left, -1) < 0 {
						return
					}
				} else if enough() {
					return
				}
				s := sample{Start: mono()}
				resp, err := cl.Get(*url)
				if err == nil {
					body, _ := io.ReadAll(resp.Body)
					resp.Body.Close()
					s.Code = resp.StatusCode
					var g, ns int64
					n, _ := fmt.Sscanf(string(body), "ok %d %d", &g, &ns)
					if n == 2 && float64(ns) >= *untilSlow*1e6 {
						atomic.AddInt64(&slowSeen, 1)
					}
				}
				s.End = mono()
				res[i] = append(res[i], s)
				if *thinkMS > 0 {
					time.Sleep(time.Duration(*thinkMS * 1e6))
				}
			}
		}(i)
	}
	wg.Wait()
	var w io.Writer = os.Stdout
	if *out != "" {
		f, err := os.Create(*out)
		if err != nil {
			fatal(err)
		}
		defer f.Close()
		w = f
	}
	bw := bufio.NewWriter(w)
	n, bad := 0, 0
	for _, rs := range res {
		for _, s := range rs {
			b, _ := json.Marshal(s)
			bw.Write(b)
			bw.WriteByte('\n')
			n++
			if s.Code != 200 {
				bad++
			}
		}
	}
	bw.Flush()
	fmt.Printf("whysvc: load done requests %d errors %d slow %d\n", n, bad, atomic.LoadInt64(&slowSeen))
}

func fatal(err error) {
	fmt.Fprintln(os.Stderr, "whysvc:", err)
	os.Exit(1)
}

func main() {
	flag.Parse()
	switch *mode {
	case "server":
		serve()
	case "downstream":
		downstreamServe()
	case "load":
		load()
	default:
		fatal(fmt.Errorf("unknown -mode %q", *mode))
	}
}
