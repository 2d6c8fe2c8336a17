package driver

import (
	"os"
	"path/filepath"
	"slices"
	"testing"

	"github.com/container-storage-interface/spec/lib/go/csi"
)

func TestDeriveIDStableAndDistinct(t *testing.T) {
	// Golden values: a changed derivation would orphan every volume and snapshot of a running cluster after an
	// upgrade (the provisioner's retried CreateVolume would make a second, empty volume).
	golden := map[[2]string]string{
		{kindVolume, "pvc-0f3b2a4c-1111-2222-3333-444455556666"}:        "24ffe1c2-1eb7-8de1-a072-7a49f4a08df5",
		{kindSnapshot, "snapshot-0f3b2a4c-1111-2222-3333-444455556666"}: "167b1c60-e527-82bc-a110-ecb732a2664f",
	}
	for k, want := range golden {
		got := deriveID(k[0], k[1])
		if got != want {
			t.Errorf("deriveID(%q, %q) = %s, want %s", k[0], k[1], got, want)
		}
	}
	seen := map[string]string{}
	for _, name := range []string{"a", "b", "pvc-1", "pvc-2", "", "x/../y", "ünïcode", string(make([]byte, 128))} {
		for _, kind := range []string{kindVolume, kindSnapshot} {
			id := deriveID(kind, name)
			if !validID(id) {
				t.Errorf("deriveID(%q, %q) = %q: not a valid ID", kind, name, id)
			}
			if id != deriveID(kind, name) {
				t.Errorf("deriveID(%q, %q) not deterministic", kind, name)
			}
			if id[14] != '8' || !slices.Contains([]byte("89ab"), id[19]) {
				t.Errorf("deriveID(%q, %q) = %s: version/variant bits not set", kind, name, id)
			}
			if prev, dup := seen[id]; dup {
				t.Errorf("deriveID collision: %s for %s and %s/%s", id, prev, kind, name)
			}
			seen[id] = kind + "/" + name
		}
	}
	if volumeIDFor("n") == snapshotIDFor("n") {
		t.Error("volume and snapshot of one name share an ID")
	}
}

func TestValidID(t *testing.T) {
	for id, want := range map[string]bool{
		"3b9f0e6f-7c7b-8c8e-8a38-a4db0a2b4fcb":      true,
		"b1f6a41e-5d2c-11ee-8c99-0242ac120002":      true, // upstream hostpath's (time-based) UUIDs
		"3B9F0E6F-7C7B-8C8E-8A38-A4DB0A2B4FCB":      false,
		"":                                          false,
		"fake-vol-id":                               false,
		"../3b9f0e6f-7c7b-8c8e-8a38-a4db0a2b4fc":    false,
		"3b9f0e6f-7c7b-8c8e-8a38-a4db0a2b4fcb/x":    false,
		"3b9f0e6f-7c7b-8c8e-8a38-a4db0a2b4fcb.snap": false,
	} {
		if got := validID(id); got != want {
			t.Errorf("validID(%q) = %v, want %v", id, got, want)
		}
	}
}

func TestCapacityRules(t *testing.T) {
	const gi = int64(1) << 30
	cases := []struct {
		r       *csi.CapacityRange
		want    int64
		wantErr bool
	}{
		{nil, 0, false},
		{&csi.CapacityRange{RequiredBytes: gi}, gi, false},
		{&csi.CapacityRange{LimitBytes: gi}, gi, false},
		{&csi.CapacityRange{RequiredBytes: gi, LimitBytes: 2 * gi}, gi, false},
		{&csi.CapacityRange{RequiredBytes: 2 * gi, LimitBytes: gi}, 0, true},
		{&csi.CapacityRange{RequiredBytes: -1}, 0, true},
		{&csi.CapacityRange{LimitBytes: -1}, 0, true},
	}
	for _, c := range cases {
		got, err := requestedCapacity(c.r)
		if (err != nil) != c.wantErr || got != c.want {
			t.Errorf("requestedCapacity(%v) = %d, %v; want %d, err %v", c.r, got, err, c.want, c.wantErr)
		}
	}
	fits := []struct {
		capacity int64
		r        *csi.CapacityRange
		want     bool
	}{
		{gi, &csi.CapacityRange{RequiredBytes: gi}, true},
		{gi, &csi.CapacityRange{RequiredBytes: gi, LimitBytes: gi}, true},
		{gi, &csi.CapacityRange{RequiredBytes: 2 * gi, LimitBytes: 2 * gi}, false},
		{2 * gi, &csi.CapacityRange{RequiredBytes: gi, LimitBytes: gi}, false},
		{2 * gi, &csi.CapacityRange{RequiredBytes: gi}, true},
		{gi, nil, true},
		{0, nil, true},
		{0, &csi.CapacityRange{RequiredBytes: gi}, false},
	}
	for _, f := range fits {
		if got := capacityFits(f.capacity, f.r); got != f.want {
			t.Errorf("capacityFits(%d, %v) = %v, want %v", f.capacity, f.r, got, f.want)
		}
	}
}

func TestCapabilityRules(t *testing.T) {
	ok := []csi.VolumeCapability_AccessMode_Mode{
		csi.VolumeCapability_AccessMode_SINGLE_NODE_WRITER,
		csi.VolumeCapability_AccessMode_SINGLE_NODE_READER_ONLY,
		csi.VolumeCapability_AccessMode_SINGLE_NODE_SINGLE_WRITER,
		csi.VolumeCapability_AccessMode_SINGLE_NODE_MULTI_WRITER,
	}
	for _, m := range ok {
		if p := capabilityProblem(mountCap(m)); p != "" {
			t.Errorf("%s rejected: %s", m, p)
		}
	}
	bad := []*csi.VolumeCapability{
		nil,
		mountCap(csi.VolumeCapability_AccessMode_MULTI_NODE_MULTI_WRITER),
		mountCap(csi.VolumeCapability_AccessMode_MULTI_NODE_READER_ONLY),
		mountCap(csi.VolumeCapability_AccessMode_UNKNOWN),
		{AccessMode: &csi.VolumeCapability_AccessMode{Mode: csi.VolumeCapability_AccessMode_SINGLE_NODE_WRITER}},
		{AccessType: &csi.VolumeCapability_Mount{Mount: &csi.VolumeCapability_MountVolume{}}},
		{
			AccessType: &csi.VolumeCapability_Block{Block: &csi.VolumeCapability_BlockVolume{}},
			AccessMode: &csi.VolumeCapability_AccessMode{Mode: csi.VolumeCapability_AccessMode_SINGLE_NODE_WRITER},
		},
	}
	for i, c := range bad {
		if capabilityProblem(c) == "" {
			t.Errorf("bad capability %d (%v) accepted", i, c)
		}
	}
	if capabilitiesProblem([]*csi.VolumeCapability{mountCap(ok[0]), bad[1]}) == "" {
		t.Error("a list with one unsupported capability was accepted")
	}
}

func TestSourceOf(t *testing.T) {
	if s, err := sourceOf(nil); err != nil || s.Kind != "" {
		t.Errorf("nil source: %v %v", s, err)
	}
	snap := contentSource{Kind: kindSnapshot, ID: "x"}
	if s, err := sourceOf(snap.proto()); err != nil || s != snap {
		t.Errorf("snapshot source round trip: %v %v", s, err)
	}
	vol := contentSource{Kind: kindVolume, ID: "y"}
	if s, err := sourceOf(vol.proto()); err != nil || s != vol {
		t.Errorf("volume source round trip: %v %v", s, err)
	}
	if _, err := sourceOf(&csi.VolumeContentSource{Type: &csi.VolumeContentSource_Snapshot{Snapshot: &csi.VolumeContentSource_SnapshotSource{}}}); err == nil {
		t.Error("snapshot source without ID accepted")
	}
	if _, err := sourceOf(&csi.VolumeContentSource{}); err == nil {
		t.Error("source of no type accepted")
	}
}

func TestStoreMetadataAndListing(t *testing.T) {
	dir := t.TempDir()
	s := &store{dir: dir}
	vid, sid := volumeIDFor("v"), snapshotIDFor("s")

	if m, err := s.readVolumeMeta(vid); m != nil || err != nil {
		t.Fatalf("missing metadata: %v %v", m, err)
	}
	vm := volumeMeta{Kind: kindVolume, ID: vid, Name: "v", CapacityBytes: 42, Source: contentSource{Kind: kindSnapshot, ID: sid}}
	if err := s.writeMeta(vid, vm); err != nil {
		t.Fatal(err)
	}
	got, err := s.readVolumeMeta(vid)
	if err != nil || got == nil || got.CapacityBytes != 42 || got.Source != vm.Source || got.Name != "v" {
		t.Fatalf("volume metadata round trip: %+v %v", got, err)
	}
	// A snapshot reading a volume's metadata (IDs mixed up) is an error, not a match.
	if _, err := s.readSnapshotMeta(vid); err == nil {
		t.Error("volume metadata read as a snapshot's")
	}
	if err := s.writeMeta(sid, snapshotMeta{Kind: kindSnapshot, ID: sid, SourceVolumeID: vid}); err != nil {
		t.Fatal(err)
	}

	// Only complete snapshots (<uuid>.snap regular files) are listed, sorted.
	other := snapshotIDFor("t")
	for _, name := range []string{sid + ".snap", other + ".snap", ".tmp-" + sid + "-123.snap", "junk.snap", vid + ".json"} {
		if err := os.WriteFile(filepath.Join(dir, name), nil, 0o644); err != nil {
			t.Fatal(err)
		}
	}
	if err := os.Mkdir(filepath.Join(dir, snapshotIDFor("dir")+".snap"), 0o755); err != nil {
		t.Fatal(err)
	}
	ids, err := s.listSnapshotIDs()
	if err != nil {
		t.Fatal(err)
	}
	want := []string{sid, other}
	slices.Sort(want)
	if !slices.Equal(ids, want) {
		t.Errorf("listSnapshotIDs = %v, want %v", ids, want)
	}

	// No temporary files are left by writeMeta; sweep removes leftovers of interrupted operations only.
	if err := os.Mkdir(filepath.Join(dir, ".deleting-"+vid), 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.Mkdir(filepath.Join(dir, vid), 0o755); err != nil {
		t.Fatal(err)
	}
	removed, err := s.sweep()
	if err != nil {
		t.Fatal(err)
	}
	slices.Sort(removed)
	if !slices.Equal(removed, []string{".deleting-" + vid, ".tmp-" + sid + "-123.snap"}) {
		t.Errorf("sweep removed %v", removed)
	}
	if ok, err := s.volumeExists(vid); !ok || err != nil {
		t.Errorf("volume gone after sweep: %v %v", ok, err)
	}
	if ok, _ := s.volumeExists("fake-vol-id"); ok {
		t.Error("invalid ID reported as an existing volume")
	}
}

func TestKeyLocks(t *testing.T) {
	var k keyLocks
	if !k.tryLock("a") {
		t.Fatal("first lock failed")
	}
	if k.tryLock("a") {
		t.Fatal("second lock of a held key succeeded")
	}
	if !k.tryLock("b") {
		t.Fatal("lock of another key failed")
	}
	k.unlock("a")
	if !k.tryLock("a") {
		t.Fatal("lock after unlock failed")
	}
}

func TestSocketPath(t *testing.T) {
	for in, want := range map[string]string{
		"unix:///csi/csi.sock": "/csi/csi.sock",
		"unix:/csi/csi.sock":   "/csi/csi.sock",
		"/csi/csi.sock":        "/csi/csi.sock",
		"unix:///a/../b.sock":  "/b.sock",
	} {
		if got, err := socketPath(in); err != nil || got != want {
			t.Errorf("socketPath(%q) = %q, %v; want %q", in, got, err, want)
		}
	}
	for _, bad := range []string{"", "tcp://127.0.0.1:10000", "unix://", "relative.sock"} {
		if got, err := socketPath(bad); err == nil {
			t.Errorf("socketPath(%q) = %q, want an error", bad, got)
		}
	}
}
