package driver

import (
	"encoding/json"
	"errors"
	"net"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"syscall"
	"testing"

	"github.com/container-storage-interface/spec/lib/go/csi"
	"google.golang.org/grpc"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/credentials/insecure"
	"google.golang.org/grpc/status"
	registerapi "k8s.io/kubelet/pkg/apis/pluginregistration/v1"
)

func wantCode(t *testing.T, err error, code codes.Code, what string) {
	t.Helper()
	if status.Code(err) != code {
		t.Fatalf("%s: got %v, want code %s", what, err, code)
	}
}

func mustOK(t *testing.T, err error, what string) {
	t.Helper()
	if err != nil {
		t.Fatalf("%s: %v", what, err)
	}
}

func createVol(t *testing.T, h *harness, name string, capacity int64, src *csi.VolumeContentSource) (*csi.Volume, error) {
	t.Helper()
	resp, err := h.ctrl.CreateVolume(ctx(t), &csi.CreateVolumeRequest{
		Name: name, VolumeCapabilities: rwoCaps(),
		CapacityRange:       &csi.CapacityRange{RequiredBytes: capacity},
		VolumeContentSource: src,
	})
	return resp.GetVolume(), err
}

func dataDirEntries(t *testing.T, dir string) []string {
	t.Helper()
	entries, err := os.ReadDir(dir)
	if err != nil {
		t.Fatal(err)
	}
	var names []string
	for _, e := range entries {
		names = append(names, e.Name())
	}
	return names
}

// TestLifecycleAcrossRestart: volumes, snapshots, restores and clones through the API, on the hostpath layout, and a
// second driver process on the same data directory answering the same requests the same way.
func TestLifecycleAcrossRestart(t *testing.T) {
	tmp := t.TempDir()
	data := filepath.Join(tmp, "data")
	h := startDriver(t, data, filepath.Join(tmp, "one.sock"), "")
	const gi = int64(1) << 30

	a, err := createVol(t, h, "pvc-a", gi, nil)
	mustOK(t, err, "CreateVolume pvc-a")
	if a.GetVolumeId() != volumeIDFor("pvc-a") || a.GetCapacityBytes() != gi || a.GetContentSource() != nil {
		t.Fatalf("CreateVolume pvc-a = %v", a)
	}
	volDir := filepath.Join(data, a.GetVolumeId())
	if fi, err := os.Stat(volDir); err != nil || !fi.IsDir() || fi.Mode().Perm() != 0o755 {
		t.Fatalf("volume directory %s: %v %v", volDir, fi, err)
	}
	makeTree(t, volDir) // what a pod would write
	if err := os.Remove(filepath.Join(volDir, "fifo")); err != nil {
		t.Fatal(err)
	}
	want := describeTree(t, volDir, true)

	snapResp, err := h.ctrl.CreateSnapshot(ctx(t), &csi.CreateSnapshotRequest{Name: "snap-1", SourceVolumeId: a.GetVolumeId()})
	mustOK(t, err, "CreateSnapshot")
	snap := snapResp.GetSnapshot()
	snapFile := filepath.Join(data, snap.GetSnapshotId()+".snap")
	fi, err := os.Stat(snapFile)
	if err != nil {
		t.Fatalf("snapshot file: %v", err)
	}
	if snap.GetSnapshotId() != snapshotIDFor("snap-1") || !snap.GetReadyToUse() || snap.GetSizeBytes() != fi.Size() ||
		snap.GetSourceVolumeId() != a.GetVolumeId() || snap.GetCreationTime().AsTime().IsZero() {
		t.Fatalf("CreateSnapshot = %v (file size %d)", snap, fi.Size())
	}
	var sm snapshotMeta
	raw, err := os.ReadFile(filepath.Join(data, snap.GetSnapshotId()+".json"))
	mustOK(t, err, "snapshot sidecar")
	mustOK(t, json.Unmarshal(raw, &sm), "snapshot sidecar JSON")
	if sm.SourceVolumeID != a.GetVolumeId() || sm.Name != "snap-1" {
		t.Errorf("sidecar %+v", sm)
	}
	again, err := h.ctrl.CreateSnapshot(ctx(t), &csi.CreateSnapshotRequest{Name: "snap-1", SourceVolumeId: a.GetVolumeId()})
	mustOK(t, err, "CreateSnapshot again")
	if again.GetSnapshot().String() != snap.String() {
		t.Errorf("repeated CreateSnapshot = %v, want %v", again.GetSnapshot(), snap)
	}
	_, err = h.ctrl.CreateSnapshot(ctx(t), &csi.CreateSnapshotRequest{Name: "snap-1", SourceVolumeId: volumeIDFor("other")})
	wantCode(t, err, codes.AlreadyExists, "CreateSnapshot of the same name from another volume")
	_, err = h.ctrl.CreateSnapshot(ctx(t), &csi.CreateSnapshotRequest{Name: "snap-2", SourceVolumeId: volumeIDFor("nope")})
	wantCode(t, err, codes.NotFound, "CreateSnapshot of a missing volume")

	fromSnap := (contentSource{Kind: kindSnapshot, ID: snap.GetSnapshotId()}).proto()
	b, err := createVol(t, h, "pvc-b", gi, fromSnap)
	mustOK(t, err, "restore")
	if b.GetContentSource().GetSnapshot().GetSnapshotId() != snap.GetSnapshotId() {
		t.Errorf("restored volume's content source %v", b.GetContentSource())
	}
	compareTrees(t, want, describeTree(t, filepath.Join(data, b.GetVolumeId()), true))

	fromVol := (contentSource{Kind: kindVolume, ID: a.GetVolumeId()}).proto()
	c, err := createVol(t, h, "pvc-c", gi, fromVol)
	mustOK(t, err, "clone")
	compareTrees(t, want, describeTree(t, filepath.Join(data, c.GetVolumeId()), true))

	_, err = createVol(t, h, "pvc-b", gi, fromVol)
	wantCode(t, err, codes.AlreadyExists, "CreateVolume of the same name from another source")
	_, err = createVol(t, h, "pvc-b", gi, nil)
	wantCode(t, err, codes.AlreadyExists, "CreateVolume of the same name without its source")
	b2, err := createVol(t, h, "pvc-b", gi, fromSnap)
	mustOK(t, err, "CreateVolume pvc-b again")
	if b2.GetVolumeId() != b.GetVolumeId() {
		t.Errorf("repeated restore made %s, first %s", b2.GetVolumeId(), b.GetVolumeId())
	}
	_, err = createVol(t, h, "pvc-d", gi, (contentSource{Kind: kindSnapshot, ID: snapshotIDFor("nope")}).proto())
	wantCode(t, err, codes.NotFound, "restore of a missing snapshot")
	_, err = createVol(t, h, "pvc-d", gi, (contentSource{Kind: kindVolume, ID: "not-an-id"}).proto())
	wantCode(t, err, codes.NotFound, "clone of a missing volume")

	// A new process on the same data directory: no state but the files.
	h.d.Stop()
	h2 := startDriver(t, data, filepath.Join(tmp, "two.sock"), "")
	a2, err := createVol(t, h2, "pvc-a", gi, nil)
	mustOK(t, err, "CreateVolume pvc-a after restart")
	if a2.GetVolumeId() != a.GetVolumeId() || a2.GetCapacityBytes() != gi {
		t.Errorf("after restart CreateVolume pvc-a = %v, before %v", a2, a)
	}
	_, err = createVol(t, h2, "pvc-a", 2*gi, nil)
	wantCode(t, err, codes.AlreadyExists, "CreateVolume pvc-a with a larger size after restart")
	compareTrees(t, want, describeTree(t, volDir, true)) // untouched by the repeated CreateVolume

	again2, err := h2.ctrl.CreateSnapshot(ctx(t), &csi.CreateSnapshotRequest{Name: "snap-1", SourceVolumeId: a.GetVolumeId()})
	mustOK(t, err, "CreateSnapshot after restart")
	if again2.GetSnapshot().String() != snap.String() {
		t.Errorf("after restart CreateSnapshot = %v, want %v", again2.GetSnapshot(), snap)
	}
	list, err := h2.ctrl.ListSnapshots(ctx(t), &csi.ListSnapshotsRequest{SourceVolumeId: a.GetVolumeId()})
	mustOK(t, err, "ListSnapshots")
	if len(list.GetEntries()) != 1 || list.GetEntries()[0].GetSnapshot().String() != snap.String() {
		t.Errorf("ListSnapshots by source = %v", list)
	}
	list, err = h2.ctrl.ListSnapshots(ctx(t), &csi.ListSnapshotsRequest{SourceVolumeId: b.GetVolumeId()})
	mustOK(t, err, "ListSnapshots")
	if len(list.GetEntries()) != 0 {
		t.Errorf("ListSnapshots of a volume without snapshots = %v", list)
	}
	_, err = h2.ctrl.ListSnapshots(ctx(t), &csi.ListSnapshotsRequest{StartingToken: "garbage"})
	wantCode(t, err, codes.Aborted, "ListSnapshots with a bad token")

	// Deletion removes the files, and is idempotent.
	for i := 0; i < 2; i++ {
		_, err = h2.ctrl.DeleteSnapshot(ctx(t), &csi.DeleteSnapshotRequest{SnapshotId: snap.GetSnapshotId()})
		mustOK(t, err, "DeleteSnapshot")
		for _, v := range []*csi.Volume{a, b, c} {
			_, err = h2.ctrl.DeleteVolume(ctx(t), &csi.DeleteVolumeRequest{VolumeId: v.GetVolumeId()})
			mustOK(t, err, "DeleteVolume")
		}
	}
	if left := dataDirEntries(t, data); len(left) != 0 {
		t.Errorf("data dir not empty after deleting everything: %v", left)
	}
}

func TestPagination(t *testing.T) {
	tmp := t.TempDir()
	h := startDriver(t, filepath.Join(tmp, "data"), filepath.Join(tmp, "csi.sock"), "")
	v, err := createVol(t, h, "v", 0, nil)
	mustOK(t, err, "CreateVolume")
	var ids []string
	for i := 0; i < 7; i++ {
		s, err := h.ctrl.CreateSnapshot(ctx(t), &csi.CreateSnapshotRequest{Name: "s" + string(rune('a'+i)), SourceVolumeId: v.GetVolumeId()})
		mustOK(t, err, "CreateSnapshot")
		ids = append(ids, s.GetSnapshot().GetSnapshotId())
	}
	slices.Sort(ids)
	var got []string
	token := ""
	pages := 0
	for {
		resp, err := h.ctrl.ListSnapshots(ctx(t), &csi.ListSnapshotsRequest{MaxEntries: 3, StartingToken: token})
		mustOK(t, err, "ListSnapshots")
		pages++
		if len(resp.GetEntries()) > 3 {
			t.Fatalf("page of %d entries", len(resp.GetEntries()))
		}
		for _, e := range resp.GetEntries() {
			got = append(got, e.GetSnapshot().GetSnapshotId())
		}
		token = resp.GetNextToken()
		if token == "" {
			break
		}
		if pages == 1 { // a token stays valid when its snapshot is deleted
			_, err := h.ctrl.DeleteSnapshot(ctx(t), &csi.DeleteSnapshotRequest{SnapshotId: token})
			mustOK(t, err, "DeleteSnapshot")
		}
	}
	if pages != 3 || !slices.Equal(got, ids) {
		t.Errorf("paged listing: %d pages, %v; want 3 pages, %v", pages, got, ids)
	}
	one, err := h.ctrl.ListSnapshots(ctx(t), &csi.ListSnapshotsRequest{SnapshotId: ids[4]})
	mustOK(t, err, "ListSnapshots by ID")
	if len(one.GetEntries()) != 1 || one.GetEntries()[0].GetSnapshot().GetSnapshotId() != ids[4] {
		t.Errorf("ListSnapshots by ID = %v", one)
	}
}

// TestCorruptSnapshotRestoreFails: a bit flipped in a .snap (what pvbench's corrupt-repository fault does) makes the
// restore fail, and leaves no half-made volume behind.
func TestCorruptSnapshotRestoreFails(t *testing.T) {
	tmp := t.TempDir()
	data := filepath.Join(tmp, "data")
	h := startDriver(t, data, filepath.Join(tmp, "csi.sock"), "")
	v, err := createVol(t, h, "v", 0, nil)
	mustOK(t, err, "CreateVolume")
	payload := strings.Repeat("some data that compresses well enough\n", 20000)
	mustOK(t, os.WriteFile(filepath.Join(data, v.GetVolumeId(), "file"), []byte(payload), 0o644), "write")
	s, err := h.ctrl.CreateSnapshot(ctx(t), &csi.CreateSnapshotRequest{Name: "s", SourceVolumeId: v.GetVolumeId()})
	mustOK(t, err, "CreateSnapshot")
	snapFile := filepath.Join(data, s.GetSnapshot().GetSnapshotId()+".snap")
	raw, err := os.ReadFile(snapFile)
	mustOK(t, err, "read snapshot")
	raw[len(raw)/2] ^= 0x10
	mustOK(t, os.WriteFile(snapFile, raw, 0o644), "corrupt snapshot")
	before := dataDirEntries(t, data)

	_, err = createVol(t, h, "restored", 0, (contentSource{Kind: kindSnapshot, ID: s.GetSnapshot().GetSnapshotId()}).proto())
	wantCode(t, err, codes.DataLoss, "restore of a corrupt snapshot")
	if after := dataDirEntries(t, data); !slices.Equal(before, after) {
		t.Errorf("data dir changed by the failed restore: %v -> %v", before, after)
	}
}

func TestNodePublish(t *testing.T) {
	if os.Geteuid() != 0 {
		t.Skip("needs root (bind mounts)")
	}
	tmp := t.TempDir()
	data := filepath.Join(tmp, "data")
	h := startDriver(t, data, filepath.Join(tmp, "csi.sock"), "")
	v, err := createVol(t, h, "v", 0, nil)
	mustOK(t, err, "CreateVolume")
	id := v.GetVolumeId()
	pods := filepath.Join(tmp, "pods")
	mustOK(t, os.Mkdir(pods, 0o750), "mkdir")
	rw, ro := filepath.Join(pods, "rw"), filepath.Join(pods, "ro")
	publish := func(target string, readOnly bool, mode csi.VolumeCapability_AccessMode_Mode) error {
		_, err := h.node.NodePublishVolume(ctx(t), &csi.NodePublishVolumeRequest{VolumeId: id, TargetPath: target, Readonly: readOnly, VolumeCapability: mountCap(mode)})
		return err
	}
	unpublish := func(target string) error {
		_, err := h.node.NodeUnpublishVolume(ctx(t), &csi.NodeUnpublishVolumeRequest{VolumeId: id, TargetPath: target})
		return err
	}
	const rwo = csi.VolumeCapability_AccessMode_SINGLE_NODE_WRITER
	for i := 0; i < 2; i++ {
		mustOK(t, publish(rw, false, rwo), "NodePublishVolume rw")
	}
	if ms, _ := mountsAt(rw); len(ms) != 1 {
		t.Fatalf("%d mounts at %s after two publishes, want 1", len(ms), rw)
	}
	wantCode(t, publish(rw, true, rwo), codes.AlreadyExists, "NodePublishVolume with another readonly flag")
	mustOK(t, os.WriteFile(filepath.Join(rw, "through-mount"), []byte("x"), 0o644), "write through the mount")
	if _, err := os.Stat(filepath.Join(data, id, "through-mount")); err != nil {
		t.Errorf("file written through the mount is not in the volume: %v", err)
	}

	mustOK(t, publish(ro, false, csi.VolumeCapability_AccessMode_SINGLE_NODE_READER_ONLY), "NodePublishVolume ro")
	err = os.WriteFile(filepath.Join(ro, "nope"), []byte("x"), 0o644)
	if !errors.Is(err, syscall.EROFS) {
		t.Errorf("write to a read-only publish: %v, want EROFS", err)
	}
	if data, err := os.ReadFile(filepath.Join(ro, "through-mount")); err != nil || string(data) != "x" {
		t.Errorf("read through the read-only mount: %q %v", data, err)
	}

	stats, err := h.node.NodeGetVolumeStats(ctx(t), &csi.NodeGetVolumeStatsRequest{VolumeId: id, VolumePath: rw})
	mustOK(t, err, "NodeGetVolumeStats")
	if len(stats.GetUsage()) != 2 || stats.GetUsage()[0].GetTotal() <= 0 {
		t.Errorf("NodeGetVolumeStats = %v", stats)
	}
	_, err = h.node.NodeGetVolumeStats(ctx(t), &csi.NodeGetVolumeStatsRequest{VolumeId: id, VolumePath: pods})
	wantCode(t, err, codes.NotFound, "NodeGetVolumeStats of a path the volume is not mounted at")

	_, err = h.ctrl.DeleteVolume(ctx(t), &csi.DeleteVolumeRequest{VolumeId: id})
	wantCode(t, err, codes.FailedPrecondition, "DeleteVolume of a mounted volume")

	for _, target := range []string{rw, ro} {
		for i := 0; i < 2; i++ {
			mustOK(t, unpublish(target), "NodeUnpublishVolume")
		}
		if _, err := os.Lstat(target); !errors.Is(err, os.ErrNotExist) {
			t.Errorf("%s still there after unpublish: %v", target, err)
		}
	}
	if ms := mountsUnder(t, tmp); len(ms) != 0 {
		t.Errorf("still mounted: %v", ms)
	}
	// Unpublish never deletes what it did not mount.
	mustOK(t, os.MkdirAll(filepath.Join(rw, "sub"), 0o755), "mkdir")
	if err := unpublish(rw); err == nil {
		t.Error("unpublish of a non-empty, unmounted directory succeeded")
	}
	if _, err := os.Stat(filepath.Join(rw, "sub")); err != nil {
		t.Errorf("unpublish deleted content: %v", err)
	}

	_, err = h.node.NodePublishVolume(ctx(t), &csi.NodePublishVolumeRequest{VolumeId: volumeIDFor("nope"), TargetPath: rw, VolumeCapability: mountCap(rwo)})
	wantCode(t, err, codes.NotFound, "NodePublishVolume of a missing volume")
	_, err = h.node.NodePublishVolume(ctx(t), &csi.NodePublishVolumeRequest{VolumeId: id, TargetPath: "relative/path", VolumeCapability: mountCap(rwo)})
	wantCode(t, err, codes.InvalidArgument, "NodePublishVolume to a relative path")

	_, err = h.ctrl.DeleteVolume(ctx(t), &csi.DeleteVolumeRequest{VolumeId: id})
	mustOK(t, err, "DeleteVolume")
}

func TestRegistrationAndShutdown(t *testing.T) {
	tmp := t.TempDir()
	regDir := filepath.Join(tmp, "registration")
	csiSock := filepath.Join(tmp, "csi", "csi.sock")
	regSock := filepath.Join(regDir, "hostpath.csi.k8s.io-reg.sock")
	// Stale sockets of a killed predecessor.
	for _, p := range []string{csiSock, regSock} {
		mustOK(t, os.MkdirAll(filepath.Dir(p), 0o755), "mkdir")
		l, err := net.Listen("unix", p)
		mustOK(t, err, "listen")
		l.(*net.UnixListener).SetUnlinkOnClose(false)
		l.Close()
	}
	h := startDriver(t, filepath.Join(tmp, "data"), csiSock, regDir)

	conn, err := grpc.NewClient("unix://"+regSock, grpc.WithTransportCredentials(insecure.NewCredentials()))
	mustOK(t, err, "dial registration")
	defer conn.Close()
	reg := registerapi.NewRegistrationClient(conn)
	info, err := reg.GetInfo(ctx(t), &registerapi.InfoRequest{})
	mustOK(t, err, "GetInfo")
	if info.GetType() != "CSIPlugin" || info.GetName() != "hostpath.csi.k8s.io" ||
		info.GetEndpoint() != "/var/lib/kubelet/plugins/hostpath.csi.k8s.io/csi.sock" || !slices.Equal(info.GetSupportedVersions(), []string{"1.0.0"}) {
		t.Errorf("GetInfo = %v", info)
	}
	_, err = reg.NotifyRegistrationStatus(ctx(t), &registerapi.RegistrationStatus{PluginRegistered: false, Error: "boom"})
	mustOK(t, err, "NotifyRegistrationStatus")
	_, err = reg.NotifyRegistrationStatus(ctx(t), &registerapi.RegistrationStatus{PluginRegistered: true})
	mustOK(t, err, "NotifyRegistrationStatus")

	pi, err := h.ident.GetPluginInfo(ctx(t), &csi.GetPluginInfoRequest{})
	mustOK(t, err, "GetPluginInfo")
	if pi.GetName() != "hostpath.csi.k8s.io" || pi.GetVendorVersion() != "test" {
		t.Errorf("GetPluginInfo = %v", pi)
	}
	probe, err := h.ident.Probe(ctx(t), &csi.ProbeRequest{})
	mustOK(t, err, "Probe")
	if !probe.GetReady().GetValue() {
		t.Error("Probe not ready")
	}

	h.d.Stop()
	for _, p := range []string{csiSock, regSock} {
		if _, err := os.Lstat(p); !errors.Is(err, os.ErrNotExist) {
			t.Errorf("socket %s left after Stop: %v", p, err)
		}
	}
	logs := h.logs.String()
	for _, want := range []string{"did not register the plugin: boom", "registered with the kubelet", "GetInfo -> OK", "Probe -> OK"} {
		if !strings.Contains(logs, want) {
			t.Errorf("log lacks %q:\n%s", want, logs)
		}
	}

	// Something that is not a socket at the endpoint is not removed.
	mustOK(t, os.WriteFile(csiSock, []byte("precious"), 0o644), "write")
	d, err := New(testConfig(filepath.Join(tmp, "data"), csiSock, "", &syncBuffer{}))
	mustOK(t, err, "New")
	if err := d.Start(); err == nil {
		d.Stop()
		t.Error("Start over a regular file succeeded")
	}
	if b, _ := os.ReadFile(csiSock); string(b) != "precious" {
		t.Error("regular file at the endpoint was replaced")
	}
}

func TestNewSweepsAndValidates(t *testing.T) {
	tmp := t.TempDir()
	data := filepath.Join(tmp, "data")
	mustOK(t, os.MkdirAll(filepath.Join(data, ".tmp-"+volumeIDFor("x")+"-123", "sub"), 0o755), "mkdir")
	mustOK(t, os.MkdirAll(filepath.Join(data, ".deleting-"+volumeIDFor("y")), 0o755), "mkdir")
	mustOK(t, os.Mkdir(filepath.Join(data, volumeIDFor("z")), 0o755), "mkdir")
	logs := &syncBuffer{}
	_, err := New(testConfig(data, filepath.Join(tmp, "csi.sock"), "", logs))
	mustOK(t, err, "New")
	if left := dataDirEntries(t, data); !slices.Equal(left, []string{volumeIDFor("z")}) {
		t.Errorf("after start-up: %v", left)
	}
	bad := []func(*Config){
		func(c *Config) { c.DriverName = "-bad-" },
		func(c *Config) { c.DriverName = strings.Repeat("a", 64) },
		func(c *Config) { c.NodeID = "" },
		func(c *Config) { c.DataDir = "" },
		func(c *Config) { c.Endpoint = "tcp://127.0.0.1:1" },
		func(c *Config) { c.RegistrationDir = tmp; c.KubeletRegistrationPath = "" },
	}
	for i, mutate := range bad {
		cfg := testConfig(data, filepath.Join(tmp, "csi.sock"), "", logs)
		mutate(&cfg)
		if _, err := New(cfg); err == nil {
			t.Errorf("bad config %d accepted", i)
		}
	}
}
