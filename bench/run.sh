#!/usr/bin/env bash
# Runs every benchmark against its peer in the same run. Usage: bench/run.sh BUILD_DIR
set -euo pipefail
O=${1:-build}
echo "== foundation: size, start-up, idle memory, Check round trips"
"$O/bench/bench-agent" "$O/kata-agent" "${BENCH_ROUNDS:-21}"
echo "== containers: create-to-exit and exec against crun, stdout throughput against a pipe copy"
"$O/bench/bench-container" "$O/kata-agent" "$O/tests/payload/payload" "${BENCH_CONTAINER_ROUNDS:-31}"
