#!/usr/bin/env bash
# The rooms of src/ and which rooms each may include (the README's Layout section says the same):
# a room never reaches up. In particular nothing below the RPC layer includes rpc/: the status
# codes the mechanics speak live in base/status.h. main.c wires everything and is not checked.
# Usage: tests/check-layers.sh [SRC_DIR]
set -u
src=${1:-src}
declare -A may=(
	[base]="base"
	[loop]="base loop"
	[transport]="base transport"
	[config]="base config transport"
	[trace]="base loop trace transport"
	[uevent]="base loop uevent"
	[cgroups]="base cgroups"
	[net]="base loop net"
	[device]="base device uevent"
	[guest]="base guest"
	[init]="base init loop net"
	[container]="base cgroups container loop"
	[storage]="base container device loop storage"
	[sandbox]="base cgroups container device guest init loop sandbox storage uevent"
	[rpc]="base device guest loop net rpc sandbox trace uevent"
	[agent]="agent base config init loop rpc sandbox trace transport uevent"
)
bad=0
for dir in "$src"/*/; do
	room=$(basename "$dir")
	if [ -z "${may[$room]+set}" ]; then
		echo "check-layers: $src/$room is a room this check does not know: add it to tests/check-layers.sh and the README"
		bad=1
		continue
	fi
	while IFS= read -r hit; do
		file=${hit%%:*}
		rest=${hit#*:}
		line=${rest%%:*}
		target=$(sed -E 's/.*#include "([a-z]+)\/.*/\1/' <<<"$rest")
		[ -d "$src/$target" ] || continue # generated headers (google/...) are not rooms
		case " ${may[$room]} " in *" $target "*) continue ;; esac
		echo "$file:$line: $room/ may not include $target/ (allowed: ${may[$room]})"
		bad=1
	done < <(grep -rnE '^#include "[a-z]+/' "$dir" --include='*.[ch]' || true)
done
if [ "$bad" -ne 0 ]; then
	echo "check-layers: a room reaches a room it may not (see the README's Layout)"
	exit 1
fi
echo "check-layers: every room includes only the rooms below it"
