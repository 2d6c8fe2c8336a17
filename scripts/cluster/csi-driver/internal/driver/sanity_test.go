package driver

import (
	"os"
	"path/filepath"
	"testing"

	"github.com/kubernetes-csi/csi-test/v5/pkg/sanity"
)

// TestSanity runs the upstream CSI conformance suite (csi-test's pkg/sanity) against the driver started in-process on
// a temporary socket and data directory. Everything the driver advertises is exercised; what it does not advertise
// (ListVolumes, GetCapacity, ControllerPublish, NodeStage, expansion, modification, group snapshots, topology) is
// skipped by the suite itself. It needs root for the bind mounts of NodePublishVolume.
func TestSanity(t *testing.T) {
	if os.Geteuid() != 0 {
		t.Skip("needs root (bind mounts)")
	}
	tmp := t.TempDir()
	h := startDriver(t, filepath.Join(tmp, "data"), filepath.Join(tmp, "sock", "csi.sock"), "")

	cfg := sanity.NewTestConfig()
	cfg.Address = "unix://" + h.socket
	cfg.TargetPath = filepath.Join(tmp, "mount")    // sanity creates it; publishes at <it>/target
	cfg.StagingPath = filepath.Join(tmp, "staging") // unused: no STAGE_UNSTAGE_VOLUME
	sanity.Test(t, cfg)

	if t.Failed() {
		return
	}
	// What the suite created, it deleted: nothing may be left in the data directory, nor mounted under tmp.
	entries, err := os.ReadDir(h.cfg.DataDir)
	if err != nil {
		t.Fatal(err)
	}
	for _, e := range entries {
		t.Errorf("left in the data dir after the suite: %s", e.Name())
	}
	if ms := mountsUnder(t, tmp); len(ms) > 0 {
		t.Errorf("still mounted after the suite: %v", ms)
	}
}
