#!/usr/bin/env bash
# Runs every unit and integration test binary of a build tree and sums their results.
# Usage: tests/run-tests.sh BUILD_DIR [FILTER]
# Integration tests start BUILD_DIR/kata-agent (KATA_AGENT_BIN overrides it).
#
# Tests must leave nothing behind: after each binary, what is new in /tmp, /run, /dev/shm, the
# mount table of the initial mount namespace and the top two levels of /sys/fs/cgroup is noted,
# and whatever of it is still there at the end is listed and fails the run (LEAK_CHECK=0 turns
# this off, e.g. while other test runs share the machine).
# Sanitizer builds are slower: TEST_TIME_SCALE (default 3 for a *san* tree, else 1) multiplies
# every per-test timeout (tests/unit/harness.c).
set -u
O=${1:-build}
filter=${2:-}
case "$O" in /*) top=$O ;; *) top=$(pwd)/$O ;; esac
export KATA_AGENT_BIN=${KATA_AGENT_BIN:-$top/kata-agent}
export KATA_AGENT_CTL=${KATA_AGENT_CTL:-$top/kata-agent-ctl}
case "$O" in
*san*) export TEST_TIME_SCALE=${TEST_TIME_SCALE:-3} ;;
*) export TEST_TIME_SCALE=${TEST_TIME_SCALE:-1} ;;
esac
leak_check=${LEAK_CHECK:-1}
passed=0 failed=0 skipped=0 broken=()

# One line per thing a test could leave in a place shared with the rest of the machine.
snapshot() {
	local d
	for d in /tmp /run /dev/shm; do
		[ -d "$d" ] && find "$d" -mindepth 1 -maxdepth 1 -printf "path %p\n" 2>/dev/null
	done
	awk '{print "mount " $5}' /proc/1/mountinfo 2>/dev/null
	find /sys/fs/cgroup -mindepth 1 -maxdepth 2 -type d -printf "cgroup %p\n" 2>/dev/null
	true
}

# Whether an item of a snapshot is still there.
present() {
	local kind=${1%% *} what=${1#* }
	case "$kind" in
	path | cgroup) [ -e "$what" ] ;;
	mount) awk -v m="$what" '$5 == m {found = 1} END {exit !found}' /proc/1/mountinfo ;;
	*) false ;;
	esac
}

work=$(mktemp -d) # below the level the snapshots look at
trap 'rm -rf "$work"' EXIT
leaks=$work/leaks
: >"$leaks"

for bin in "$O"/tests/unit/test-* "$O"/tests/integration/test-*; do
	[ -x "$bin" ] || continue
	case "$bin" in *.o | *.d) continue ;; esac
	echo "== $bin"
	[ "$leak_check" = 1 ] && snapshot | sort -u >"$work"/before
	out=$("$bin" ${filter:+"$filter"} 2>&1)
	rc=$?
	if [ "$leak_check" = 1 ]; then
		snapshot | sort -u >"$work"/after
		comm -13 "$work"/before "$work"/after | sed "s|^|$bin |" >>"$leaks"
	fi
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

if [ "$leak_check" = 1 ]; then
	# What is gone again by now was transient (a compiler's temporary file, say).
	leakers=()
	while read -r bin item; do
		present "$item" || continue
		echo "!! left behind by $bin: $item"
		case " ${leakers[*]-} " in *" $bin "*) ;; *) leakers+=("$bin") ;; esac
	done <"$leaks"
	if [ ${#leakers[@]} -gt 0 ]; then
		echo "test binaries that left something behind: ${leakers[*]}"
		broken+=("${leakers[@]}")
	fi
fi

[ ${#broken[@]} -eq 0 ] || echo "failing binaries: ${broken[*]}"
echo "tests ($O): $passed passed, $failed failed, $skipped skipped"
[ "$failed" -eq 0 ] && [ ${#broken[@]} -eq 0 ]
