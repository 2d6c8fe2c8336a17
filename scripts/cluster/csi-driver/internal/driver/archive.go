package driver

// Volume trees as tar streams: what a snapshot holds (gzip-compressed, the hostpath driver's `tar czf x.snap -C <vol> .`)
// and how a volume is cloned (one tree streamed into another). Both sides go through os.Root, so nothing a pod puts in
// a volume (symlinks pointing outside, files swapped during the walk) can make the driver read or write outside it.

import (
	"archive/tar"
	"bufio"
	"compress/flate"
	"compress/gzip"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path"
	"strings"
	"syscall"
	"time"
)

// archiveStats counts what writeTar or extractTar did.
type archiveStats struct {
	Entries int
	Bytes   int64
	Skipped []string // entries of kinds not archived (sockets, FIFOs, devices) or vanished during the walk
}

type inodeKey struct{ dev, ino uint64 }

// tarName is the archive name of a path relative to the tree root: "./" for the root, "./a/b" otherwise, as tar -C
// <dir> . writes them.
func tarName(rel string, dir bool) string {
	if rel == "." {
		return "./"
	}
	if dir {
		return "./" + rel + "/"
	}
	return "./" + rel
}

// headerFromStat makes an entry's header. PAX format keeps sub-second modification times (GNU tar reads it).
func headerFromStat(name string, st *syscall.Stat_t, mtime time.Time) *tar.Header {
	return &tar.Header{
		Format:  tar.FormatPAX,
		Name:    name,
		Mode:    int64(st.Mode & 0o7777),
		Uid:     int(st.Uid),
		Gid:     int(st.Gid),
		ModTime: mtime,
	}
}

// writeTar writes the tree at dir (not including dir's own name) as a tar stream to w.
func writeTar(dir string, w io.Writer) (archiveStats, error) {
	var stats archiveStats
	root, err := os.OpenRoot(dir)
	if err != nil {
		return stats, err
	}
	defer root.Close()
	tw := tar.NewWriter(w)
	seen := map[inodeKey]string{}
	buf := make([]byte, 256<<10)

	walkErr := fs.WalkDir(root.FS(), ".", func(rel string, d fs.DirEntry, err error) error {
		if err != nil {
			if rel != "." && errors.Is(err, fs.ErrNotExist) {
				stats.Skipped = append(stats.Skipped, rel+" (vanished)")
				return nil
			}
			return err
		}
		fi, err := root.Lstat(rel)
		if err != nil {
			if rel != "." && errors.Is(err, fs.ErrNotExist) {
				stats.Skipped = append(stats.Skipped, rel+" (vanished)")
				return nil
			}
			return err
		}
		st, ok := fi.Sys().(*syscall.Stat_t)
		if !ok {
			return fmt.Errorf("%s: no stat data", rel)
		}
		switch {
		case fi.IsDir():
			hdr := headerFromStat(tarName(rel, true), st, fi.ModTime())
			hdr.Typeflag = tar.TypeDir
			if err := tw.WriteHeader(hdr); err != nil {
				return err
			}
			stats.Entries++
			if !d.IsDir() { // was something else when the parent was listed: WalkDir will not descend
				stats.Skipped = append(stats.Skipped, rel+" (changed type during the walk)")
			}
			return nil
		case fi.Mode()&fs.ModeSymlink != 0:
			target, err := root.Readlink(rel)
			if err != nil {
				if errors.Is(err, fs.ErrNotExist) || errors.Is(err, syscall.EINVAL) {
					stats.Skipped = append(stats.Skipped, rel+" (vanished)")
					return nil
				}
				return err
			}
			hdr := headerFromStat(tarName(rel, false), st, fi.ModTime())
			hdr.Typeflag = tar.TypeSymlink
			hdr.Linkname = target
			if err := tw.WriteHeader(hdr); err != nil {
				return err
			}
			stats.Entries++
			return nil
		case fi.Mode().IsRegular():
			return writeRegular(root, tw, rel, seen, buf, &stats)
		default:
			stats.Skipped = append(stats.Skipped, rel+" ("+fi.Mode().Type().String()+")")
			return nil
		}
	})
	if walkErr != nil {
		return stats, walkErr
	}
	return stats, tw.Close()
}

// writeRegular archives one regular file. Its header comes from fstat of the opened file (not from the walk's lstat),
// the open refuses symlinks and would not block on a FIFO swapped in, and exactly the header's size is written even
// when the file changes size meanwhile (zero-padded if it shrank).
func writeRegular(root *os.Root, tw *tar.Writer, rel string, seen map[inodeKey]string, buf []byte, stats *archiveStats) error {
	f, err := root.OpenFile(rel, os.O_RDONLY|syscall.O_NOFOLLOW|syscall.O_NONBLOCK, 0)
	if err != nil {
		if errors.Is(err, fs.ErrNotExist) || errors.Is(err, syscall.ELOOP) {
			stats.Skipped = append(stats.Skipped, rel+" (vanished)")
			return nil
		}
		return err
	}
	defer f.Close()
	fi, err := f.Stat()
	if err != nil {
		return err
	}
	if !fi.Mode().IsRegular() {
		stats.Skipped = append(stats.Skipped, rel+" (changed type during the walk)")
		return nil
	}
	st := fi.Sys().(*syscall.Stat_t)
	hdr := headerFromStat(tarName(rel, false), st, fi.ModTime())
	if st.Nlink > 1 {
		key := inodeKey{uint64(st.Dev), st.Ino}
		if first, ok := seen[key]; ok {
			hdr.Typeflag = tar.TypeLink
			hdr.Linkname = first
			if err := tw.WriteHeader(hdr); err != nil {
				return err
			}
			stats.Entries++
			return nil
		}
		seen[key] = hdr.Name
	}
	hdr.Typeflag = tar.TypeReg
	hdr.Size = fi.Size()
	if err := tw.WriteHeader(hdr); err != nil {
		return err
	}
	n, err := io.CopyBuffer(tw, io.LimitReader(f, hdr.Size), buf)
	if err != nil {
		return fmt.Errorf("%s: %w", rel, err)
	}
	if n < hdr.Size { // shrank while being read
		if _, err := io.CopyBuffer(tw, io.LimitReader(zeroReader{}, hdr.Size-n), buf); err != nil {
			return err
		}
	}
	stats.Entries++
	stats.Bytes += hdr.Size
	return nil
}

type zeroReader struct{}

func (zeroReader) Read(p []byte) (int, error) {
	clear(p)
	return len(p), nil
}

// cleanEntryName turns an archive name into a path relative to the root ("." for the root itself), rejecting names
// that would leave it.
func cleanEntryName(name string) (string, error) {
	n := strings.TrimLeft(name, "/")
	n = path.Clean(n)
	if n == "" {
		n = "."
	}
	if n == ".." || strings.HasPrefix(n, "../") {
		return "", fmt.Errorf("archive entry %q leaves the volume", name)
	}
	return n, nil
}

// extractTar unpacks a tar stream into dir (which must exist). Directories are created private and get their mode,
// owner and times once everything inside them is written; the entry for "." applies to dir itself.
func extractTar(r io.Reader, dir string) (archiveStats, error) {
	var stats archiveStats
	root, err := os.OpenRoot(dir)
	if err != nil {
		return stats, err
	}
	defer root.Close()
	tr := tar.NewReader(r)
	type dirEntry struct {
		name string
		hdr  *tar.Header
	}
	var dirs []dirEntry
	buf := make([]byte, 256<<10)
	for {
		hdr, err := tr.Next()
		if err == io.EOF {
			break
		}
		if err != nil {
			return stats, fmt.Errorf("reading archive: %w", err)
		}
		name, err := cleanEntryName(hdr.Name)
		if err != nil {
			return stats, err
		}
		if name != "." {
			if err := root.MkdirAll(path.Dir(name), 0o755); err != nil {
				return stats, err
			}
		}
		switch hdr.Typeflag {
		case tar.TypeDir:
			if name != "." {
				fi, err := root.Lstat(name)
				switch {
				case err == nil && fi.IsDir():
				case err == nil:
					if err := root.Remove(name); err != nil {
						return stats, err
					}
					fallthrough
				default:
					if err := root.Mkdir(name, 0o700); err != nil {
						return stats, err
					}
				}
			}
			dirs = append(dirs, dirEntry{name, hdr})
		case tar.TypeReg:
			if err := removeNonDir(root, name); err != nil {
				return stats, err
			}
			f, err := root.OpenFile(name, os.O_WRONLY|os.O_CREATE|os.O_EXCL, 0o600)
			if err != nil {
				return stats, err
			}
			n, err := io.CopyBuffer(f, tr, buf)
			if cerr := f.Close(); err == nil {
				err = cerr
			}
			if err != nil {
				return stats, fmt.Errorf("%s: %w", name, err)
			}
			stats.Bytes += n
			if err := applyAttrs(root, name, hdr); err != nil {
				return stats, err
			}
		case tar.TypeSymlink:
			if err := removeNonDir(root, name); err != nil {
				return stats, err
			}
			if err := root.Symlink(hdr.Linkname, name); err != nil {
				return stats, err
			}
			if err := lchown(root, name, hdr); err != nil {
				return stats, err
			}
		case tar.TypeLink:
			target, err := cleanEntryName(hdr.Linkname)
			if err != nil {
				return stats, err
			}
			if err := removeNonDir(root, name); err != nil {
				return stats, err
			}
			if err := root.Link(target, name); err != nil {
				return stats, err
			}
		default:
			stats.Skipped = append(stats.Skipped, fmt.Sprintf("%s (type %q)", name, hdr.Typeflag))
			continue
		}
		stats.Entries++
	}
	for i := len(dirs) - 1; i >= 0; i-- {
		if err := applyAttrs(root, dirs[i].name, dirs[i].hdr); err != nil {
			return stats, err
		}
	}
	return stats, nil
}

func removeNonDir(root *os.Root, name string) error {
	fi, err := root.Lstat(name)
	if errors.Is(err, fs.ErrNotExist) {
		return nil
	}
	if err != nil {
		return err
	}
	if fi.IsDir() {
		return fmt.Errorf("archive entry %q would replace a directory", name)
	}
	return root.Remove(name)
}

// lchown gives name the archived owner; as a non-root user (tests only: the driver runs as root) that is best effort,
// as with tar.
func lchown(root *os.Root, name string, hdr *tar.Header) error {
	err := root.Lchown(name, hdr.Uid, hdr.Gid)
	if err != nil && errors.Is(err, fs.ErrPermission) && os.Geteuid() != 0 {
		return nil
	}
	return err
}

// applyAttrs sets owner, then mode (a chown clears set-id bits), then times.
func applyAttrs(root *os.Root, name string, hdr *tar.Header) error {
	if err := lchown(root, name, hdr); err != nil {
		return err
	}
	if err := root.Chmod(name, tarMode(hdr.Mode)); err != nil {
		return err
	}
	at := hdr.AccessTime
	if at.IsZero() {
		at = hdr.ModTime
	}
	return root.Chtimes(name, at, hdr.ModTime)
}

// tarMode converts a tar header's Unix permission bits to an os.FileMode.
func tarMode(m int64) fs.FileMode {
	mode := fs.FileMode(m & 0o777)
	if m&0o4000 != 0 {
		mode |= fs.ModeSetuid
	}
	if m&0o2000 != 0 {
		mode |= fs.ModeSetgid
	}
	if m&0o1000 != 0 {
		mode |= fs.ModeSticky
	}
	return mode
}

// writeSnapshotFile writes dir as a gzip-compressed tar to f (not closed or synced here).
func writeSnapshotFile(dir string, f io.Writer) (archiveStats, error) {
	bw := bufio.NewWriterSize(f, 1<<20)
	gz := gzip.NewWriter(bw)
	stats, err := writeTar(dir, gz)
	if err != nil {
		return stats, err
	}
	if err := gz.Close(); err != nil {
		return stats, err
	}
	return stats, bw.Flush()
}

// errCorrupt marks a snapshot file that cannot be read back as written.
var errCorrupt = errors.New("snapshot data is corrupt")

// restoreSnapshotFile unpacks a .snap file into dir. The whole gzip stream is read, so its checksum is verified even
// past the tar end marker.
func restoreSnapshotFile(snapPath, dir string) (archiveStats, error) {
	f, err := os.Open(snapPath)
	if err != nil {
		return archiveStats{}, err
	}
	defer f.Close()
	gz, err := gzip.NewReader(bufio.NewReaderSize(f, 1<<20))
	if err != nil {
		return archiveStats{}, fmt.Errorf("%w: %v", errCorrupt, err)
	}
	stats, err := extractTar(gz, dir)
	if err == nil {
		_, err = io.Copy(io.Discard, gz)
	}
	if err != nil {
		if isFormatError(err) {
			return stats, fmt.Errorf("%w: %v", errCorrupt, err)
		}
		return stats, err
	}
	return stats, gz.Close()
}

func isFormatError(err error) bool {
	return errors.Is(err, gzip.ErrChecksum) || errors.Is(err, gzip.ErrHeader) || errors.Is(err, tar.ErrHeader) ||
		errors.Is(err, io.ErrUnexpectedEOF) || errors.Is(err, tar.ErrFieldTooLong) || errors.As(err, new(flate.CorruptInputError))
}

// copyTree copies the tree at src into the existing directory dst (the root's own attributes included), streaming
// it through the same tar writer and reader that snapshots use.
func copyTree(src, dst string) (archiveStats, error) {
	pr, pw := io.Pipe()
	werr := make(chan error, 1)
	go func() {
		_, err := writeTar(src, pw)
		pw.CloseWithError(err)
		werr <- err
	}()
	stats, err := extractTar(pr, dst)
	if err == nil {
		_, err = io.Copy(io.Discard, pr) // wait for the writer to finish
	}
	pr.CloseWithError(errors.New("copy aborted"))
	e := <-werr
	if err != nil {
		return stats, err
	}
	if e != nil {
		return stats, fmt.Errorf("reading %s: %w", src, e)
	}
	return stats, nil
}
