// cgospin: a cgo program whose CPU goes to a C function, cspin, called in
// a loop from main.spinLoop (the C code keeps frame pointers). Prints its
// pid and "ready", then spins until killed.
package main

/*
#cgo CFLAGS: -O1 -fno-omit-frame-pointer
static unsigned long long cspin_sink;

__attribute__((noinline)) void cspin(long n)
{
	unsigned long long x = cspin_sink;
	for (long i = 0; i < n; i++)
		x = x * 6364136223846793005ULL + 1442695040888963407ULL;
	cspin_sink = x;
}
*/
import "C"

import (
	"fmt"
	"os"
)

//go:noinline
func spinLoop() {
	for {
		C.cspin(5000000)
	}
}

func main() {
	fmt.Println(os.Getpid(), "ready")
	spinLoop()
}
