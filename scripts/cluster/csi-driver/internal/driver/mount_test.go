package driver

import (
	"os"
	"strings"
	"testing"
)

func TestParseMountInfo(t *testing.T) {
	const id = "24ffe1c2-1eb7-8de1-a072-7a49f4a08df5"
	in := strings.Join([]string{
		`22 1 254:0 / / rw,relatime shared:1 - ext4 /dev/vda rw`,
		`36 35 98:0 /mnt1 /mnt2 rw,noatime master:1 - ext3 /dev/root rw,errors=continue`,
		`40 22 254:0 /var/lib/csi-hostpath-data/` + id + ` /var/lib/kubelet/pods/p/volumes/kubernetes.io~csi/pvc-1/mount ro,relatime shared:1 - ext4 /dev/vda rw`,
		`41 22 0:50 / /mnt/with\040space rw - tmpfs tmp\040fs rw`,
		`42 22 0:51 / /mnt/no-optional rw - tmpfs none rw`,
		``,
	}, "\n")
	ms, err := parseMountInfo(strings.NewReader(in))
	if err != nil {
		t.Fatal(err)
	}
	if len(ms) != 5 {
		t.Fatalf("%d entries, want 5", len(ms))
	}
	if ms[1].Root != "/mnt1" || ms[1].MountPoint != "/mnt2" || ms[1].FSType != "ext3" || ms[1].Source != "/dev/root" || ms[1].readOnly() {
		t.Errorf("entry 1: %+v", ms[1])
	}
	if !ms[2].showsVolume(id) || !ms[2].readOnly() || ms[2].MountPoint != "/var/lib/kubelet/pods/p/volumes/kubernetes.io~csi/pvc-1/mount" {
		t.Errorf("entry 2: %+v", ms[2])
	}
	if ms[2].showsVolume(id[1:]) || ms[1].showsVolume(id) {
		t.Error("showsVolume matched a different ID")
	}
	if ms[3].MountPoint != "/mnt/with space" || ms[3].Source != "tmp fs" {
		t.Errorf("escapes: %+v", ms[3])
	}
	if ms[4].MountPoint != "/mnt/no-optional" {
		t.Errorf("entry 4: %+v", ms[4])
	}
	if _, err := parseMountInfo(strings.NewReader("garbage line\n")); err == nil {
		t.Error("malformed line accepted")
	}
	for in, want := range map[string]string{`a\040b`: "a b", `\134`: `\`, `tail\04`: `tail\04`, `x\0zz`: `x\0zz`, `plain`: "plain"} {
		if got := unescapeMountField(in); got != want {
			t.Errorf("unescape(%q) = %q, want %q", in, got, want)
		}
	}
}

func TestReadMountInfoHere(t *testing.T) {
	if _, err := os.Stat("/proc/self/mountinfo"); err != nil {
		t.Skip("no /proc/self/mountinfo")
	}
	ms, err := mountsAt("/")
	if err != nil {
		t.Fatal(err)
	}
	if len(ms) == 0 {
		t.Error("nothing mounted at /")
	}
}
