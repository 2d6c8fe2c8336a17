package driver

import (
	"context"
	"errors"
	"io/fs"
	"os"

	"github.com/container-storage-interface/spec/lib/go/csi"
	"golang.org/x/sys/unix"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"
)

type nodeServer struct {
	csi.UnimplementedNodeServer
	d *Driver
}

func (s *nodeServer) NodeGetInfo(context.Context, *csi.NodeGetInfoRequest) (*csi.NodeGetInfoResponse, error) {
	return &csi.NodeGetInfoResponse{NodeId: s.d.cfg.NodeID, MaxVolumesPerNode: 0}, nil
}

func (s *nodeServer) NodeGetCapabilities(context.Context, *csi.NodeGetCapabilitiesRequest) (*csi.NodeGetCapabilitiesResponse, error) {
	return &csi.NodeGetCapabilitiesResponse{Capabilities: []*csi.NodeServiceCapability{{
		Type: &csi.NodeServiceCapability_Rpc{Rpc: &csi.NodeServiceCapability_RPC{Type: csi.NodeServiceCapability_RPC_GET_VOLUME_STATS}},
	}}}, nil
}

// NodePublishVolume bind-mounts the volume directory on the target path (created here), read-only when asked.
func (s *nodeServer) NodePublishVolume(_ context.Context, req *csi.NodePublishVolumeRequest) (*csi.NodePublishVolumeResponse, error) {
	id := req.GetVolumeId()
	if id == "" {
		return nil, status.Error(codes.InvalidArgument, "volume id is required")
	}
	if req.GetTargetPath() == "" {
		return nil, status.Error(codes.InvalidArgument, "target path is required")
	}
	if req.GetVolumeCapability() == nil {
		return nil, status.Error(codes.InvalidArgument, "volume capability is required")
	}
	if p := capabilityProblem(req.GetVolumeCapability()); p != "" {
		return nil, status.Error(codes.InvalidArgument, p)
	}
	target, err := cleanTarget(req.GetTargetPath())
	if err != nil {
		return nil, status.Error(codes.InvalidArgument, err.Error())
	}
	ok, err := s.d.store.volumeExists(id)
	if err != nil {
		return nil, internal("%v", err)
	}
	if !ok {
		return nil, status.Errorf(codes.NotFound, "volume %s not found", id)
	}
	readOnly := req.GetReadonly() || req.GetVolumeCapability().GetAccessMode().GetMode() == csi.VolumeCapability_AccessMode_SINGLE_NODE_READER_ONLY

	key := "target:" + target
	if !s.d.locks.tryLock(key) {
		return nil, aborted(target)
	}
	defer s.d.locks.unlock(key)

	mounts, err := mountsAt(target)
	if err != nil {
		return nil, internal("reading mounts: %v", err)
	}
	if len(mounts) > 0 {
		top := mounts[len(mounts)-1]
		if !top.showsVolume(id) {
			return nil, status.Errorf(codes.AlreadyExists, "%s already has %s mounted, not volume %s", target, top.Root, id)
		}
		if top.readOnly() != readOnly {
			return nil, status.Errorf(codes.AlreadyExists, "volume %s is already published at %s with readonly=%v", id, target, top.readOnly())
		}
		return &csi.NodePublishVolumeResponse{}, nil
	}
	if err := os.MkdirAll(target, 0o750); err != nil {
		return nil, internal("creating %s: %v", target, err)
	}
	if err := bindMount(s.d.store.volumePath(id), target, readOnly); err != nil {
		return nil, internal("%v", err)
	}
	return &csi.NodePublishVolumeResponse{}, nil
}

// NodeUnpublishVolume unmounts the target path if mounted and removes it; a missing or unmounted target is fine.
func (s *nodeServer) NodeUnpublishVolume(_ context.Context, req *csi.NodeUnpublishVolumeRequest) (*csi.NodeUnpublishVolumeResponse, error) {
	if req.GetVolumeId() == "" {
		return nil, status.Error(codes.InvalidArgument, "volume id is required")
	}
	if req.GetTargetPath() == "" {
		return nil, status.Error(codes.InvalidArgument, "target path is required")
	}
	target, err := cleanTarget(req.GetTargetPath())
	if err != nil {
		return nil, status.Error(codes.InvalidArgument, err.Error())
	}
	key := "target:" + target
	if !s.d.locks.tryLock(key) {
		return nil, aborted(target)
	}
	defer s.d.locks.unlock(key)

	if err := unmountAll(target); err != nil {
		return nil, internal("%v", err)
	}
	// Remove, not RemoveAll: what is left is the empty directory made by NodePublishVolume; anything else there is
	// not ours to delete.
	if err := os.Remove(target); err != nil && !errors.Is(err, fs.ErrNotExist) {
		return nil, internal("removing %s: %v", target, err)
	}
	return &csi.NodeUnpublishVolumeResponse{}, nil
}

// NodeGetVolumeStats reports the usage of the filesystem that holds the volume (volumes share it and have no quota).
func (s *nodeServer) NodeGetVolumeStats(_ context.Context, req *csi.NodeGetVolumeStatsRequest) (*csi.NodeGetVolumeStatsResponse, error) {
	id := req.GetVolumeId()
	if id == "" {
		return nil, status.Error(codes.InvalidArgument, "volume id is required")
	}
	if req.GetVolumePath() == "" {
		return nil, status.Error(codes.InvalidArgument, "volume path is required")
	}
	ok, err := s.d.store.volumeExists(id)
	if err != nil {
		return nil, internal("%v", err)
	}
	if !ok {
		return nil, status.Errorf(codes.NotFound, "volume %s not found", id)
	}
	path, err := cleanTarget(req.GetVolumePath())
	if err != nil {
		return nil, status.Errorf(codes.NotFound, "volume %s is not published at %s", id, req.GetVolumePath())
	}
	mounts, err := mountsAt(path)
	if err != nil {
		return nil, internal("reading mounts: %v", err)
	}
	if len(mounts) == 0 || !mounts[len(mounts)-1].showsVolume(id) {
		return nil, status.Errorf(codes.NotFound, "volume %s is not published at %s", id, path)
	}
	var sfs unix.Statfs_t
	if err := unix.Statfs(path, &sfs); err != nil {
		return nil, internal("statfs %s: %v", path, err)
	}
	bs := sfs.Frsize
	if bs <= 0 {
		bs = sfs.Bsize
	}
	return &csi.NodeGetVolumeStatsResponse{Usage: []*csi.VolumeUsage{
		{Unit: csi.VolumeUsage_BYTES, Total: int64(sfs.Blocks) * bs, Available: int64(sfs.Bavail) * bs, Used: int64(sfs.Blocks-sfs.Bfree) * bs},
		{Unit: csi.VolumeUsage_INODES, Total: int64(sfs.Files), Available: int64(sfs.Ffree), Used: int64(sfs.Files - sfs.Ffree)},
	}}, nil
}
