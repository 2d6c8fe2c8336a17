package driver

import (
	"archive/tar"
	"bytes"
	"compress/gzip"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"math/rand/v2"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"sort"
	"strings"
	"syscall"
	"testing"
	"time"
)

var fixedTime = time.Date(2024, 5, 6, 7, 8, 9, 0, time.UTC)

// makeTree builds a volume-like tree with every kind of entry the archive keeps, plus a FIFO it skips.
func makeTree(t *testing.T, dir string) {
	t.Helper()
	root := os.Geteuid() == 0
	must := func(err error) {
		t.Helper()
		if err != nil {
			t.Fatal(err)
		}
	}
	rng := rand.New(rand.NewPCG(1, 2))
	big := make([]byte, 3<<20+123)
	for i := range big {
		big[i] = byte(rng.IntN(7)) // compressible but not trivially
	}
	must(os.MkdirAll(filepath.Join(dir, "a/b/c"), 0o755))
	must(os.Mkdir(filepath.Join(dir, "empty"), 0o700))
	must(os.Mkdir(filepath.Join(dir, "sticky"), 0o755))
	must(os.WriteFile(filepath.Join(dir, "a/b/c/deep.txt"), []byte("deep\n"), 0o644))
	must(os.WriteFile(filepath.Join(dir, "big.bin"), big, 0o640))
	must(os.WriteFile(filepath.Join(dir, "empty.txt"), nil, 0o600))
	must(os.WriteFile(filepath.Join(dir, "exec.sh"), []byte("#!/bin/sh\necho hi\n"), 0o755))
	must(os.WriteFile(filepath.Join(dir, "setuid"), []byte("x"), 0o755))
	must(os.WriteFile(filepath.Join(dir, "name with spaces & ünïcode"), []byte("spaces"), 0o644))
	must(os.WriteFile(filepath.Join(dir, "a/"+strings.Repeat("long", 40)), []byte("long name"), 0o644))
	must(os.WriteFile(filepath.Join(dir, "readonly"), []byte("ro"), 0o444))
	must(os.Chmod(filepath.Join(dir, "setuid"), 0o755|fs.ModeSetuid|fs.ModeSetgid))
	must(os.Chmod(filepath.Join(dir, "sticky"), 0o777|fs.ModeSticky))
	must(os.Symlink("a/b/c/deep.txt", filepath.Join(dir, "rel-link")))
	must(os.Symlink("/etc/passwd", filepath.Join(dir, "abs-link")))
	must(os.Symlink("does/not/exist", filepath.Join(dir, "a/dangling")))
	must(os.Symlink("../..", filepath.Join(dir, "a/b/up")))
	must(os.Link(filepath.Join(dir, "exec.sh"), filepath.Join(dir, "a/hardlink.sh")))
	must(syscall.Mkfifo(filepath.Join(dir, "fifo"), 0o644))
	if root {
		must(os.Lchown(filepath.Join(dir, "a/b/c/deep.txt"), 1234, 5678))
		must(os.Lchown(filepath.Join(dir, "a/b"), 1000, 1000))
		must(os.Lchown(filepath.Join(dir, "rel-link"), 4321, 8765))
		must(os.Chmod(filepath.Join(dir, "setuid"), 0o755|fs.ModeSetuid|fs.ModeSetgid)) // chown cleared nothing here, but keep explicit
	}
	// times last, deepest first, so creating children does not bump them
	var paths []string
	must(filepath.WalkDir(dir, func(p string, d fs.DirEntry, err error) error {
		if err == nil && d.Type()&fs.ModeSymlink == 0 {
			paths = append(paths, p)
		}
		return err
	}))
	for i := len(paths) - 1; i >= 0; i-- {
		must(os.Chtimes(paths[i], fixedTime, fixedTime.Add(time.Duration(i)*time.Second+time.Duration(i)*1234567)))
	}
}

// treeEntry is what the comparison checks for one path.
type treeEntry struct {
	Type     string
	Mode     fs.FileMode
	UID, GID uint32
	Size     int64
	Hash     string
	Link     string
	MTime    int64 // nanoseconds
	Inode    string
}

// describeTree maps relative paths to what they are. Hard links are recognised by shared inodes, named by the first
// path that has them.
func describeTree(t *testing.T, dir string, withTimes bool) map[string]treeEntry {
	t.Helper()
	out := map[string]treeEntry{}
	inodes := map[uint64]string{}
	err := filepath.WalkDir(dir, func(p string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		rel, _ := filepath.Rel(dir, p)
		fi, err := os.Lstat(p)
		if err != nil {
			return err
		}
		st := fi.Sys().(*syscall.Stat_t)
		e := treeEntry{Mode: fi.Mode(), UID: st.Uid, GID: st.Gid}
		if withTimes && fi.Mode()&fs.ModeSymlink == 0 {
			e.MTime = fi.ModTime().UnixNano()
		}
		switch {
		case fi.IsDir():
			e.Type = "dir"
		case fi.Mode()&fs.ModeSymlink != 0:
			e.Type = "symlink"
			e.Mode = 0 // symlink permission bits are meaningless on Linux
			e.Link, err = os.Readlink(p)
			if err != nil {
				return err
			}
		case fi.Mode().IsRegular():
			e.Type = "file"
			e.Size = fi.Size()
			data, err := os.ReadFile(p)
			if err != nil {
				return err
			}
			sum := sha256.Sum256(data)
			e.Hash = hex.EncodeToString(sum[:8])
			if st.Nlink > 1 {
				if first, ok := inodes[st.Ino]; ok {
					e.Inode = first
				} else {
					inodes[st.Ino] = rel
					e.Inode = rel
				}
			}
		default:
			e.Type = "other"
		}
		out[rel] = e
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	return out
}

func compareTrees(t *testing.T, want, got map[string]treeEntry, skipped ...string) {
	t.Helper()
	for p, w := range want {
		if slices.Contains(skipped, p) {
			if _, ok := got[p]; ok {
				t.Errorf("%s: should have been skipped", p)
			}
			continue
		}
		g, ok := got[p]
		if !ok {
			t.Errorf("%s: missing", p)
			continue
		}
		if g != w {
			t.Errorf("%s:\n got  %+v\n want %+v", p, g, w)
		}
	}
	for p := range got {
		if _, ok := want[p]; !ok {
			t.Errorf("%s: unexpected", p)
		}
	}
}

func TestSnapshotRoundTrip(t *testing.T) {
	tmp := t.TempDir()
	src, dst := filepath.Join(tmp, "src"), filepath.Join(tmp, "dst")
	if err := os.Mkdir(src, 0o755); err != nil {
		t.Fatal(err)
	}
	makeTree(t, src)
	if err := os.Chmod(src, 0o2775); err != nil { // the volume root's own attributes travel too
		t.Fatal(err)
	}
	if err := os.Chtimes(src, fixedTime, fixedTime); err != nil {
		t.Fatal(err)
	}
	snap := filepath.Join(tmp, "x.snap")
	f, err := os.Create(snap)
	if err != nil {
		t.Fatal(err)
	}
	stats, err := writeSnapshotFile(src, f)
	if err != nil {
		t.Fatal(err)
	}
	if err := f.Close(); err != nil {
		t.Fatal(err)
	}
	if len(stats.Skipped) != 1 || !strings.HasPrefix(stats.Skipped[0], "fifo ") {
		t.Errorf("skipped %v, want just the FIFO", stats.Skipped)
	}

	// The file is what `tar czf x.snap -C <vol> .` makes: gzip, then tar entries named ./...
	names := tarNames(t, snap)
	if names[0] != "./" {
		t.Errorf("first entry %q, want ./", names[0])
	}
	for _, n := range names {
		if !strings.HasPrefix(n, "./") {
			t.Errorf("entry %q not relative to ./", n)
		}
	}
	for _, n := range []string{"./a/b/c/deep.txt", "./a/b/", "./rel-link", "./a/hardlink.sh", "./exec.sh"} {
		if !slices.Contains(names, n) {
			t.Errorf("entry %q missing from %v", n, names)
		}
	}

	if err := os.Mkdir(dst, 0o700); err != nil {
		t.Fatal(err)
	}
	if _, err := restoreSnapshotFile(snap, dst); err != nil {
		t.Fatal(err)
	}
	compareTrees(t, describeTree(t, src, true), describeTree(t, dst, true), "fifo")

	// The hard link is one inode again, and the absolute symlink was kept as a link, not followed.
	var a, b syscall.Stat_t
	if err := syscall.Stat(filepath.Join(dst, "exec.sh"), &a); err != nil {
		t.Fatal(err)
	}
	if err := syscall.Stat(filepath.Join(dst, "a/hardlink.sh"), &b); err != nil {
		t.Fatal(err)
	}
	if a.Ino != b.Ino {
		t.Error("hard link restored as a copy")
	}
}

func tarNames(t *testing.T, snap string) []string {
	t.Helper()
	f, err := os.Open(snap)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	gz, err := gzip.NewReader(f)
	if err != nil {
		t.Fatal(err)
	}
	tr := tar.NewReader(gz)
	var names []string
	for {
		h, err := tr.Next()
		if err == io.EOF {
			break
		}
		if err != nil {
			t.Fatal(err)
		}
		names = append(names, h.Name)
	}
	return names
}

// TestSnapshotReadableByTar checks the format against GNU tar itself, where the machine has it: what tar extracts
// from a .snap equals what the driver restores, and what tar packs the driver restores.
func TestSnapshotReadableByTar(t *testing.T) {
	tarBin, err := exec.LookPath("tar")
	if err != nil {
		t.Skip("no tar on this machine")
	}
	if os.Geteuid() != 0 {
		t.Skip("needs root (ownership)")
	}
	tmp := t.TempDir()
	src := filepath.Join(tmp, "src")
	if err := os.Mkdir(src, 0o755); err != nil {
		t.Fatal(err)
	}
	makeTree(t, src)
	if err := os.Remove(filepath.Join(src, "fifo")); err != nil { // tar would keep it; the driver does not
		t.Fatal(err)
	}
	if err := os.Chtimes(src, fixedTime, fixedTime); err != nil {
		t.Fatal(err)
	}
	want := describeTree(t, src, true)

	snap := filepath.Join(tmp, "ours.snap")
	f, err := os.Create(snap)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := writeSnapshotFile(src, f); err != nil {
		t.Fatal(err)
	}
	f.Close()
	byTar := filepath.Join(tmp, "by-tar")
	os.Mkdir(byTar, 0o755)
	if out, err := exec.Command(tarBin, "--numeric-owner", "-xpzf", snap, "-C", byTar).CombinedOutput(); err != nil {
		t.Fatalf("tar -x of our snapshot: %v\n%s", err, out)
	}
	compareTrees(t, want, describeTree(t, byTar, true))

	theirs := filepath.Join(tmp, "theirs.snap")
	if out, err := exec.Command(tarBin, "--numeric-owner", "--format=posix", "-czf", theirs, "-C", src, ".").CombinedOutput(); err != nil {
		t.Fatalf("tar -c: %v\n%s", err, out)
	}
	restored := filepath.Join(tmp, "restored")
	os.Mkdir(restored, 0o700)
	if _, err := restoreSnapshotFile(theirs, restored); err != nil {
		t.Fatalf("restoring a tar-made snapshot: %v", err)
	}
	compareTrees(t, want, describeTree(t, restored, true))
}

func TestCopyTree(t *testing.T) {
	tmp := t.TempDir()
	src, dst := filepath.Join(tmp, "src"), filepath.Join(tmp, "dst")
	os.Mkdir(src, 0o755)
	os.Mkdir(dst, 0o700)
	makeTree(t, src)
	stats, err := copyTree(src, dst)
	if err != nil {
		t.Fatal(err)
	}
	if stats.Entries == 0 || stats.Bytes < 3<<20 {
		t.Errorf("stats %+v", stats)
	}
	compareTrees(t, describeTree(t, src, true), describeTree(t, dst, true), "fifo")

	// A missing source fails, and does not hang.
	done := make(chan error, 1)
	go func() { _, err := copyTree(filepath.Join(tmp, "nope"), t.TempDir()); done <- err }()
	select {
	case err := <-done:
		if err == nil {
			t.Error("copy of a missing tree succeeded")
		}
	case <-time.After(10 * time.Second):
		t.Fatal("copyTree hung on a missing source")
	}
}

// craftedTar builds a tar stream from (header, body) pairs.
func craftedTar(t *testing.T, entries ...any) []byte {
	t.Helper()
	var buf bytes.Buffer
	tw := tar.NewWriter(&buf)
	for i := 0; i < len(entries); i += 2 {
		h := entries[i].(*tar.Header)
		body := entries[i+1].(string)
		if h.Typeflag == tar.TypeReg {
			h.Size = int64(len(body))
		}
		if h.Mode == 0 {
			h.Mode = 0o644
		}
		if err := tw.WriteHeader(h); err != nil {
			t.Fatal(err)
		}
		if _, err := tw.Write([]byte(body)); err != nil {
			t.Fatal(err)
		}
	}
	tw.Close()
	return buf.Bytes()
}

func TestExtractStaysInside(t *testing.T) {
	tmp := t.TempDir()
	outside := filepath.Join(tmp, "outside")
	os.Mkdir(outside, 0o755)
	cases := map[string][]byte{
		"dotdot": craftedTar(t, &tar.Header{Name: "../escape", Typeflag: tar.TypeReg}, "x"),
		"symlink then through it": craftedTar(t,
			&tar.Header{Name: "./link", Typeflag: tar.TypeSymlink, Linkname: outside}, "",
			&tar.Header{Name: "./link/escape", Typeflag: tar.TypeReg}, "x"),
		"relative symlink then through it": craftedTar(t,
			&tar.Header{Name: "./up", Typeflag: tar.TypeSymlink, Linkname: "../outside"}, "",
			&tar.Header{Name: "./up/escape", Typeflag: tar.TypeReg}, "x"),
		"hardlink to outside": craftedTar(t,
			&tar.Header{Name: "./hl", Typeflag: tar.TypeLink, Linkname: "../outside/target"}, ""),
	}
	if err := os.WriteFile(filepath.Join(outside, "target"), []byte("t"), 0o644); err != nil {
		t.Fatal(err)
	}
	for name, data := range cases {
		t.Run(name, func(t *testing.T) {
			dst := filepath.Join(tmp, "vol-"+strings.ReplaceAll(name, " ", "-"))
			os.Mkdir(dst, 0o755)
			_, err := extractTar(bytes.NewReader(data), dst)
			if err == nil {
				t.Error("extraction succeeded")
			}
			if _, err := os.Lstat(filepath.Join(tmp, "escape")); err == nil {
				t.Error("wrote outside the volume")
			}
			if _, err := os.Lstat(filepath.Join(outside, "escape")); err == nil {
				t.Error("wrote outside the volume through a symlink")
			}
		})
	}
	// An absolute name lands inside, as with tar.
	dst := filepath.Join(tmp, "abs")
	os.Mkdir(dst, 0o755)
	if _, err := extractTar(bytes.NewReader(craftedTar(t, &tar.Header{Name: "/etc/x", Typeflag: tar.TypeReg}, "x")), dst); err != nil {
		t.Fatal(err)
	}
	if data, err := os.ReadFile(filepath.Join(dst, "etc/x")); err != nil || string(data) != "x" {
		t.Errorf("absolute entry: %q %v", data, err)
	}
}

// TestArchiveDoesNotFollowSymlinks: a symlink in the volume pointing outside is archived as a link; the content it
// points to never enters the snapshot.
func TestArchiveDoesNotFollowSymlinks(t *testing.T) {
	tmp := t.TempDir()
	secret := filepath.Join(tmp, "secret")
	os.WriteFile(secret, []byte("TOP-SECRET-CONTENT"), 0o600)
	vol := filepath.Join(tmp, "vol")
	os.Mkdir(vol, 0o755)
	os.Symlink(secret, filepath.Join(vol, "s"))
	os.Symlink(tmp, filepath.Join(vol, "d"))
	var buf bytes.Buffer
	if _, err := writeTar(vol, &buf); err != nil {
		t.Fatal(err)
	}
	if bytes.Contains(buf.Bytes(), []byte("TOP-SECRET-CONTENT")) {
		t.Fatal("archive contains the content of a file outside the volume")
	}
}

func TestCorruptSnapshotDetected(t *testing.T) {
	tmp := t.TempDir()
	src := filepath.Join(tmp, "src")
	os.Mkdir(src, 0o755)
	makeTree(t, src)
	var buf bytes.Buffer
	if _, err := writeSnapshotFile(src, &buf); err != nil {
		t.Fatal(err)
	}
	good := buf.Bytes()
	rng := rand.New(rand.NewPCG(3, 4))
	positions := []int{len(good) / 2, len(good) - 3 /* CRC/size trailer */, 20, len(good) - 1}
	for i := 0; i < 8; i++ {
		positions = append(positions, 10+rng.IntN(len(good)-10))
	}
	for _, pos := range positions {
		bad := slices.Clone(good)
		bad[pos] ^= 1 << rng.IntN(8)
		snap := filepath.Join(tmp, fmt.Sprintf("bad-%d.snap", pos))
		os.WriteFile(snap, bad, 0o644)
		dst := filepath.Join(tmp, fmt.Sprintf("dst-%d", pos))
		os.Mkdir(dst, 0o700)
		_, err := restoreSnapshotFile(snap, dst)
		if err == nil {
			t.Errorf("flipped bit at %d of %d: restore succeeded", pos, len(good))
			continue
		}
		if !errors.Is(err, errCorrupt) {
			t.Errorf("flipped bit at %d: error %v is not errCorrupt", pos, err)
		}
	}
	// Truncated.
	snap := filepath.Join(tmp, "short.snap")
	os.WriteFile(snap, good[:len(good)/3], 0o644)
	dst := filepath.Join(tmp, "dst-short")
	os.Mkdir(dst, 0o700)
	if _, err := restoreSnapshotFile(snap, dst); !errors.Is(err, errCorrupt) {
		t.Errorf("truncated snapshot: %v", err)
	}
}

func TestNames(t *testing.T) {
	for rel, want := range map[[2]string]string{
		{".", "d"}: "./", {"a", "d"}: "./a/", {"a/b", "f"}: "./a/b",
	} {
		if got := tarName(rel[0], rel[1] == "d"); got != want {
			t.Errorf("tarName(%q) = %q, want %q", rel[0], got, want)
		}
	}
	for in, want := range map[string]string{
		"./": ".", ".": ".", "": ".", "./a/b/": "a/b", "a//b": "a/b", "/abs/x": "abs/x", "./a/../b": "b",
	} {
		if got, err := cleanEntryName(in); err != nil || got != want {
			t.Errorf("cleanEntryName(%q) = %q, %v; want %q", in, got, err, want)
		}
	}
	for _, bad := range []string{"..", "../x", "./../x", "a/../../x"} {
		if got, err := cleanEntryName(bad); err == nil {
			t.Errorf("cleanEntryName(%q) = %q, want an error", bad, got)
		}
	}
	modes := []int64{0o644, 0o4755, 0o2775, 0o1777, 0o7777}
	sort.Slice(modes, func(i, j int) bool { return modes[i] < modes[j] })
	for _, m := range modes {
		fm := tarMode(m)
		back := int64(fm.Perm())
		if fm&fs.ModeSetuid != 0 {
			back |= 0o4000
		}
		if fm&fs.ModeSetgid != 0 {
			back |= 0o2000
		}
		if fm&fs.ModeSticky != 0 {
			back |= 0o1000
		}
		if back != m {
			t.Errorf("tarMode(%o) = %v", m, fm)
		}
	}
}
