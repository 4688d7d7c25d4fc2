// Command healthfault provokes major page faults on demand, for
// tests/e2e/test_health_faults.sh.
//
// It maps FILE read-only (MAP_SHARED) with MADV_RANDOM, so that the kernel
// reads exactly the faulting page and nothing around it: one major fault
// per page. On each SIGUSR1 it makes one pass: madvise(MADV_DONTNEED) drops
// its page table entries, posix_fadvise(POSIX_FADV_DONTNEED) then evicts
// the file's (now unmapped, clean) pages from the page cache, and
// main.touchPages reads one byte of every page: each read is a major
// fault in main.touchPages. After the pass it prints
//
//	healthfault: pass N pages P majflt D
//
// where D is the pass's majflt delta from /proc/self/stat (a check that the
// faults really were major). With -loop it makes passes back to back from
// the start, without signals and without printing them: a process taking
// major faults (and so IO wakeups) all the time. Stdlib only (syscall).
package main

import (
	"fmt"
	"os"
	"os/signal"
	"strconv"
	"strings"
	"syscall"
)

const (
	sysFadvise64      = 221 // x86_64 SYS_FADVISE64
	posixFadvDontneed = 4
)

var sink byte

// touchPages reads one byte of every page of m: the faulting function the
// test expects at the top of goscope's stack.
//
//go:noinline
func touchPages(m []byte, page int) int {
	n := 0
	var s byte
	for off := 0; off < len(m); off += page {
		s += m[off]
		n++
	}
	sink = s
	return n
}

func majflt() uint64 {
	b, err := os.ReadFile("/proc/self/stat")
	if err != nil {
		return 0
	}
	s := string(b)
	s = s[strings.LastIndexByte(s, ')')+2:]
	f := strings.Fields(s)
	// after "pid (comm) ": state ppid pgrp session tty tpgid flags minflt cminflt majflt
	v, _ := strconv.ParseUint(f[9], 10, 64)
	return v
}

func die(format string, a ...interface{}) {
	fmt.Fprintf(os.Stderr, "healthfault: "+format+"\n", a...)
	os.Exit(1)
}

func main() {
	loop := len(os.Args) == 3 && os.Args[1] == "-loop"
	if len(os.Args) != 2 && !loop {
		die("usage: healthfault [-loop] FILE")
	}
	f, err := os.Open(os.Args[len(os.Args)-1])
	if err != nil {
		die("%v", err)
	}
	st, err := f.Stat()
	if err != nil || st.Size() == 0 {
		die("stat: %v (size %d)", err, st.Size())
	}
	fd := int(f.Fd())
	m, err := syscall.Mmap(fd, 0, int(st.Size()), syscall.PROT_READ, syscall.MAP_SHARED)
	if err != nil {
		die("mmap: %v", err)
	}
	if err := syscall.Madvise(m, syscall.MADV_RANDOM); err != nil {
		die("madvise(MADV_RANDOM): %v", err)
	}
	page := os.Getpagesize()
	sig := make(chan os.Signal, 16)
	signal.Notify(sig, syscall.SIGUSR1, syscall.SIGTERM)
	fmt.Printf("healthfault: ready pid %d pages %d\n", os.Getpid(), len(m)/page)
	for pass := 1; ; pass++ {
		if loop {
			select {
			case s := <-sig:
				if s == syscall.SIGTERM {
					return
				}
			default:
			}
		} else if s := <-sig; s == syscall.SIGTERM {
			return
		}
		if err := syscall.Madvise(m, syscall.MADV_DONTNEED); err != nil {
			die("madvise(MADV_DONTNEED): %v", err)
		}
		if _, _, e := syscall.Syscall6(sysFadvise64, uintptr(fd), 0, 0, posixFadvDontneed, 0, 0); e != 0 {
			die("fadvise(DONTNEED): %v", e)
		}
		before := majflt()
		n := touchPages(m, page)
		if loop {
			continue
		}
		fmt.Printf("healthfault: pass %d pages %d majflt %d\n", pass, n, majflt()-before)
	}
}
