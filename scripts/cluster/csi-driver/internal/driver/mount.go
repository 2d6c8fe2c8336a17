package driver

// Bind mounts and /proc/self/mountinfo, without running any program (the image has none).

import (
	"bufio"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"

	"golang.org/x/sys/unix"
)

// mountEntry is one line of /proc/self/mountinfo (the fields used here).
type mountEntry struct {
	Root       string   // the path inside the source filesystem that is mounted (a bind mount's source)
	MountPoint string   // where it is mounted
	Options    []string // per-mount options (rw/ro, nosuid, ...)
	FSType     string
	Source     string
}

func (m mountEntry) readOnly() bool { return slices.Contains(m.Options, "ro") }

// showsVolume reports whether the entry mounts the volume directory with this ID (its root path ends in /<id>; the
// datadir may itself be a bind mount, so the prefix is not known).
func (m mountEntry) showsVolume(id string) bool {
	return strings.HasSuffix(m.Root, "/"+id)
}

// unescapeMountField undoes the octal escapes (\040 for a space, \011, \012, \134) of mountinfo fields.
func unescapeMountField(s string) string {
	if !strings.Contains(s, `\`) {
		return s
	}
	var b strings.Builder
	for i := 0; i < len(s); i++ {
		if s[i] == '\\' && i+3 < len(s) {
			if v, err := strconv.ParseUint(s[i+1:i+4], 8, 8); err == nil {
				b.WriteByte(byte(v))
				i += 3
				continue
			}
		}
		b.WriteByte(s[i])
	}
	return b.String()
}

// parseMountInfo parses the mountinfo format (proc(5)):
//
//	36 35 98:0 /mnt1 /mnt2 rw,noatime master:1 - ext3 /dev/root rw,errors=continue
func parseMountInfo(r io.Reader) ([]mountEntry, error) {
	var out []mountEntry
	sc := bufio.NewScanner(r)
	sc.Buffer(make([]byte, 64<<10), 1<<20)
	for sc.Scan() {
		line := sc.Text()
		if line == "" {
			continue
		}
		fields := strings.Fields(line)
		sep := slices.Index(fields, "-")
		if sep < 6 || len(fields) < sep+3 {
			return nil, fmt.Errorf("malformed mountinfo line %q", line)
		}
		out = append(out, mountEntry{
			Root:       unescapeMountField(fields[3]),
			MountPoint: unescapeMountField(fields[4]),
			Options:    strings.Split(fields[5], ","),
			FSType:     fields[sep+1],
			Source:     unescapeMountField(fields[sep+2]),
		})
	}
	return out, sc.Err()
}

func readMountInfo() ([]mountEntry, error) {
	f, err := os.Open("/proc/self/mountinfo")
	if err != nil {
		return nil, err
	}
	defer f.Close()
	return parseMountInfo(f)
}

// mountsAt returns the mounts stacked on path, oldest first (the last one is what path shows).
func mountsAt(path string) ([]mountEntry, error) {
	all, err := readMountInfo()
	if err != nil {
		return nil, err
	}
	var out []mountEntry
	for _, m := range all {
		if m.MountPoint == path {
			out = append(out, m)
		}
	}
	return out, nil
}

// mountsOfVolume returns the mounts whose source is the volume directory with this ID.
func mountsOfVolume(id string) ([]mountEntry, error) {
	all, err := readMountInfo()
	if err != nil {
		return nil, err
	}
	var out []mountEntry
	for _, m := range all {
		if m.showsVolume(id) {
			out = append(out, m)
		}
	}
	return out, nil
}

// bindMount mounts src on target (an existing directory), read-only if asked.
func bindMount(src, target string, readOnly bool) error {
	if err := unix.Mount(src, target, "", unix.MS_BIND, ""); err != nil {
		return fmt.Errorf("bind mount %s on %s: %w", src, target, err)
	}
	if readOnly {
		if err := unix.Mount("", target, "", unix.MS_BIND|unix.MS_REMOUNT|unix.MS_RDONLY, ""); err != nil {
			uerr := unix.Unmount(target, 0)
			return errors.Join(fmt.Errorf("remount %s read-only: %w", target, err), uerr)
		}
	}
	return nil
}

// unmountAll unmounts everything stacked on target.
func unmountAll(target string) error {
	for i := 0; i < 16; i++ {
		ms, err := mountsAt(target)
		if err != nil {
			return err
		}
		if len(ms) == 0 {
			return nil
		}
		if err := unix.Unmount(target, 0); err != nil && !errors.Is(err, unix.EINVAL) {
			return fmt.Errorf("unmount %s: %w", target, err)
		}
	}
	return fmt.Errorf("%s is still mounted after 16 unmounts", target)
}

// cleanTarget checks and normalises a target path from a request.
func cleanTarget(p string) (string, error) {
	if !filepath.IsAbs(p) {
		return "", fmt.Errorf("path %q is not absolute", p)
	}
	return filepath.Clean(p), nil
}
