# shellcheck shell=bash disable=SC2034 # CPUSET_SMP_OPTS is used by vm-test.sh
# SPDX-License-Identifier: Apache-2.0
# cpuset and core-limit steps of the VM test, sourced by vm-test.sh (cgroup v1 and v2).
#   core_limits     a container gets its spec's RLIMIT_CORE (1024/4096), one without gets
#                   the kernel's default for init (0/unlimited), read from /proc/self/limits
#   cpuset_hotplug  q35 only (QEMU -smp 1,maxcpus=2): pinned containers, a CPU hot-added
#                   through QMP, OnlineCPUMem; the guest's cpuset files and the affinity of
#                   each container's task, read through the debug console: the pin holds,
#                   the container that asked for both CPUs gets them, the one that asked for
#                   none is left alone, the parent is widened, and an OnlineCPUMem with
#                   nothing to online shrinks nothing

# One CPU at boot and room for a second (q35 hot-plugs CPUs; microvm cannot).
CPUSET_SMP_OPTS=
[ "${VM_MACHINE:-microvm}" = q35 ] && CPUSET_SMP_OPTS=${VM_CPUSET_SMP_OPTS-,maxcpus=2}

# A busybox container running $2 (sh -c), with the JSON $3 as linux.resources and $4 as
# process.rlimits (both may be empty).
write_cpuset_spec() {
	cat >"$W/config-$1.json" <<JSON
{
  "ociVersion": "1.0.2",
  "process": {
    "user": {"uid": 0, "gid": 0}, "env": ["PATH=/bin"], "cwd": "/",
    "args": ["sh", "-c", "$2"],
    "rlimits": [${4:-}],
    "capabilities": {"bounding": [], "effective": [], "permitted": []}
  },
  "root": {"path": "$CTR_ROOTFS"},
  "mounts": [{"destination": "/proc", "type": "proc", "source": "proc"}],
  "linux": {"cgroupsPath": "/vm-test/$1",
            "resources": {${3:-}},
            "namespaces": [{"type": "pid"}, {"type": "mount"}]}
}
JSON
}

# Runs a shell snippet in the guest's debug console (agent.debug_console) and puts the lines
# it prints in $OUT. The typed line is echoed on the console too: the tag that marks the
# answer ("<tag>0") is only spelled out by the guest's shell.
GSH_N=0
guest_sh() {
	local tag="GSH$((++GSH_N))T" _
	# shellcheck disable=SC2016 # expanded by the guest's shell
	printf '( %s ) 2>&1 | while IFS= read -r l; do echo "%s$((0)) $l"; done; echo "%s$((0))END"\n' \
		"$1" "$tag" "$tag" | socat -t 1 - "UNIX-CONNECT:$W/console.sock" >/dev/null 2>&1
	for _ in $(seq 100); do
		grep -aq "${tag}0END" "$CONSOLE" && break
		sleep 0.1
	done
	grep -aq "${tag}0END" "$CONSOLE" || fail "no answer from the debug console to: $1" || return 1
	OUT=$(grep -ao "${tag}0 .*" "$CONSOLE" | sed "s/^${tag}0 //" | tr -d '\r')
}

step_core_limits() {
	local show='grep \"Max core\" /proc/self/limits'
	write_cpuset_spec core1 "$show" '' '{"type": "RLIMIT_CORE", "hard": 4096, "soft": 1024}'
	write_cpuset_spec core2 "$show" '' ''
	local c want got
	for c in core1 core2; do
		ctl_show 30 create-container --id $c --spec "$W/config-$c.json" || return 1
		ctl_show 20 start-container $c || return 1
		ctl_show 20 read-stdout $c $c --all || return 1
		got=$(tr -s ' ' <<<"$OUT" | sed 's/ *$//')
		ctl_show 20 wait $c || return 1
		ctl_show 20 remove-container $c || return 1
		want="Max core file size 1024 4096 bytes"
		[ $c = core2 ] && want="Max core file size 0 unlimited bytes"
		[ "$got" = "$want" ] || fail "$c: '$got', expected '$want'" || return 1
		echo "  $c: $want"
	done
}

# What the guest says about the cpusets: lines "NAME cpus=LIST eff=LIST" for /vm-test and
# its three containers, "NAME task=LIST" (Cpus_allowed_list of the container's task), and
# "online=LIST".
cpuset_look() {
	local d=/sys/fs/cgroup/cpuset
	[ "$CG_V2" = 1 ] && d=/sys/fs/cgroup
	guest_sh "cd $d/vm-test && for c in . cs-pin cs-all cs-none; do echo \"\$c cpus=\$(cat \$c/cpuset.cpus) eff=\$(cat \$c/cpuset.effective_cpus \$c/cpuset.cpus.effective 2>/dev/null)\"; done; for c in cs-pin cs-all cs-none; do p=\$(head -n1 \$c/cgroup.procs); while read -r k v; do [ \"\$k\" = Cpus_allowed_list: ] && echo \"\$c task=\$v\"; done </proc/\$p/status; done; echo online=\$(cat /sys/devices/system/cpu/online)" ||
		return 1
	local l
	while IFS= read -r l; do echo "    $l"; done <<<"$OUT"
}

# FAILs unless the last cpuset_look printed the line $1.
cpuset_expect() {
	grep -qx -- "$1" <<<"$OUT" || fail "expected '$1' in the guest's cpusets" || return 1
}

step_cpuset_hotplug() {
	[ "$MACHINE" = q35 ] || {
		skip "CPU hot-plug needs q35 (VM_MACHINE=q35)"
		return
	}
	local forever='while :; do sleep 1; done'
	write_cpuset_spec cs-pin "$forever" '"cpu": {"cpus": "0"}'
	write_cpuset_spec cs-all "$forever" '"cpu": {"cpus": "0-1"}'
	write_cpuset_spec cs-none "$forever" '"cpu": {"shares": 512}'
	local c
	for c in cs-pin cs-all cs-none; do
		ctl_show 30 create-container --id $c --spec "$W/config-$c.json" || return 1
		ctl_show 20 start-container $c || return 1
	done
	# Nothing to online: nothing may shrink (v2 takes cs-all's 0-1 at create; v1 refuses it
	# while CPU 1 is absent, and cs-all got its parent's 0).
	ctl_show 20 call OnlineCPUMem '{"nb_cpus":1,"cpu_only":true}' || return 1
	cpuset_look || return 1
	local before_none all_before=0
	[ "$CG_V2" = 1 ] && all_before=0-1
	# What the agent may write: cpuset.cpus (on v2 the kernel widens the effective set).
	before_none=$(grep '^cs-none cpus=' <<<"$OUT" | sed 's/ eff=.*//')
	cpuset_expect "online=0" || return 1
	cpuset_expect "cs-pin cpus=0 eff=0" || return 1
	cpuset_expect "cs-all cpus=$all_before eff=0" || return 1
	echo "  $(grep -c . <<<"$OUT") lines; an OnlineCPUMem with nothing to do changed nothing"

	echo "  QMP: device_add of the second CPU"
	qmp '{"execute":"query-hotpluggable-cpus"}' >"$W/qmp-cpus.out" 2>&1
	local props add
	# The slot that has no qom-path is the empty one.
	props=$(grep -o '{"props": {[^}]*}, "vcpus-count": 1, "type": "[^"]*"}' "$W/qmp-cpus.out" | head -n1)
	[ -n "$props" ] || {
		cat "$W/qmp-cpus.out"
		fail "no empty CPU slot in query-hotpluggable-cpus"
		return 1
	}
	add=$(sed -E 's/^\{"props": \{([^}]*)\}, "vcpus-count": 1, "type": "([^"]*)"\}$/{"execute":"device_add","arguments":{"driver":"\2","id":"cpu1",\1}}/' <<<"$props")
	qmp "$add" >"$W/qmp-add.out" 2>&1
	grep -q '"error"' "$W/qmp-add.out" && {
		cat "$W/qmp-add.out"
		fail "QMP refused the CPU"
		return 1
	}
	ctl_show 30 call OnlineCPUMem '{"nb_cpus":2,"cpu_only":true}' || return 1
	cpuset_look || return 1
	cpuset_expect "online=0-1" || return 1
	cpuset_expect "cs-pin cpus=0 eff=0" || return 1
	cpuset_expect "cs-pin task=0" || return 1
	cpuset_expect "cs-all cpus=0-1 eff=0-1" || return 1
	cpuset_expect "cs-all task=0-1" || return 1
	grep -q -- "^$before_none eff=" <<<"$OUT" || fail "cs-none (no cpus asked) was changed" || return 1
	# The parent: every online CPU (v2: an empty cpuset.cpus is its parent's, all of them).
	grep -Eqx -- '\. cpus=(0-1)? eff=0-1' <<<"$OUT" || fail "/vm-test was not widened" || return 1
	echo "  the pin holds (cgroup and task), cs-all got both CPUs, /vm-test was widened"
	for c in cs-pin cs-all cs-none; do
		ctl_show 20 signal $c KILL || return 1
		ctl_show 20 wait $c || return 1
		ctl_show 20 remove-container $c || return 1
	done
}
