# SPDX-License-Identifier: Apache-2.0
# shellcheck shell=bash disable=SC2034 # variables used by vm-test.sh
# VFIO steps of tests/vm/vm-test.sh (sourced by it). q35 only: the guest has an emulated
# Intel IOMMU (intel_iommu=on) and a free root port rp3 at 00:09.0 (PCI path 09/00).
#
# vfio_hotplug: CreateContainer with a vfio-pci device "0000:3b:00.0=09/00" (a made-up host
# address) waits while QMP plugs an `edu` device (no guest driver) on rp3; the agent binds it
# to vfio-pci and waits for its IOMMU group's node. The container must see /dev/vfio/<group>
# (the spec's host node /dev/vfio/42 replaced), be allowed to open it through its device
# cgroup (the spec denies all but the default nodes), and see PCIDEVICE_* rewritten to the guest
# address.

VFIO_HOST_BDF=0000:3b:00.0

write_vfio_spec() {
	cat >"$W/config-vf.json" <<JSON
{
  "ociVersion": "1.0.2",
  "process": {
    "user": {"uid": 0, "gid": 0},
    "args": ["sh", "-c", "for d in /sys/bus/pci/drivers/vfio-pci/0000:*; do echo \"bound=\${d##*/}\"; echo \"group=\$(basename \$(readlink \$d/iommu_group))\"; done; ls /dev/vfio | sed 's/^/node=/'; echo \"env=\$PCIDEVICE_EXAMPLE_COM_DEV\"; echo \"info=\$PCIDEVICE_EXAMPLE_COM_DEV_INFO\"; echo \"other=\$PCIDEVICE_OTHER\"; for n in /dev/vfio/*; do [ \"\$n\" = /dev/vfio/vfio ] && continue; exec 3<>\$n && echo open-ok; done"],
    "env": ["PATH=/bin", "PCIDEVICE_EXAMPLE_COM_DEV=$VFIO_HOST_BDF",
            "PCIDEVICE_EXAMPLE_COM_DEV_INFO={\"$VFIO_HOST_BDF\":{\"generic\":{\"deviceID\":\"$VFIO_HOST_BDF\"}}}",
            "PCIDEVICE_OTHER=0000:99:00.0"],
    "cwd": "/",
    "capabilities": {"bounding": ["CAP_CHOWN"], "effective": ["CAP_CHOWN"], "permitted": ["CAP_CHOWN"]}
  },
  "root": {"path": "$CTR_ROOTFS"},
  "mounts": [{"destination": "/proc", "type": "proc", "source": "proc"},
             {"destination": "/sys", "type": "sysfs", "source": "sysfs", "options": ["ro"]}],
  "linux": {"cgroupsPath": "/vm-test/vf",
            "devices": [{"path": "/dev/vfio/42", "type": "c", "major": 511, "minor": 42, "fileMode": 432}],
            "resources": {"devices": [{"allow": false, "access": "rwm"},
                                      {"allow": true, "type": "c", "major": 1, "minor": 3, "access": "rwm"},
                                      {"allow": true, "type": "c", "major": 1, "minor": 5, "access": "rwm"},
                                      {"allow": true, "type": "c", "major": 1, "minor": 7, "access": "rwm"},
                                      {"allow": true, "type": "c", "major": 1, "minor": 8, "access": "rwm"},
                                      {"allow": true, "type": "c", "major": 1, "minor": 9, "access": "rwm"},
                                      {"allow": true, "type": "c", "major": 5, "minor": 0, "access": "rwm"},
                                      {"allow": true, "type": "c", "major": 511, "minor": 42, "access": "rw"}]},
            "namespaces": [{"type": "pid"}, {"type": "mount"}, {"type": "ipc"}, {"type": "uts"}]}
}
JSON
}

step_vfio_hotplug() {
	[ "$MACHINE" = q35 ] || {
		skip "microvm has no PCI (VM_MACHINE=q35 runs it)"
		return
	}
	write_vfio_spec
	local dev='{"id":"vf0","type":"vfio-pci","container_path":"/dev/vfio/42","options":["'$VFIO_HOST_BDF'=09/00"]}'
	echo "  \$ kata-agent-ctl create-container --id vf --spec ... --device '$dev' &"
	ctl 60 create-container --id vf --spec "$W/config-vf.json" --device "$dev" \
		>"$W/vf.create" 2>&1 &
	local pid=$!
	sleep 1
	kill -0 $pid 2>/dev/null || fail "CreateContainer did not wait: $(cat "$W/vf.create")" || return 1
	echo "  QMP: device_add edu on rp3 (PCI path 09/00)"
	qmp '{"execute":"device_add","arguments":{"driver":"edu","id":"vf0","bus":"rp3"}}' \
		>"$W/qmp-vf.out" 2>&1
	grep -q '"error"' "$W/qmp-vf.out" && { cat "$W/qmp-vf.out"; fail "QMP refused the plug"; return 1; }
	wait $pid || fail "CreateContainer failed: $(cat "$W/vf.create")" || return 1
	ctl_show 20 start-container vf || return 1
	ctl_show 20 read-stdout vf vf --all || return 1
	local got=$OUT bdf group
	ctl_show 20 wait vf || return 1
	[ "$OUT" = 0 ] || fail "container exit status $OUT, expected 0" || return 1
	bdf=$(sed -n 's/^bound=//p' <<<"$got" | head -n1)
	group=$(sed -n 's/^group=//p' <<<"$got" | head -n1)
	[ -n "$bdf" ] && [ -n "$group" ] || fail "no device bound to vfio-pci in the guest" || return 1
	echo "  guest: $bdf bound to vfio-pci, IOMMU group $group"
	grep -qx "node=$group" <<<"$got" || fail "the container has no /dev/vfio/$group" || return 1
	grep -qx "node=42" <<<"$got" && { fail "the host node /dev/vfio/42 is still there"; return 1; }
	grep -qx "env=$bdf" <<<"$got" || fail "PCIDEVICE_EXAMPLE_COM_DEV is not $bdf" || return 1
	grep -qF "info={\"$bdf\":{\"generic\":{\"deviceID\":\"$bdf\"}}}" <<<"$got" ||
		fail "PCIDEVICE_EXAMPLE_COM_DEV_INFO is not rewritten" || return 1
	grep -qx "other=0000:99:00.0" <<<"$got" || fail "an unmapped PCIDEVICE_OTHER changed" || return 1
	grep -qx open-ok <<<"$got" || fail "the container may not open /dev/vfio/$group" || return 1
	ctl_show 20 remove-container vf
}
