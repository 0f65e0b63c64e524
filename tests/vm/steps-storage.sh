# SPDX-License-Identifier: Apache-2.0
# shellcheck shell=bash disable=SC2034,SC2054 # variables used by vm-test.sh; QEMU option commas
# Sourced by tests/vm/vm-test.sh: the storage drivers scsi, 9p and nvdimm and the
# scsi device type in the real VM. storage_boot_args prepares the host side before
# QEMU starts (the 9p export, the disk images) and adds these devices to the QEMU command line:
#   both:    virtio-scsi (-pci on q35, -device on microvm) with SCSI disk 2:1 from boot, and
#            virtio-9p exporting a host directory
#   q35:     an NVDIMM (-M nvdimm=on, memory slots) backed by a pfn info block + ext4 image;
#            step_storage_scsi hot-plugs SCSI disk 1:0 through QMP
# Each step runs a busybox container on its storage that writes and reads a file; where the
# host can, it checks the file from its side once the container (and so the storage) is gone.
#            step_storage_virtiofs runs a container from the pod's virtio-fs share (kataShared),
#            as the runtime lays it out; CreateSandbox mounts the share (step_create_sandbox)

STORAGE_DIR=/run/kata-containers/sandbox/storage
P9_TAG=kata9p
STORAGE_QEMU_ARGS=()
STORAGE_MACHINE_OPTS=
STORAGE_MEM_OPTS=
# virtio-fs: Debian's QEMU ships the C virtiofsd; the guest's memory must be a shared memfd.
VIRTIOFSD=${VIRTIOFSD:-/usr/lib/qemu/virtiofsd}
VFS_DIR= # the host side of the share, once virtiofsd runs
VFS_PID=
SHARED_DIR=/run/kata-containers/shared/containers
# Every container's rootfs comes from the share, where the runtime puts it: a busybox tree
# the host lays out in virtiofs_share_init.
CTR_ROOTFS=$SHARED_DIR/busybox/rootfs
NVDIMM_SIZE=64M

# A 4 KiB-block ext4 (DAX needs the block size to be the page size) with no journal.
make_ext4() {
	truncate -s "$2" "$1" && mkfs.ext4 -q -F -b 4096 -O ^has_journal "$1" >/dev/null 2>&1
}

# The NVDIMM's backing file: a pfn info block (the kernel's struct nd_pfn_sb, drivers/nvdimm/
# pfn.h: version 1.2, mode PMEM, i.e. the struct pages kept in the first 2 MiB), then ext4.
# Without it the namespace is raw and has no DAX ("DAX unsupported by block device").
PMEM_DATAOFF_MB=2
make_pmem_image() {
	make_ext4 "$1.fs" $((${NVDIMM_SIZE%M} - PMEM_DATAOFF_MB))M || return 1
	python3 - "$1" $PMEM_DATAOFF_MB "${NVDIMM_SIZE%M}" <<'PY' || return 1
import struct, sys, uuid
path, off_mb, size_mb = sys.argv[1], int(sys.argv[2]), int(sys.argv[3])
MiB, PAGE = 1 << 20, 4096
dataoff = off_mb * MiB
npfns = (size_mb * MiB - dataoff) // PAGE
sb = bytearray(PAGE)
struct.pack_into("<16s16s16sIHHQQIIII", sb, 0, b"NVDIMM_PFN_INFO\0", uuid.uuid4().bytes,
                 bytes(16), 0, 1, 2, dataoff, npfns, 2, 0, 0, 2 * MiB)
lo = hi = 0  # the kernel's nd_fletcher64 over little-endian u32 words, checksum field 0
for (w,) in struct.iter_unpack("<I", sb):
    lo = (lo + w) & 0xFFFFFFFF
    hi = (hi + lo) & 0xFFFFFFFF
struct.pack_into("<Q", sb, PAGE - 8, hi << 32 | lo)
with open(path, "wb") as f:
    f.write(bytes(PAGE) + sb + bytes(dataoff - 2 * PAGE))
PY
	cat "$1.fs" >>"$1" && rm -f "$1.fs"
}

storage_boot_args() {
	mkdir -p "$W/9p" && echo from-the-host >"$W/9p/in" || fail "cannot make $W/9p" || return 1
	local p9_dev=virtio-9p-device scsi_dev=virtio-scsi-device,id=scsi0
	if [ "$MACHINE" = q35 ]; then
		p9_dev=virtio-9p-pci,bus=pcie.0,addr=0x8
		scsi_dev=virtio-scsi-pci,id=scsi0,bus=pcie.0,addr=0x7
		make_pmem_image "$W/pmem.img" || fail "cannot make the NVDIMM image" || return 1
		STORAGE_MACHINE_OPTS=,nvdimm=on
		STORAGE_MEM_OPTS=,slots=2,maxmem=2G
		STORAGE_QEMU_ARGS+=(-object "memory-backend-file,id=nv1,share=on,mem-path=$W/pmem.img,size=$NVDIMM_SIZE"
			-device nvdimm,memdev=nv1,id=nvd1)
	fi
	virtiofs_boot_args || return 1
	STORAGE_QEMU_ARGS+=(-fsdev "local,id=fs9,path=$W/9p,security_model=none"
		-device "$p9_dev,fsdev=fs9,mount_tag=$P9_TAG")
	# The SCSI controller, with disk 2:1 there from boot (its uevent predates the agent).
	make_ext4 "$W/scsi-boot.img" 16M || fail "cannot make the SCSI disk image" || return 1
	STORAGE_QEMU_ARGS+=(-device "$scsi_dev"
		-blockdev "driver=raw,node-name=s2,file.driver=file,file.filename=$W/scsi-boot.img"
		-device scsi-hd,drive=s2,id=sdisk2,bus=scsi0.0,channel=0,scsi-id=2,lun=1)
}

# A container whose /data is the storage mounted at $STORAGE_DIR/$1, running `sh -c $2`
# ($2 goes into a JSON string as it is). With $3, its linux.devices array, and no /data.
write_storage_spec() {
	local data=',
             {"destination": "/data", "type": "bind", "source": "'$STORAGE_DIR/$1'", "options": ["rbind"]}'
	[ -z "${3:-}" ] || data=
	cat >"$W/config-$1.json" <<JSON
{
  "ociVersion": "1.0.2",
  "process": {
    "user": {"uid": 0, "gid": 0},
    "args": ["sh", "-c", "$2"],
    "env": ["PATH=/bin"], "cwd": "/",
    "capabilities": {"bounding": ["CAP_CHOWN"], "effective": ["CAP_CHOWN"], "permitted": ["CAP_CHOWN"]}
  },
  "root": {"path": "$CTR_ROOTFS"},
  "mounts": [{"destination": "/proc", "type": "proc", "source": "proc"}$data],
  "linux": {"cgroupsPath": "/vm-test/$1", "devices": ${3:-[]},
            "namespaces": [{"type": "pid"}, {"type": "mount"}, {"type": "ipc"}, {"type": "uts"}]}
}
JSON
}

# Starts the created container $1, checks that its output has the line $2 and that it exits
# 0, removes it (which releases, so unmounts, its storage). Its output stays in $RUN_OUT.
RUN_OUT=
run_storage_container() {
	ctl_show 20 start-container "$1" || return 1
	ctl_show 20 read-stdout "$1" "$1" --all || return 1
	RUN_OUT=$OUT
	ctl_show 20 wait "$1" || return 1
	[ "$OUT" = 0 ] || fail "container $1 exited with $OUT" || return 1
	grep -qx "$2" <<<"$RUN_OUT" || fail "no '$2' in the container's output" || return 1
	ctl_show 20 remove-container "$1"
}

# A file of an ext4 image, read on the host (the guest has unmounted it).
image_cat() {
	debugfs -R "cat /$2" "$1" 2>/dev/null
}

# scsi: CreateContainer waits for SCSI disk 1:0 that QMP hot-plugs into the virtio-scsi
# controller meanwhile (the agent also asks every SCSI host to scan for it).
step_storage_scsi() {
	[ "$MACHINE" = q35 ] || {
		skip "microvm runs without QMP (VM_MACHINE=q35 runs it)"
		return
	}
	make_ext4 "$W/scsi.img" 64M || fail "cannot make the disk image" || return 1
	write_storage_spec sc 'echo on-the-scsi-disk > /data/f && cat /data/f && echo scsi-ok'
	local storage='{"driver":"scsi","source":"1:0","fstype":"ext4","mount_point":"'$STORAGE_DIR'/sc"}'
	echo "  \$ kata-agent-ctl create-container --id sc --spec ... --storage '$storage' &"
	ctl 60 create-container --id sc --spec "$W/config-sc.json" --storage "$storage" \
		>"$W/sc.create" 2>&1 &
	local pid=$!
	sleep 1
	kill -0 $pid 2>/dev/null || fail "CreateContainer did not wait: $(cat "$W/sc.create")" || return 1
	echo "  QMP: blockdev-add + device_add scsi-hd on scsi0.0, scsi-id 1, lun 0"
	qmp '{"execute":"blockdev-add","arguments":{"driver":"raw","node-name":"s1","file":{"driver":"file","filename":"'"$W/scsi.img"'"}}}' \
		'{"execute":"device_add","arguments":{"driver":"scsi-hd","drive":"s1","id":"sdisk1","bus":"scsi0.0","channel":0,"scsi-id":1,"lun":0}}' \
		>"$W/qmp-scsi.out" 2>&1
	grep -q '"error"' "$W/qmp-scsi.out" && { cat "$W/qmp-scsi.out"; fail "QMP refused the plug"; return 1; }
	wait $pid || fail "CreateContainer failed: $(cat "$W/sc.create")" || return 1
	run_storage_container sc scsi-ok || return 1
	grep -qx on-the-scsi-disk <<<"$RUN_OUT" || fail "no read back on the SCSI disk" || return 1
	[ "$(image_cat "$W/scsi.img" f)" = on-the-scsi-disk ] ||
		fail "the host does not find the file in the SCSI disk image" || return 1
	echo "  the host reads 'on-the-scsi-disk' from the disk image"
}

# The scsi device type on disk 2:1, present since boot: the container gets it as
# /dev/xdisk (the agent fills in its major:minor and allows it in the device cgroup) and reads
# the ext4 magic (0xEF53 at byte 1080) from it.
step_device_scsi() {
	write_storage_spec ds 'dd if=/dev/xdisk bs=1 skip=1080 count=2 2>/dev/null | od -An -tx1 | tr -d \" \" && echo dev-ok' \
		'[{"path": "/dev/xdisk", "type": "b", "major": 0, "minor": 0, "fileMode": 432, "uid": 0, "gid": 0}]'
	local device='{"type":"scsi","id":"2:1","container_path":"/dev/xdisk"}'
	ctl_show 30 create-container --id ds --spec "$W/config-ds.json" --device "$device" ||
		return 1
	run_storage_container ds dev-ok || return 1
	grep -qx 53ef <<<"$RUN_OUT" || fail "no ext4 magic read from /dev/xdisk" || return 1
}

# scsi on disk 2:1, present since boot: no uevent to wait for, the agent finds it in sysfs.
step_storage_scsi_boot() {
	write_storage_spec sb 'echo on-the-boot-disk > /data/f && cat /data/f && echo scsi-ok'
	local storage='{"driver":"scsi","source":"2:1","fstype":"ext4","mount_point":"'$STORAGE_DIR'/sb"}'
	ctl_show 30 create-container --id sb --spec "$W/config-sb.json" --storage "$storage" ||
		return 1
	run_storage_container sb scsi-ok || return 1
	grep -qx on-the-boot-disk <<<"$RUN_OUT" || fail "no read back on the SCSI disk" || return 1
}

# 9p: still supported here (older runtimes send it), although upstream dropped it.
step_storage_9p() {
	write_storage_spec p9 'cat /data/in && echo from-the-guest > /data/out && echo p9-ok'
	local storage='{"driver":"9p","source":"'$P9_TAG'","fstype":"9p","options":["trans=virtio","version=9p2000.L","msize=262144","cache=mmap"],"mount_point":"'$STORAGE_DIR'/p9"}'
	rm -f "$W/9p/out"
	ctl_show 30 create-container --id p9 --spec "$W/config-p9.json" --storage "$storage" ||
		return 1
	run_storage_container p9 p9-ok || return 1
	grep -qx from-the-host <<<"$RUN_OUT" || fail "the container did not read the host's file" ||
		return 1
	[ "$(cat "$W/9p/out" 2>/dev/null)" = from-the-guest ] ||
		fail "the host does not find the container's file in $W/9p" || return 1
	echo "  the host reads 'from-the-guest' from $W/9p/out"
}

# nvdimm: /dev/pmem0 (present since boot) mounted with the runtime's `dax`, as Kata's guest
# images: the NVDIMM's file starts with a 2 MiB pfn info area (made by make_pmem_image) that
# gives the namespace the struct pages DAX needs, the ext4 filesystem follows it. The container
# checks its /data is a DAX mount.
step_storage_nvdimm() {
	[ "$MACHINE" = q35 ] || {
		skip "microvm has no NVDIMM (ACPI NFIT)"
		return
	}
	write_storage_spec nd 'echo on-the-nvdimm > /data/f && cat /data/f && grep -E \" /data ext4 .*dax\" /proc/self/mounts && echo nvdimm-ok'
	local storage='{"driver":"nvdimm","source":"/dev/pmem0","fstype":"ext4","options":["dax"],"mount_point":"'$STORAGE_DIR'/nd"}'
	ctl_show 30 create-container --id nd --spec "$W/config-nd.json" --storage "$storage" ||
		return 1
	run_storage_container nd nvdimm-ok || return 1
	grep -qx on-the-nvdimm <<<"$RUN_OUT" || fail "no read back on the NVDIMM" || return 1
	dd if="$W/pmem.img" of="$W/pmem-fs.img" bs=1M skip=$PMEM_DATAOFF_MB status=none &&
		[ "$(image_cat "$W/pmem-fs.img" f)" = on-the-nvdimm ] ||
		fail "the host does not find the file in the NVDIMM's image" || return 1
	echo "  the host reads 'on-the-nvdimm' from the NVDIMM's backing file"
}

# The share as the runtime fills it for container vfs1: its rootfs (busybox), the files it
# binds over /etc (hostname, hosts, resolv.conf) and a volume directory.
virtiofs_share_init() {
	local d=$VFS_DIR b a
	b=$(command -v busybox) || fail "no busybox on the host (make deps installs busybox-static)" || return 1
	mkdir -p "$d/busybox/rootfs"/{bin,proc,sys,dev,tmp,etc} || return 1
	chmod 1777 "$d/busybox/rootfs/tmp"
	cp "$b" "$d/busybox/rootfs/bin/busybox" || return 1
	for a in $("$b" --list); do
		[ -e "$d/busybox/rootfs/bin/$a" ] || ln -s busybox "$d/busybox/rootfs/bin/$a"
	done
	mkdir -p "$d/vfs1/rootfs"/{bin,proc,sys,dev,tmp,etc} "$d/vfs1-vol" || return 1
	cp "$b" "$d/vfs1/rootfs/bin/busybox" || return 1
	for a in sh cat echo sleep test; do ln -s busybox "$d/vfs1/rootfs/bin/$a"; done
	echo vfs-pod >"$d/vfs1-hostname"
	printf '127.0.0.1 localhost\n10.9.8.7 from-the-share\n' >"$d/vfs1-hosts"
	echo 'nameserver 10.9.8.1' >"$d/vfs1-resolv.conf"
}

# virtiofsd serves $W/share as tag kataShared; QEMU gets a shared memfd memory backend.
virtiofs_boot_args() {
	[ -x "$VIRTIOFSD" ] ||
		fail "no virtiofsd at $VIRTIOFSD (package qemu-system-common): the containers' rootfs comes from the virtio-fs share" ||
		return 1
	VFS_DIR=$W/share
	virtiofs_share_init || fail "cannot lay out the share" || return 1
	"$VIRTIOFSD" --socket-path="$W/vfs.sock" -o source="$VFS_DIR" -o cache=auto \
		>"$W/virtiofsd.log" 2>&1 &
	VFS_PID=$!
	local i
	for i in $(seq 100); do
		[ -S "$W/vfs.sock" ] && break
		sleep 0.05
	done
	[ -S "$W/vfs.sock" ] || fail "virtiofsd did not start: $(cat "$W/virtiofsd.log")" || return 1
	local dev=vhost-user-fs-device
	[ "$MACHINE" = q35 ] && dev=vhost-user-fs-pci,bus=pcie.0,addr=0xa
	STORAGE_MACHINE_OPTS+=,memory-backend=vmem
	STORAGE_QEMU_ARGS+=(-object "memory-backend-memfd,id=vmem,size=${VM_MEM:-512M},share=on"
		-chardev "socket,id=vfs,path=$W/vfs.sock" -device "$dev,chardev=vfs,tag=kataShared")
}

# The storage the runtime sends in CreateSandbox for the shared directory.
virtiofs_sandbox_storage() {
	echo '{"driver":"virtio-fs","source":"kataShared","fstype":"virtiofs","mount_point":"'$SHARED_DIR'","options":[]}'
}

# A container as the runtime makes it from the share: rootfs and /etc files from it, a
# volume the host writes into while the container runs, a file the container writes back.
write_virtiofs_spec() {
	cat >"$W/config-$1.json" <<JSON
{
  "ociVersion": "1.0.2",
  "process": {
    "user": {"uid": 0, "gid": 0}, "env": ["PATH=/bin"], "cwd": "/",
    "args": ["sh", "-c", "$2"],
    "capabilities": {"bounding": [], "effective": [], "permitted": []}
  },
  "root": {"path": "$SHARED_DIR/vfs1/rootfs"},
  "mounts": [{"destination": "/proc", "type": "proc", "source": "proc"},
             {"destination": "/etc/hostname", "type": "bind", "source": "$SHARED_DIR/vfs1-hostname", "options": ["rbind", "ro"]},
             {"destination": "/etc/hosts", "type": "bind", "source": "$SHARED_DIR/vfs1-hosts", "options": ["rbind", "ro"]},
             {"destination": "/etc/resolv.conf", "type": "bind", "source": "$SHARED_DIR/vfs1-resolv.conf", "options": ["rbind", "ro"]},
             {"destination": "/vol", "type": "bind", "source": "$SHARED_DIR/vfs1-vol", "options": ["rbind"]}],
  "linux": {"cgroupsPath": "/vm-test/$1", "namespaces": [{"type": "pid"}, {"type": "mount"}]}
}
JSON
}

step_storage_virtiofs() {
	# shellcheck disable=SC2016 # expanded by the container's shell
	write_virtiofs_spec vfs1 'cat /etc/hostname /etc/hosts /etc/resolv.conf; echo waiting; i=0; while [ ! -f /vol/late ] \u0026\u0026 [ $i -lt 300 ]; do sleep 0.1; i=$((i+1)); done; cat /vol/late; echo from-the-guest >/vol/back'
	ctl_show 30 create-container --id vfs1 --spec "$W/config-vfs1.json" || return 1
	ctl_show 20 start-container vfs1 || return 1
	local deadline=$(($(now_ms) + 30000)) out=
	while [ "$(now_ms)" -lt "$deadline" ] && ! grep -q '^waiting$' <<<"$out"; do
		out+=$(ctl 20 read-stdout vfs1 vfs1 65536 2>&1)$'\n' || break
	done
	grep -q '^waiting$' <<<"$out" || fail "the container did not start from the share: $out" || return 1
	echo "  the container runs from $SHARED_DIR/vfs1/rootfs; the host now writes vfs1-vol/late"
	echo late-from-the-host >"$VFS_DIR/vfs1-vol/late"
	ctl_show 20 read-stdout vfs1 vfs1 --all || return 1
	out+=$OUT
	sed 's/^/    /' <<<"$out" | head -n 3
	ctl_show 20 wait vfs1 || return 1
	[ "$OUT" = 0 ] || fail "container vfs1 exited with $OUT" || return 1
	local want
	for want in vfs-pod '10.9.8.7 from-the-share' 'nameserver 10.9.8.1' late-from-the-host; do
		grep -qx "$want" <<<"$out" || fail "no '$want' in the container's output" || return 1
	done
	[ "$(cat "$VFS_DIR/vfs1-vol/back" 2>/dev/null)" = from-the-guest ] ||
		fail "the host does not see the file the container wrote" || return 1
	echo "  /etc files and the volume came from the share; the host read the container's file"
	ctl_show 20 remove-container vfs1 || return 1
	ctl_show 20 call RemoveStaleVirtiofsShareMounts '{}' || return 1
	# The share outlives the container: a second one starts from the same rootfs.
	write_virtiofs_spec vfs2 'cat /etc/hostname'
	ctl_show 30 create-container --id vfs2 --spec "$W/config-vfs2.json" || return 1
	run_storage_container vfs2 vfs-pod || return 1
	echo "  the share is still mounted after the removal and RemoveStaleVirtiofsShareMounts"
}
