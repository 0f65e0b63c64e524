# shellcheck shell=bash
# SPDX-License-Identifier: Apache-2.0
# Cgroup steps of the VM test, sourced by vm-test.sh; the same steps run on cgroup v1 (the
# default) and v2 (VM_CGROUP=v2: agent.unified_cgroup_hierarchy=1).
#   cgroup_resources  memory, cpu and pids limits read back from the container's own files
#   cgroup_devices    under containerd's "deny all" the default devices work; a device the
#                     spec allows works (ttyS0: its line reaches the console), one it does
#                     not is refused by the kernel (v1 devices controller, v2 the agent's
#                     eBPF program)
#   cgroup_stats      StatsContainer reports the container's memory and pids
#   cgroup_update     UpdateContainer's new memory limit reaches the container's file
#   cgroup_pause      PauseContainer stops its output, ResumeContainer brings it back
#   cgroup_oom        a container killed by the OOM killer: GetOOMEvent names it, status 137

CG_V2=0
[ "${VM_CGROUP:-v1}" = v2 ] && CG_V2=1

# cg1 ticks on stdout; it sees its own cgroup files at /sys/fs/cgroup.
write_cgroup_spec() {
	cat >"$W/config-cg1.json" <<JSON
{
  "ociVersion": "1.0.2",
  "process": {
    "user": {"uid": 0, "gid": 0}, "env": ["PATH=/bin"], "cwd": "/",
    "args": ["sh", "-c", "while :; do echo tick; sleep 0.2; done"],
    "capabilities": {"bounding": [], "effective": [], "permitted": []}
  },
  "root": {"path": "$CTR_ROOTFS"},
  "mounts": [{"destination": "/proc", "type": "proc", "source": "proc"},
             {"destination": "/sys", "type": "sysfs", "source": "sysfs", "options": ["ro", "nosuid", "nodev", "noexec"]},
             {"destination": "/sys/fs/cgroup", "type": "cgroup", "source": "cgroup", "options": ["ro", "nosuid", "nodev", "noexec"]}],
  "linux": {
    "cgroupsPath": "/vm-test/cg1",
    "resources": {
      "memory": {"limit": 67108864},
      "cpu": {"shares": 512, "quota": 50000, "period": 100000},
      "pids": {"limit": 32},
      "devices": [{"allow": false, "access": "rwm"},
                  {"allow": true, "type": "c", "major": 4, "minor": 64, "access": "rw"}]
    },
    "devices": [{"path": "/dev/ttyS0", "type": "c", "major": 4, "minor": 64, "fileMode": 438, "uid": 0, "gid": 0},
                {"path": "/dev/ttyS1", "type": "c", "major": 4, "minor": 65, "fileMode": 438, "uid": 0, "gid": 0}],
    "namespaces": [{"type": "pid"}, {"type": "mount"}, {"type": "cgroup"}]
  }
}
JSON
}

# Runs `sh -c $1` in cg1; its output in $OUT, its exit status in $CG_RC.
CG_RC=
CG_N=0
exec_in_cg1() {
	local eid=cgx$((++CG_N)) got
	ctl_show 20 exec cg1 "$eid" -- sh -c "$1" || return 1
	ctl_show 20 read-stdout cg1 "$eid" --all || return 1
	got=$OUT
	ctl_show 20 wait cg1 "$eid" || return 1
	CG_RC=$OUT
	OUT=$got
}

# The value of a cgroup file of cg1, by controller (v1) or by name (v2).
cg_file() {
	if [ "$CG_V2" = 1 ]; then echo "/sys/fs/cgroup/$2"; else echo "/sys/fs/cgroup/$1/$3"; fi
}

expect_cg_value() {
	exec_in_cg1 "cat $1" || return 1
	[ "$CG_RC" = 0 ] || fail "cannot read $1 in the container: $OUT" || return 1
	[ "$(tr -d '\n' <<<"$OUT")" = "$2" ] || fail "$1 is '$OUT', expected '$2'" || return 1
	echo "  $1 = $2"
}

step_cgroup_resources() {
	write_cgroup_spec
	ctl_show 30 create-container --id cg1 --spec "$W/config-cg1.json" || return 1
	ctl_show 20 start-container cg1 || return 1
	expect_cg_value "$(cg_file memory memory.max memory.limit_in_bytes)" 67108864 || return 1
	if [ "$CG_V2" = 1 ]; then
		expect_cg_value /sys/fs/cgroup/cpu.max "50000 100000" || return 1
	else
		expect_cg_value /sys/fs/cgroup/cpu/cpu.cfs_quota_us 50000 || return 1
		expect_cg_value /sys/fs/cgroup/cpu/cpu.shares 512 || return 1
	fi
	expect_cg_value "$(cg_file pids pids.max pids.max)" 32
}

step_cgroup_devices() {
	exec_in_cg1 'head -c 3 /dev/zero | wc -c' || return 1
	[ "$CG_RC" = 0 ] && [ "$(tr -d ' \n' <<<"$OUT")" = 3 ] ||
		fail "/dev/zero (a default device) did not read 3 bytes: $OUT" || return 1
	echo "  /dev/zero (a default device) reads under the spec's deny-all"
	exec_in_cg1 'echo CG-DEVICE-ALLOWED-$((6*7)) >/dev/ttyS0; echo rc=$?' || return 1
	grep -q 'rc=0' <<<"$OUT" || fail "writing /dev/ttyS0 (allowed) failed: $OUT" || return 1
	local i
	for i in $(seq 20); do
		grep -q CG-DEVICE-ALLOWED-42 "$CONSOLE" && break
		sleep 0.1
	done
	grep -q CG-DEVICE-ALLOWED-42 "$CONSOLE" || fail "the line written to /dev/ttyS0 is not on the console" || return 1
	echo "  /dev/ttyS0 (allowed by the spec) writes: the line is on the console"
	exec_in_cg1 'echo x 2>&1 >/dev/ttyS1; echo rc=$?' || return 1
	grep -q 'Operation not permitted' <<<"$OUT" && grep -q 'rc=1' <<<"$OUT" ||
		fail "/dev/ttyS1 (not allowed) was not refused with EPERM: $OUT" || return 1
	echo "  /dev/ttyS1 (not in the spec's rules) is refused by the kernel: Operation not permitted"
}

step_cgroup_stats() {
	ctl_show 20 call StatsContainer '{"container_id":"cg1"}' || return 1
	tr -d ' \n' <<<"$OUT" | grep -Eq '"pids_stats":\{"current":"?[1-9]' ||
		fail "no live pids in StatsContainer" || return 1
	tr -d ' \n' <<<"$OUT" | grep -Eq '"memory_stats":\{[^}]*"usage":\{[^}]*"usage":"?[1-9]' ||
		fail "no memory usage in StatsContainer" || return 1
	echo "  StatsContainer reports the container's pids and memory usage"
}

step_cgroup_update() {
	ctl_show 20 call UpdateContainer '{"container_id":"cg1","resources":{"Memory":{"Limit":"100663296"}}}' ||
		return 1
	expect_cg_value "$(cg_file memory memory.max memory.limit_in_bytes)" 100663296
}

step_cgroup_pause() {
	ctl_show 20 call PauseContainer '{"container_id":"cg1"}' || return 1
	sleep 0.5
	ctl 1 read-stdout cg1 cg1 65536 >/dev/null 2>&1 # what was written before the freeze
	local out
	if out=$(ctl 2 read-stdout cg1 cg1 65536 2>&1); then
		fail "a paused container still writes: '$out'" || return 1
	fi
	grep -q DEADLINE_EXCEEDED <<<"$out" || fail "read-stdout: $out" || return 1
	echo "  paused: no output for 2 s"
	ctl_show 20 call ResumeContainer '{"container_id":"cg1"}' || return 1
	out=$(ctl 5 read-stdout cg1 cg1 65536 2>&1) || fail "no output after Resume: $out" || return 1
	grep -q tick <<<"$out" || fail "no tick after Resume: $out" || return 1
	echo "  resumed: it ticks again"
	ctl_show 20 signal cg1 KILL || return 1
	ctl_show 20 wait cg1 || return 1
	ctl_show 20 remove-container cg1
}

step_cgroup_oom() {
	cat >"$W/config-oom1.json" <<JSON
{
  "ociVersion": "1.0.2",
  "process": {
    "user": {"uid": 0, "gid": 0}, "env": ["PATH=/bin"], "cwd": "/",
    "args": ["sh", "-c", "x=0123456789; while :; do x=\$x\$x; done"],
    "capabilities": {"bounding": [], "effective": [], "permitted": []}
  },
  "root": {"path": "$CTR_ROOTFS"},
  "mounts": [{"destination": "/proc", "type": "proc", "source": "proc"}],
  "linux": {"cgroupsPath": "/vm-test/oom1",
            "resources": {"memory": {"limit": 33554432, "swap": 33554432}},
            "namespaces": [{"type": "pid"}, {"type": "mount"}]}
}
JSON
	ctl_show 30 create-container --id oom1 --spec "$W/config-oom1.json" || return 1
	ctl_show 20 start-container oom1 || return 1
	ctl_show 60 wait oom1 || return 1
	[ "$OUT" = 137 ] || fail "oom1 exited with $OUT, not 137 (SIGKILL)" || return 1
	# The serial port takes one host connection at a time: the event is asked for after the
	# kill (the agent queues it).
	ctl_show 20 call GetOOMEvent '{}' || return 1
	tr -d ' \n' <<<"$OUT" | grep -q '"container_id":"oom1"' ||
		fail "GetOOMEvent did not name oom1" || return 1
	echo "  the OOM killer's kill of oom1 is reported by GetOOMEvent with its id"
	ctl_show 20 remove-container oom1
}
