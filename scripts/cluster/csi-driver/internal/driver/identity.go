package driver

import (
	"context"
	"os"

	"github.com/container-storage-interface/spec/lib/go/csi"
	"golang.org/x/sys/unix"
	"google.golang.org/protobuf/types/known/wrapperspb"
)

type identityServer struct {
	csi.UnimplementedIdentityServer
	d *Driver
}

func (s *identityServer) GetPluginInfo(context.Context, *csi.GetPluginInfoRequest) (*csi.GetPluginInfoResponse, error) {
	return &csi.GetPluginInfoResponse{Name: s.d.cfg.DriverName, VendorVersion: s.d.cfg.Version}, nil
}

func (s *identityServer) GetPluginCapabilities(context.Context, *csi.GetPluginCapabilitiesRequest) (*csi.GetPluginCapabilitiesResponse, error) {
	return &csi.GetPluginCapabilitiesResponse{Capabilities: []*csi.PluginCapability{{
		Type: &csi.PluginCapability_Service_{Service: &csi.PluginCapability_Service{Type: csi.PluginCapability_Service_CONTROLLER_SERVICE}},
	}}}, nil
}

// Probe: ready while the data directory is a writable directory.
func (s *identityServer) Probe(context.Context, *csi.ProbeRequest) (*csi.ProbeResponse, error) {
	ready := true
	if fi, err := os.Stat(s.d.cfg.DataDir); err != nil || !fi.IsDir() {
		s.d.log.Printf("probe: data dir %s unusable: %v", s.d.cfg.DataDir, err)
		ready = false
	} else if err := unix.Access(s.d.cfg.DataDir, unix.W_OK|unix.X_OK); err != nil {
		s.d.log.Printf("probe: data dir %s not writable: %v", s.d.cfg.DataDir, err)
		ready = false
	}
	return &csi.ProbeResponse{Ready: wrapperspb.Bool(ready)}, nil
}
