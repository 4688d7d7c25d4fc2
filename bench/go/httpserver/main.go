// httpserver: the saturated Go HTTP server the overhead benchmarks load
// with wrk. Each request does a little real work and a short channel
// hand-off to a worker goroutine, so goroutines park and wake several
// times per request, as in real services.
package main

import (
	"flag"
	"fmt"
	"log"
	"net/http"
	"os"
	"strconv"
)

type job struct {
	n     int
	reply chan int
}

func worker(jobs chan job) {
	for j := range jobs {
		s := 0
		for i := 0; i < j.n; i++ {
			s += i * i
		}
		j.reply <- s
	}
}

func main() {
	addr := flag.String("addr", "127.0.0.1:18090", "listen address")
	flag.Parse()
	jobs := make(chan job, 64)
	for i := 0; i < 4; i++ {
		go worker(jobs)
	}
	http.HandleFunc("/", func(w http.ResponseWriter, r *http.Request) {
		n, _ := strconv.Atoi(r.URL.Query().Get("n"))
		if n <= 0 {
			n = 2000
		}
		reply := make(chan int)
		jobs <- job{n, reply}
		fmt.Fprintf(w, "%d\n", <-reply)
	})
	log.Printf("httpserver pid %d on %s", os.Getpid(), *addr)
	log.Fatal(http.ListenAndServe(*addr, nil))
}
