#!/usr/bin/env bash
# SPDX-License-Identifier: Apache-2.0
# Builds the second guest flavour: a systemd guest image as Kata's osbuilder makes one. A
# minimal Debian 12 root filesystem (mmdebstrap, variant minbase, plus systemd, udev, kmod and
# e2fsprogs) with our agent installed by `make install INIT=no` (kata-agent.service,
# kata-containers.target), the kernel modules of the guest kernel, as a raw ext4 disk image
# (no partition table). systemd is PID 1 and starts the agent.
#
# Debian's kernel has virtio_blk and ext4 as modules, so the image comes with a small
# initramfs of our own (busybox): it loads the virtio transports, virtio_blk and ext4, mounts
# root= (read-only) and switch_roots to its /sbin/init (systemd).
#
# Usage: tools/mkimage.sh [BUILD_DIR]         (default: build; run `make initrd` first: the
#        kernel, its modules and the build tree's agent are taken from there)
# Environment: MKIMAGE_MIRROR (default http://deb.debian.org/debian), MKIMAGE_SUITE (bookworm)
#
# Output in BUILD_DIR/image/:
#   rootfs.img         the raw ext4 image (boot: root=/dev/vda systemd.unit=kata-containers.target)
#   initrd.cpio        the busybox initramfs that mounts it (uncompressed)
#   vmlinux            link to ../guest/vmlinux, the kernel both flavours boot
#   cache/             the mmdebstrap tarball (rebuilt when the package list changes)
set -euo pipefail

# The image's packages beyond minbase: systemd as init (systemd-sysv gives /sbin/init and
# systemctl poweroff), udev for /dev/virtio-ports/ and module autoloading, kmod for
# modprobe, e2fsprogs for the agent's create_filesystem (mkfs.ext4).
PACKAGES=(systemd systemd-sysv udev kmod e2fsprogs)
SUITE=${MKIMAGE_SUITE:-bookworm}
MIRROR=${MKIMAGE_MIRROR:-http://deb.debian.org/debian}
# The initramfs loads what mounting the root needs: virtio transports, virtio_blk, ext4.
ROOT_MODULES=(virtio_mmio virtio_pci virtio_blk ext4)
# Loaded by systemd-modules-load before the agent starts (see below).
PRELOAD_MODULES=(virtio_console vsock vmw_vsock_virtio_transport vsock_loopback vfio_pci
	vfio_iommu_type1)
# Modules the image carries beyond build/guest's set (which it copies): systemd's autofs4.
EXTRA_MODULES=(autofs4)

die() {
	echo "mkimage: $*" >&2
	exit 1
}
log() { echo "mkimage: $*"; }

O=build
while [ $# -gt 0 ]; do
	case $1 in
	-h | --help)
		sed -n '2,23p' "$0" | sed 's/^# \{0,1\}//'
		exit 0
		;;
	-*) die "unknown option $1 (see --help)" ;;
	*) O=$1 ;;
	esac
	shift
done

[ "$(id -u)" = 0 ] || die "must run as root (mmdebstrap's root mode, device nodes)"
for tool in mmdebstrap mkfs.ext4 depmod modprobe cpio make; do
	command -v "$tool" >/dev/null || die "'$tool' is missing: run 'make deps'"
done
busybox=$(command -v busybox || true)
if [ -z "$busybox" ] || ! file -L "$busybox" | grep -q 'statically linked'; then
	die "a static busybox is missing: run 'make deps' (package busybox-static)"
fi
repo=$(cd "$(dirname "$0")/.." && pwd)
guest=$O/guest
for f in vmlinux kernel-version rootfs/lib/modules; do
	[ -e "$guest/$f" ] || die "$guest/$f missing: run 'make initrd' first"
done
[ -x "$O/kata-agent" ] || die "$O/kata-agent missing: run 'make' first"
kver=$(cat "$guest/kernel-version")
out=$O/image
mkdir -p "$out/cache"
out=$(cd "$out" && pwd)
guest=$(cd "$guest" && pwd)
O=$(cd "$O" && pwd)

# --- the Debian root filesystem (cached: mmdebstrap is the slow part) ----------------------
key=$(printf '%s\n' "$SUITE" "$MIRROR" "${PACKAGES[@]}" | sha256sum | cut -c1-12)
tarball=$out/cache/debian-$SUITE-$key.tar
if [ ! -s "$tarball" ]; then
	log "mmdebstrap $SUITE (minbase + ${PACKAGES[*]}) from $MIRROR"
	rm -rf "$out"/cache/debian-*.tar "$tarball.tmp"
	t0=$(date +%s)
	# No documentation, manual pages or translations: the guest runs one program.
	if ! mmdebstrap --variant=minbase --format=tar --include="$(
		IFS=,
		echo "${PACKAGES[*]}"
	)" \
		--dpkgopt='path-exclude=/usr/share/man/*' \
		--dpkgopt='path-exclude=/usr/share/doc/*' \
		--dpkgopt='path-include=/usr/share/doc/*/copyright' \
		--dpkgopt='path-exclude=/usr/share/locale/*' \
		--dpkgopt='path-exclude=/usr/share/info/*' \
		--aptopt='Acquire::Retries "3"' \
		"$SUITE" "$tarball.tmp" "$MIRROR" >"$out/cache/mmdebstrap.log" 2>&1; then
		tail -n 30 "$out/cache/mmdebstrap.log" >&2
		rm -rf "$tarball.tmp"
		die "mmdebstrap failed (mirror reachable? see $out/cache/mmdebstrap.log)"
	fi
	mv "$tarball.tmp" "$tarball"
	log "mmdebstrap took $(($(date +%s) - t0)) s"
fi

root=$out/rootfs
rm -rf "$root"
mkdir -p "$root"
tar -C "$root" -xf "$tarball"

# --- the agent, as osbuilder installs it for a systemd image -------------------------------
make -s -C "$repo" O="$O" install DESTDIR="$root" INIT=no >/dev/null
# Debian ships tmp.mount (required by kata-containers.target) only as an example; osbuilder
# copies it into place for such distributions.
if [ ! -e "$root/lib/systemd/system/tmp.mount" ] && [ -e "$root/usr/share/systemd/tmp.mount" ]; then
	cp "$root/usr/share/systemd/tmp.mount" "$root/etc/systemd/system/tmp.mount"
fi

# --- the kernel's modules: the subset build/guest carries, loaded by systemd-modules-load ---
rm -rf "$root/lib/modules/$kver"
mkdir -p "$root/lib/modules"
cp -a "$guest/rootfs/lib/modules/$kver" "$root/lib/modules/$kver"
# systemd mounts its automount points with autofs4: from the kernel package too.
modtree=
for d in "$guest"/cache/linux-image-*/{,usr/}lib/modules/"$kver"; do
	[ -d "$d" ] && modtree=$d && break
done
[ -n "$modtree" ] || die "the kernel package's modules are not in $guest/cache: run 'make initrd'"
for m in "${EXTRA_MODULES[@]}"; do
	deps=$(modprobe -d "${modtree%/lib/modules/*}" -S "$kver" --show-depends "$m" 2>&1) ||
		die "module $m not in the kernel package: $deps"
	while read -r verb path _; do
		[ "$verb" = insmod ] || continue
		rel=${path#"$modtree/"}
		install -D -m 0644 "$path" "$root/lib/modules/$kver/$rel"
	done <<<"$deps"
done
depmod -b "$root" "$kver"
# Loaded before the agent starts (systemd-modules-load, which basic.target waits for): its API
# transport and what nothing loads on demand (vsock's loopback, VFIO). The rest of build/guest's
# drivers come on demand, off the agent's path: udev loads device drivers by modalias (block,
# net, SCSI, virtio-9p, virtio-fs, NVDIMM) and the kernel runs modprobe for a filesystem
# type on its first mount (ext4, overlay, 9p, virtiofs, fuse).
mkdir -p "$root/etc/modules-load.d"
{
	echo "# The agent's transport and the drivers nothing loads on demand (tools/mkimage.sh)."
	printf '%s\n' "${PRELOAD_MODULES[@]}"
} >"$root/etc/modules-load.d/kata-agent.conf"

# --- a guest that runs one service from a read-only root -----------------------------------
echo kata-guest >"$root/etc/hostname"
: >"$root/etc/machine-id" # empty on a read-only root: systemd makes a transient one
: >"$root/etc/fstab"      # the root stays as the initramfs mounted it (read-only)
rm -f "$root/etc/resolv.conf"
: >"$root/etc/resolv.conf"
# Nothing but the agent: no first-boot wizards, no getty on the console the agent logs to,
# nothing that keeps state on the read-only root (random seed, utmp, the journal's disk copy,
# dpkg backups), no debug filesystems, no modules that a Kata guest has no use for.
for u in systemd-firstboot.service getty@.service serial-getty@.service \
	systemd-networkd.service systemd-networkd.socket apt-daily.timer apt-daily-upgrade.timer \
	e2scrub_all.timer e2scrub_reap.service fstrim.timer dpkg-db-backup.timer \
	systemd-tmpfiles-clean.timer systemd-random-seed.service systemd-update-utmp.service \
	systemd-journal-flush.service sys-kernel-debug.mount sys-kernel-tracing.mount \
	modprobe@dm_mod.service modprobe@efi_pstore.service modprobe@loop.service; do
	ln -sfn /dev/null "$root/etc/systemd/system/$u"
done
rm -rf "$root/var/cache/apt/archives"/*.deb "$root/var/lib/apt/lists"/*_Packages

# --- the initramfs that mounts the image ------------------------------------------------------
ird=$out/initrd-root
rm -rf "$ird"
mkdir -p "$ird"/{bin,dev,proc,sys,newroot,lib/modules}
mknod -m 600 "$ird/dev/console" c 5 1
install -m 0755 "$busybox" "$ird/bin/busybox"
for applet in sh mount umount mkdir sleep cat insmod switch_root poweroff echo; do
	ln -s busybox "$ird/bin/$applet"
done
: >"$ird/modules"
declare -A seen=()
for m in "${ROOT_MODULES[@]}"; do
	deps=$(modprobe -d "$guest/rootfs" -S "$kver" --show-depends "$m" 2>&1) ||
		die "module $m not in $guest/rootfs: $deps"
	while read -r verb path _; do
		if [ "$verb" != insmod ] || [ -n "${seen[$path]:-}" ]; then continue; fi
		seen[$path]=1
		cp "$path" "$ird/lib/modules/"
		echo "/lib/modules/$(basename "$path")" >>"$ird/modules"
	done <<<"$deps"
done
cat >"$ird/init" <<'INIT'
#!/bin/sh
# The image's initramfs (tools/mkimage.sh): load the root's drivers, mount root= read-only
# (rw on the command line: read-write), hand over to its init (systemd).
mount -t proc proc /proc
mount -t sysfs sysfs /sys
mount -t devtmpfs -o mode=0755 dev /dev
while read -r ko; do insmod "$ko" 2>/dev/null; done </modules
root=/dev/vda fstype=ext4 mode=ro flags= init=/sbin/init
for arg in $(cat /proc/cmdline); do
	case $arg in
	root=*) root=${arg#root=} ;;
	rootfstype=*) fstype=${arg#rootfstype=} ;;
	rootflags=*) flags=,${arg#rootflags=} ;;
	init=*) init=${arg#init=} ;;
	ro) mode=ro ;;
	rw) mode=rw ;;
	esac
done
i=0
while [ ! -b "$root" ] && [ $i -lt 500 ]; do sleep 0.02; i=$((i + 1)); done
if ! mount -t "$fstype" -o "$mode$flags" "$root" /newroot; then
	echo "initramfs: cannot mount $root ($fstype): powering off" >/dev/console
	poweroff -f
fi
umount /proc /sys
mount --move /dev /newroot/dev
exec switch_root /newroot "$init"
INIT
chmod 0755 "$ird/init"
(cd "$ird" && find . -mindepth 1 | LC_ALL=C sort |
	cpio --quiet -o -H newc -R 0:0 --reproducible) >"$out/initrd.cpio.tmp"
mv "$out/initrd.cpio.tmp" "$out/initrd.cpio"
rm -rf "$ird"

# --- the disk image: the tree's size plus room for ext4's metadata -------------------------
used=$(du -s -B1M "$root" | cut -f1)
size=$((used + used / 4 + 32))
rm -f "$out/rootfs.img.tmp"
mkfs.ext4 -q -F -L kata-root -d "$root" -b 4096 -m 0 -O ^has_journal -E root_owner=0:0 \
	"$out/rootfs.img.tmp" "${size}M" >/dev/null || die "mkfs.ext4 -d failed"
mv "$out/rootfs.img.tmp" "$out/rootfs.img"
ln -sfn ../guest/vmlinux "$out/vmlinux"
echo "$kver" >"$out/kernel-version"
rm -rf "$root"

log "Debian $SUITE + systemd, kernel $kver, agent $(stat -c %s "$O/kata-agent") bytes"
log "$(du -h --apparent-size "$out/rootfs.img" | cut -f1) $out/rootfs.img (ext4, ${used} MiB used)"
log "$(du -h --apparent-size "$out/initrd.cpio" | cut -f1) $out/initrd.cpio (${#seen[@]} modules)"
