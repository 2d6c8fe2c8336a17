// The fault plan and the byte counter: which operation crosses the byte point, and what happens to it and to the
// operations after it. No FUSE here, so the rules can be tested on their own.
//
// The point is struck exactly: the operation that would take the count past it is cut there (a short read or a
// short write, which every tool retries at the next offset), and the next operation, the first one past the point,
// is the one held and struck. A delay needs no cut: it starts with the first operation at or past the point.
package main

import (
	"sync"
	"syscall"
	"time"
)

// Action is what faultfs does once the byte point is crossed.
type Action string

const (
	ActionNone   Action = "none"   // count only (an armed layer that never fires)
	ActionKill   Action = "kill"   // SIGKILL the target process, fail the held operation
	ActionEIO    Action = "eio"    // EIO from then on (or for Count operations)
	ActionENOSPC Action = "enospc" // ENOSPC on every write past the point
	ActionDelay  Action = "delay"  // add Delay to every operation past the point
)

// Plan is what faultfs was asked to do.
type Plan struct {
	Op     string // "read" or "write": the operations that are counted and faulted
	Action Action
	AtByte int64         // the byte point
	Count  int64         // eio: how many operations fail (0: all of them, from the point on)
	Delay  time.Duration // delay: latency added to each operation past the point
}

// Strike is where the fault struck, reported once.
type Strike struct {
	Byte    int64  // bytes that had passed through when it struck
	OpBytes int    // the size of the struck operation (0: struck by the timer, with no operation held)
	Path    string // the file, relative to the mount
	Pid     uint32 // the thread that issued it (FUSE caller)
}

// Verdict is what to do with one operation.
type Verdict struct {
	Errno  syscall.Errno // non-zero: fail the operation with it
	Limit  int           // >= 0: move only this many bytes (the cut at the point); -1: all of them
	Delay  time.Duration // wait this long first
	Strike *Strike       // set on the operation that is struck (exactly once)
}

type state int

const (
	armed  state = iota // before the point
	cut                 // the operation that reached the point was cut there; the next one is struck
	struck              // the fault has struck
)

// Counter counts bytes in the order operations arrive, across all threads, and decides each operation's fate.
type Counter struct {
	plan     Plan
	mu       sync.Mutex
	bytes    int64 // bytes of counted operations: reserved when they start, corrected when they end
	ops      int64
	state    state
	failed   int64 // operations failed by the fault
	delayed  int64
	killDone bool // after a kill, once the process is gone: pass everything through
}

func NewCounter(p Plan) *Counter { return &Counter{plan: p} }

// Counts reports whether operations of this kind ("read"/"write") are the plan's.
func (c *Counter) Counts(op string) bool { return op == c.plan.Op }

// pass lets an operation (or its first `limit` bytes) run, reserving its bytes.
func (c *Counter) pass(size, limit int, delay time.Duration) Verdict {
	n := size
	if limit >= 0 {
		n = limit
	}
	c.bytes += int64(n)
	return Verdict{Limit: limit, Delay: delay}
}

// afterStrike is the fate of an operation once the fault has struck.
func (c *Counter) afterStrike(size int) Verdict {
	p := c.plan
	switch p.Action {
	case ActionKill:
		if c.killDone {
			return c.pass(size, -1, 0)
		}
	case ActionEIO:
		if p.Count != 0 && c.failed >= p.Count {
			return c.pass(size, -1, 0)
		}
	case ActionDelay:
		c.delayed++
		return c.pass(size, -1, p.Delay)
	}
	c.failed++
	if p.Action == ActionENOSPC {
		return Verdict{Errno: syscall.ENOSPC, Limit: -1}
	}
	return Verdict{Errno: syscall.EIO, Limit: -1}
}

// Before is asked before an operation of `size` bytes runs. The bytes of an operation that may run are reserved at
// once, so that operations in flight on other threads count in the order they arrived; After must then be called
// with the bytes it reserved (Limit when set, else size) and the bytes it actually moved.
func (c *Counter) Before(size int, path string, pid uint32) Verdict {
	c.mu.Lock()
	defer c.mu.Unlock()
	p := c.plan
	switch {
	case c.state == struck:
		return c.afterStrike(size)
	case p.Action == ActionNone || size == 0:
		return c.pass(size, -1, 0)
	case c.state == armed && p.Action == ActionDelay:
		if c.bytes < p.AtByte {
			return c.pass(size, -1, 0)
		}
	case c.state == armed && c.bytes+int64(size) <= p.AtByte:
		return c.pass(size, -1, 0)
	case c.state == armed && c.bytes < p.AtByte:
		c.state = cut
		return c.pass(size, int(p.AtByte-c.bytes), 0)
	}
	// This operation is the first past the point: it is struck.
	c.state = struck
	v := c.afterStrike(size)
	v.Strike = &Strike{Byte: c.bytes, OpBytes: size, Path: path, Pid: pid}
	if p.Action == ActionDelay {
		v.Strike.Byte -= int64(size)
	}
	return v
}

// StrikeIdle strikes when the point was reached by a cut and no operation followed (the tool stopped there):
// reports the strike, or nil when the fault had already struck or the point was not reached.
func (c *Counter) StrikeIdle() *Strike {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.state != cut {
		return nil
	}
	c.state = struck
	return &Strike{Byte: c.bytes}
}

// After corrects the count of an operation that ran: it had reserved `reserved` bytes and moved `n`.
func (c *Counter) After(reserved, n int) {
	c.mu.Lock()
	c.bytes += int64(n) - int64(reserved)
	c.ops++
	c.mu.Unlock()
}

// KillDone ends the kill's aftermath: from now on the layer passes everything through.
func (c *Counter) KillDone() {
	c.mu.Lock()
	c.killDone = true
	c.mu.Unlock()
}

// Stats is the final account.
type Stats struct {
	Bytes, Ops, Failed, Delayed int64
	Struck                      bool
}

func (c *Counter) Stats() Stats {
	c.mu.Lock()
	defer c.mu.Unlock()
	return Stats{Bytes: c.bytes, Ops: c.ops, Failed: c.failed, Delayed: c.delayed, Struck: c.state == struck}
}
