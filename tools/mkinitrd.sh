#!/usr/bin/env bash
# SPDX-License-Identifier: Apache-2.0
# Builds the guest: Debian's kernel (as a PVH-bootable ELF vmlinux) and an uncompressed
# initramfs with our static agent as /init, busybox, the boot-time kernel modules and a
# busybox container rootfs. Nothing is installed on the host: the kernel package is fetched
# with `apt-get download` and unpacked with `dpkg-deb -x`.
#
# Usage: tools/mkinitrd.sh [--shell-init] [BUILD_DIR]     (default BUILD_DIR: build)
#   --shell-init   /init is a busybox script that mounts proc/sys/dev, insmods the boot
#                  modules and execs /sbin/kata-agent as PID 1 (for debugging the image
#                  without the agent's own PID-1 duties)
#
# Output in BUILD_DIR/guest/:
#   vmlinux            the kernel's ELF image (PVH entry), extracted from the bzImage
#   vmlinuz            the bzImage as shipped
#   initrd.cpio        the initramfs (newc, uncompressed: TCG decompresses slowly)
#   kernel-version     the kernel release (uname -r in the guest)
#   cache/             downloaded .deb and its unpacked tree (kept between runs)
#
# The image's contract with the agent: /etc/kata-agent/boot-modules lists the absolute
# in-image paths of the .ko files its API transport needs, one per line, in dependency order:
# the agent loads them before it listens. /etc/kata-agent/late-modules lists the rest of the
# boot drivers, which the agent loads beside its loop once it serves (AgentService calls wait
# for them; Health answers at once).
set -euo pipefail

# The modules the guest needs at boot (their dependencies are added by modprobe's resolver).
# Before the agent listens, what its API transport needs: virtio transports (microvm: mmio,
# q35/pc: pci), console ports (virtio-serial), vsock.
API_MODULES=(virtio_mmio virtio_pci virtio_console vsock vmw_vsock_virtio_transport)
# Once it serves: block, net, vsock's loopback (so the agent's vsock path can be tested
# without a host device), virtio-fs, overlay, ext4 (block storages), and the other storage
# drivers' devices: virtio-scsi disks, virtio-9p, NVDIMMs (ACPI NFIT + pmem).
BOOT_MODULES=(virtio_blk virtio_net vsock_loopback fuse virtiofs overlay ext4
	virtio_scsi sd_mod 9pnet_virtio 9p nfit nd_pmem)
# VFIO devices (vfio-pci pulls vfio, vfio-pci-core, vfio_virqfd, irqbypass).
BOOT_MODULES+=(vfio_pci vfio_iommu_type1)
# Modules copied into the image but not loaded at boot: CreateSandbox's kernel_modules load
# them by name (the VM test asks for dummy).
ON_DEMAND_MODULES=(dummy)
KERNEL_META=${KERNEL_META:-linux-image-amd64}

die() {
	echo "mkinitrd: $*" >&2
	exit 1
}
log() { echo "mkinitrd: $*"; }

shell_init=0
O=build
while [ $# -gt 0 ]; do
	case $1 in
	--shell-init) shell_init=1 ;;
	-h | --help)
		sed -n '2,21p' "$0" | sed 's/^# \{0,1\}//'
		exit 0
		;;
	-*) die "unknown option $1 (see --help)" ;;
	*) O=$1 ;;
	esac
	shift
done

agent=$O/kata-agent
[ -x "$agent" ] || die "$agent not found: run 'make' first"
file "$agent" | grep -q 'statically linked' || die "$agent is not static"
for tool in apt-get apt-cache dpkg-deb depmod modprobe cpio xz; do
	command -v "$tool" >/dev/null || die "'$tool' is missing: run 'make deps'"
done
busybox=$(command -v busybox || true)
if [ -z "$busybox" ] || ! file -L "$busybox" | grep -q 'statically linked'; then
	die "a static busybox is missing: run 'make deps' (package busybox-static)"
fi
[ "$(id -u)" = 0 ] || die "must run as root (the image needs a /dev/console device node)"

guest=$O/guest
cache=$guest/cache
mkdir -p "$cache"
guest=$(cd "$guest" && pwd)
cache=$guest/cache

# --- the kernel package --------------------------------------------------------------------
# linux-image-amd64 is a meta package: the real one is its versioned dependency.
pkg=$(apt-cache depends "$KERNEL_META" 2>/dev/null |
	awk '$1 == "Depends:" && $2 ~ /^linux-image-[0-9]/ { print $2; exit }' || true)
[ -n "$pkg" ] || die "cannot resolve $KERNEL_META to a versioned kernel package" \
	"(is the apt cache current? try 'apt-get update')"
version=$(apt-cache policy "$pkg" 2>/dev/null | awk '$1 == "Candidate:" { print $2 }' || true)
if [ -z "$version" ] || [ "$version" = "(none)" ]; then
	die "no candidate version for $pkg"
fi
deb=$cache/${pkg}_${version//:/%3a}_amd64.deb
if [ ! -s "$deb" ]; then
	log "downloading $pkg $version"
	# apt-get download drops privileges to _apt: it needs a directory it can write.
	dl=$(mktemp -d "$cache/dl.XXXXXX")
	chmod 0777 "$dl"
	if ! (cd "$dl" && apt-get download -q "$pkg=$version") >"$dl/log" 2>&1; then
		cat "$dl/log" >&2
		rm -rf "$dl"
		die "apt-get download $pkg=$version failed (network? apt sources? see above)"
	fi
	got=$(ls "$dl"/*.deb 2>/dev/null | head -n1 || true)
	[ -n "$got" ] || {
		cat "$dl/log" >&2
		rm -rf "$dl"
		die "apt-get download $pkg=$version produced no .deb"
	}
	mv "$got" "$deb"
	rm -rf "$dl"
fi

tree=$cache/${pkg}_${version//:/%3a}
if [ ! -f "$tree/.unpacked" ]; then
	log "unpacking $(basename "$deb")"
	rm -rf "$tree"
	mkdir -p "$tree"
	dpkg-deb -x "$deb" "$tree"
	touch "$tree/.unpacked"
fi

# The module tree: /lib/modules in bookworm, /usr/lib/modules once /usr is merged.
moddir=
for d in "$tree/lib/modules" "$tree/usr/lib/modules"; do
	[ -d "$d" ] && moddir=$d && break
done
[ -n "$moddir" ] || die "no lib/modules in $pkg"
kver=$(ls "$moddir" | head -n1)
[ -n "$kver" ] || die "no kernel release under $moddir"
modroot=${moddir%/lib/modules} # modprobe -d takes the directory above lib/modules
bzimage=$tree/boot/vmlinuz-$kver
[ -f "$bzimage" ] || die "$bzimage not found in $pkg"

if [ ! -f "$moddir/$kver/modules.dep" ] || [ "$moddir/$kver/modules.dep" -ot "$tree/.unpacked" ]; then
	depmod -b "$modroot" "$kver"
fi

# --- vmlinux: the ELF inside the bzImage, booted through its PVH note ------------------------
# Under TCG the bzImage's own xz decompressor costs seconds. The payload is an xz stream:
# find its magic (FD 37 7A 58 5A 00) and decompress the first stream that yields an ELF.
if [ ! -s "$guest/vmlinux" ] || [ "$guest/vmlinux" -ot "$tree/.unpacked" ]; then
	log "extracting vmlinux from vmlinuz-$kver"
	found=0
	for off in $(LC_ALL=C grep -obUaP '\xFD7zXZ\x00' "$bzimage" | cut -d: -f1); do
		# xz stops after one stream, so tail may die of SIGPIPE: only xz's status counts.
		(
			set +o pipefail
			tail -c +$((off + 1)) "$bzimage" 2>/dev/null |
				xz -dc --single-stream >"$guest/vmlinux.tmp" 2>/dev/null
		) || continue
		if [ "$(head -c 4 "$guest/vmlinux.tmp" | od -An -tx1 | tr -d ' ')" = 7f454c46 ]; then
			found=1
			break
		fi
	done
	[ "$found" = 1 ] || {
		rm -f "$guest/vmlinux.tmp"
		die "no xz-compressed ELF found in $bzimage (kernel not built with KERNEL_XZ?)"
	}
	mv "$guest/vmlinux.tmp" "$guest/vmlinux"
fi
cp -p "$bzimage" "$guest/vmlinuz"
echo "$kver" >"$guest/kernel-version"

# --- the modules, in dependency order --------------------------------------------------------
# modprobe --show-depends prints "insmod PATH [params]" lines, dependencies first; builtins
# print "builtin NAME" and need nothing.
order=()
declare -A seen=() on_demand=() api=()
for m in "${API_MODULES[@]}" "${BOOT_MODULES[@]}" "${ON_DEMAND_MODULES[@]}"; do
	out=$(modprobe -d "$modroot" -S "$kver" --show-depends "$m" 2>&1) ||
		die "module $m not found in $pkg: $out"
	boot=1 is_api=0
	for od in "${ON_DEMAND_MODULES[@]}"; do [ "$od" = "$m" ] && boot=0; done
	for am in "${API_MODULES[@]}"; do [ "$am" = "$m" ] && is_api=1; done
	while read -r verb path _; do
		[ "$verb" = insmod ] || continue
		[ -n "${seen[$path]:-}" ] && continue
		seen[$path]=1
		[ "$boot" = 1 ] || on_demand[$path]=1
		[ "$is_api" = 0 ] || api[$path]=1
		order+=("$path")
	done <<<"$out"
done

# --- the image tree --------------------------------------------------------------------------
root=$guest/rootfs
rm -rf "$root"
mkdir -p "$root"/{bin,sbin,etc/kata-agent,proc,sys,dev,run,tmp,root,var,lib/modules/"$kver"}
chmod 1777 "$root/tmp"
mknod -m 600 "$root/dev/console" c 5 1
mknod -m 666 "$root/dev/null" c 1 3

if [ "$shell_init" = 1 ]; then
	install -m 0755 "$agent" "$root/sbin/kata-agent"
	cat >"$root/init" <<'INIT'
#!/bin/sh
# Debugging init (mkinitrd.sh --shell-init): prepare the guest, then exec the agent as PID 1.
mount -t proc -o nosuid,nodev,noexec proc /proc
mount -t sysfs -o nosuid,nodev,noexec sysfs /sys
mount -t devtmpfs -o nosuid,mode=0755 dev /dev
while read -r ko; do
	case $ko in '' | '#'*) continue ;; esac
	insmod "$ko" || echo "init: insmod $ko failed" >&2
done </etc/kata-agent/boot-modules
while read -r ko; do
	case $ko in '' | '#'*) continue ;; esac
	insmod "$ko" || echo "init: insmod $ko failed" >&2
done </etc/kata-agent/late-modules
rm -f /etc/kata-agent/late-modules # loaded: the agent has nothing left to do
exec /sbin/kata-agent
INIT
	chmod 0755 "$root/init"
else
	install -m 0755 "$agent" "$root/init"
fi

# The boot baseline (tests/vm: boot_baseline): the same kernel and initramfs with a trivial
# init that prints one line and powers off; the agent's readiness minus its time is the
# agent's share of the boot.
cat >"$root/sbin/boot-probe" <<'PROBE'
#!/bin/sh
echo KATA-BOOT-PROBE-UP
exec poweroff -f
PROBE
chmod 0755 "$root/sbin/boot-probe"

install -m 0755 "$busybox" "$root/bin/busybox"
for applet in $("$busybox" --list); do
	[ -e "$root/bin/$applet" ] || ln -s busybox "$root/bin/$applet"
done

: >"$root/etc/kata-agent/boot-modules"
: >"$root/etc/kata-agent/late-modules"
for path in "${order[@]}"; do
	rel=${path#"$moddir/$kver/"}
	[ "$rel" != "$path" ] || die "module path $path is outside $moddir/$kver"
	dst=$root/lib/modules/$kver/$rel
	mkdir -p "$(dirname "$dst")"
	case $rel in
	*.ko) cp "$path" "$dst" ;;
	*.ko.xz) # finit_module gets no decompression flag from the agent: store them plain
		xz -dc "$path" >"${dst%.xz}"
		dst=${dst%.xz}
		;;
	*) die "unsupported module file $rel" ;;
	esac
	list=late-modules
	[ -z "${api[$path]:-}" ] || list=boot-modules
	[ -n "${on_demand[$path]:-}" ] ||
		echo "/lib/modules/$kver/${dst#"$root/lib/modules/$kver/"}" >>"$root/etc/kata-agent/$list"
done
# A modules.dep for the copied subset, so modprobe works inside the guest too.
for f in modules.order modules.builtin modules.builtin.modinfo; do
	[ -f "$moddir/$kver/$f" ] && cp "$moddir/$kver/$f" "$root/lib/modules/$kver/"
done
depmod -b "$root" "$kver"

# Tools the agent runs in the guest, with their shared libraries: mkfs.ext4 for block volumes
# that ask for a filesystem (create_filesystem). Taken from this machine's e2fsprogs.
copy_with_libs() {
	local bin=$1 lib
	install -D -m 0755 "$bin" "$root$bin"
	for lib in $(ldd "$bin" | awk '/=> \// { print $3 } /^\t\/lib/ { print $1 }'); do
		[ -e "$root$lib" ] || install -D -m 0755 "$(readlink -f "$lib")" "$root$lib"
	done
}
command -v mke2fs >/dev/null || die "mke2fs missing: install e2fsprogs (make deps)"
copy_with_libs "$(command -v mke2fs)"
ln -sf mke2fs "$root$(dirname "$(command -v mke2fs)")/mkfs.ext4"

echo kata-guest >"$root/etc/hostname"
: >"$root/etc/resolv.conf"
echo 'root:x:0:0:root:/root:/bin/sh' >"$root/etc/passwd"
echo 'root:x:0:' >"$root/etc/group"

# --- the archive -----------------------------------------------------------------------------
(cd "$root" && find . -mindepth 1 | LC_ALL=C sort |
	cpio --quiet -o -H newc -R 0:0 --reproducible) >"$guest/initrd.cpio.tmp"
mv "$guest/initrd.cpio.tmp" "$guest/initrd.cpio"

size() { printf '%8s  %s' "$(du -h --apparent-size "$1" | cut -f1)" "$1"; }
log "kernel $pkg $version ($kver), init: $([ "$shell_init" = 1 ] && echo 'shell script' || echo 'kata-agent')"
log "$(size "$guest/vmlinux")"
log "$(size "$guest/vmlinuz")"
log "$(size "$guest/initrd.cpio") ($(wc -l <"$root/etc/kata-agent/boot-modules") boot modules, agent $(stat -c %s "$agent") bytes)"
