//go:build cgo && goscope_cgo

// With -tags goscope_cgo: a blocker that sits in C code, so the binary is a
// cgo program for real (runtime/cgo, external symbols) and a goroutine is in
// a cgo call.
package main

/*
#include <unistd.h>

static int blockers_cadd(int a, int b) { return a + b; }

static void blockers_csleep(void)
{
	for (;;)
		usleep(1000000);
}
*/
import "C"

//go:noinline
func blockCgoSleep() {
	sink += int(C.blockers_cadd(1, 2))
	C.blockers_csleep()
}

func init() {
	extraBlockers = append(extraBlockers, blocker{"blockCgoSleep", blockCgoSleep})
}
