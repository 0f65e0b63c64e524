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
	protobuf-compiler python3-protobuf
	libseccomp-dev gperf linux-libc-dev
	dpkg-dev file procps iproute2 iputils-ping iptables util-linux python3
	qemu-system-x86 busybox-static cpio xz-utils kmod socat e2fsprogs
	mmdebstrap librsvg2-bin
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
# Bumped when the way the archives are built changes otherwise (libseccomp's 16-bit table).
lib_build="$lib_cflags; seccomp-table-16"
stamp="$deps/musl/lib/.cflags"
if [ "$(cat "$stamp" 2>/dev/null)" != "$lib_build" ]; then
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
	# The syscall table (one row per syscall name, one number per architecture: 33 KiB) is the
	# largest thing in the agent after libc. Its numbers are stored in 16 bits instead of 32,
	# except ARM's column (its private calls are 0xf0001...): half the size, the same lookups.
	# -Werror=overflow stops the build if a number ever stops fitting; the table is generated
	# again from the changed template (gperf).
	sed -i -E '/^struct arch_syscall_table \{/,/^\};/ s/^\tint (name|index|x86|x86_64|x32|aarch64|mips|mips64|mips64n32|parisc|parisc64|ppc|ppc64|riscv64|s390|s390x);/\tshort \1;/' \
		"$srcdir/src/syscalls.h"
	sed -i 's|^\treturn \*(int \*)((char \*)s + offset);$|\tif (offset == OFFSET_ARCH(arm))\n\t\treturn *(const int *)((const char *)s + offset);\n\treturn *(const short *)((const char *)s + offset);|' \
		"$srcdir/src/syscalls.perf.template"
	grep -q 'return \*(const short \*)' "$srcdir/src/syscalls.perf.template" &&
		[ "$(sed -n '/^struct arch_syscall_table {/,/^};/p' "$srcdir/src/syscalls.h" | grep -c '^.short ')" = 16 ] || {
		echo "deps: libseccomp's syscall table is not laid out as expected; see scripts/deps.sh" >&2
		exit 1
	}
	rm -f "$srcdir/src/syscalls.perf" "$srcdir/src/syscalls.perf.c"
	(
		cd "$srcdir"
		CC=musl-gcc CFLAGS="$lib_cflags -Werror=overflow -I$deps/musl/include" \
			./configure --quiet --host="$(gcc -dumpmachine | sed 's/-gnu$/-musl/')" \
			--enable-static --disable-shared --disable-python \
			--prefix="$deps/musl" >/dev/null
		make -s -C src -j"$(nproc)" libseccomp.la >/dev/null
	)
	# The smaller table must answer every lookup as Debian's library of the same version does
	# (when that is the one installed: the tests link it).
	src_ver=$(sed -n 's/^Version: //p' "$(ls "$work"/libseccomp_*.dsc | head -n1)")
	host_ver=$(dpkg-query -W -f='${Version}' libseccomp-dev 2>/dev/null || true)
	if [ "$src_ver" = "$host_ver" ]; then
		check=$repo/scripts/seccomp-table-check.c
		gcc -O1 "$check" -lseccomp -o "$work/check-host"
		musl-gcc -static -O1 -I"$srcdir/include" -I"$deps/musl/include" "$check" \
			"$srcdir/src/.libs/libseccomp.a" -o "$work/check-musl"
		"$work/check-host" "$srcdir/src/syscalls.csv" >"$work/host.txt"
		"$work/check-musl" "$srcdir/src/syscalls.csv" >"$work/musl.txt"
		cmp -s "$work/host.txt" "$work/musl.txt" || {
			echo "deps: the musl libseccomp resolves syscalls unlike the system's:" >&2
			diff "$work/host.txt" "$work/musl.txt" | head -n 20 >&2
			exit 1
		}
		echo "deps: libseccomp's table checked: $(wc -l <"$work/host.txt") lookups as the system's"
	else
		echo "deps: libseccomp $src_ver (source) is not $host_ver (installed): table not compared"
	fi
	mkdir -p "$deps/musl/include"
	cp "$srcdir/include/seccomp.h" "$srcdir/include/seccomp-syscalls.h" "$deps/musl/include/"
	cp "$srcdir/src/.libs/libseccomp.a" "$deps/musl/lib/libseccomp.a.tmp"
	mv "$deps/musl/lib/libseccomp.a.tmp" "$deps/musl/lib/libseccomp.a"
	rm -rf "$work"
fi

echo "$lib_build" >"$stamp"

echo "deps: ready in $deps"
