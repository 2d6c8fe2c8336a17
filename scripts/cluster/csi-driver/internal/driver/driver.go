// Package driver is pvbench's directory-backed CSI driver: CSI Identity, Controller and Node services on one unix
// socket, plus the kubelet plugin registration service that node-driver-registrar would otherwise provide.
package driver

import (
	"context"
	"errors"
	"fmt"
	"io/fs"
	"log"
	"net"
	"os"
	"path/filepath"
	"regexp"
	"runtime/debug"
	"strings"
	"sync"
	"time"

	"github.com/container-storage-interface/spec/lib/go/csi"
	"google.golang.org/grpc"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"
	registerapi "k8s.io/kubelet/pkg/apis/pluginregistration/v1"
)

// Config is what the command line sets.
type Config struct {
	DriverName string // CSI driver name (GetPluginInfo, registration)
	NodeID     string // NodeGetInfo
	DataDir    string // where volumes and snapshots live
	Endpoint   string // unix:///path/to/csi.sock
	Version    string // vendor version

	// RegistrationDir is where the kubelet looks for plugin registration sockets (empty: do not register).
	RegistrationDir string
	// KubeletRegistrationPath is the CSI socket's path as the kubelet sees it (on the host).
	KubeletRegistrationPath string

	// ShutdownTimeout bounds the graceful stop (default 10s).
	ShutdownTimeout time.Duration
	Logger          *log.Logger // default: stderr
}

// Driver serves the CSI services of one data directory.
type Driver struct {
	cfg   Config
	log   *log.Logger
	store *store
	locks keyLocks

	mu        sync.Mutex
	servers   []*grpc.Server
	sockets   []string
	serveErrs chan error
}

// driverNamePattern is the CSI spec's rule for plugin names: at most 63 characters, alphanumeric at both ends, dashes,
// dots and underscores inside.
var driverNamePattern = regexp.MustCompile(`^[A-Za-z0-9]([A-Za-z0-9._-]{0,61}[A-Za-z0-9])?$`)

// New checks the configuration, prepares the data directory and removes what interrupted operations left there.
func New(cfg Config) (*Driver, error) {
	if !driverNamePattern.MatchString(cfg.DriverName) {
		return nil, fmt.Errorf("invalid driver name %q", cfg.DriverName)
	}
	if cfg.NodeID == "" {
		return nil, errors.New("node id is required")
	}
	if cfg.DataDir == "" {
		return nil, errors.New("data dir is required")
	}
	if _, err := socketPath(cfg.Endpoint); err != nil {
		return nil, err
	}
	if cfg.RegistrationDir != "" && cfg.KubeletRegistrationPath == "" {
		return nil, errors.New("--kubelet-registration-path is required with --registration-dir")
	}
	if cfg.Version == "" {
		cfg.Version = "dev"
	}
	if cfg.ShutdownTimeout <= 0 {
		cfg.ShutdownTimeout = 10 * time.Second
	}
	if cfg.Logger == nil {
		cfg.Logger = log.New(os.Stderr, "", log.LstdFlags|log.Lmicroseconds)
	}
	abs, err := filepath.Abs(cfg.DataDir)
	if err != nil {
		return nil, err
	}
	cfg.DataDir = abs
	if err := os.MkdirAll(cfg.DataDir, 0o755); err != nil {
		return nil, fmt.Errorf("data dir: %w", err)
	}
	d := &Driver{cfg: cfg, log: cfg.Logger, store: &store{dir: cfg.DataDir}, serveErrs: make(chan error, 2)}
	removed, err := d.store.sweep()
	for _, r := range removed {
		d.log.Printf("removed leftover %s", filepath.Join(cfg.DataDir, r))
	}
	if err != nil {
		return nil, fmt.Errorf("cleaning the data dir: %w", err)
	}
	return d, nil
}

// socketPath accepts unix:///abs/path, unix:/abs/path, unix://abs/path and a bare absolute path.
func socketPath(endpoint string) (string, error) {
	p := endpoint
	if rest, ok := strings.CutPrefix(endpoint, "unix:"); ok {
		p = strings.TrimPrefix(rest, "//")
		if !strings.HasPrefix(p, "/") {
			p = "/" + p
		}
	} else if strings.Contains(endpoint, "://") {
		return "", fmt.Errorf("endpoint %q: only unix sockets are supported", endpoint)
	}
	if p == "" || p == "/" || !filepath.IsAbs(p) {
		return "", fmt.Errorf("endpoint %q: need an absolute socket path", endpoint)
	}
	return filepath.Clean(p), nil
}

// listenUnix listens on path after removing a stale socket there (anything else at path is an error).
func listenUnix(path string) (net.Listener, error) {
	if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
		return nil, err
	}
	if fi, err := os.Lstat(path); err == nil {
		if fi.Mode()&fs.ModeSocket == 0 {
			return nil, fmt.Errorf("%s exists and is not a socket", path)
		}
		if err := os.Remove(path); err != nil {
			return nil, err
		}
	}
	return net.Listen("unix", path)
}

// Start listens on the CSI socket (and the registration socket when configured) and serves in the background.
func (d *Driver) Start() error {
	csiPath, _ := socketPath(d.cfg.Endpoint)
	lis, err := listenUnix(csiPath)
	if err != nil {
		return fmt.Errorf("CSI endpoint: %w", err)
	}
	srv := grpc.NewServer(grpc.UnaryInterceptor(d.logCalls))
	csi.RegisterIdentityServer(srv, &identityServer{d: d})
	csi.RegisterControllerServer(srv, &controllerServer{d: d})
	csi.RegisterNodeServer(srv, &nodeServer{d: d})
	d.serve(srv, lis, csiPath)
	d.log.Printf("driver %s %s (node %s, data %s) serving CSI on %s", d.cfg.DriverName, d.cfg.Version, d.cfg.NodeID, d.cfg.DataDir, csiPath)

	if d.cfg.RegistrationDir == "" {
		d.log.Printf("no --registration-dir: not registering with the kubelet")
		return nil
	}
	regPath := filepath.Join(d.cfg.RegistrationDir, d.cfg.DriverName+"-reg.sock")
	rlis, err := listenUnix(regPath)
	if err != nil {
		d.Stop()
		return fmt.Errorf("registration socket: %w", err)
	}
	rsrv := grpc.NewServer(grpc.UnaryInterceptor(d.logCalls))
	registerapi.RegisterRegistrationServer(rsrv, &registrationServer{d: d})
	d.serve(rsrv, rlis, regPath)
	d.log.Printf("kubelet registration on %s (endpoint %s)", regPath, d.cfg.KubeletRegistrationPath)
	return nil
}

func (d *Driver) serve(srv *grpc.Server, lis net.Listener, path string) {
	d.mu.Lock()
	d.servers = append(d.servers, srv)
	d.sockets = append(d.sockets, path)
	d.mu.Unlock()
	go func() {
		if err := srv.Serve(lis); err != nil {
			d.serveErrs <- fmt.Errorf("serving on %s: %w", path, err)
		}
	}()
}

// Stop stops serving: gracefully (in-flight calls finish) within ShutdownTimeout, then forcibly. It removes the
// sockets.
func (d *Driver) Stop() {
	d.mu.Lock()
	servers, sockets := d.servers, d.sockets
	d.servers, d.sockets = nil, nil
	d.mu.Unlock()
	done := make(chan struct{})
	go func() {
		for _, s := range servers {
			s.GracefulStop()
		}
		close(done)
	}()
	select {
	case <-done:
	case <-time.After(d.cfg.ShutdownTimeout):
		d.log.Printf("graceful stop timed out after %s; stopping", d.cfg.ShutdownTimeout)
		for _, s := range servers {
			s.Stop()
		}
		<-done
	}
	for _, p := range sockets {
		if err := os.Remove(p); err != nil && !errors.Is(err, fs.ErrNotExist) {
			d.log.Printf("removing %s: %v", p, err)
		}
	}
}

// Run serves until ctx ends (then stops cleanly) or a server fails.
func (d *Driver) Run(ctx context.Context) error {
	if err := d.Start(); err != nil {
		return err
	}
	var err error
	select {
	case <-ctx.Done():
		d.log.Printf("shutting down")
	case err = <-d.serveErrs:
	}
	d.Stop()
	return err
}

// requestSummary names the objects a request is about, for the log line.
func requestSummary(req any) string {
	var parts []string
	add := func(k, v string) {
		if v != "" {
			parts = append(parts, k+"="+v)
		}
	}
	if r, ok := req.(interface{ GetName() string }); ok {
		add("name", r.GetName())
	}
	if r, ok := req.(interface{ GetVolumeId() string }); ok {
		add("volume", r.GetVolumeId())
	}
	if r, ok := req.(interface{ GetSourceVolumeId() string }); ok {
		add("source", r.GetSourceVolumeId())
	}
	if r, ok := req.(interface{ GetSnapshotId() string }); ok {
		add("snapshot", r.GetSnapshotId())
	}
	if r, ok := req.(interface {
		GetVolumeContentSource() *csi.VolumeContentSource
	}); ok {
		if s := r.GetVolumeContentSource(); s != nil {
			add("from", fmt.Sprintf("%s%s", s.GetSnapshot().GetSnapshotId(), s.GetVolume().GetVolumeId()))
		}
	}
	if r, ok := req.(interface{ GetTargetPath() string }); ok {
		add("target", r.GetTargetPath())
	}
	if r, ok := req.(interface{ GetVolumePath() string }); ok {
		add("path", r.GetVolumePath())
	}
	return strings.Join(parts, " ")
}

// logCalls logs each call on one line (method, what it was about, outcome, duration) and turns a panic into Internal.
func (d *Driver) logCalls(ctx context.Context, req any, info *grpc.UnaryServerInfo, handler grpc.UnaryHandler) (resp any, err error) {
	start := time.Now()
	defer func() {
		if p := recover(); p != nil {
			d.log.Printf("panic in %s: %v\n%s", info.FullMethod, p, debug.Stack())
			resp, err = nil, status.Errorf(codes.Internal, "panic: %v", p)
		}
		method := info.FullMethod[strings.LastIndex(info.FullMethod, "/")+1:]
		line := method
		if s := requestSummary(req); s != "" {
			line += " " + s
		}
		if err != nil {
			st, _ := status.FromError(err)
			d.log.Printf("%s -> %s: %s (%s)", line, st.Code(), st.Message(), time.Since(start).Round(time.Millisecond))
		} else {
			d.log.Printf("%s -> OK (%s)", line, time.Since(start).Round(time.Millisecond))
		}
	}()
	return handler(ctx, req)
}

// registrationServer is the kubelet plugin registration service (what node-driver-registrar serves).
type registrationServer struct {
	registerapi.UnimplementedRegistrationServer
	d *Driver
}

func (r *registrationServer) GetInfo(context.Context, *registerapi.InfoRequest) (*registerapi.PluginInfo, error) {
	return &registerapi.PluginInfo{
		Type:              registerapi.CSIPlugin,
		Name:              r.d.cfg.DriverName,
		Endpoint:          r.d.cfg.KubeletRegistrationPath,
		SupportedVersions: []string{"1.0.0"},
	}, nil
}

func (r *registrationServer) NotifyRegistrationStatus(_ context.Context, st *registerapi.RegistrationStatus) (*registerapi.RegistrationStatusResponse, error) {
	if st.GetPluginRegistered() {
		r.d.log.Printf("registered with the kubelet")
	} else {
		r.d.log.Printf("the kubelet did not register the plugin: %s (it retries)", st.GetError())
	}
	return &registerapi.RegistrationStatusResponse{}, nil
}
