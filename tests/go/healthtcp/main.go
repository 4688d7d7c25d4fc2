// Command healthtcp streams data over one TCP connection, for
// tests/e2e/test_health_tcp.sh.
//
//	healthtcp server -addr IP:PORT [-rcvbuf BYTES] [-noread]
//	healthtcp client -addr IP:PORT [-chunk BYTES] [-conns N]
//
// The server accepts connections and reads them to the end; on SIGUSR1 it
// stops reading them and sets their SO_RCVBUF to the minimum, below what
// the window it has advertised lets in (with -noread it never reads: its
// receive queue fills and the window closes). -rcvbuf sets SO_RCVBUF on
// the listening socket, which accepted sockets inherit. The client dials
// once (-conns: N times) and writes as fast as each connection takes it,
// in main.stream.
// Each prints "healthtcp: ready ..." when set up.
package main

import (
	"context"
	"flag"
	"fmt"
	"net"
	"os"
	"os/signal"
	"syscall"
)

func die(format string, a ...interface{}) {
	fmt.Fprintf(os.Stderr, "healthtcp: "+format+"\n", a...)
	os.Exit(1)
}

func server(addr string, rcvbuf int, noread bool) {
	stall := make(chan struct{})
	sig := make(chan os.Signal, 1)
	signal.Notify(sig, syscall.SIGUSR1)
	go func() {
		<-sig
		close(stall)
	}()
	lc := net.ListenConfig{Control: func(network, address string, c syscall.RawConn) error {
		var serr error
		err := c.Control(func(fd uintptr) {
			if rcvbuf > 0 {
				serr = syscall.SetsockoptInt(int(fd), syscall.SOL_SOCKET, syscall.SO_RCVBUF, rcvbuf)
			}
		})
		if err != nil {
			return err
		}
		return serr
	}}
	ln, err := lc.Listen(context.Background(), "tcp", addr)
	if err != nil {
		die("listen: %v", err)
	}
	fmt.Printf("healthtcp: ready server pid %d addr %s\n", os.Getpid(), ln.Addr())
	var held []net.Conn
	for {
		c, err := ln.Accept()
		if err != nil {
			die("accept: %v", err)
		}
		if noread {
			held = append(held, c) // never read: the receive queue fills
			continue
		}
		go readUntilStall(c.(*net.TCPConn), stall)
	}
}

// readUntilStall reads c to the end, or until stall is closed: then it
// stops reading and sets SO_RCVBUF to its minimum. The window the receiver
// has advertised stays open (Linux does not shrink it), so the sender's
// data keeps arriving and finds no room: TcpExtTCPRcvQDrop, drop reason
// PROTO_MEM.
func readUntilStall(c *net.TCPConn, stall chan struct{}) {
	buf := make([]byte, 256<<10)
	for {
		select {
		case <-stall:
			if err := c.SetReadBuffer(1); err != nil {
				die("SO_RCVBUF: %v", err)
			}
			fmt.Printf("healthtcp: stalled %s\n", c.RemoteAddr())
			select {}
		default:
		}
		if _, err := c.Read(buf); err != nil {
			return
		}
	}
}

// stream writes to c until the connection fails.
//
//go:noinline
func stream(c net.Conn, chunk int) {
	buf := make([]byte, chunk)
	for i := range buf {
		buf[i] = byte(i)
	}
	for {
		if _, err := c.Write(buf); err != nil {
			die("write: %v", err)
		}
	}
}

func client(addr string, chunk, conns int) {
	cs := make([]net.Conn, conns)
	for i := range cs {
		c, err := net.Dial("tcp", addr)
		if err != nil {
			die("dial: %v", err)
		}
		cs[i] = c
	}
	for _, c := range cs[1:] {
		go stream(c, chunk)
	}
	fmt.Printf("healthtcp: ready client pid %d local %s remote %s conns %d\n", os.Getpid(),
		cs[0].LocalAddr(), cs[0].RemoteAddr(), conns)
	stream(cs[0], chunk)
}

func main() {
	if len(os.Args) < 2 {
		die("usage: healthtcp server|client -addr IP:PORT [...]")
	}
	fs := flag.NewFlagSet(os.Args[1], flag.ExitOnError)
	addr := fs.String("addr", "", "IP:PORT")
	rcvbuf := fs.Int("rcvbuf", 0, "server: SO_RCVBUF of the listening socket")
	noread := fs.Bool("noread", false, "server: never read")
	chunk := fs.Int("chunk", 64<<10, "client: bytes per write")
	conns := fs.Int("conns", 1, "client: connections, each streaming")
	fs.Parse(os.Args[2:])
	switch os.Args[1] {
	case "server":
		server(*addr, *rcvbuf, *noread)
	case "client":
		client(*addr, *chunk, *conns)
	default:
		die("unknown mode %q", os.Args[1])
	}
}
