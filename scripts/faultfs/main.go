// faultfs: a fault-injecting pass-through FUSE layer mounted over a directory (a backup's source, a restore's
// target, a repository). It counts the bytes read (or written) through it, in the order the operations arrive
// across all threads, and when an operation would take the count past the byte point it holds that operation and
// strikes: kill (SIGKILL the process it was told, then fail the held operation), eio, enospc or delay.
//
// It reports on stdout, one JSON object a line: {"event":"ready"} once mounted, {"event":"struck",...} exactly
// once, with the byte it struck at, and {"event":"stats",...} when it is unmounted. The pid to kill comes from
// -kill-pid or a line "pid <n>" on stdin (the tool is usually started after the layer is mounted).
//
//	faultfs -dir /data -op read -action kill -at-byte 1048576
package main

import (
	"bufio"
	"encoding/json"
	"flag"
	"fmt"
	"os"
	"os/signal"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"time"

	"github.com/hanwen/go-fuse/v2/fs"
	"github.com/hanwen/go-fuse/v2/fuse"
)

var outMu sync.Mutex

func emit(v map[string]any) {
	b, _ := json.Marshal(v)
	outMu.Lock()
	defer outMu.Unlock()
	os.Stdout.Write(append(b, '\n'))
}

func fail(format string, a ...any) {
	fmt.Fprintf(os.Stderr, "faultfs: "+format+"\n", a...)
	os.Exit(2)
}

func main() {
	dir := flag.String("dir", "", "the directory to mount over (required)")
	op := flag.String("op", "read", "the operations counted and faulted: read or write")
	action := flag.String("action", "none", "none, kill, eio, enospc or delay")
	atByte := flag.Int64("at-byte", 0, "the byte point")
	count := flag.Int64("count", 0, "eio: how many operations fail (0: every one from the point on)")
	delayMs := flag.Float64("delay-ms", 0, "delay: milliseconds added to each operation past the point")
	killPid := flag.Int("kill-pid", 0, "kill: the process to SIGKILL (else a 'pid <n>' line on stdin)")
	pidWait := flag.Duration("pid-wait", 5*time.Second, "kill: how long the held operation waits for the pid to kill")
	idleStrike := flag.Duration("idle-strike", 200*time.Millisecond, "kill: strike this long after the point was reached when no further operation came")
	flag.Parse()
	if *dir == "" {
		fail("-dir is required")
	}
	if *op != "read" && *op != "write" {
		fail("-op must be read or write, not %q", *op)
	}
	a := Action(*action)
	switch a {
	case ActionNone, ActionKill, ActionEIO, ActionENOSPC, ActionDelay:
	default:
		fail("-action must be none, kill, eio, enospc or delay, not %q", *action)
	}
	plan := Plan{Op: *op, Action: a, AtByte: *atByte, Count: *count, Delay: time.Duration(*delayMs * float64(time.Millisecond))}

	// The directory stays reachable under the mount through a descriptor opened before mounting.
	under, err := os.Open(*dir)
	if err != nil {
		fail("%v", err)
	}
	defer under.Close()

	target := newTarget(*killPid)
	go target.readStdin()
	counter := NewCounter(plan)
	layer := &Layer{counter: counter, directIO: plan.Op == "read"}
	layer.onStrike = func(s *Strike, opName string) {
		ev := map[string]any{"event": "struck", "action": string(a), "op": opName, "byte": s.Byte, "opBytes": s.OpBytes, "path": s.Path, "callerPid": s.Pid, "atByte": plan.AtByte}
		if a == ActionKill {
			ev["killed"], ev["killHow"] = target.kill(s.Pid, *pidWait)
			if s.OpBytes == 0 {
				ev["killHow"] = fmt.Sprintf("%s, %s after the point was reached with no further operation", ev["killHow"], *idleStrike)
			}
			emit(ev)
			go func() {
				target.waitGone(10 * time.Second)
				counter.KillDone()
			}()
			return
		}
		emit(ev)
	}
	if a == ActionKill {
		// The tool stopped right at the point (no operation followed the cut): strike anyway, a little later.
		var once sync.Once
		layer.onCut = func() {
			once.Do(func() {
				time.AfterFunc(*idleStrike, func() {
					if s := counter.StrikeIdle(); s != nil {
						layer.onStrike(s, *op)
					}
				})
			})
		}
	}

	root, err := newRoot(fmt.Sprintf("/proc/self/fd/%d", under.Fd()), layer)
	if err != nil {
		fail("%v", err)
	}
	sec := time.Second
	mo := fuse.MountOptions{FsName: "faultfs", Name: "faultfs"}
	if os.Geteuid() == 0 {
		// mount(2) directly: the directory is not empty (that is the point), which fusermount refuses without nonempty.
		mo.DirectMount = true
		mo.DirectMountStrict = true
	} else {
		mo.Options = []string{"nonempty"}
	}
	server, err := fs.Mount(*dir, root, &fs.Options{EntryTimeout: &sec, AttrTimeout: &sec, MountOptions: mo})
	if err != nil {
		fail("mount over %s: %v", *dir, err)
	}
	emit(map[string]any{"event": "ready", "dir": *dir, "pid": os.Getpid()})

	sigs := make(chan os.Signal, 1)
	signal.Notify(sigs, syscall.SIGTERM, syscall.SIGINT)
	go func() {
		<-sigs
		// Unmount lazily if busy: faultfs must not leave a dead mount behind.
		if err := server.Unmount(); err != nil {
			_ = syscall.Unmount(*dir, syscall.MNT_DETACH)
		}
	}()
	server.Wait()
	st := counter.Stats()
	emit(map[string]any{"event": "stats", "bytes": st.Bytes, "ops": st.Ops, "failed": st.Failed, "delayed": st.Delayed, "struck": st.Struck})
}

// killTarget is the process the kill action SIGKILLs.
type killTarget struct {
	mu   sync.Mutex
	pid  int
	set  chan struct{}
	once sync.Once
}

func newTarget(pid int) *killTarget {
	t := &killTarget{set: make(chan struct{})}
	if pid > 0 {
		t.setPid(pid)
	}
	return t
}

func (t *killTarget) setPid(pid int) {
	t.mu.Lock()
	t.pid = pid
	t.mu.Unlock()
	t.once.Do(func() { close(t.set) })
}

func (t *killTarget) readStdin() {
	sc := bufio.NewScanner(os.Stdin)
	for sc.Scan() {
		f := strings.Fields(sc.Text())
		if len(f) == 2 && f[0] == "pid" {
			if pid, err := strconv.Atoi(f[1]); err == nil && pid > 0 {
				t.setPid(pid)
			}
		}
	}
}

// kill SIGKILLs the told pid, waiting up to `wait` for it; without one, the thread group of the caller.
func (t *killTarget) kill(caller uint32, wait time.Duration) (int, string) {
	select {
	case <-t.set:
	case <-time.After(wait):
	}
	t.mu.Lock()
	pid := t.pid
	how := "told pid"
	if pid == 0 {
		pid = tgid(int(caller))
		how = "caller's process (no pid told)"
		t.pid = pid
	}
	t.mu.Unlock()
	if pid <= 0 {
		return 0, "no process to kill"
	}
	if err := syscall.Kill(pid, syscall.SIGKILL); err != nil {
		return pid, "kill failed: " + err.Error()
	}
	return pid, how
}

// waitGone waits (bounded) until the killed process has exited or is a zombie.
func (t *killTarget) waitGone(limit time.Duration) {
	t.mu.Lock()
	pid := t.pid
	t.mu.Unlock()
	deadline := time.Now().Add(limit)
	for pid > 0 && time.Now().Before(deadline) {
		b, err := os.ReadFile(fmt.Sprintf("/proc/%d/stat", pid))
		if err != nil {
			return
		}
		s := string(b)
		if i := strings.LastIndexByte(s, ')'); i >= 0 && i+2 < len(s) && s[i+2] == 'Z' {
			return
		}
		time.Sleep(2 * time.Millisecond)
	}
}

// tgid is the process a thread belongs to.
func tgid(tid int) int {
	b, err := os.ReadFile(fmt.Sprintf("/proc/%d/status", tid))
	if err != nil {
		return tid
	}
	for _, l := range strings.Split(string(b), "\n") {
		if v, ok := strings.CutPrefix(l, "Tgid:"); ok {
			if n, err := strconv.Atoi(strings.TrimSpace(v)); err == nil {
				return n
			}
		}
	}
	return tid
}
