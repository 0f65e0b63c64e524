#!/usr/bin/env bash
# The main job, for now: start the agent on a local socket and drive it with kata-agent-ctl:
# health, a pod with a real container (as root), exec into it, its output, its exit.
# (The guest-image demo, booting the agent as PID 1 of a VM, comes with the guest issue.)
# Usage: tools/demo.sh [BUILD_DIR]
set -euo pipefail
O=${1:-build}
dir=$(mktemp -d /tmp/kata-demo.XXXXXX)
sock="$dir/agent.sock"
ctl=("$O/kata-agent-ctl" --addr "unix://$sock" --timeout 5)

payload="$O/tests/payload/payload"
containers=0
if [ "$(id -u)" = 0 ] && [ -x "$payload" ] && command -v unshare >/dev/null; then
	containers=1
fi

echo "== starting $O/kata-agent on unix://$sock (logs in $dir/agent.log)"
# The pod's shared directory, as the runtime fills it: the agent sees it at
# /run/kata-containers/shared/containers (where it confines container roots), the host here.
share="$dir/share"
mkdir -p "$share"
if [ $containers = 1 ]; then
	# Its own mount namespace with a private /run: the pod's mounts stay out of the host's.
	# shellcheck disable=SC2016 # expanded by the inner shell
	KATA_AGENT_LOG_LEVEL=debug SHARE="$share" unshare -m --propagation private sh -c \
		'mount -t tmpfs -o mode=755 tmpfs /run &&
		mkdir -p /run/kata-containers/shared/containers &&
		mount --bind "$SHARE" /run/kata-containers/shared/containers && exec "$@"' sh \
		"$O/kata-agent" --cmdline-file /dev/null --server-addr "unix://$sock" \
		2>"$dir/agent.log" &
else
	KATA_AGENT_LOG_LEVEL=debug "$O/kata-agent" --cmdline-file /dev/null \
		--server-addr "unix://$sock" 2>"$dir/agent.log" &
fi
agent=$!
trap 'kill $agent 2>/dev/null || true; wait $agent 2>/dev/null || true; rm -rf "$dir"' EXIT
for _ in $(seq 100); do [ -S "$sock" ] && break; sleep 0.05; done

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
run call CreateContainer '{"container_id":"bad id"}'

if [ $containers = 1 ]; then
	echo
	echo "== a pod with one container: the static test payload in a rootfs of its own, in the"
	echo "   pod's shared directory as the runtime puts it (the agent confines roots to it)"
	bundle=$share/demo
	mkdir -p "$bundle/rootfs/bin" "$bundle/rootfs/proc" "$bundle/rootfs/dev"
	cp "$payload" "$bundle/rootfs/bin/payload"
	cat >"$bundle/config.json" <<JSON
{
  "ociVersion": "1.0.2",
  "process": {
    "user": {"uid": 0, "gid": 0},
    "args": ["/bin/payload", "echo", "hello from the container", "--", "report", "--",
             "sleep", "30"],
    "env": ["PATH=/bin"],
    "cwd": "/",
    "capabilities": {
      "bounding": ["CAP_CHOWN", "CAP_KILL", "CAP_NET_BIND_SERVICE"],
      "effective": ["CAP_CHOWN", "CAP_KILL", "CAP_NET_BIND_SERVICE"],
      "permitted": ["CAP_CHOWN", "CAP_KILL", "CAP_NET_BIND_SERVICE"]
    },
    "noNewPrivileges": true
  },
  "root": {"path": "rootfs", "readonly": true},
  "hostname": "demo",
  "mounts": [{"destination": "/proc", "type": "proc", "source": "proc"}],
  "linux": {
    "cgroupsPath": "/kata-demo/demo",
    "resources": {"memory": {"limit": 67108864}, "pids": {"limit": 64}},
    "namespaces": [{"type": "pid"}, {"type": "mount"}, {"type": "ipc"}, {"type": "uts"}],
    "maskedPaths": ["/proc/kcore", "/proc/keys"],
    "readonlyPaths": ["/proc/sys"]
  }
}
JSON
	run create-sandbox --hostname demo-pod --dns "nameserver 10.0.0.10"
	run create-container --id demo --bundle "$bundle" \
		--rootfs /run/kata-containers/shared/containers/demo/rootfs
	run start-container demo
	echo
	echo "\$ kata-agent-ctl read-stdout demo demo 65536   # the container's first output"
	"${ctl[@]}" read-stdout demo demo 65536 | sed -n '1,6p;/^cap_eff/p;/^no_new_privs/p;/^mount=\/ /p'
	run exec demo probe -- /bin/payload echo "hello from an exec"
	run read-stdout demo probe --all
	run wait demo probe
	run exec demo bad -- /no/such/program
	run signal demo KILL
	run wait demo
	run remove-container demo
	run destroy-sandbox
	sleep 0.2
	# The container's cgroup went with it; its parent is the demo's to remove.
	rmdir /sys/fs/cgroup/*/kata-demo /sys/fs/cgroup/kata-demo 2>/dev/null || true
fi

echo
if kill -0 $agent 2>/dev/null; then
	echo "== stopping the agent (SIGTERM)"
	kill -TERM $agent
fi
wait $agent && echo "agent exited with status 0"
trap - EXIT
echo
echo "== the agent's log (JSON lines), last 8:"
tail -n 8 "$dir/agent.log"
rm -rf "$dir"
