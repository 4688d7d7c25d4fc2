// Command hello is the smallest Go program: pure Go, no net, no cgo. Built
// with cgo enabled (Go's default when a C compiler is installed) it still
// links no runtime/cgo, statically, or dynamically as a PIE: the case that
// tells "cgo was enabled" apart from "this binary uses cgo".
package main

import (
	"fmt"
	"os"
)

func main() {
	fmt.Printf("hello from pid %d\n", os.Getpid())
}
