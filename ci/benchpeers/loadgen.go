package main

import (
	"bufio"
	"context"
	"errors"
	"fmt"
	"io"
	"math"
	"net"
	"net/http"
	"slices"
	"sync"
	"time"
)

// Load is one measurement's settings.
type Load struct {
	// Addr is the loopback host:port to load; Host and Path make the request.
	Addr, Host, Path string
	// Conns keep-alive connections each send one request at a time
	// (closed loop), for Duration after Warmup.
	Conns            int
	Warmup, Duration time.Duration
	// Classify names the backend that wrote a body ("" when none did).
	Classify func(body []byte) string
	// CPU and LoadCPU, when set, read the CPU time the gateway and the
	// load side (this process: load generator and backends) have used so
	// far; they are read as the measuring window opens and closes.
	CPU, LoadCPU func() (time.Duration, error)
}

// Measurement is what the load generator saw during Load.Duration.
type Measurement struct {
	Requests int            `json:"requests"`
	Errors   int            `json:"errors"` // transport errors and non-200 answers
	Seconds  float64        `json:"seconds"`
	ReqPerS  float64        `json:"req_per_s"`
	P50Ms    float64        `json:"p50_ms"`
	P99Ms    float64        `json:"p99_ms"`
	Split    map[string]int `json:"split"` // answers per backend ("other": unclassified)
	// FirstError is the first failure seen, for the report.
	FirstError string `json:"first_error,omitempty"`
	// GatewayCPUSeconds is the CPU time the gateway used in the window
	// (user and system, all threads), and ReqPerCPUSecond the answers per
	// second of it: unlike req/s, this does not move when other processes
	// take the gateway's core for a while, so it compares gateways fairly
	// on a busy machine. Both zero without Load.CPU.
	GatewayCPUSeconds float64 `json:"gateway_cpu_s,omitempty"`
	ReqPerCPUSecond   float64 `json:"req_per_cpu_s,omitempty"`
	// LoadCPUSeconds is the load side's CPU time in the window. When
	// neither it nor the gateway's comes near the window's length, neither
	// core was saturated: the closed loop was bound by latency, and req/s
	// says less about the gateway than answers per CPU-second do.
	LoadCPUSeconds float64 `json:"load_cpu_s,omitempty"`
}

// conn is one client connection and what it recorded.
type conn struct {
	l       *Load
	req     []byte
	c       net.Conn
	br      *bufio.Reader
	lat     []time.Duration
	split   map[string]int
	errs    int
	firstEr error
}

// Measure loads l.Addr and measures it. Only answers that complete within the
// measuring window count; the warm-up's do not.
func Measure(ctx context.Context, l Load) (Measurement, error) {
	if l.Conns < 1 || l.Duration <= 0 {
		return Measurement{}, fmt.Errorf("load needs at least one connection and a positive duration (have %d, %s)", l.Conns, l.Duration)
	}
	req := fmt.Appendf(nil, "GET %s HTTP/1.1\r\nHost: %s\r\nUser-Agent: splitproof-benchpeers\r\nAccept: */*\r\n\r\n", l.Path, l.Host)
	start := time.Now().Add(l.Warmup)
	end := start.Add(l.Duration)
	conns := make([]*conn, l.Conns)
	var wg sync.WaitGroup
	// cpu[i][j] is probe j's reading as the window opens (i = 0) and
	// closes (i = 1).
	probes := []func() (time.Duration, error){l.CPU, l.LoadCPU}
	var cpu [2][2]time.Duration
	var cpuErr [2][2]error
	if l.CPU != nil || l.LoadCPU != nil {
		wg.Go(func() {
			for i, at := range []time.Time{start, end} {
				select {
				case <-ctx.Done():
					return
				case <-time.After(time.Until(at)):
				}
				for j, probe := range probes {
					if probe != nil {
						cpu[i][j], cpuErr[i][j] = probe()
					}
				}
			}
		})
	}
	for i := range conns {
		c := &conn{l: &l, req: req, split: map[string]int{}}
		conns[i] = c
		wg.Go(func() { c.loop(ctx, start, end) })
	}
	wg.Wait()
	if err := ctx.Err(); err != nil {
		return Measurement{}, fmt.Errorf("load %s: %w", l.Addr, err)
	}
	m := summarise(conns, l.Duration)
	if err := errors.Join(cpuErr[0][0], cpuErr[0][1], cpuErr[1][0], cpuErr[1][1]); err != nil {
		return Measurement{}, fmt.Errorf("load %s: CPU time: %w", l.Addr, err)
	}
	if l.CPU != nil {
		m.GatewayCPUSeconds = (cpu[1][0] - cpu[0][0]).Seconds()
		if m.GatewayCPUSeconds > 0 {
			m.ReqPerCPUSecond = float64(m.Requests) / m.GatewayCPUSeconds
		}
	}
	if l.LoadCPU != nil {
		m.LoadCPUSeconds = (cpu[1][1] - cpu[0][1]).Seconds()
	}
	return m, nil
}

// loop sends requests until end, recording those that start after start.
func (c *conn) loop(ctx context.Context, start, end time.Time) {
	defer c.close()
	for ctx.Err() == nil {
		t0 := time.Now()
		if !t0.Before(end) {
			return
		}
		backend, err := c.do(ctx)
		t1 := time.Now()
		if t0.Before(start) || t1.After(end) {
			// Warm-up, or an answer that straddles the window's end.
			if err != nil {
				c.close()
			}
			continue
		}
		if err != nil {
			c.errs++
			if c.firstEr == nil {
				c.firstEr = err
			}
			c.close()
			// A refused connection must not turn into a busy loop.
			time.Sleep(time.Millisecond)
			continue
		}
		c.lat = append(c.lat, t1.Sub(t0))
		c.split[backend]++
	}
}

func (c *conn) close() {
	if c.c != nil {
		_ = c.c.Close()
		c.c, c.br = nil, nil
	}
}

// do sends one request on the connection (dialling it if needed) and reads
// the whole answer.
func (c *conn) do(ctx context.Context) (string, error) {
	if c.c == nil {
		var d net.Dialer
		nc, err := d.DialContext(ctx, "tcp", c.l.Addr)
		if err != nil {
			return "", fmt.Errorf("dial %s: %w", c.l.Addr, err)
		}
		c.c, c.br = nc, bufio.NewReaderSize(nc, 16<<10)
	}
	// No request can hang the run past its window for long.
	_ = c.c.SetDeadline(time.Now().Add(5 * time.Second))
	if _, err := c.c.Write(c.req); err != nil {
		return "", fmt.Errorf("send request: %w", err)
	}
	res, err := http.ReadResponse(c.br, nil)
	if err != nil {
		return "", fmt.Errorf("read answer: %w", err)
	}
	body, err := io.ReadAll(res.Body)
	_ = res.Body.Close()
	if err != nil {
		return "", fmt.Errorf("read body: %w", err)
	}
	if res.StatusCode != http.StatusOK {
		return "", fmt.Errorf("status %d: %.80q", res.StatusCode, body)
	}
	if res.Close {
		c.close()
	}
	name := c.l.Classify(body)
	if name == "" {
		name = "other"
	}
	return name, nil
}

// summarise merges the connections' records.
func summarise(conns []*conn, d time.Duration) Measurement {
	m := Measurement{Seconds: d.Seconds(), Split: map[string]int{}}
	var lat []time.Duration
	var first error
	for _, c := range conns {
		lat = append(lat, c.lat...)
		m.Errors += c.errs
		for k, v := range c.split {
			m.Split[k] += v
		}
		if first == nil {
			first = c.firstEr
		}
	}
	m.Requests = len(lat)
	m.ReqPerS = float64(m.Requests) / d.Seconds()
	slices.Sort(lat)
	m.P50Ms = ms(quantile(lat, 0.50))
	m.P99Ms = ms(quantile(lat, 0.99))
	if first != nil {
		m.FirstError = first.Error()
	}
	return m
}

// quantile is the nearest-rank q-quantile of sorted durations; 0 for none.
func quantile(sorted []time.Duration, q float64) time.Duration {
	if len(sorted) == 0 {
		return 0
	}
	i := int(math.Ceil(q*float64(len(sorted)))) - 1
	return sorted[max(0, min(i, len(sorted)-1))]
}

func ms(d time.Duration) float64 { return float64(d) / float64(time.Millisecond) }
