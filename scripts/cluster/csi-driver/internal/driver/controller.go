package driver

import (
	"context"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"sort"
	"strings"
	"time"

	"github.com/container-storage-interface/spec/lib/go/csi"
	"golang.org/x/sys/unix"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"
	"google.golang.org/protobuf/types/known/timestamppb"
)

type controllerServer struct {
	csi.UnimplementedControllerServer
	d *Driver
}

var controllerCaps = []csi.ControllerServiceCapability_RPC_Type{
	csi.ControllerServiceCapability_RPC_CREATE_DELETE_VOLUME,
	csi.ControllerServiceCapability_RPC_CREATE_DELETE_SNAPSHOT,
	csi.ControllerServiceCapability_RPC_LIST_SNAPSHOTS,
	csi.ControllerServiceCapability_RPC_CLONE_VOLUME,
}

func (s *controllerServer) ControllerGetCapabilities(context.Context, *csi.ControllerGetCapabilitiesRequest) (*csi.ControllerGetCapabilitiesResponse, error) {
	var caps []*csi.ControllerServiceCapability
	for _, c := range controllerCaps {
		caps = append(caps, &csi.ControllerServiceCapability{
			Type: &csi.ControllerServiceCapability_Rpc{Rpc: &csi.ControllerServiceCapability_RPC{Type: c}},
		})
	}
	return &csi.ControllerGetCapabilitiesResponse{Capabilities: caps}, nil
}

// capabilityProblem says why a volume capability is not supported ("" when it is): filesystem volumes in single-node
// access modes only.
func capabilityProblem(c *csi.VolumeCapability) string {
	if c == nil {
		return "empty volume capability"
	}
	switch {
	case c.GetBlock() != nil:
		return "block volumes are not supported"
	case c.GetMount() == nil:
		return "volume capability has no access type"
	}
	if c.GetAccessMode() == nil {
		return "volume capability has no access mode"
	}
	switch m := c.GetAccessMode().GetMode(); m {
	case csi.VolumeCapability_AccessMode_SINGLE_NODE_WRITER,
		csi.VolumeCapability_AccessMode_SINGLE_NODE_READER_ONLY,
		csi.VolumeCapability_AccessMode_SINGLE_NODE_SINGLE_WRITER,
		csi.VolumeCapability_AccessMode_SINGLE_NODE_MULTI_WRITER:
		return ""
	default:
		return fmt.Sprintf("access mode %s is not supported", m)
	}
}

func capabilitiesProblem(caps []*csi.VolumeCapability) string {
	for _, c := range caps {
		if p := capabilityProblem(c); p != "" {
			return p
		}
	}
	return ""
}

// requestedCapacity is the capacity a volume gets for a capacity range: the required bytes, else the limit, else 0
// (unspecified). Nothing is allocated: a volume is a directory on the shared filesystem.
func requestedCapacity(r *csi.CapacityRange) (int64, error) {
	req, lim := r.GetRequiredBytes(), r.GetLimitBytes()
	if req < 0 || lim < 0 {
		return 0, errors.New("capacity range must not be negative")
	}
	if lim > 0 && req > lim {
		return 0, fmt.Errorf("required bytes %d exceed limit bytes %d", req, lim)
	}
	if req > 0 {
		return req, nil
	}
	return lim, nil
}

// capacityFits reports whether an existing volume of this capacity satisfies the range (idempotent CreateVolume).
func capacityFits(capacity int64, r *csi.CapacityRange) bool {
	req, lim := r.GetRequiredBytes(), r.GetLimitBytes()
	return capacity >= req && (lim == 0 || capacity <= lim)
}

func sourceOf(cs *csi.VolumeContentSource) (contentSource, error) {
	if cs == nil {
		return contentSource{}, nil
	}
	switch {
	case cs.GetSnapshot() != nil:
		if cs.GetSnapshot().GetSnapshotId() == "" {
			return contentSource{}, errors.New("volume content source snapshot has no snapshot id")
		}
		return contentSource{Kind: kindSnapshot, ID: cs.GetSnapshot().GetSnapshotId()}, nil
	case cs.GetVolume() != nil:
		if cs.GetVolume().GetVolumeId() == "" {
			return contentSource{}, errors.New("volume content source volume has no volume id")
		}
		return contentSource{Kind: kindVolume, ID: cs.GetVolume().GetVolumeId()}, nil
	default:
		return contentSource{}, errors.New("volume content source of unknown type")
	}
}

func (c contentSource) proto() *csi.VolumeContentSource {
	switch c.Kind {
	case kindSnapshot:
		return &csi.VolumeContentSource{Type: &csi.VolumeContentSource_Snapshot{Snapshot: &csi.VolumeContentSource_SnapshotSource{SnapshotId: c.ID}}}
	case kindVolume:
		return &csi.VolumeContentSource{Type: &csi.VolumeContentSource_Volume{Volume: &csi.VolumeContentSource_VolumeSource{VolumeId: c.ID}}}
	}
	return nil
}

func volumeResponse(id string, capacity int64, src contentSource) *csi.CreateVolumeResponse {
	return &csi.CreateVolumeResponse{Volume: &csi.Volume{VolumeId: id, CapacityBytes: capacity, ContentSource: src.proto()}}
}

func aborted(id string) error {
	return status.Errorf(codes.Aborted, "an operation on %s is already in progress", id)
}

func internal(format string, a ...any) error { return status.Errorf(codes.Internal, format, a...) }

func (s *controllerServer) CreateVolume(_ context.Context, req *csi.CreateVolumeRequest) (*csi.CreateVolumeResponse, error) {
	if req.GetName() == "" {
		return nil, status.Error(codes.InvalidArgument, "name is required")
	}
	if len(req.GetVolumeCapabilities()) == 0 {
		return nil, status.Error(codes.InvalidArgument, "volume capabilities are required")
	}
	if p := capabilitiesProblem(req.GetVolumeCapabilities()); p != "" {
		return nil, status.Error(codes.InvalidArgument, p)
	}
	capacity, err := requestedCapacity(req.GetCapacityRange())
	if err != nil {
		return nil, status.Error(codes.InvalidArgument, err.Error())
	}
	src, err := sourceOf(req.GetVolumeContentSource())
	if err != nil {
		return nil, status.Error(codes.InvalidArgument, err.Error())
	}

	st := s.d.store
	id := volumeIDFor(req.GetName())
	if !s.d.locks.tryLock(id) {
		return nil, aborted(id)
	}
	defer s.d.locks.unlock(id)

	exists, err := st.volumeExists(id)
	if err != nil {
		return nil, internal("%v", err)
	}
	if exists {
		meta, err := st.readVolumeMeta(id)
		if err != nil {
			s.d.log.Printf("volume %s: unreadable metadata, taking the request's: %v", id, err)
		}
		if meta == nil { // made without metadata (or it was lost): nothing to compare against
			return volumeResponse(id, capacity, src), nil
		}
		if !capacityFits(meta.CapacityBytes, req.GetCapacityRange()) {
			return nil, status.Errorf(codes.AlreadyExists, "volume %q exists with capacity %d, outside the requested range", req.GetName(), meta.CapacityBytes)
		}
		if meta.Source != src {
			return nil, status.Errorf(codes.AlreadyExists, "volume %q exists with content source %s, not %s", req.GetName(), meta.Source, src)
		}
		return volumeResponse(id, meta.CapacityBytes, meta.Source), nil
	}

	switch src.Kind {
	case kindSnapshot:
		fi, err := st.snapshotInfo(src.ID)
		if err != nil {
			return nil, internal("%v", err)
		}
		if fi == nil {
			return nil, status.Errorf(codes.NotFound, "source snapshot %s not found", src.ID)
		}
	case kindVolume:
		ok, err := st.volumeExists(src.ID)
		if err != nil {
			return nil, internal("%v", err)
		}
		if !ok {
			return nil, status.Errorf(codes.NotFound, "source volume %s not found", src.ID)
		}
	}
	meta := volumeMeta{Kind: kindVolume, ID: id, Name: req.GetName(), CapacityBytes: capacity, Source: src, Created: time.Now().UTC()}
	if err := s.d.createVolume(meta); err != nil {
		if errors.Is(err, errCorrupt) {
			return nil, status.Errorf(codes.DataLoss, "restoring snapshot %s: %v", src.ID, err)
		}
		return nil, internal("creating volume %s: %v", id, err)
	}
	return volumeResponse(id, capacity, src), nil
}

// createVolume fills a temporary directory, records the metadata and renames the directory into place, so a volume
// directory is only ever seen complete.
func (d *Driver) createVolume(meta volumeMeta) (err error) {
	st := d.store
	tmp, err := os.MkdirTemp(st.dir, tmpPrefix+meta.ID+"-")
	if err != nil {
		return err
	}
	defer func() {
		if err != nil {
			if rerr := os.RemoveAll(tmp); rerr != nil {
				d.log.Printf("removing %s: %v", tmp, rerr)
			}
		}
	}()
	if err := os.Chmod(tmp, 0o755); err != nil {
		return err
	}
	var stats archiveStats
	switch meta.Source.Kind {
	case kindSnapshot:
		stats, err = restoreSnapshotFile(st.snapshotPath(meta.Source.ID), tmp)
	case kindVolume:
		stats, err = copyTree(st.volumePath(meta.Source.ID), tmp)
	}
	if err != nil {
		return err
	}
	if meta.Source.Kind != "" {
		if len(stats.Skipped) > 0 {
			d.log.Printf("volume %s: skipped %d entries: %s", meta.ID, len(stats.Skipped), strings.Join(firstN(stats.Skipped, 10), ", "))
		}
		if err := syncFS(tmp); err != nil {
			return err
		}
		d.log.Printf("volume %s: %d entries, %d bytes from %s", meta.ID, stats.Entries, stats.Bytes, meta.Source)
	}
	if err := st.writeMeta(meta.ID, meta); err != nil {
		return err
	}
	if err := os.Rename(tmp, st.volumePath(meta.ID)); err != nil {
		return err
	}
	return syncDir(st.dir)
}

func firstN(s []string, n int) []string {
	if len(s) > n {
		return s[:n]
	}
	return s
}

// syncFS flushes the filesystem that holds path.
func syncFS(path string) error {
	f, err := os.Open(path)
	if err != nil {
		return err
	}
	defer f.Close()
	return unix.Syncfs(int(f.Fd()))
}

func (s *controllerServer) DeleteVolume(_ context.Context, req *csi.DeleteVolumeRequest) (*csi.DeleteVolumeResponse, error) {
	id := req.GetVolumeId()
	if id == "" {
		return nil, status.Error(codes.InvalidArgument, "volume id is required")
	}
	if !validID(id) { // cannot name a volume of this driver: already gone
		return &csi.DeleteVolumeResponse{}, nil
	}
	if !s.d.locks.tryLock(id) {
		return nil, aborted(id)
	}
	defer s.d.locks.unlock(id)
	if err := s.d.deleteVolume(id); err != nil {
		return nil, err
	}
	return &csi.DeleteVolumeResponse{}, nil
}

func (d *Driver) deleteVolume(id string) error {
	st := d.store
	exists, err := st.volumeExists(id)
	if err != nil {
		return internal("%v", err)
	}
	gone := filepath.Join(st.dir, deletingPrefix+id)
	if exists {
		mounts, err := mountsOfVolume(id)
		if err != nil {
			return internal("reading mounts: %v", err)
		}
		if len(mounts) > 0 {
			return status.Errorf(codes.FailedPrecondition, "volume %s is still mounted at %s", id, mounts[0].MountPoint)
		}
		if err := os.RemoveAll(gone); err != nil {
			return internal("%v", err)
		}
		if err := os.Rename(st.volumePath(id), gone); err != nil {
			return internal("%v", err)
		}
	}
	if err := st.removeMeta(id); err != nil {
		return internal("%v", err)
	}
	if exists {
		if err := os.RemoveAll(gone); err != nil {
			return internal("removing %s: %v", gone, err)
		}
		if err := syncDir(st.dir); err != nil {
			return internal("%v", err)
		}
	}
	return nil
}

func (s *controllerServer) ValidateVolumeCapabilities(_ context.Context, req *csi.ValidateVolumeCapabilitiesRequest) (*csi.ValidateVolumeCapabilitiesResponse, error) {
	if req.GetVolumeId() == "" {
		return nil, status.Error(codes.InvalidArgument, "volume id is required")
	}
	if len(req.GetVolumeCapabilities()) == 0 {
		return nil, status.Error(codes.InvalidArgument, "volume capabilities are required")
	}
	ok, err := s.d.store.volumeExists(req.GetVolumeId())
	if err != nil {
		return nil, internal("%v", err)
	}
	if !ok {
		return nil, status.Errorf(codes.NotFound, "volume %s not found", req.GetVolumeId())
	}
	if p := capabilitiesProblem(req.GetVolumeCapabilities()); p != "" {
		return &csi.ValidateVolumeCapabilitiesResponse{Message: p}, nil
	}
	return &csi.ValidateVolumeCapabilitiesResponse{Confirmed: &csi.ValidateVolumeCapabilitiesResponse_Confirmed{
		VolumeContext:      req.GetVolumeContext(),
		VolumeCapabilities: req.GetVolumeCapabilities(),
		Parameters:         req.GetParameters(),
	}}, nil
}

// snapshotProto describes an existing snapshot; it returns nil when there is none with this ID.
func (d *Driver) snapshotProto(id string) (*csi.Snapshot, error) {
	fi, err := d.store.snapshotInfo(id)
	if err != nil || fi == nil {
		return nil, err
	}
	meta, err := d.store.readSnapshotMeta(id)
	if err != nil {
		d.log.Printf("snapshot %s: unreadable metadata: %v", id, err)
	}
	snap := &csi.Snapshot{SnapshotId: id, SizeBytes: fi.Size(), ReadyToUse: true, CreationTime: timestamppb.New(fi.ModTime())}
	if meta != nil {
		snap.SourceVolumeId = meta.SourceVolumeID
		snap.CreationTime = timestamppb.New(meta.Created)
	}
	return snap, nil
}

func (s *controllerServer) CreateSnapshot(_ context.Context, req *csi.CreateSnapshotRequest) (*csi.CreateSnapshotResponse, error) {
	if req.GetName() == "" {
		return nil, status.Error(codes.InvalidArgument, "name is required")
	}
	if req.GetSourceVolumeId() == "" {
		return nil, status.Error(codes.InvalidArgument, "source volume id is required")
	}
	st := s.d.store
	id := snapshotIDFor(req.GetName())
	if !s.d.locks.tryLock(id) {
		return nil, aborted(id)
	}
	defer s.d.locks.unlock(id)

	existing, err := s.d.snapshotProto(id)
	if err != nil {
		return nil, internal("%v", err)
	}
	if existing != nil {
		if existing.GetSourceVolumeId() != "" && existing.GetSourceVolumeId() != req.GetSourceVolumeId() {
			return nil, status.Errorf(codes.AlreadyExists, "snapshot %q exists for source volume %s, not %s", req.GetName(), existing.GetSourceVolumeId(), req.GetSourceVolumeId())
		}
		if existing.SourceVolumeId == "" {
			existing.SourceVolumeId = req.GetSourceVolumeId()
		}
		return &csi.CreateSnapshotResponse{Snapshot: existing}, nil
	}
	ok, err := st.volumeExists(req.GetSourceVolumeId())
	if err != nil {
		return nil, internal("%v", err)
	}
	if !ok {
		return nil, status.Errorf(codes.NotFound, "source volume %s not found", req.GetSourceVolumeId())
	}
	meta := snapshotMeta{Kind: kindSnapshot, ID: id, Name: req.GetName(), SourceVolumeID: req.GetSourceVolumeId(), Created: time.Now().UTC()}
	if err := s.d.createSnapshot(meta); err != nil {
		return nil, internal("creating snapshot %s: %v", id, err)
	}
	snap, err := s.d.snapshotProto(id)
	if err != nil || snap == nil {
		return nil, internal("snapshot %s vanished after creation: %v", id, err)
	}
	return &csi.CreateSnapshotResponse{Snapshot: snap}, nil
}

// createSnapshot writes <id>.snap through a temporary file (fsynced), then the metadata, then renames it into place.
func (d *Driver) createSnapshot(meta snapshotMeta) (err error) {
	st := d.store
	f, err := os.CreateTemp(st.dir, tmpPrefix+meta.ID+"-*"+snapSuffix)
	if err != nil {
		return err
	}
	tmp := f.Name()
	defer func() {
		if err != nil {
			f.Close()
			os.Remove(tmp)
		}
	}()
	stats, err := writeSnapshotFile(st.volumePath(meta.SourceVolumeID), f)
	if err != nil {
		return err
	}
	if err := finishFile(f); err != nil {
		return err
	}
	if len(stats.Skipped) > 0 {
		d.log.Printf("snapshot %s: skipped %d entries: %s", meta.ID, len(stats.Skipped), strings.Join(firstN(stats.Skipped, 10), ", "))
	}
	if err := st.writeMeta(meta.ID, meta); err != nil {
		return err
	}
	if err := os.Rename(tmp, st.snapshotPath(meta.ID)); err != nil {
		return err
	}
	d.log.Printf("snapshot %s of volume %s: %d entries, %d bytes", meta.ID, meta.SourceVolumeID, stats.Entries, stats.Bytes)
	return syncDir(st.dir)
}

func (s *controllerServer) DeleteSnapshot(_ context.Context, req *csi.DeleteSnapshotRequest) (*csi.DeleteSnapshotResponse, error) {
	id := req.GetSnapshotId()
	if id == "" {
		return nil, status.Error(codes.InvalidArgument, "snapshot id is required")
	}
	if !validID(id) {
		return &csi.DeleteSnapshotResponse{}, nil
	}
	if !s.d.locks.tryLock(id) {
		return nil, aborted(id)
	}
	defer s.d.locks.unlock(id)
	st := s.d.store
	if err := os.Remove(st.snapshotPath(id)); err != nil && !errors.Is(err, fs.ErrNotExist) {
		return nil, internal("%v", err)
	}
	if err := st.removeMeta(id); err != nil {
		return nil, internal("%v", err)
	}
	if err := syncDir(st.dir); err != nil {
		return nil, internal("%v", err)
	}
	return &csi.DeleteSnapshotResponse{}, nil
}

// ListSnapshots lists by snapshot ID, by source volume or all, in ID order. A page's next_token is the last ID it
// holds; the next page starts after it (so a token stays valid when that snapshot is deleted).
func (s *controllerServer) ListSnapshots(_ context.Context, req *csi.ListSnapshotsRequest) (*csi.ListSnapshotsResponse, error) {
	if req.GetMaxEntries() < 0 {
		return nil, status.Error(codes.InvalidArgument, "max_entries must not be negative")
	}
	token := req.GetStartingToken()
	if token != "" && !validID(token) {
		return nil, status.Errorf(codes.Aborted, "invalid starting_token %q", token)
	}
	var ids []string
	if req.GetSnapshotId() != "" {
		ids = []string{req.GetSnapshotId()}
	} else {
		var err error
		if ids, err = s.d.store.listSnapshotIDs(); err != nil {
			return nil, internal("%v", err)
		}
	}
	if token != "" {
		i := sort.SearchStrings(ids, token)
		if i < len(ids) && ids[i] == token {
			i++
		}
		ids = ids[i:]
	}
	resp := &csi.ListSnapshotsResponse{}
	for _, id := range ids {
		snap, err := s.d.snapshotProto(id)
		if err != nil {
			return nil, internal("%v", err)
		}
		if snap == nil { // deleted meanwhile, or an unknown ID asked for
			continue
		}
		if req.GetSourceVolumeId() != "" && snap.GetSourceVolumeId() != req.GetSourceVolumeId() {
			continue
		}
		if req.GetMaxEntries() > 0 && len(resp.Entries) == int(req.GetMaxEntries()) {
			resp.NextToken = resp.Entries[len(resp.Entries)-1].GetSnapshot().GetSnapshotId()
			break
		}
		resp.Entries = append(resp.Entries, &csi.ListSnapshotsResponse_Entry{Snapshot: snap})
	}
	return resp, nil
}
