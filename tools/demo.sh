#!/usr/bin/env bash
# The main job, for now: start the agent on a local socket and drive it with kata-agent-ctl.
# (The guest-image demo, booting the agent as PID 1 of a VM, comes with the guest issue.)
# Usage: tools/demo.sh [BUILD_DIR]
set -euo pipefail
O=${1:-build}
dir=$(mktemp -d /tmp/kata-demo.XXXXXX)
sock="$dir/agent.sock"
ctl=("$O/kata-agent-ctl" --addr "unix://$sock" --timeout 5)

echo "== starting $O/kata-agent on unix://$sock (logs in $dir/agent.log)"
KATA_AGENT_LOG_LEVEL=debug "$O/kata-agent" --cmdline-file /dev/null \
	--server-addr "unix://$sock" 2>"$dir/agent.log" &
agent=$!
trap 'kill $agent 2>/dev/null || true; wait $agent 2>/dev/null || true' EXIT

run() {
	echo
	echo "\$ kata-agent-ctl $*"
	"${ctl[@]}" "$@" || echo "(exit status $?)"
}

run check
run version
run list-methods
run ping --count 2000
echo
echo "\$ kata-agent-ctl --timeout 1 call GetOOMEvent '{}'   # waits for an OOM event; 1 s deadline"
"$O/kata-agent-ctl" --addr "unix://$sock" --timeout 1 call GetOOMEvent '{}' || true
run call CreateContainer '{"container_id":"demo"}'

echo
echo "== stopping the agent (SIGTERM)"
kill -TERM $agent
wait $agent && echo "agent exited with status 0"
trap - EXIT
echo
echo "== the agent's log (JSON lines), last 8:"
tail -n 8 "$dir/agent.log"
rm -rf "$dir"
