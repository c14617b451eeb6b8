package sequence

import (
	"fmt"
	"iter"
	"math"
	"time"
)

// Connections says how a recording's connection numbers were obtained.
type Connections string

const (
	// ConnsTraced: the native curl's transport numbered its connections and
	// reported the one each request used.
	ConnsTraced Connections = "traced"
	// ConnsPerCommand: real curl, seen from outside; conn numbers the curl
	// command, each of which opens connections of its own.
	ConnsPerCommand Connections = "per-command"
	// ConnsNone: a plain list of categories; only the order is known.
	ConnsNone Connections = "none"
)

func (c Connections) valid() bool {
	return c == ConnsTraced || c == ConnsPerCommand || c == ConnsNone
}

// Request is one recorded request: 32 bytes, so that a million of them fit
// in 32 MB.
type Request struct {
	// Sent and Received are offsets from the recording's Start.
	Sent, Received time.Duration
	// Conn is the connection's number, from 1; 0 when unknown.
	Conn uint32
	// category indexes the recording's table of names; Category resolves it.
	category uint32
	// Status is the HTTP status, 0 when none arrived or none was seen.
	Status uint16
}

// blockSize is how many requests one block holds (128 KiB): large enough
// that the block list stays short, small enough that a short replay wastes
// little.
const blockSize = 4096

// Recording is the sequence of a replay's requests in arrival order. It is
// not safe for concurrent use: the replayer records from one goroutine.
type Recording struct {
	// Start is the wall-clock time the replay began; the requests' times
	// are monotonic offsets from it.
	Start time.Time
	// Connections says what the requests' Conn numbers mean.
	Connections Connections

	names  []string
	index  map[string]uint32
	last   uint32 // category of the last request
	blocks [][]Request
	n      int
}

// New returns an empty recording of a replay that began at start.
func New(start time.Time, conns Connections) *Recording {
	return &Recording{Start: start, Connections: conns, index: map[string]uint32{}}
}

// Add records the next request. Times before the start are recorded as 0,
// a receive time before the send time as the send time, and a status out of
// 0..999 as 0 (unknown): a record never holds what the file format refuses.
func (r *Recording) Add(sent, received time.Duration, conn uint64, status int, category string) {
	sent = max(sent, 0)
	received = max(received, sent)
	if status < 0 || status > 999 {
		status = 0
	}
	if conn > math.MaxUint32 {
		// More connections than a replay can make (its requests are
		// bounded far below); keep the record rather than wrap around.
		conn = 0
	}
	// Consecutive requests mostly share a category (80 % of them are v3 in
	// the doc's split): comparing with the last one skips the map.
	c, ok := r.last, r.n > 0 && r.names[r.last] == category
	if !ok {
		c, ok = r.index[category]
	}
	if !ok {
		if r.index == nil {
			r.index = map[string]uint32{}
		}
		c = uint32(len(r.names))
		r.names = append(r.names, category)
		r.index[category] = c
	}
	if len(r.blocks) == 0 || len(r.blocks[len(r.blocks)-1]) == blockSize {
		r.blocks = append(r.blocks, make([]Request, 0, blockSize))
	}
	last := &r.blocks[len(r.blocks)-1]
	*last = append(*last, Request{Sent: sent, Received: received, Conn: uint32(conn), category: c, Status: uint16(status)})
	r.n++
	r.last = c
}

// Len returns the number of requests recorded.
func (r *Recording) Len() int {
	if r == nil {
		return 0
	}
	return r.n
}

// At returns the i-th request (0-based).
func (r *Recording) At(i int) Request {
	if i < 0 || i >= r.n {
		panic(fmt.Sprintf("sequence: request %d of %d", i, r.n))
	}
	return r.blocks[i/blockSize][i%blockSize]
}

// All yields every request with its position, in order.
func (r *Recording) All() iter.Seq2[int, Request] {
	return func(yield func(int, Request) bool) {
		if r == nil {
			return
		}
		i := 0
		for _, b := range r.blocks {
			for _, req := range b {
				if !yield(i, req) {
					return
				}
				i++
			}
		}
	}
}

// Category returns the name of req's category.
func (r *Recording) Category(req Request) string { return r.names[req.category] }

// Counts returns how many requests fell in each category.
func (r *Recording) Counts() map[string]int64 {
	perIndex := make([]int64, len(r.names))
	for _, req := range r.All() {
		perIndex[req.category]++
	}
	out := make(map[string]int64, len(r.names))
	for i, name := range r.names {
		out[name] = perIndex[i]
	}
	return out
}

// Conns returns the highest connection number recorded: how many
// connections the requests used when numbers are traced.
func (r *Recording) Conns() uint32 {
	var m uint32
	for _, req := range r.All() {
		m = max(m, req.Conn)
	}
	return m
}
