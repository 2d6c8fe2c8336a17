package driver

// The on-disk layout, which keeps the CSI hostpath driver's:
//
//	<datadir>/<volumeID>/          a volume: a plain directory, bind-mounted into pods
//	<datadir>/<volumeID>.json      the volume's metadata (name, capacity, content source)
//	<datadir>/<snapshotID>.snap    a snapshot: gzip-compressed tar of the volume's contents (entries "./...")
//	<datadir>/<snapshotID>.json    the snapshot's metadata (name, source volume, creation time)
//	<datadir>/.tmp-*, .deleting-*  work in progress; swept at start-up
//
// Every fact the driver needs is derivable from these files: IDs are derived from the request names, so a restarted
// driver answers a repeated CreateVolume/CreateSnapshot with the same object. A volume exists exactly when its
// directory exists and a snapshot exactly when its .snap file exists; both appear by an atomic rename once complete.

import (
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"regexp"
	"sort"
	"strings"
	"sync"
	"time"
)

const (
	kindVolume   = "volume"
	kindSnapshot = "snapshot"

	tmpPrefix      = ".tmp-"
	deletingPrefix = ".deleting-"
	snapSuffix     = ".snap"
	metaSuffix     = ".json"
)

// idPattern is the form of every ID this driver hands out (and of the upstream hostpath driver's UUIDs). Any other ID
// names nothing here; checking it also keeps IDs from being used as arbitrary path components.
var idPattern = regexp.MustCompile(`^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$`)

// validID reports whether id has the shape of an ID this driver could have made.
func validID(id string) bool { return idPattern.MatchString(id) }

// deriveID maps a request name to a stable UUID-shaped ID (SHA-256 of kind and name, with the RFC 9562 version-8
// "custom" and variant bits set). Volume and snapshot IDs of the same name differ.
func deriveID(kind, name string) string {
	sum := sha256.Sum256([]byte("pvbench-csi\x00" + kind + "\x00" + name))
	b := sum[:16]
	b[6] = (b[6] & 0x0f) | 0x80
	b[8] = (b[8] & 0x3f) | 0x80
	h := hex.EncodeToString(b)
	return h[0:8] + "-" + h[8:12] + "-" + h[12:16] + "-" + h[16:20] + "-" + h[20:32]
}

func volumeIDFor(name string) string   { return deriveID(kindVolume, name) }
func snapshotIDFor(name string) string { return deriveID(kindSnapshot, name) }

// contentSource is what a volume was filled from: nothing, a snapshot or another volume.
type contentSource struct {
	Kind string `json:"kind"` // "", kindSnapshot or kindVolume
	ID   string `json:"id,omitempty"`
}

func (c contentSource) String() string {
	if c.Kind == "" {
		return "empty"
	}
	return c.Kind + " " + c.ID
}

// volumeMeta is <volumeID>.json.
type volumeMeta struct {
	Kind          string        `json:"kind"`
	ID            string        `json:"id"`
	Name          string        `json:"name"`
	CapacityBytes int64         `json:"capacityBytes"`
	Source        contentSource `json:"source"`
	Created       time.Time     `json:"created"`
}

// snapshotMeta is <snapshotID>.json.
type snapshotMeta struct {
	Kind           string    `json:"kind"`
	ID             string    `json:"id"`
	Name           string    `json:"name"`
	SourceVolumeID string    `json:"sourceVolumeId"`
	Created        time.Time `json:"created"`
}

// store is the data directory.
type store struct {
	dir string
}

func (s *store) volumePath(id string) string   { return filepath.Join(s.dir, id) }
func (s *store) snapshotPath(id string) string { return filepath.Join(s.dir, id+snapSuffix) }
func (s *store) metaPath(id string) string     { return filepath.Join(s.dir, id+metaSuffix) }

// volumeExists: the volume's directory is there.
func (s *store) volumeExists(id string) (bool, error) {
	if !validID(id) {
		return false, nil
	}
	fi, err := os.Lstat(s.volumePath(id))
	if errors.Is(err, fs.ErrNotExist) {
		return false, nil
	}
	if err != nil {
		return false, err
	}
	if !fi.IsDir() {
		return false, fmt.Errorf("%s is not a directory", s.volumePath(id))
	}
	return true, nil
}

// snapshotInfo returns the .snap file's info, or nil when the snapshot does not exist.
func (s *store) snapshotInfo(id string) (fs.FileInfo, error) {
	if !validID(id) {
		return nil, nil
	}
	fi, err := os.Lstat(s.snapshotPath(id))
	if errors.Is(err, fs.ErrNotExist) {
		return nil, nil
	}
	if err != nil {
		return nil, err
	}
	if !fi.Mode().IsRegular() {
		return nil, fmt.Errorf("%s is not a regular file", s.snapshotPath(id))
	}
	return fi, nil
}

// readMeta decodes <id>.json into v after checking its kind; it returns false (and no error) when the file is missing.
func (s *store) readMeta(id, kind string, v any) (bool, error) {
	data, err := os.ReadFile(s.metaPath(id))
	if errors.Is(err, fs.ErrNotExist) {
		return false, nil
	}
	if err != nil {
		return false, err
	}
	var probe struct {
		Kind string `json:"kind"`
	}
	if err := json.Unmarshal(data, &probe); err != nil {
		return false, fmt.Errorf("%s: %w", s.metaPath(id), err)
	}
	if probe.Kind != kind {
		return false, fmt.Errorf("%s: kind %q, want %q", s.metaPath(id), probe.Kind, kind)
	}
	if err := json.Unmarshal(data, v); err != nil {
		return false, fmt.Errorf("%s: %w", s.metaPath(id), err)
	}
	return true, nil
}

func (s *store) readVolumeMeta(id string) (*volumeMeta, error) {
	var m volumeMeta
	ok, err := s.readMeta(id, kindVolume, &m)
	if !ok || err != nil {
		return nil, err
	}
	return &m, nil
}

func (s *store) readSnapshotMeta(id string) (*snapshotMeta, error) {
	var m snapshotMeta
	ok, err := s.readMeta(id, kindSnapshot, &m)
	if !ok || err != nil {
		return nil, err
	}
	return &m, nil
}

// writeMeta writes <id>.json durably: temp file, fsync, rename, fsync of the directory.
func (s *store) writeMeta(id string, v any) error {
	data, err := json.MarshalIndent(v, "", "  ")
	if err != nil {
		return err
	}
	return writeFileAtomic(s.dir, id+metaSuffix, append(data, '\n'))
}

func (s *store) removeMeta(id string) error {
	err := os.Remove(s.metaPath(id))
	if errors.Is(err, fs.ErrNotExist) {
		return nil
	}
	return err
}

// writeFileAtomic creates dir/name with data so that readers see either the old file or the complete new one.
func writeFileAtomic(dir, name string, data []byte) error {
	f, err := os.CreateTemp(dir, tmpPrefix+name+"-*")
	if err != nil {
		return err
	}
	tmp := f.Name()
	ok := false
	defer func() {
		if !ok {
			f.Close()
			os.Remove(tmp)
		}
	}()
	if _, err := f.Write(data); err != nil {
		return err
	}
	if err := finishFile(f); err != nil {
		return err
	}
	if err := os.Rename(tmp, filepath.Join(dir, name)); err != nil {
		return err
	}
	ok = true
	return syncDir(dir)
}

func syncDir(dir string) error {
	d, err := os.Open(dir)
	if err != nil {
		return err
	}
	defer d.Close()
	return d.Sync()
}

// listSnapshotIDs returns the IDs of all complete snapshots, sorted.
func (s *store) listSnapshotIDs() ([]string, error) {
	entries, err := os.ReadDir(s.dir)
	if err != nil {
		return nil, err
	}
	var ids []string
	for _, e := range entries {
		id, ok := strings.CutSuffix(e.Name(), snapSuffix)
		if ok && validID(id) && e.Type().IsRegular() {
			ids = append(ids, id)
		}
	}
	sort.Strings(ids)
	return ids, nil
}

// sweep removes what an interrupted operation left behind. Only called before serving.
func (s *store) sweep() ([]string, error) {
	entries, err := os.ReadDir(s.dir)
	if err != nil {
		return nil, err
	}
	var removed []string
	var errs []error
	for _, e := range entries {
		if strings.HasPrefix(e.Name(), tmpPrefix) || strings.HasPrefix(e.Name(), deletingPrefix) {
			if err := os.RemoveAll(filepath.Join(s.dir, e.Name())); err != nil {
				errs = append(errs, err)
				continue
			}
			removed = append(removed, e.Name())
		}
	}
	return removed, errors.Join(errs...)
}

// keyLocks serialises operations on one object (volume or snapshot ID) within this process. A second operation on
// the same object while one runs gets false, which the caller turns into Aborted (the CO retries).
type keyLocks struct {
	mu   sync.Mutex
	held map[string]bool
}

func (k *keyLocks) tryLock(key string) bool {
	k.mu.Lock()
	defer k.mu.Unlock()
	if k.held == nil {
		k.held = map[string]bool{}
	}
	if k.held[key] {
		return false
	}
	k.held[key] = true
	return true
}

func (k *keyLocks) unlock(key string) {
	k.mu.Lock()
	defer k.mu.Unlock()
	delete(k.held, key)
}

// finishFile makes a file written under a temporary name ready to be renamed into place: world-readable, on disk,
// closed.
func finishFile(f *os.File) error {
	if err := f.Chmod(0o644); err != nil {
		return err
	}
	if err := f.Sync(); err != nil {
		return err
	}
	return f.Close()
}
