package driver

import (
	"bytes"
	"context"
	"log"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/container-storage-interface/spec/lib/go/csi"
	"golang.org/x/sys/unix"
	"google.golang.org/grpc"
	"google.golang.org/grpc/credentials/insecure"
)

// syncBuffer collects the driver's log; it is printed when a test fails.
type syncBuffer struct {
	mu  sync.Mutex
	buf bytes.Buffer
}

func (b *syncBuffer) Write(p []byte) (int, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.Write(p)
}

func (b *syncBuffer) String() string {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.String()
}

type harness struct {
	cfg    Config
	d      *Driver
	socket string
	logs   *syncBuffer
	conn   *grpc.ClientConn
	ctrl   csi.ControllerClient
	node   csi.NodeClient
	ident  csi.IdentityClient
}

func testConfig(dataDir, socket, regDir string, logs *syncBuffer) Config {
	cfg := Config{
		DriverName: "hostpath.csi.k8s.io",
		NodeID:     "test-node",
		DataDir:    dataDir,
		Endpoint:   "unix://" + socket,
		Version:    "test",
		Logger:     log.New(logs, "", log.Lmicroseconds),
	}
	if regDir != "" {
		cfg.RegistrationDir = regDir
		cfg.KubeletRegistrationPath = "/var/lib/kubelet/plugins/hostpath.csi.k8s.io/csi.sock"
	}
	return cfg
}

// startDriver starts a driver on socket with its data in dataDir and connects a client to it. Stopping, and
// unmounting whatever a failed test left mounted under dataDir's parent, are registered as cleanups.
func startDriver(t *testing.T, dataDir, socket, regDir string) *harness {
	t.Helper()
	logs := &syncBuffer{}
	cfg := testConfig(dataDir, socket, regDir, logs)
	d, err := New(cfg)
	if err != nil {
		t.Fatal(err)
	}
	if err := d.Start(); err != nil {
		t.Fatal(err)
	}
	conn, err := grpc.NewClient("unix://"+socket, grpc.WithTransportCredentials(insecure.NewCredentials()))
	if err != nil {
		d.Stop()
		t.Fatal(err)
	}
	h := &harness{cfg: d.cfg, d: d, socket: socket, logs: logs, conn: conn,
		ctrl: csi.NewControllerClient(conn), node: csi.NewNodeClient(conn), ident: csi.NewIdentityClient(conn)}
	t.Cleanup(func() {
		conn.Close()
		d.Stop() // a no-op when the test stopped it
		for _, m := range mountsUnder(t, parentOf(dataDir)) {
			t.Logf("cleanup: unmounting leftover %s", m)
			_ = unix.Unmount(m, unix.MNT_DETACH)
		}
		if t.Failed() {
			t.Logf("driver log:\n%s", logs.String())
		}
	})
	return h
}

func parentOf(p string) string {
	i := strings.LastIndex(p, "/")
	if i <= 0 {
		return "/"
	}
	return p[:i]
}

// mountsUnder lists the mount points at or below dir, deepest last.
func mountsUnder(t *testing.T, dir string) []string {
	t.Helper()
	all, err := readMountInfo()
	if err != nil {
		t.Fatal(err)
	}
	var out []string
	for _, m := range all {
		if m.MountPoint == dir || strings.HasPrefix(m.MountPoint, dir+"/") {
			out = append(out, m.MountPoint)
		}
	}
	// unmount deepest first
	for i, j := 0, len(out)-1; i < j; i, j = i+1, j-1 {
		out[i], out[j] = out[j], out[i]
	}
	return out
}

func ctx(t *testing.T) context.Context {
	c, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	t.Cleanup(cancel)
	return c
}

func mountCap(mode csi.VolumeCapability_AccessMode_Mode) *csi.VolumeCapability {
	return &csi.VolumeCapability{
		AccessType: &csi.VolumeCapability_Mount{Mount: &csi.VolumeCapability_MountVolume{}},
		AccessMode: &csi.VolumeCapability_AccessMode{Mode: mode},
	}
}

func rwoCaps() []*csi.VolumeCapability {
	return []*csi.VolumeCapability{mountCap(csi.VolumeCapability_AccessMode_SINGLE_NODE_WRITER)}
}
