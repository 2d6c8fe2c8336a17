// Command pvbench-csi is the local test cluster's CSI driver: volumes are directories under --datadir, snapshots are
// gzip-compressed tarballs beside them (the CSI hostpath driver's layout), and the kubelet plugin registration that
// node-driver-registrar would do is served in the same process.
package main

import (
	"context"
	"flag"
	"fmt"
	"log"
	"os"
	"os/signal"
	"syscall"
	"time"

	"pvbench.local/csi-driver/internal/driver"
)

// version is set at build time: -ldflags '-X main.version=...'.
var version = "dev"

func main() {
	var cfg driver.Config
	flag.StringVar(&cfg.Endpoint, "endpoint", "unix:///csi/csi.sock", "CSI endpoint (unix socket)")
	flag.StringVar(&cfg.DriverName, "drivername", "hostpath.csi.k8s.io", "CSI driver name")
	flag.StringVar(&cfg.NodeID, "nodeid", "", "node ID reported by NodeGetInfo (required)")
	flag.StringVar(&cfg.DataDir, "datadir", "/csi-data-dir", "directory that holds the volumes and snapshots")
	flag.StringVar(&cfg.RegistrationDir, "registration-dir", "", "kubelet plugin registration directory; empty: do not register (controller only)")
	flag.StringVar(&cfg.KubeletRegistrationPath, "kubelet-registration-path", "", "the CSI socket's path on the host, as the kubelet reaches it")
	flag.DurationVar(&cfg.ShutdownTimeout, "shutdown-timeout", 10*time.Second, "how long a graceful stop may take")
	showVersion := flag.Bool("version", false, "print the version and exit")
	flag.Parse()
	if *showVersion {
		fmt.Println(version)
		return
	}
	if flag.NArg() > 0 {
		fmt.Fprintf(os.Stderr, "unexpected arguments: %v\n", flag.Args())
		os.Exit(2)
	}
	cfg.Version = version
	cfg.Logger = log.New(os.Stderr, "", log.LstdFlags|log.Lmicroseconds)

	d, err := driver.New(cfg)
	if err != nil {
		cfg.Logger.Fatalf("pvbench-csi: %v", err)
	}
	ctx, stop := signal.NotifyContext(context.Background(), syscall.SIGTERM, syscall.SIGINT)
	defer stop()
	if err := d.Run(ctx); err != nil {
		cfg.Logger.Fatalf("pvbench-csi: %v", err)
	}
}
