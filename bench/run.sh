#!/usr/bin/env bash
# Runs every benchmark against its peer in the same run, then writes the report:
# BUILD_DIR/bench/run.log (everything printed), report.md (the table) and report.svg (the chart).
# Usage: bench/run.sh BUILD_DIR   (make bench builds what it needs and calls this)
# Knobs: BENCH_ROUNDS (start-up/RSS/Check rounds, 21), BENCH_CHECKS (Checks per round, 5000),
#        BENCH_CONTAINER_ROUNDS (create/exec rounds, 31), BENCH_STDOUT_ROUNDS (stdout rounds, 5),
#        BENCH_PASSFD_BYTES (passfd bytes in the guest, 64 MiB; needs make initrd).
set -uo pipefail
cd "$(dirname "$0")/.."
O=${1:-build}
out=$O/bench
log=$out/run.log
mkdir -p "$out"
: >"$log"
failed=0

# Runs one bench program, its output to the terminal and the log.
step() {
	"$@" 2>&1 | tee -a "$log"
	local st=${PIPESTATUS[0]}
	if [ "$st" -ne 0 ]; then
		printf 'NOTE\t%s failed (status %s): its figures are missing\n' "${1##*/}" "$st" | tee -a "$log"
		failed=1
	fi
}
say() { printf '%s\n' "$*" | tee -a "$log"; }

say "$(printf 'RUN\tdate\t%s' "$(date -u '+%Y-%m-%d %H:%M UTC')")"
say "$(printf 'RUN\thost\tLinux %s' "$(uname -r)")"
say "$(printf 'RUN\tcpu\t%s' "$(sed -n 's/^model name[[:space:]]*: //p' /proc/cpuinfo | head -n1)")"
say "$(printf 'RUN\tcpus\t%s' "$(nproc)")"
say "$(printf 'RUN\tload-start\t%s' "$(cut -d' ' -f1-3 /proc/loadavg)")"
say "$(printf 'RUN\tagent\t%s' "$O/kata-agent")"
say "$(printf 'RUN\tagent-size\t%s' "$(stat -c %s "$O/kata-agent")")"

say "== size"
if [ -x bench/size.sh ]; then
	step bench/size.sh "$O"
else
	s=$(stat -c %s "$O/kata-agent")
	say "agent binary: $s bytes (static, stripped)"
	say "$(printf 'FIGURE\tbinary size\tbytes\tlower\t-\t%s\t%s\t%s\t-\t-\t-' "$s" "$s" "$s")"
fi
say "== foundation: start-up, idle memory, Check round trips against a Go ttRPC server"
step "$O/bench/bench-agent" "$O/kata-agent" "$O/bench/ttrpc-peer" "${BENCH_ROUNDS:-21}" \
	"${BENCH_CHECKS:-5000}"
say "== containers: create-to-exit and exec against crun and runc"
step "$O/bench/bench-container" "$O/kata-agent" "$O/tests/payload/payload" \
	"${BENCH_CONTAINER_ROUNDS:-31}"
say "== stdout: a 1 MiB writer read back with ReadStdout against a plain pipe"
if [ -x "$O/bench/bench-stdout" ]; then
	step "$O/bench/bench-stdout" "$O/kata-agent" "$O/tests/payload/payload" \
		"${BENCH_STDOUT_ROUNDS:-5}"
else
	say "$(printf 'NOTE\tbench-stdout is not built: no stdout figure in this run')"
fi
say "== passfd: a process's stdout through its vsock stream, a pipe and ReadStdout, in the guest"
step bench/passfd-vm.sh "$O"
say "$(printf 'RUN\tload-end\t%s' "$(cut -d' ' -f1-3 /proc/loadavg)")"

echo
bench/report.sh "$log" "$out"
exit "$failed"
