#!/usr/bin/env bash
# Runs each libFuzzer binary of a fuzz build for a bounded time on a copy of its seed corpus.
# Usage: tests/run-fuzz.sh BUILD_DIR SECONDS
set -euo pipefail
O=${1:-build-fuzz}
secs=${2:-20}
status=0
# Every harness runs in fresh mount, network, IPC and UTS namespaces (and a user namespace
# when not root): whatever a harness gets wrong, it cannot change this machine's network,
# mounts or hostname. Harnesses that mount need root in the private mount namespace.
ns=(--mount --net --ipc --uts --propagation private)
[ "$(id -u)" -eq 0 ] || ns=(--user --map-root-user "${ns[@]}")
if ! unshare "${ns[@]}" true; then
	echo "!! cannot create namespaces with unshare(1): not fuzzing on the host itself" >&2
	exit 1
fi
for bin in "$O"/fuzz/fuzz-*; do
	[ -x "$bin" ] || continue
	case "$bin" in *.o | *.d) continue ;; esac
	name=${bin##*/fuzz-}
	corpus=$(mktemp -d)
	[ -d "fuzz/corpus/$name" ] && cp -r "fuzz/corpus/$name/." "$corpus/"
	mkdir -p fuzz/crashes
	echo "== fuzz $name for ${secs}s"
	if unshare "${ns[@]}" "$bin" -max_total_time="$secs" -timeout=10 -rss_limit_mb=2048 -max_len=65536 \
		-artifact_prefix="fuzz/crashes/$name-" -print_final_stats=1 "$corpus" \
		>"$corpus.log" 2>&1; then
		grep -E '^stat::number_of_executed_units|^Done' "$corpus.log" || tail -n 2 "$corpus.log"
	else
		echo "!! fuzzer $name found a problem:"
		tail -n 40 "$corpus.log"
		status=1
	fi
	rm -rf "$corpus" "$corpus.log"
done
exit $status
