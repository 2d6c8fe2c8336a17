package main

import (
	"syscall"
	"testing"
	"time"
)

func TestCutThenStrikeNext(t *testing.T) {
	c := NewCounter(Plan{Op: "read", Action: ActionKill, AtByte: 1000})
	if v := c.Before(600, "a", 1); v.Limit != -1 || v.Strike != nil {
		t.Fatalf("first op: %+v", v)
	}
	c.After(600, 600)
	v := c.Before(600, "a", 1)
	if v.Limit != 400 || v.Strike != nil {
		t.Fatalf("crossing op must be cut at 400 bytes: %+v", v)
	}
	c.After(400, 400)
	v = c.Before(600, "a", 2)
	if v.Strike == nil || v.Strike.Byte != 1000 || v.Errno != syscall.EIO {
		t.Fatalf("next op must be struck at byte 1000: %+v", v)
	}
	if v := c.Before(10, "b", 2); v.Errno != syscall.EIO {
		t.Fatalf("until the kill is done, ops fail: %+v", v)
	}
	c.KillDone()
	if v := c.Before(10, "b", 2); v.Errno != 0 {
		t.Fatalf("after the kill, ops pass: %+v", v)
	}
}

func TestEIOCountAndENOSPC(t *testing.T) {
	c := NewCounter(Plan{Op: "write", Action: ActionEIO, AtByte: 0, Count: 2})
	for i, want := range []syscall.Errno{syscall.EIO, syscall.EIO, 0} {
		if v := c.Before(10, "a", 1); v.Errno != want {
			t.Fatalf("op %d: %+v, want %v", i, v, want)
		}
	}
	d := NewCounter(Plan{Op: "write", Action: ActionENOSPC, AtByte: 15})
	if v := d.Before(10, "a", 1); v.Errno != 0 {
		t.Fatal(v)
	}
	d.After(10, 10)
	if v := d.Before(10, "a", 1); v.Limit != 5 {
		t.Fatalf("short write up to the point: %+v", v)
	}
	d.After(5, 5)
	if v := d.Before(10, "a", 1); v.Errno != syscall.ENOSPC || v.Strike.Byte != 15 {
		t.Fatalf("ENOSPC past the point: %+v", v)
	}
}

func TestDelayAndIdle(t *testing.T) {
	c := NewCounter(Plan{Op: "read", Action: ActionDelay, AtByte: 0, Delay: time.Millisecond})
	if v := c.Before(10, "a", 1); v.Delay != time.Millisecond || v.Strike == nil || v.Strike.Byte != 0 {
		t.Fatalf("%+v", v)
	}
	k := NewCounter(Plan{Op: "read", Action: ActionKill, AtByte: 5})
	if k.StrikeIdle() != nil {
		t.Fatal("no strike before the point")
	}
	k.Before(10, "a", 1)
	k.After(5, 5)
	if s := k.StrikeIdle(); s == nil || s.Byte != 5 {
		t.Fatalf("idle strike at the point: %+v", s)
	}
}
