#!/usr/bin/env bash
# SPDX-License-Identifier: Apache-2.0
# passfd I/O (docs/passfd.md) in the guest under QEMU, one run: a process's stdout through its
# vsock stream (the agent's relay), through a plain pipe in the guest, and through ReadStdout to
# the host (ctl over virtio-serial, as the Go runtime reads). Prints FIGURE lines.
# Usage: bench/passfd-vm.sh BUILD_DIR   (needs `make initrd` with this agent; BENCH_PASSFD_BYTES,
# default 64 MiB; 268435456 for the 256 MiB of the issue, minutes under TCG)
set -uo pipefail
cd "$(dirname "$0")/.." || exit 1
O=${1:-build}
if [ ! -f "$O/guest/initrd.cpio" ] || ! command -v qemu-system-x86_64 >/dev/null; then
	printf 'NOTE\tpassfd: no guest image in %s/guest (make initrd) or no QEMU: skipped\n' "$O"
	exit 0
fi
mkdir -p "$O/bench"
VM_STEPS="boot check create_sandbox create_container start_container passfd_exec" \
	VM_PASSFD_BENCH=1 VM_PASSFD_BYTES=${BENCH_PASSFD_BYTES:-67108864} \
	tests/vm/vm-test.sh "$O" >"$O/bench/passfd-vm.log" 2>&1
st=$?
grep -E '^FIGURE|stdout of' "$O/bench/passfd-vm.log"
[ "$st" = 0 ] || { grep -E 'FAIL' "$O/bench/passfd-vm.log"; exit "$st"; }
