#!/usr/bin/env bash
# The release agent's size and where its bytes go, by subsystem.
# Usage: bench/size.sh [BUILD_DIR]   (after `make`; DEPS=... if the musl archives are not in .deps)
#
# The release link uses LTO, which mixes the code of every room into a few partitions, so the
# breakdown comes from a second link of the same objects without LTO (the objects are fat: they
# carry ordinary code beside the LTO bytecode) with a link map: every byte of that link is
# counted in the room whose object it came from. What LTO saves on top is printed apart.
# Prints human lines, a FIGURE line (no peer: the size is ours alone) and DETAIL lines (the
# breakdown, for bench/report.sh).
set -euo pipefail
cd "$(dirname "$0")/.."
O=${1:-build}
DEPS=${DEPS:-$PWD/.deps}
AGENT_CC=${AGENT_CC:-musl-gcc}
agent=$O/kata-agent
work=$O/size
[ -f "$agent" ] || {
	echo "size.sh: $agent is not built (make)" >&2
	exit 1
}
mkdir -p "$work"

# The agent's objects: one per source of src/ and per generated file (a stale object whose
# source is gone is left out).
objs=()
while IFS= read -r o; do
	rel=${o#"$O"/agent-obj/}
	case $rel in
	gen/*) src=$O/${rel%.o}.c ;;
	*) src=${rel%.o}.c ;;
	esac
	[ -f "$src" ] && objs+=("$o")
done < <(find "$O/agent-obj" -name '*.o' | sort)

"$AGENT_CC" -static -L"$DEPS/musl/lib" -fno-lto -Wl,--gc-sections -s \
	-Wl,-Map="$work/kata-agent-nolto.map" "${objs[@]}" -lprotobuf-c -lseccomp \
	-o "$work/kata-agent-nolto"

python3 - "$work/kata-agent-nolto.map" "$(stat -c %s "$work/kata-agent-nolto")" \
	"$(stat -c %s "$agent")" <<'PY'
import re, sys

mapfile, nolto, release = sys.argv[1], int(sys.argv[2]), int(sys.argv[3])

# Output sections that take no room in the file, or that the release binary strips.
def counted(sec):
    return not re.match(r'\.(bss|tbss|debug|comment|note\.GNU-stack|gnu\.warning|stab)', sec)

def room(obj):
    if re.search(r'/libc\.a\(', obj):
        return 'libc (musl)'
    if 'libseccomp.a(' in obj:
        return 'libseccomp'
    if 'libprotobuf-c.a(' in obj:
        return 'protobuf-c runtime'
    if '/agent-obj/gen/' in obj:
        return 'generated protobuf code (descriptors, pack/unpack)'
    m = re.search(r'/agent-obj/src/([^/]+)/', obj)
    if m:
        return 'src/' + m.group(1)
    if '/agent-obj/src/main.o' in obj:
        return 'src/main.c'
    return 'compiler runtime (crt, libgcc)'

sizes = {}
out = None
in_map = False
pending = None
for line in open(mapfile, errors='replace'):
    line = line.rstrip('\n')
    if line.startswith('Linker script and memory map'):
        in_map = True
        continue
    if not in_map:
        continue
    m = re.match(r'^(\.\S+)(\s+0x[0-9a-f]+\s+0x[0-9a-f]+)?\s*$', line)
    if m:  # an output section (its address and size may follow on the next line)
        out = m.group(1)
        continue
    # an input section: " .name 0xADDR 0xSIZE object", or its name alone with the rest
    # on the next line when the name is long
    m = re.match(r'^ (\.\S+|COMMON)\s*$', line)
    if m:
        pending = m.group(1)
        continue
    m = re.match(r'^ (\.\S+|COMMON)?\s+0x([0-9a-f]+)\s+0x([0-9a-f]+)\s+(\S.*)$', line)
    if m and out and counted(out):
        size = int(m.group(3), 16)
        if size and int(m.group(2), 16):
            r = room(m.group(4))
            sizes[r] = sizes.get(r, 0) + size
    pending = None

total = sum(sizes.values())
rows = sorted(sizes.items(), key=lambda kv: -kv[1])
rows.append(('ELF headers and alignment padding', nolto - total))
print(f'agent binary: {release} bytes ({release / 1024:.0f} KiB), static, stripped; '
      f'limit 524288 bytes (512 KiB), {524288 - release:+d} bytes to spare')
print(f'by subsystem (the same objects linked without LTO: {nolto} bytes; LTO saves '
      f'{nolto - release} more, across rooms):')
for name, n in rows:
    print(f'  {n:8d} {100.0 * n / nolto:5.1f}%  {name}')
print(f'FIGURE\tbinary size\tbytes\tlower\t-\t{release}\t{release}\t{release}\t-\t-\t-')
title = 'binary size by subsystem'
print(f'DETAIL\t{title}\trelease agent (LTO, stripped): {release} bytes; '
      f'limit 524288 bytes (make static-check)')
print(f'DETAIL\t{title}\tthe breakdown is of the same objects linked without LTO: {nolto} bytes')
for name, n in rows:
    print(f'DETAIL\t{title}\t{name}: {n} bytes ({100.0 * n / nolto:.1f}%)')
print(f'DETAIL\t{title}\tLTO across rooms: {release - nolto} bytes')
PY
