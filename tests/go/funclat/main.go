// Command funclat runs functions whose latency it measures itself, so that
// `goscope funclat` can be checked against the truth for the same span.
//
// Steady workers, each calling one function in a loop from the start and
// timing every call with time.Since:
//
//	sleep5    main.sleep5:   time.Sleep(5ms)
//	nested40  main.nested40: main.inner20 twice (time.Sleep(20ms) each)
//	burn3     main.burn3:    3 ms of CPU (a loop that checks the clock)
//	deep2     main.deep2:    recurses 200 levels through main.frame (1 KiB
//	                         frames: the stack grows and is copied while
//	                         deep2 is in flight), sleeps 2 ms at the bottom
//
// On SIGUSR1 (the start of the span) a round runs once, on its own
// goroutines, and prints "funclat: round done" when over:
//
//	tiny      main.tiny: -tiny calls (a few thousand per second)
//	recur     main.recur(20): recursive, 21 nested calls each, -recur times
//	boom      main.boom(i) -boom times through main.catch, which recovers:
//	          every other call panics (those never reach a RET)
//	goexit    main.goexiter -goexit times, each on a new goroutine, each
//	          calling runtime.Goexit (never returns)
//	slow      main.slowArg(12345, 678+i) via main.slowCaller, -slow times,
//	          30 ms each, on a goroutine whose id is printed first
//	          ("funclat: slow goroutine N")
//
// With -hot a goroutine calls main.hotFn in a tight loop from the start.
//
// main.inlinedAdd is inlined at its only call site and main.spinForever
// never returns (no RET): funclat must say so.
//
// On SIGUSR2 (the end of the span) it prints one line "funclat: truth
// {JSON}": per function the calls that ended within the span ("n"), their
// median in microseconds ("p50_us"), the span's seconds ("span_s"), and the
// round's counts. SIGTERM/SIGINT exit 0.
package main

import (
	"encoding/json"
	"flag"
	"fmt"
	"os"
	"os/signal"
	"runtime"
	"sort"
	"sync"
	"syscall"
	"time"
)

var start = time.Now()

type rec struct {
	end time.Duration // since start
	dur time.Duration
}

var (
	mu    sync.Mutex
	calls = map[string][]rec{}
)

func record(name string, t0 time.Time) {
	d := time.Since(t0)
	e := time.Since(start)
	mu.Lock()
	calls[name] = append(calls[name], rec{e, d})
	mu.Unlock()
}

//go:noinline
func sleep5() { time.Sleep(5 * time.Millisecond) }

//go:noinline
func inner20() { time.Sleep(20 * time.Millisecond) }

//go:noinline
func nested40() {
	inner20()
	inner20()
}

var sink uint64

//go:noinline
func burn3() {
	t0 := time.Now()
	x := sink
	for time.Since(t0) < 3*time.Millisecond {
		for i := 0; i < 1000; i++ {
			x = x*6364136223846793005 + 1442695040888963407
		}
	}
	sink = x
}

//go:noinline
func frame(n int) byte {
	var pad [1024]byte
	pad[n%1024] = byte(n)
	if n == 0 {
		time.Sleep(2 * time.Millisecond)
		return pad[0]
	}
	return frame(n-1) + pad[(n*7)%1024]
}

//go:noinline
func deep2() byte { return frame(200) }

//go:noinline
func tiny(x int) int { return x*3 + 1 }

// hotFn is called in a tight loop with -hot: probing it costs the program.
//
//go:noinline
func hotFn(x int) int { return x ^ 0x55 }

//go:noinline
func recur(n int) int {
	if n == 0 {
		return 0
	}
	return recur(n-1) + 1
}

//go:noinline
func boom(i int) int {
	if i%2 == 0 {
		panic(fmt.Sprintf("boom %d", i))
	}
	return i
}

func catch(i int) (r int) {
	defer func() {
		if recover() != nil {
			r = -1
		}
	}()
	return boom(i)
}

//go:noinline
func goexiter() { runtime.Goexit() }

// slowArg sleeps 30 ms; its arguments arrive in RAX and RBX (X0, X1).
//
//go:noinline
func slowArg(x, y int) int {
	time.Sleep(30 * time.Millisecond)
	return x + y
}

//go:noinline
func slowCaller(i int) int { return slowArg(12345, 678+i) }

// inlinedAdd is inlined at its only call site: no function of its own.
func inlinedAdd(x int) int { return (x ^ 0x5a5a) * 7 }

// spinForever never returns: it has no RET.
//
//go:noinline
func spinForever() {
	for {
		time.Sleep(time.Hour)
	}
}

// goid of the calling goroutine, from its runtime.Stack header.
func goid() int {
	var buf [64]byte
	n := runtime.Stack(buf[:], false)
	var id int
	fmt.Sscanf(string(buf[:n]), "goroutine %d ", &id)
	return id
}

// loop calls F forever, timing each call, with a 2 ms pause between calls
// (the program should not load a busy machine more than it must).
func loop(name string, f func()) {
	for {
		t0 := time.Now()
		f()
		record(name, t0)
		time.Sleep(2 * time.Millisecond)
	}
}

func main() {
	nTiny := flag.Int("tiny", 20000, "main.tiny calls in the round")
	nRecur := flag.Int("recur", 200, "main.recur(20) calls in the round")
	nBoom := flag.Int("boom", 100, "main.boom calls in the round")
	nGoexit := flag.Int("goexit", 10, "goroutines ending in main.goexiter")
	nSlow := flag.Int("slow", 5, "main.slowArg calls in the round")
	hot := flag.Bool("hot", false, "call main.hot in a tight loop from the start")
	flag.Parse()

	if *hot {
		go func() {
			for i := 0; ; i++ {
				sink += uint64(hotFn(i))
			}
		}()
	}

	go spinForever()

	go loop("sleep5", sleep5)
	go loop("nested40", nested40)
	go loop("burn3", burn3)
	go loop("deep2", func() { deep2() })

	sigs := make(chan os.Signal, 4)
	signal.Notify(sigs, syscall.SIGUSR1, syscall.SIGUSR2, syscall.SIGTERM, syscall.SIGINT)
	fmt.Printf("funclat: pid=%d\n", os.Getpid())
	fmt.Println("funclat: ready")
	var spanStart time.Duration
	round := map[string]int{}
	var roundMu sync.Mutex
	for s := range sigs {
		switch s {
		case syscall.SIGUSR1:
			spanStart = time.Since(start)
			go func() {
				var wg sync.WaitGroup
				wg.Add(5)
				go func() {
					defer wg.Done()
					fmt.Printf("funclat: slow goroutine %d\n", goid())
					for i := 0; i < *nSlow; i++ {
						if slowCaller(i) != 12345+678+i {
							fmt.Println("funclat: WRONG slowArg")
						}
					}
					roundMu.Lock()
					round["slow"] = *nSlow
					roundMu.Unlock()
				}()
				go func() { // tiny: ~200 calls every 10 ms
					defer wg.Done()
					sum, mixed := 0, 0
					for i := 0; i < *nTiny; i++ {
						sum += tiny(i)
						mixed += inlinedAdd(i)
						if i%200 == 199 {
							time.Sleep(10 * time.Millisecond)
						}
					}
					want, wantMixed := 0, 0
					for i := 0; i < *nTiny; i++ {
						want += i*3 + 1
						wantMixed += (i ^ 0x5a5a) * 7
					}
					if mixed != wantMixed {
						fmt.Printf("funclat: WRONG mixed %d want %d\n", mixed, wantMixed)
					}
					if sum != want {
						fmt.Printf("funclat: WRONG tiny sum %d want %d\n", sum, want)
					}
					roundMu.Lock()
					round["tiny"] = *nTiny
					roundMu.Unlock()
				}()
				go func() {
					defer wg.Done()
					for i := 0; i < *nRecur; i++ {
						if recur(20) != 20 {
							fmt.Println("funclat: WRONG recur")
						}
						time.Sleep(time.Millisecond)
					}
					roundMu.Lock()
					round["recur"] = *nRecur * 21
					roundMu.Unlock()
				}()
				go func() {
					defer wg.Done()
					panics := 0
					for i := 0; i < *nBoom; i++ {
						r := catch(i)
						if r == -1 {
							panics++
						} else if r != i {
							fmt.Println("funclat: WRONG boom")
						}
						time.Sleep(time.Millisecond)
					}
					roundMu.Lock()
					round["boom"] = *nBoom
					round["boom_panics"] = panics
					roundMu.Unlock()
				}()
				go func() {
					defer wg.Done()
					for i := 0; i < *nGoexit; i++ {
						done := make(chan struct{})
						go func() {
							defer close(done)
							goexiter()
						}()
						<-done
					}
					roundMu.Lock()
					round["goexit"] = *nGoexit
					roundMu.Unlock()
				}()
				wg.Wait()
				fmt.Println("funclat: round done")
			}()
		case syscall.SIGUSR2:
			end := time.Since(start)
			out := map[string]interface{}{"span_s": (end - spanStart).Seconds()}
			mu.Lock()
			for name, rs := range calls {
				var ds []float64
				for _, r := range rs {
					if r.end >= spanStart && r.end <= end {
						ds = append(ds, float64(r.dur.Microseconds()))
					}
				}
				sort.Float64s(ds)
				p50 := 0.0
				if len(ds) > 0 {
					p50 = ds[(len(ds)-1)/2]
				}
				out[name] = map[string]interface{}{"n": len(ds), "p50_us": p50}
			}
			mu.Unlock()
			roundMu.Lock()
			out["round"] = round
			roundMu.Unlock()
			b, _ := json.Marshal(out)
			fmt.Printf("funclat: truth %s\n", b)
		default:
			os.Exit(0)
		}
	}
}
