# SPDX-License-Identifier: Apache-2.0
# shellcheck shell=bash disable=SC2034,SC2054 # variables used by vm-test.sh; QEMU option commas
# Sourced by tests/vm/vm-test.sh: what CreateSandbox and the guest calls wait for or load.
#   both:  kernel_modules (step_create_sandbox asks for dummy with numdummies=3; the image
#          carries dummy.ko without loading it at boot) checked from the container
#   q35:   CreateSandbox waits for a blk storage that QMP hot-plugs meanwhile (root port
#          1a, PCI path 1a/00), AddSwap waits for its swap disk (root port 1b, 1b/00), and
#          UpdateInterface waits for a virtio-net NIC by its devicePath (root port 1c, 1c/00),
#          a blank disk with create_filesystem gets mkfs.ext4 in the guest (root port 1d), and
#          ResizeVolume grows the sandbox disk's ext4 online after QMP block_resize grew the disk
# sandbox_boot_args adds the root ports.

SANDBOX_QEMU_ARGS=()
SB_DISK_DIR=/run/kata-containers/sandbox/storage/sbdisk

sandbox_boot_args() {
	[ "$MACHINE" = q35 ] || return 0
	SANDBOX_QEMU_ARGS+=(-device pcie-root-port,id=rpsb,bus=pcie.0,addr=0x1a,chassis=26
		-device pcie-root-port,id=rpswap,bus=pcie.0,addr=0x1b,chassis=27
		-device pcie-root-port,id=rpnic,bus=pcie.0,addr=0x1c,chassis=28
		-device pcie-root-port,id=rpblank,bus=pcie.0,addr=0x1d,chassis=29)
}

# Runs `sh -c $1` in the long-lived container; its output in $OUT, its status checked.
EXEC_N=0
exec_in_c1() {
	local eid=probe$((++EXEC_N)) got
	ctl_show 20 exec "$CID" "$eid" -- sh -c "$1" || return 1
	ctl_show 20 read-stdout "$CID" "$eid" --all || return 1
	got=$OUT
	ctl_show 20 wait "$CID" "$eid" || return 1
	[ "$OUT" = 0 ] || fail "exec exit status $OUT, expected 0" || return 1
	OUT=$got
}

# kernel_modules: dummy was loaded with its parameter (3 interfaces, the default is 1).
step_kernel_module() {
	exec_in_c1 'grep -o "dummy[0-9]*" /proc/net/dev' || return 1
	grep -qx dummy2 <<<"$OUT" || fail "no dummy2: the module or its parameter was not loaded" || return 1
	echo "  dummy0..dummy2 exist: dummy.ko loaded by name with numdummies=3"
}

# QMP: a raw disk image plugged into root port $2 as virtio-blk ($1 names it).
plug_disk() {
	qmp '{"execute":"blockdev-add","arguments":{"driver":"raw","node-name":"'"$1"'","file":{"driver":"file","filename":"'"$3"'"}}}' \
		'{"execute":"device_add","arguments":{"driver":"virtio-blk-pci","drive":"'"$1"'","id":"'"$1"'dev","bus":"'"$2"'"}}' \
		>"$W/qmp-$1.out" 2>&1
	! grep -q '"error"' "$W/qmp-$1.out" || {
		cat "$W/qmp-$1.out"
		fail "QMP refused the plug"
	}
}

# A second CreateSandbox whose storage's disk comes while it waits; a container reads it.
step_sandbox_hotplug() {
	[ "$MACHINE" = q35 ] || {
		skip "microvm has no PCI hot-plug (VM_MACHINE=q35 runs it)"
		return
	}
	mkdir -p "$W/sbdisk" && echo from-the-sandbox-disk >"$W/sbdisk/f" &&
		truncate -s 32M "$W/sbdisk.img" &&
		mkfs.ext4 -q -F -d "$W/sbdisk" "$W/sbdisk.img" >/dev/null 2>&1 ||
		fail "cannot make the disk image" || return 1
	local storage='{"driver":"blk","source":"1a/00","fstype":"ext4","mount_point":"'$SB_DISK_DIR'"}'
	echo "  \$ kata-agent-ctl create-sandbox --hostname vm-pod --storage '$storage' &"
	ctl 60 create-sandbox --hostname vm-pod --storage "$storage" >"$W/sb.create" 2>&1 &
	local pid=$!
	sleep 1
	kill -0 $pid 2>/dev/null || fail "CreateSandbox did not wait: $(cat "$W/sb.create")" || return 1
	echo "  QMP: device_add virtio-blk-pci on rpsb (PCI path 1a/00)"
	plug_disk sbd rpsb "$W/sbdisk.img" || return 1
	wait $pid || fail "CreateSandbox failed: $(cat "$W/sb.create")" || return 1
	echo "  CreateSandbox answered once the disk came"
	cat >"$W/config-sbr.json" <<JSON
{
  "ociVersion": "1.0.2",
  "process": {"user": {"uid": 0, "gid": 0}, "args": ["cat", "/data/f"], "env": ["PATH=/bin"], "cwd": "/",
              "capabilities": {"bounding": [], "effective": [], "permitted": []}},
  "root": {"path": "$CTR_ROOTFS"},
  "mounts": [{"destination": "/data", "type": "bind", "source": "$SB_DISK_DIR", "options": ["rbind", "ro"]}],
  "linux": {"cgroupsPath": "/vm-test/sbr", "namespaces": [{"type": "pid"}, {"type": "mount"}]}
}
JSON
	ctl_show 30 create-container --id sbr --spec "$W/config-sbr.json" || return 1
	ctl_show 20 start-container sbr || return 1
	ctl_show 20 read-stdout sbr sbr --all || return 1
	grep -qx from-the-sandbox-disk <<<"$OUT" || fail "the container does not read the sandbox's disk" || return 1
	ctl_show 20 wait sbr || return 1
	ctl_show 20 remove-container sbr
}

# AddSwap waits for its disk, plugged meanwhile; the guest then swaps on it.
step_add_swap() {
	[ "$MACHINE" = q35 ] || {
		skip "microvm has no PCI hot-plug (VM_MACHINE=q35 runs it)"
		return
	}
	truncate -s 16M "$W/swap.img" && mkswap "$W/swap.img" >/dev/null 2>&1 ||
		fail "cannot make the swap image" || return 1
	echo "  \$ kata-agent-ctl call AddSwap '{\"PCIPath\":[27,0]}' &"
	ctl 60 call AddSwap '{"PCIPath":[27,0]}' >"$W/swap.call" 2>&1 &
	local pid=$!
	sleep 1
	kill -0 $pid 2>/dev/null || fail "AddSwap did not wait: $(cat "$W/swap.call")" || return 1
	echo "  QMP: device_add virtio-blk-pci on rpswap (PCI path 1b/00)"
	plug_disk swd rpswap "$W/swap.img" || return 1
	wait $pid || fail "AddSwap failed: $(cat "$W/swap.call")" || return 1
	exec_in_c1 'cat /proc/swaps' || return 1
	grep -Eq '^/dev/vd[a-z]+[[:space:]]+partition[[:space:]]+16380' <<<"$OUT" || fail "no 16 MiB swap partition in /proc/swaps" || return 1
	echo "  the hot-plugged disk is in use as swap"
}

# UpdateInterface waits for the NIC at its devicePath, plugged meanwhile; the guest then has it
# under the asked name, MAC, MTU and address (seen from the container, which shares the netns).
step_nic_hotplug() {
	[ "$MACHINE" = q35 ] || {
		skip "microvm has no PCI hot-plug (VM_MACHINE=q35 runs it)"
		return
	}
	local mac=02:00:ca:fe:00:01
	local req='{"interface":{"name":"pod0","hwAddr":"'$mac'","devicePath":"1c/00","mtu":1400,"IPAddresses":[{"address":"10.77.0.2","mask":"24"}]}}'
	echo "  \$ kata-agent-ctl call UpdateInterface '$req' &"
	ctl 60 call UpdateInterface "$req" >"$W/nic.call" 2>&1 &
	local pid=$!
	sleep 1
	kill -0 $pid 2>/dev/null || fail "UpdateInterface did not wait: $(cat "$W/nic.call")" || return 1
	echo "  QMP: netdev_add user + device_add virtio-net-pci on rpnic (PCI path 1c/00)"
	qmp '{"execute":"netdev_add","arguments":{"type":"user","id":"nn1"}}' \
		'{"execute":"device_add","arguments":{"driver":"virtio-net-pci","netdev":"nn1","id":"nic1","bus":"rpnic","mac":"'$mac'"}}' \
		>"$W/qmp-nic.out" 2>&1
	! grep -q '"error"' "$W/qmp-nic.out" || {
		cat "$W/qmp-nic.out"
		fail "QMP refused the plug"
		return 1
	}
	wait $pid || fail "UpdateInterface failed: $(cat "$W/nic.call")" || return 1
	exec_in_c1 'ip -o addr show dev pod0; ip -o link show dev pod0' || return 1
	grep -q 'inet 10.77.0.2/24' <<<"$OUT" && grep -q 'mtu 1400' <<<"$OUT" && grep -q "$mac" <<<"$OUT" ||
		fail "pod0 is not configured as asked" || return 1
	echo "  pod0 came up with its MAC, MTU 1400 and 10.77.0.2/24"
}

# A blank disk (the runtime's block emptyDir) with create_filesystem: the guest's mkfs.ext4 makes
# it ext4 without a journal, the container writes on it, the host finds the file in the image.
step_create_filesystem() {
	[ "$MACHINE" = q35 ] || {
		skip "microvm has no PCI hot-plug (VM_MACHINE=q35 runs it)"
		return
	}
	truncate -s 64M "$W/blank.img" || fail "cannot make the blank image" || return 1
	plug_disk bld rpblank "$W/blank.img" || return 1
	write_storage_spec empty 'echo on-a-new-filesystem > /data/f && cat /data/f && echo mkfs-ok'
	local storage='{"driver":"blk","source":"1d/00","fstype":"ext4","driver_options":["create_filesystem"],"mount_point":"'$STORAGE_DIR'/empty"}'
	ctl_show 60 create-container --id empty --spec "$W/config-empty.json" --storage "$storage" ||
		return 1
	run_storage_container empty mkfs-ok || return 1
	[ "$(image_cat "$W/blank.img" f)" = on-a-new-filesystem ] ||
		fail "the host does not find the file in the disk image" || return 1
	dumpe2fs -h "$W/blank.img" 2>/dev/null | grep -q '^Filesystem features:.*has_journal' &&
		fail "the filesystem has a journal" && return 1
	echo "  the host reads the file from the image: ext4 without a journal, made in the guest"
}

# The host grows the sandbox's disk (QMP block_resize: virtio-blk tells the guest), then
# ResizeVolume grows its ext4 online; GetVolumeStats sees the new size.
volume_total() {
	ctl_show 20 call GetVolumeStats '{"volume_guest_path":"'$SB_DISK_DIR'"}' || return 1
	VOL_TOTAL=$(grep -o '"total": *"*[0-9]*' <<<"$OUT" | head -1 | grep -o '[0-9]*$')
	[ -n "$VOL_TOTAL" ] || fail "no total in GetVolumeStats"
}
step_resize_volume() {
	[ "$MACHINE" = q35 ] || {
		skip "the sandbox disk is hot-plugged on q35 only"
		return
	}
	volume_total || return 1
	local before=$VOL_TOTAL
	echo "  QMP: block_resize sbd to 64 MiB"
	qmp '{"execute":"block_resize","arguments":{"node-name":"sbd","size":67108864}}' >"$W/qmp-resize.out" 2>&1
	! grep -q '"error"' "$W/qmp-resize.out" || {
		cat "$W/qmp-resize.out"
		fail "QMP refused the resize"
		return 1
	}
	ctl_show 30 call ResizeVolume '{"volume_guest_path":"'$SB_DISK_DIR'","size":"67108864"}' || return 1
	volume_total || return 1
	[ "$VOL_TOTAL" -gt $((before + 24 * 1024 * 1024)) ] ||
		fail "the volume did not grow: $before -> $VOL_TOTAL bytes" || return 1
	echo "  the volume grew online from $before to $VOL_TOTAL bytes"
}
