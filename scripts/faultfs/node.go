// The pass-through file system: go-fuse's loopback nodes, whose files are wrapped so that every read or write is
// counted and, past the byte point, faulted.
package main

import (
	"context"
	"path/filepath"
	"syscall"
	"time"

	"github.com/hanwen/go-fuse/v2/fs"
	"github.com/hanwen/go-fuse/v2/fuse"
)

// Layer is what every node and file shares: the counter and what to do when it strikes.
type Layer struct {
	counter *Counter
	// onStrike runs on the struck operation's thread, holding it, before the operation is answered.
	onStrike func(s *Strike, op string)
	// onCut runs once the operation that reached the point was cut there.
	onCut func()
	// directIO: open files with FOPEN_DIRECT_IO (when reads are counted; see openFlags).
	directIO bool
}

// openFlags: where reads are counted, direct I/O, so each read reaches the layer as the tool issued it (no
// readahead, no page cache) and a cut read is a short read the tool sees, not an end of file. Where writes are
// counted, the page cache stays (tools mmap files in their repositories, which direct I/O forbids): without a
// writeback cache every write still reaches the layer, and a short write is returned to the tool as such.
func (l *Layer) openFlags(fl uint32) uint32 {
	if l.directIO {
		return fl | fuse.FOPEN_DIRECT_IO
	}
	return fl
}

type node struct {
	fs.LoopbackNode
	layer *Layer
}

func newRoot(path string, layer *Layer) (fs.InodeEmbedder, error) {
	var st syscall.Stat_t
	if err := syscall.Stat(path, &st); err != nil {
		return nil, err
	}
	root := &fs.LoopbackRoot{Path: path, Dev: uint64(st.Dev)}
	root.NewNode = func(r *fs.LoopbackRoot, _ *fs.Inode, _ string, _ *syscall.Stat_t) fs.InodeEmbedder {
		return &node{LoopbackNode: fs.LoopbackNode{RootData: r}, layer: layer}
	}
	n := root.NewNode(root, nil, "", &st)
	root.RootNode = n
	return n, nil
}

var _ = (fs.NodeOpener)((*node)(nil))
var _ = (fs.NodeCreater)((*node)(nil))

// relPath is the node's path under the mount, for the report.
func (n *node) relPath() string { return n.Path(n.Root()) }

func (n *node) Open(ctx context.Context, flags uint32) (fs.FileHandle, uint32, syscall.Errno) {
	fh, fl, errno := n.LoopbackNode.Open(ctx, flags)
	if errno != 0 {
		return fh, fl, errno
	}
	return n.wrap(fh), n.layer.openFlags(fl), 0
}

func (n *node) Create(ctx context.Context, name string, flags uint32, mode uint32, out *fuse.EntryOut) (*fs.Inode, fs.FileHandle, uint32, syscall.Errno) {
	ino, fh, fl, errno := n.LoopbackNode.Create(ctx, name, flags, mode, out)
	if errno != 0 {
		return ino, fh, fl, errno
	}
	f := n.wrap(fh)
	// The new inode is not linked into the tree until Create returns: its path is the parent's and its name.
	f.path = filepath.Join(n.relPath(), name)
	return ino, f, n.layer.openFlags(fl), 0
}

func (n *node) wrap(fh fs.FileHandle) *file {
	return &file{LoopbackFile: fh.(*fs.LoopbackFile), layer: n.layer, path: n.relPath()}
}

type file struct {
	*fs.LoopbackFile
	layer *Layer
	path  string
}

// PassthroughFd: never hand the kernel the backing file, or reads and writes would bypass the counter.
func (f *file) PassthroughFd() (int, bool) { return 0, false }

// decide asks the counter about one operation, runs the strike, and waits out any delay.
func (f *file) decide(ctx context.Context, op string, size int) (Verdict, bool) {
	c := f.layer.counter
	if !c.Counts(op) {
		return Verdict{Limit: -1}, false
	}
	var pid uint32
	if caller, ok := fuse.FromContext(ctx); ok {
		pid = caller.Pid
	}
	v := c.Before(size, f.path, pid)
	if v.Strike != nil {
		f.layer.onStrike(v.Strike, op)
	} else if v.Limit >= 0 && f.layer.onCut != nil {
		f.layer.onCut()
	}
	if v.Delay > 0 {
		time.Sleep(v.Delay)
	}
	return v, true
}

func (f *file) Read(ctx context.Context, buf []byte, off int64) (fuse.ReadResult, syscall.Errno) {
	// The bytes this read can deliver, not the pages the kernel asked for past the end of the file.
	want := len(buf)
	var st syscall.Stat_t
	var n int
	var errno syscall.Errno
	fdErr := f.withFd(func(fd int) {
		if err := syscall.Fstat(fd, &st); err == nil && st.Size-off < int64(want) {
			want = int(max(0, st.Size-off))
		}
		v, counted := f.decide(ctx, "read", want)
		if v.Errno != 0 {
			errno = v.Errno
			return
		}
		reserved := want
		if v.Limit >= 0 {
			buf, reserved = buf[:v.Limit], v.Limit
		}
		var err error
		n, err = syscall.Pread(fd, buf, off)
		if err != nil {
			errno = fs.ToErrno(err)
			n = 0
		}
		if counted {
			f.layer.counter.After(reserved, n)
		}
	})
	if fdErr != 0 {
		return nil, fdErr
	}
	if errno != 0 {
		return nil, errno
	}
	return fuse.ReadResultData(buf[:n]), 0
}

func (f *file) Write(ctx context.Context, data []byte, off int64) (uint32, syscall.Errno) {
	v, counted := f.decide(ctx, "write", len(data))
	if v.Errno != 0 {
		return 0, v.Errno
	}
	if v.Limit >= 0 {
		data = data[:v.Limit]
	}
	n, errno := f.LoopbackFile.Write(ctx, data, off)
	if counted {
		f.layer.counter.After(len(data), int(n))
	}
	return n, errno
}

// withFd runs fn with the file's descriptor, which the loopback file hands out through PassthroughFd.
func (f *file) withFd(fn func(fd int)) syscall.Errno {
	fd, ok := f.LoopbackFile.PassthroughFd()
	if !ok {
		return syscall.EBADF
	}
	fn(fd)
	return 0
}
