#!/usr/bin/env bash
# Runs every unit and integration test binary of a build tree and sums their results.
# Usage: tests/run-tests.sh BUILD_DIR [FILTER]
# Integration tests start BUILD_DIR/kata-agent (KATA_AGENT_BIN overrides it).
set -u
O=${1:-build}
filter=${2:-}
export KATA_AGENT_BIN=${KATA_AGENT_BIN:-$(pwd)/$O/kata-agent}
export KATA_AGENT_CTL=${KATA_AGENT_CTL:-$(pwd)/$O/kata-agent-ctl}
passed=0 failed=0 skipped=0 broken=()

for bin in "$O"/tests/unit/test-* "$O"/tests/integration/test-*; do
	[ -x "$bin" ] || continue
	case "$bin" in *.o | *.d) continue ;; esac
	echo "== $bin"
	out=$("$bin" $filter 2>&1)
	rc=$?
	printf '%s\n' "$out" | grep -v '^PASS ' || true
	line=$(printf '%s\n' "$out" | grep -E '^[0-9]+ passed, [0-9]+ failed, [0-9]+ skipped$' | tail -n1)
	if [ -z "$line" ]; then
		echo "!! $bin ended without a summary (rc=$rc)"
		failed=$((failed + 1))
		broken+=("$bin")
		continue
	fi
	read -r p _ f _ s _ <<<"${line//,/}"
	passed=$((passed + p)) failed=$((failed + f)) skipped=$((skipped + s))
	[ "$rc" -eq 0 ] || broken+=("$bin")
done

[ ${#broken[@]} -eq 0 ] || echo "failing binaries: ${broken[*]}"
echo "tests ($O): $passed passed, $failed failed, $skipped skipped"
[ "$failed" -eq 0 ] && [ ${#broken[@]} -eq 0 ]
