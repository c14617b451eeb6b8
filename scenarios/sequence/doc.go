// Package sequence owns the order in which a replay's responses arrived:
// the compact per-request record the replayer keeps ([Recording]), the
// counts file that carries it ([File], written by `splitproof replay
// --counts DIR`), and the plain list `splitproof verify --sequence` also
// reads.
//
// Counts alone assume every request is an independent weighted draw; the
// order, the times and the connections are what can show that a gateway
// schedules deterministically, in bursts, or per connection instead.
//
// # The replayer's file
//
// A counts file as package sim documents it (scenario, categories, counts,
// alpha, delta) with one more field, "sequence", in the same JSON document
// so that the counts and the order they came from cannot be separated:
//
//	"sequence": {
//	  "start": "2026-12-04T13:22:21.123456789Z",
//	  "connections": "traced",
//	  "fields": ["sent_ns", "received_ns", "conn", "status", "category"],
//	  "requests": [
//	    [51200, 412300, 1, 200, "v3"],
//	    [415000, 633100, 1, 200, "v1"]
//	  ]
//	}
//
// "start" is the wall-clock time the replay began. Each request is an array
// in the order of "fields", one per line, in the order the responses were
// recorded (the order they arrived: the replayer sends one at a time):
//
//   - sent_ns: when its headers were written, in nanoseconds after start
//     (a monotonic clock, immune to wall-clock steps);
//   - received_ns: when its response was read to the end, or its failure
//     seen;
//   - conn: the connection that carried it, numbered from 1 in the order the
//     replay opened them; 0 when unknown;
//   - status: the HTTP status, 0 when no response arrived or none was seen;
//   - category: what the classifier made of it, as counted in "counts".
//
// "connections" says what conn means:
//
//   - "traced": the native curl, whose transport numbers each connection it
//     dials and reports the one each request used (by default each curl
//     command opens its own, as real curl does, so the loop's n requests
//     use n connections; with `replay --connections reuse` the commands
//     share keep-alive connections, and one usually carries every request);
//   - "per-command": real curl (--system-tools), seen only from outside: each
//     curl command opens its own connections, so conn is the number of the
//     command that made the request, and sent_ns and received_ns are when
//     the command started and exited; reuse inside one command, the time
//     spent before the request was written, and the status of a response
//     not printed by `curl -i` are not known (status 0);
//   - "none": a plain list, which has only the order (times, conn and status
//     are 0).
//
// [Schedule] reads a recording as package sim/sched does (each request's
// category index, and its connection unless "connections" is "none") and
// returns the scheduler class with the verdict of the test that fits it.
//
// The counts must be exactly the categories of the requests: a file where
// they disagree is refused. "counts" may be left out of a hand-written file
// that has a sequence; it is then computed from it.
//
// # The plain list
//
// One category per line, in arrival order. Blank lines are skipped; '#'
// starts a comment at the beginning of a line or after white space. A line
// holds one category name: no inner white space, no control characters,
// valid UTF-8, at most [MaxLine] bytes. Errors name the file and the line.
//
//	# example1, port-forward snippet
//	v3
//	v3
//	v1   # the first v1
//
// # Memory
//
// A [Recording] keeps 32 bytes per request in fixed-size blocks, so a
// million requests take 32 MB and growing never copies what was recorded.
package sequence
