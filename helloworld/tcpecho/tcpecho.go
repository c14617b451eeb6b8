package tcpecho

import (
	"bufio"
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"strconv"
	"strings"
	"sync"
)

// ParsePorts reads the server's first argument, a comma-separated port list
// such as "9000,9001,9002".
func ParsePorts(s string) ([]int, error) {
	var ports []int
	for f := range strings.SplitSeq(s, ",") {
		p, err := strconv.Atoi(strings.TrimSpace(f))
		if err != nil || p < 0 || p > 65535 {
			return nil, fmt.Errorf("parse port list %q: %q is not a port number", s, f)
		}
		ports = append(ports, p)
	}
	return ports, nil
}

// Serve answers connections on every listener until ctx is done, then
// closes the listeners and open connections and waits for its goroutines.
// log may be nil.
func Serve(ctx context.Context, listeners []net.Listener, prefix string, log *slog.Logger) error {
	if log == nil {
		log = slog.New(slog.DiscardHandler)
	}
	ctx, cancel := context.WithCancel(ctx)
	defer cancel()
	var wg sync.WaitGroup
	errs := make([]error, len(listeners))
	for i, ln := range listeners {
		wg.Go(func() { errs[i] = accept(ctx, &wg, ln, prefix, log) })
	}
	<-ctx.Done()
	for _, ln := range listeners {
		ln.Close() // unblocks Accept
	}
	wg.Wait()
	return errors.Join(errs...)
}

func accept(ctx context.Context, wg *sync.WaitGroup, ln net.Listener, prefix string, log *slog.Logger) error {
	for {
		conn, err := ln.Accept()
		if err != nil {
			if ctx.Err() != nil {
				return nil
			}
			return fmt.Errorf("tcp echo on %s: %w", ln.Addr(), err)
		}
		wg.Go(func() {
			// Closing the connection when ctx ends unblocks the read.
			stop := context.AfterFunc(ctx, func() { conn.Close() })
			defer stop()
			defer conn.Close()
			Echo(conn, prefix, log)
		})
	}
}

// Echo answers each newline-terminated line read from conn with
// prefix + " " + line until the client closes or an error occurs. Like the
// original, a last line without a newline gets no answer.
func Echo(conn net.Conn, prefix string, log *slog.Logger) {
	r := bufio.NewReader(conn)
	for {
		line, err := r.ReadString('\n')
		if err != nil {
			if log != nil && len(line) > 0 {
				log.Debug("tcp echo: connection ended mid-line", "remote", conn.RemoteAddr(), "err", err)
			}
			return
		}
		if _, err := conn.Write([]byte(prefix + " " + line)); err != nil {
			return
		}
	}
}
