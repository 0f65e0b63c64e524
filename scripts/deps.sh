#!/usr/bin/env bash
# Installs everything the build, the tests and CI need, from Debian's packages only,
# and builds the musl static archives the release agent links (protobuf-c runtime,
# libseccomp) from Debian's own source packages.
# Usage: scripts/deps.sh [DEPS_DIR]   (default: .deps beside this script's repo)
set -euo pipefail

repo=$(cd "$(dirname "$0")/.." && pwd)
deps=${1:-$repo/.deps}
export DEBIAN_FRONTEND=noninteractive

sudo_cmd=()
[ "$(id -u)" -eq 0 ] || sudo_cmd=(sudo)

pkgs=(
	build-essential make gcc clang llvm libclang-rt-14-dev clang-format
	musl-tools
	protobuf-c-compiler libprotobuf-c-dev libjson-c-dev
	libseccomp-dev gperf linux-libc-dev
	dpkg-dev file procps iproute2 iputils-ping iptables util-linux python3
	qemu-system-x86 busybox-static cpio xz-utils kmod socat e2fsprogs
	mmdebstrap
)

need_install=0
for p in "${pkgs[@]}"; do
	dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || need_install=1
done

# Source packages are needed for the musl archives: add a deb-src entry once.
src_list=/etc/apt/sources.list.d/kata-agent-deb-src.sources
if ! grep -rqs '^Types:.*deb-src\|^deb-src' /etc/apt/sources.list /etc/apt/sources.list.d/; then
	"${sudo_cmd[@]}" tee "$src_list" >/dev/null <<'SRC'
Types: deb-src
URIs: http://deb.debian.org/debian
Suites: bookworm bookworm-updates
Components: main
Signed-By: /usr/share/keyrings/debian-archive-keyring.gpg
SRC
	need_install=1
fi

# Both archives are built for size like the agent (see AGENT_SIZEFLAGS in the Makefile): -Os,
# one section per function and object so that --gc-sections drops what the agent never calls,
# no .eh_frame. The flags are recorded beside the archives; archives built with other flags
# (or before they were recorded) are rebuilt.
lib_cflags="-Os -fPIC -ffunction-sections -fdata-sections -fno-asynchronous-unwind-tables"
stamp="$deps/musl/lib/.cflags"
if [ "$(cat "$stamp" 2>/dev/null)" != "$lib_cflags" ]; then
	rm -f "$deps/musl/lib/libprotobuf-c.a" "$deps/musl/lib/libseccomp.a" "$stamp"
fi

if [ "$need_install" = 1 ] || [ ! -f "$deps/musl/lib/libprotobuf-c.a" ] ||
	[ ! -f "$deps/musl/lib/libseccomp.a" ]; then
	"${sudo_cmd[@]}" apt-get update -qq
fi
if [ "$need_install" = 1 ]; then
	"${sudo_cmd[@]}" apt-get install -y -qq --no-install-recommends "${pkgs[@]}" >/dev/null
fi

# --- musl sysroot additions: kernel headers and static libraries ---------------------------
mkdir -p "$deps/musl/include" "$deps/musl/lib" "$deps/src"
for d in linux asm-generic mtd; do
	[ -e "$deps/musl/include/$d" ] || ln -s "/usr/include/$d" "$deps/musl/include/$d"
done
arch_inc=/usr/include/$(gcc -dumpmachine)
[ -e "$deps/musl/include/asm" ] || ln -s "$arch_inc/asm" "$deps/musl/include/asm"

if [ ! -f "$deps/musl/lib/libprotobuf-c.a" ]; then
	work=$(mktemp -d)
	chmod 777 "$work"
	(cd "$work" && apt-get source -qq --download-only protobuf-c >/dev/null 2>&1)
	tarball=$(ls "$work"/protobuf-c_*.orig.tar.gz | head -n1)
	tar -C "$work" -xzf "$tarball"
	srcdir=$(find "$work" -maxdepth 1 -type d -name 'protobuf-c-*' | head -n1)
	mkdir -p "$deps/musl/include/protobuf-c"
	cp "$srcdir/protobuf-c/protobuf-c.h" "$deps/musl/include/protobuf-c/"
	musl-gcc $lib_cflags -I"$srcdir" -c "$srcdir/protobuf-c/protobuf-c.c" -o "$work/protobuf-c.o"
	ar rcs "$deps/musl/lib/libprotobuf-c.a" "$work/protobuf-c.o"
	rm -rf "$work"
fi

# libseccomp: autotools build with musl-gcc; the kernel headers come from the private include
# dir above (musl-gcc sees no system include dir). Only the static library and its headers are
# installed; the tools and man pages are not built.
if [ ! -f "$deps/musl/lib/libseccomp.a" ]; then
	work=$(mktemp -d)
	chmod 777 "$work"
	(cd "$work" && apt-get source -qq --download-only libseccomp >/dev/null 2>&1)
	# dpkg-source applies Debian's patches (a newer syscall table, like the host's library).
	srcdir="$work/libseccomp"
	dpkg-source -q -x "$(ls "$work"/libseccomp_*.dsc | head -n1)" "$srcdir" >/dev/null 2>&1
	(
		cd "$srcdir"
		CC=musl-gcc CFLAGS="$lib_cflags -I$deps/musl/include" \
			./configure --quiet --host="$(gcc -dumpmachine | sed 's/-gnu$/-musl/')" \
			--enable-static --disable-shared --disable-python \
			--prefix="$deps/musl" >/dev/null
		make -s -C src -j"$(nproc)" libseccomp.la >/dev/null
	)
	mkdir -p "$deps/musl/include"
	cp "$srcdir/include/seccomp.h" "$srcdir/include/seccomp-syscalls.h" "$deps/musl/include/"
	cp "$srcdir/src/.libs/libseccomp.a" "$deps/musl/lib/libseccomp.a.tmp"
	mv "$deps/musl/lib/libseccomp.a.tmp" "$deps/musl/lib/libseccomp.a"
	rm -rf "$work"
fi

echo "$lib_cflags" >"$stamp"

echo "deps: ready in $deps"
