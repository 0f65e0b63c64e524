#!/usr/bin/env bash
# SPDX-License-Identifier: Apache-2.0
# End-to-end test of the agent as PID 1 of a real VM: boots the guest built by
# tools/mkinitrd.sh (make initrd) under QEMU and drives the agent from the host with
# kata-agent-ctl over a virtio-serial port: health, a sandbox, a busybox container, its
# output, an exec, signals, removal, and the power-off that follows DestroySandbox.
#
# Usage: tests/vm/vm-test.sh [BUILD_DIR]          (default: build)
# Environment: VM_ACCEL=tcg|kvm (default: kvm only with kvm_intel/kvm_amd loaded),
#              VM_MEM (default 512M), VM_KEEP=1 keeps the work directory,
#              VM_CMDLINE_EXTRA appended to the kernel command line,
#              VM_CGROUP=v2 runs the guest on cgroup v2 only (agent.unified_cgroup_hierarchy=1),
#              VM_IMAGE=systemd boots the systemd image of tools/mkimage.sh (make image) instead:
#              systemd is PID 1 and starts the agent through kata-agent.service.
#
# Pass/fail is judged by the agent's answers and the console log, never by QEMU's exit
# status (QEMU exits 0 on a guest panic too). To add a step: write a function step_NAME
# that returns non-zero on failure (use `fail MSG`; `skip WHY` when it cannot run here),
# and list it in STEPS below.
set -uo pipefail

O=${1:-build}
GUEST=$O/guest
CTL=$O/kata-agent-ctl
BOOT_TIMEOUT=90     # s, QEMU start to the first good Check
POWEROFF_TIMEOUT=30 # s, DestroySandbox to QEMU's exit
CID=c1              # the container

STEPS=(boot_baseline boot check trace_spans debug_console create_sandbox create_container start_container read_output
	exec_process passfd_exec passfd_container passfd_missing exec_namespaces exec_cgroup cgroup_resources cgroup_devices cgroup_stats
	cgroup_update cgroup_pause cgroup_oom core_limits cpuset_hotplug hotplug_disk hotplug_never vfio_hotplug storage_scsi
	device_scsi storage_scsi_boot storage_9p storage_nvdimm storage_virtiofs kernel_module
	sandbox_hotplug resize_volume add_swap nic_hotplug create_filesystem ephemeral_resize memcg_reclaim signal_kill remove_container destroy_sandbox poweroff trace_root console_clean)
# VM_STEPS="boot check ..." runs those steps only (bench/passfd-vm.sh).
[ -z "${VM_STEPS:-}" ] || read -ra STEPS <<<"$VM_STEPS"
# VM_MACHINE=q35 adds PCI hot-plug (two root ports, QMP); microvm has no PCI.
MACHINE=${VM_MACHINE:-microvm}
# The guest flavour: initrd (the agent is PID 1 of build/guest/initrd.cpio) or systemd (a
# Debian image on virtio-blk, build/image/, booted through its own small initramfs).
IMAGE=${VM_IMAGE:-initrd}
IMGDIR=$O/image
# systemd's own start-up (about 20 s of TCG on a busy 2-core machine) comes before the agent's.
[ "$IMAGE" = systemd ] && BOOT_TIMEOUT=180

W=$(mktemp -d /tmp/kata-vm-test.XXXXXX)
CONSOLE=$W/console.log
SOCK=$W/agent.sock
QEMU_PID=
WATCH_PID=
T_QEMU=

now_ms() { echo $(($(date +%s%N) / 1000000)); }
since() { echo $(($(now_ms) - $1)); }
ms_to_s() { printf '%d.%03d' $(($1 / 1000)) $(($1 % 1000)); }
say() { echo "vm-test: $*"; }
fail() {
	echo "vm-test:   FAIL: $*" >&2
	return 1
}
# A step that cannot run on this machine says why and returns SKIP_RC: reported SKIP, not PASS.
SKIP_RC=77
skip() {
	echo "  skipped: $*"
	return $SKIP_RC
}

# kata-agent-ctl against the VM's agent; the first argument is the per-call timeout (s).
ctl() {
	local t=$1
	shift
	"$CTL" --addr "serial://$SOCK" --timeout "$t" "$@"
}

# Runs ctl, shows the command and its output (indented), keeps the output in $OUT.
OUT=
ctl_show() {
	local t=$1
	shift
	echo "  \$ kata-agent-ctl --timeout $t $(printf '%q ' "$@")"
	OUT=$(ctl "$t" "$@" 2>&1)
	local rc=$?
	[ -z "$OUT" ] || sed 's/^/    /' <<<"$OUT"
	return $rc
}

cleanup() {
	[ -z "$WATCH_PID" ] || kill "$WATCH_PID" 2>/dev/null
	[ -z "${VFS_PID:-}" ] || kill "$VFS_PID" 2>/dev/null
	[ -z "${TRACE_FWD_PID:-}" ] || kill "$TRACE_FWD_PID" 2>/dev/null
	if [ -n "$QEMU_PID" ] && kill -0 "$QEMU_PID" 2>/dev/null; then
		kill "$QEMU_PID" 2>/dev/null
		for _ in $(seq 20); do kill -0 "$QEMU_PID" 2>/dev/null || break; sleep 0.1; done
		kill -9 "$QEMU_PID" 2>/dev/null
		wait "$QEMU_PID" 2>/dev/null
	fi
	# The work directory goes, also after a failure (whose console tail was printed);
	# VM_KEEP=1 keeps it for a closer look.
	if [ "${VM_KEEP:-0}" = 1 ]; then
		say "work directory kept: $W (console log: $CONSOLE)"
	else
		rm -rf "$W"
	fi
}
trap cleanup EXIT
trap 'exit 130' INT TERM

# --- the VM ----------------------------------------------------------------------------------
pick_accel() {
	if [ -n "${VM_ACCEL:-}" ]; then
		echo "$VM_ACCEL"
	elif [ -c /dev/kvm ] && { [ -d /sys/module/kvm_intel ] || [ -d /sys/module/kvm_amd ]; }; then
		echo kvm # kvm_pvm (nested paravirtual) hangs Debian's kernel: TCG there
	else
		echo tcg
	fi
}

# The guest TSC runs at the host's rate under TCG; microvm cannot always calibrate it.
host_khz() {
	awk -F: '/^cpu MHz/ { printf "%d\n", $2 * 1000; exit }' /proc/cpuinfo
}

step_boot() {
	local accel cpu khz append
	accel=$(pick_accel)
	cpu=max
	[ "$accel" = kvm ] && cpu=host
	khz=$(host_khz)
	storage_boot_args || return 1
	sandbox_boot_args || return 1
	trace_boot_args || return 1
	append="console=ttyS0 panic=-1 quiet rdinit=/init agent.log=debug agent.hotplug_timeout=5s"
	append+=" agent.server_addr=serial:///dev/virtio-ports/agent.channel.0 agent.debug_console"
	append+=" agent.passfd_listener_port=$PASSFD_PORT"
	[ -n "$khz" ] && append+=" tsc_early_khz=$khz"
	local initrd=$GUEST/initrd.cpio root_args=() root_dev=virtio-blk-device
	if [ "$IMAGE" = systemd ]; then
		# One token sets both systemd's cgroup mode and the agent's.
		initrd=$IMGDIR/initrd.cpio
		append+=" root=/dev/vda ro systemd.unit=kata-containers.target"
		append+=" systemd.unified_cgroup_hierarchy=$CG_V2"
		[ "$MACHINE" = q35 ] && root_dev=virtio-blk-pci,bus=pcie.0,addr=0x4
		root_args=(-drive "file=$IMGDIR/rootfs.img,if=none,id=root,format=raw,readonly=on"
			-device "$root_dev,drive=root")
	elif [ "$CG_V2" = 1 ]; then
		# The mem agent too: its memcg reclaim needs per-cgroup PSI (steps-ephem.sh).
		append+=" agent.unified_cgroup_hierarchy=1 agent.mem_agent_enable=1"
	fi
	append+="$TRACE_APPEND ${VM_CMDLINE_EXTRA:-}"
	say "  image $IMAGE, machine $MACHINE, accel $accel, cpu $cpu, memory ${VM_MEM:-512M}, kernel $(cat "$GUEST/kernel-version")"
	say "  cmdline: $append"
	T_QEMU=$(now_ms)
	local machine_args=(-M "microvm,accel=$accel$STORAGE_MACHINE_OPTS" -global virtio-mmio.force-legacy=false)
	local vser=virtio-serial-device
	if [ "$MACHINE" = q35 ]; then
		# Two hot-plug slots: root ports at 00:05.0 and 00:06.0 (PCI paths 05/00, 06/00).
		# intel-iommu and rp3 (00:09.0, PCI path 09/00): for steps-vfio.sh.
		append+=" intel_iommu=on"
		# A hot-pluggable second CPU (steps-cpuset.sh) makes a loaded TCG host fail the IO-APIC
		# timer check ("timer doesn't work through Interrupt-remapped IO-APIC"): skipped, as
		# the Kata runtime's kernel parameters do.
		[ -z "$CPUSET_SMP_OPTS" ] || append+=" no_timer_check"
		machine_args=(-M "q35,accel=$accel$STORAGE_MACHINE_OPTS" -device intel-iommu
			-device pcie-root-port,id=rp3,bus=pcie.0,addr=0x9,chassis=3
			-device pcie-root-port,id=rp1,bus=pcie.0,addr=0x5,chassis=1
			-device pcie-root-port,id=rp2,bus=pcie.0,addr=0x6,chassis=2
			-qmp "unix:$W/qmp.sock,server=on,wait=off")
		vser=virtio-serial-pci
	fi
	qemu-system-x86_64 "${machine_args[@]}" "${root_args[@]}" "${STORAGE_QEMU_ARGS[@]}" \
		"${SANDBOX_QEMU_ARGS[@]}" -cpu "$cpu" \
		-m "${VM_MEM:-512M}$STORAGE_MEM_OPTS" -smp "1$CPUSET_SMP_OPTS" \
		-nodefaults -no-user-config -display none -no-reboot \
		-chardev "socket,id=con,path=$W/console.sock,server=on,wait=off,logfile=$CONSOLE" \
		-serial chardev:con \
		-kernel "$GUEST/vmlinux" -initrd "$initrd" -append "$append" \
		-device "$vser,id=vser0" \
		-chardev "socket,id=agent,path=$SOCK,server=on,wait=off" \
		-device virtserialport,bus=vser0.0,chardev=agent,name=agent.channel.0 \
		"${TRACE_QEMU_ARGS[@]}" \
		>"$W/qemu.log" 2>&1 &
	QEMU_PID=$!
	watch_ready &
	WATCH_PID=$!
	for _ in $(seq 100); do
		[ -S "$SOCK" ] && return 0
		kill -0 "$QEMU_PID" 2>/dev/null || break
		sleep 0.05
	done
	cat "$W/qemu.log" >&2
	fail "QEMU did not create $SOCK"
}

# The same kernel and initramfs under the same machine, with /sbin/boot-probe as init (it
# prints a line and powers off): the boot the agent cannot make faster, for the summary.
step_boot_baseline() {
	local accel cpu=max khz append m=microvm,accel= extra=(-global virtio-mmio.force-legacy=false)
	accel=$(pick_accel)
	[ "$accel" = kvm ] && cpu=host
	khz=$(host_khz)
	[ "$MACHINE" = q35 ] && m=q35,accel= extra=()
	append="console=ttyS0 panic=-1 quiet rdinit=/sbin/boot-probe"
	[ -n "$khz" ] && append+=" tsc_early_khz=$khz"
	local t0 log=$W/baseline.log
	t0=$(now_ms)
	timeout 60 qemu-system-x86_64 -M "$m$accel" "${extra[@]}" -cpu "$cpu" -m "${VM_MEM:-512M}" -smp 1 \
		-nodefaults -no-user-config -display none -no-reboot -serial "file:$log" \
		-kernel "$GUEST/vmlinux" -initrd "$GUEST/initrd.cpio" -append "$append" \
		>"$W/baseline-qemu.log" 2>&1 &
	local pid=$!
	while kill -0 $pid 2>/dev/null; do
		if [ -z "${BASE_MS:-}" ] && grep -q KATA-BOOT-PROBE-UP "$log" 2>/dev/null; then
			BASE_MS=$(since "$t0")
		fi
		sleep 0.02
	done
	wait $pid
	[ -n "${BASE_MS:-}" ] || grep -q KATA-BOOT-PROBE-UP "$log" ||
		fail "the trivial init printed nothing: $(tail -n 5 "$log" "$W/baseline-qemu.log")" || return 1
	[ -n "${BASE_MS:-}" ] || BASE_MS=$(since "$t0")
	say "  QEMU start to the trivial init's line: $(ms_to_s "$BASE_MS") s"
}

qemu_alive() { kill -0 "$QEMU_PID" 2>/dev/null; }

# Notes (host clock) when the agent's readiness line reaches the console: the Check retries
# below only see it to within their 1 s deadline.
watch_ready() {
	local end=$(($(now_ms) + BOOT_TIMEOUT * 1000))
	while [ "$(now_ms)" -lt "$end" ]; do
		if grep -q '"msg":"agent ready after' "$CONSOLE" 2>/dev/null; then
			since "$T_QEMU" >"$W/ready-ms"
			return
		fi
		sleep 0.05
	done
}

# The storage drivers' steps (storage_*) and their QEMU devices (storage_boot_args).
# shellcheck source=tests/vm/steps-storage.sh
source "$(dirname "${BASH_SOURCE[0]}")/steps-storage.sh"
# VFIO: vfio_hotplug, with the IOMMU and root port step_boot adds on q35.
# shellcheck source=tests/vm/steps-vfio.sh
source "$(dirname "${BASH_SOURCE[0]}")/steps-vfio.sh"
# Resources, devices, stats, update, pause and OOM on cgroup v1 or v2 (cgroup_*).
# shellcheck source=tests/vm/steps-cgroup.sh
source "$(dirname "${BASH_SOURCE[0]}")/steps-cgroup.sh"
# CreateSandbox's waits and kernel modules, AddSwap (sandbox_*, add_swap, kernel_module).
# shellcheck source=tests/vm/steps-sandbox.sh
source "$(dirname "${BASH_SOURCE[0]}")/steps-sandbox.sh"
# passfd I/O over vsock_loopback, the host's side played in the guest (passfd_*).
# shellcheck source=tests/vm/steps-passfd.sh
source "$(dirname "${BASH_SOURCE[0]}")/steps-passfd.sh"
# agent.trace to the host through trace-forward (trace_spans, trace_root).
# shellcheck source=tests/vm/steps-trace.sh
source "$(dirname "${BASH_SOURCE[0]}")/steps-trace.sh"
# UpdateEphemeralMounts resizing an ephemeral tmpfs (ephemeral_resize); MGLRU memcg reclaim
# by the mem agent (memcg_reclaim).
# shellcheck source=tests/vm/steps-ephem.sh
source "$(dirname "${BASH_SOURCE[0]}")/steps-ephem.sh"
# Core limits, and cpusets across a CPU hot-add (core_limits, cpuset_hotplug).
# shellcheck source=tests/vm/steps-cpuset.sh
source "$(dirname "${BASH_SOURCE[0]}")/steps-cpuset.sh"

# --- the steps -------------------------------------------------------------------------------
step_check() {
	local deadline=$(($(now_ms) + BOOT_TIMEOUT * 1000)) tries=0
	while [ "$(now_ms)" -lt "$deadline" ]; do
		qemu_alive || fail "QEMU exited during boot" || return 1
		tries=$((tries + 1))
		# A short deadline: a Check sent before the agent listens goes unanswered.
		if OUT=$(ctl 1 check 2>&1) && grep -q SERVING <<<"$OUT"; then
			BOOT_MS=$(since "$T_QEMU")
			say "  first good Check after $(ms_to_s "$BOOT_MS") s from QEMU start ($tries tries): $(tr -d ' \n' <<<"$OUT")"
			local ready
			ready=$(grep -o '"msg":"agent ready after [0-9]* ms"' "$CONSOLE" | head -n1)
			[ -z "$ready" ] || say "  console: $ready (of the agent's own clock)"
			sleep 0.1 # let the watcher note it
			[ ! -s "$W/ready-ms" ] || READY_MS=$(cat "$W/ready-ms")
			[ -z "${READY_MS:-}" ] ||
				say "  readiness line on the console $(ms_to_s "$READY_MS") s after QEMU start"
			return 0
		fi
		sleep 0.2
	done
	fail "no good Check within $BOOT_TIMEOUT s (last answer: $OUT)"
}

# With virtiofsd, the pod's shared directory comes as the runtime sends it: a virtio-fs storage.
step_create_sandbox() {
	local shared
	shared=$(virtiofs_sandbox_storage)
	ctl_show 20 create-sandbox --hostname vm-pod \
		--kernel-module '{"name":"dummy","parameters":["numdummies=3"]}' \
		${shared:+--storage "$shared"}
}

write_spec() {
	cat >"$W/config.json" <<JSON
{
  "ociVersion": "1.0.2",
  "process": {
    "user": {"uid": 0, "gid": 0},
    "args": ["sh", "-c", "echo hello from the VM; cat /proc/self/status | grep -i ^cap; sleep 600"],
    "env": ["PATH=/bin", "HOME=/"],
    "cwd": "/",
    "capabilities": {
      "bounding": ["CAP_CHOWN", "CAP_DAC_OVERRIDE", "CAP_KILL", "CAP_NET_BIND_SERVICE", "CAP_SETUID", "CAP_SETGID"],
      "effective": ["CAP_CHOWN", "CAP_DAC_OVERRIDE", "CAP_KILL", "CAP_NET_BIND_SERVICE", "CAP_SETUID", "CAP_SETGID"],
      "permitted": ["CAP_CHOWN", "CAP_DAC_OVERRIDE", "CAP_KILL", "CAP_NET_BIND_SERVICE", "CAP_SETUID", "CAP_SETGID"]
    },
    "noNewPrivileges": true
  },
  "root": {"path": "$CTR_ROOTFS", "readonly": false},
  "hostname": "vm-ctr",
  "mounts": [{"destination": "/proc", "type": "proc", "source": "proc"}],
  "linux": {
    "cgroupsPath": "/vm-test/c1",
    "resources": {"memory": {"limit": 67108864}, "pids": {"limit": 64}},
    "namespaces": [{"type": "pid"}, {"type": "mount"}, {"type": "ipc"}, {"type": "uts"}]
  }
}
JSON
}

# root.path is absolute: kata-agent-ctl passes it on unchanged, a GUEST path.
step_create_container() {
	write_spec
	ctl_show 30 create-container --id "$CID" --spec "$W/config.json"
}

step_start_container() {
	ctl_show 20 start-container "$CID"
}

# Reads the container's stdout until the greeting shows up (each read blocks for new data).
step_read_output() {
	local deadline=$(($(now_ms) + 30000)) chunk
	: >"$W/$CID.out"
	while [ "$(now_ms)" -lt "$deadline" ]; do
		chunk=$(ctl 20 read-stdout "$CID" "$CID" 65536 2>&1) || fail "read-stdout: $chunk" || return 1
		printf '%s\n' "$chunk" >>"$W/$CID.out"
		if grep -q "hello from the VM" "$W/$CID.out" && grep -qi '^capamb' "$W/$CID.out"; then
			sed 's/^/    /' "$W/$CID.out"
			check_caps "$W/$CID.out"
			return
		fi
	done
	sed 's/^/    /' "$W/$CID.out"
	fail "no 'hello from the VM' and capability lines within 30 s"
}

# The spec grants CHOWN DAC_OVERRIDE KILL SETGID SETUID NET_BIND_SERVICE: bits 0 1 5 6 7 10.
check_caps() {
	local want=00000000000004e3 f
	for f in CapBnd CapPrm CapEff; do
		grep -qx "$f:[[:space:]]*$want" "$1" || fail "$f is not $want" || return 1
	done
	grep -qx "CapInh:[[:space:]]*0000000000000000" "$1" || fail "CapInh is not empty" || return 1
	grep -qx "CapAmb:[[:space:]]*0000000000000000" "$1" || fail "CapAmb is not empty"
}

step_exec_process() {
	ctl_show 20 exec "$CID" e1 -- echo exec-ok || return 1
	ctl_show 20 read-stdout "$CID" e1 --all || return 1
	grep -qx exec-ok <<<"$OUT" || fail "exec output is '$OUT', not 'exec-ok'" || return 1
	ctl_show 20 wait "$CID" e1 || return 1
	[ "$OUT" = 0 ] || fail "exec exit status $OUT, expected 0"
}

# An exec joins the container's namespaces: the pod's shared UTS namespace (so the sandbox's
# hostname: the spec's hostname applies only to a new UTS namespace, never in a pod), and the
# container's PID namespace, whose PID 1 is its init (sh, or sleep once sh exec'd its last
# command), not the agent.
# agent.debug_console: a shell on the serial console; type into it, read its answer in the log.
step_debug_console() {
	local i
	for i in $(seq 50); do
		printf 'echo CONSOLE-$((6*7))\n' |
			socat -t 1 - "UNIX-CONNECT:$W/console.sock" >/dev/null 2>&1
		if grep -q 'CONSOLE-42' "$CONSOLE"; then
			echo "  the debug console shell answered on the serial console"
			return 0
		fi
		sleep 0.2
	done
	fail "no answer from the debug console shell"
}

step_exec_namespaces() {
	ctl_show 20 exec "$CID" e2 -- sh -c 'hostname; echo "pid1=$(cat /proc/1/comm)"' || return 1
	ctl_show 20 read-stdout "$CID" e2 --all || return 1
	local got=$OUT
	ctl_show 20 wait "$CID" e2 || return 1
	[ "$OUT" = 0 ] || fail "exec exit status $OUT, expected 0" || return 1
	grep -qx vm-pod <<<"$got" || fail "hostname is not the sandbox's vm-pod" || return 1
	grep -Eqx 'pid1=(sh|sleep)' <<<"$got" || fail "PID 1 of the container is not its init"
}

# The container lives in its cgroupsPath, in the hierarchies the agent mounted at boot.
step_exec_cgroup() {
	ctl_show 20 exec "$CID" e3 -- cat /proc/self/cgroup || return 1
	ctl_show 20 read-stdout "$CID" e3 --all || return 1
	local got=$OUT
	ctl_show 20 wait "$CID" e3 || return 1
	[ "$OUT" = 0 ] || fail "exec exit status $OUT, expected 0" || return 1
	if [ "$got" = "0::/" ]; then
		# cgroup v2 (agent.unified_cgroup_hierarchy=1): the container has its own cgroup
		# namespace, rooted at its cgroup, so the path cannot be seen from inside.
		say "  cgroup v2 with a cgroup namespace: the container sees itself at its root"
		return 0
	fi
	grep -Eq '^[0-9]+:([^:]*,)?memory(,[^:]*)?:/vm-test/c1$|^0::/vm-test/c1$' <<<"$got" ||
		fail "the exec is not in the memory cgroup /vm-test/c1" || return 1
	grep -Eq '^[0-9]+:([^:]*,)?pids(,[^:]*)?:/vm-test/c1$|^0::/vm-test/c1$' <<<"$got" ||
		fail "the exec is not in the pids cgroup /vm-test/c1"
}

# QMP commands to QEMU (q35 only): each line one JSON command; prints the answers.
qmp() {
	{
		echo '{"execute":"qmp_capabilities"}'
		for c in "$@"; do
			echo "$c"
			sleep 0.3
		done
		sleep 0.5
	} | socat -t 2 - "UNIX-CONNECT:$W/qmp.sock"
}

write_hotplug_spec() {
	cat >"$W/config-$1.json" <<JSON
{
  "ociVersion": "1.0.2",
  "process": {
    "user": {"uid": 0, "gid": 0},
    "args": ["sh", "-c", "echo on-the-disk > /data/f && cat /data/f && echo hp-ok"],
    "env": ["PATH=/bin"], "cwd": "/",
    "capabilities": {"bounding": ["CAP_CHOWN"], "effective": ["CAP_CHOWN"], "permitted": ["CAP_CHOWN"]}
  },
  "root": {"path": "$CTR_ROOTFS"},
  "mounts": [{"destination": "/proc", "type": "proc", "source": "proc"},
             {"destination": "/data", "type": "bind", "source": "/run/kata-containers/sandbox/storage/$1", "options": ["rbind"]}],
  "linux": {"cgroupsPath": "/vm-test/$1",
            "namespaces": [{"type": "pid"}, {"type": "mount"}, {"type": "ipc"}, {"type": "uts"}]}
}
JSON
}

# CreateContainer waits for a virtio-blk disk that QMP plugs while it waits, then the
# container writes and reads a file on it.
step_hotplug_disk() {
	[ "$MACHINE" = q35 ] || {
		skip "microvm has no PCI hot-plug (VM_MACHINE=q35 runs it)"
		return
	}
	truncate -s 64M "$W/disk.img" && mkfs.ext4 -q -F "$W/disk.img" >/dev/null 2>&1 ||
		fail "cannot make the disk image" || return 1
	write_hotplug_spec hp
	local storage='{"driver":"blk","source":"05/00","fstype":"ext4","mount_point":"/run/kata-containers/sandbox/storage/hp"}'
	echo "  \$ kata-agent-ctl create-container --id hp --spec ... --storage '$storage' &"
	ctl 60 create-container --id hp --spec "$W/config-hp.json" --storage "$storage" \
		>"$W/hp.create" 2>&1 &
	local pid=$!
	sleep 1
	kill -0 $pid 2>/dev/null || fail "CreateContainer did not wait: $(cat "$W/hp.create")" || return 1
	echo "  QMP: blockdev-add + device_add virtio-blk-pci on rp1 (PCI path 05/00)"
	qmp '{"execute":"blockdev-add","arguments":{"driver":"raw","node-name":"d1","file":{"driver":"file","filename":"'"$W/disk.img"'"}}}' \
		'{"execute":"device_add","arguments":{"driver":"virtio-blk-pci","drive":"d1","id":"disk1","bus":"rp1"}}' \
		>"$W/qmp.out" 2>&1
	grep -q '"error"' "$W/qmp.out" && { cat "$W/qmp.out"; fail "QMP refused the plug"; return 1; }
	wait $pid || fail "CreateContainer failed: $(cat "$W/hp.create")" || return 1
	ctl_show 20 start-container hp || return 1
	ctl_show 20 read-stdout hp hp --all || return 1
	grep -qx hp-ok <<<"$OUT" && grep -qx on-the-disk <<<"$OUT" ||
		fail "no write/read on the hot-plugged disk" || return 1
	ctl_show 20 wait hp || return 1
	ctl_show 20 remove-container hp
}

# A disk that never comes: CreateContainer fails within agent.hotplug_timeout (5 s).
step_hotplug_never() {
	[ "$MACHINE" = q35 ] || {
		skip "microvm has no PCI hot-plug"
		return
	}
	write_hotplug_spec nv
	local storage='{"driver":"blk","source":"06/00","fstype":"ext4","mount_point":"/run/kata-containers/sandbox/storage/nv"}'
	local t0
	t0=$(now_ms)
	if ctl_show 30 create-container --id nv --spec "$W/config-nv.json" --storage "$storage"; then
		fail "CreateContainer succeeded without its disk"
		return 1
	fi
	local took
	took=$(since "$t0")
	grep -q DEADLINE_EXCEEDED <<<"$OUT" || fail "not DEADLINE_EXCEEDED" || return 1
	[ "$took" -lt 15000 ] || fail "took $(ms_to_s "$took") s" || return 1
	echo "  failed after $(ms_to_s "$took") s, as it should"
}

step_signal_kill() {
	ctl_show 20 signal "$CID" KILL || return 1
	ctl_show 20 wait "$CID" || return 1
	[ "$OUT" = 137 ] || fail "container exit status $OUT, expected 137"
}

step_remove_container() {
	ctl_show 20 remove-container "$CID"
}

step_destroy_sandbox() {
	T_DESTROY=$(now_ms)
	ctl_show 20 destroy-sandbox
}

# The agent powers the VM off after DestroySandbox: QEMU must exit by itself, cleanly.
step_poweroff() {
	local deadline=$((T_DESTROY + POWEROFF_TIMEOUT * 1000))
	while qemu_alive && [ "$(now_ms)" -lt "$deadline" ]; do sleep 0.1; done
	if qemu_alive; then
		fail "QEMU still running $POWEROFF_TIMEOUT s after DestroySandbox"
		return 1
	fi
	wait "$QEMU_PID" 2>/dev/null
	QEMU_PID=
	say "  QEMU exited $(ms_to_s "$(since "$T_DESTROY")") s after DestroySandbox"
	if grep -qE 'Kernel panic|Attempted to kill init' "$CONSOLE"; then
		grep -E 'Kernel panic|Attempted to kill init' "$CONSOLE" | head -n3 >&2
		fail "the guest panicked instead of powering off"
		return 1
	fi
	if [ "$IMAGE" = systemd ]; then
		# The agent exited; kata-agent.service's ExecStop (or FailureAction) had systemd power
		# the machine off, which the kernel reports even when quiet.
		grep -q 'reboot: Power down' "$CONSOLE" ||
			fail "no 'reboot: Power down' on the console: systemd did not power off" || return 1
	else
		grep -q 'reboot: Power down' "$CONSOLE" || say "  (no 'reboot: Power down' on the console: quiet)"
	fi
}

# The console: the agent ran as PID 1, reported no error, and the kernel did not complain.
step_console_clean() {
	local bad
	if [ "$IMAGE" = systemd ]; then
		# systemd is PID 1: the agent must say it is not init, and no unit may have failed.
		grep '"msg":"announce"' "$CONSOLE" | grep -v '"pid":"1"' | grep -q '"init-mode":"false"' ||
			fail "no announce line from an agent that is not PID 1" || return 1
		bad=$(grep -E 'Failed to|FAILED|UNSUPP|Dependency failed|emergency' "$CONSOLE")
		[ -z "$bad" ] || {
			sed 's/^/    /' <<<"$bad" >&2
			fail "systemd reported a failure on the console"
			return 1
		}
	else
		grep -q '"msg":"announce".*"pid":"1"' "$CONSOLE" || fail "no announce line from PID 1" || return 1
	fi
	# The one error the test provokes: the disk that never comes (hotplug_never).
	bad=$(grep -E '"level":"(ERRO|CRIT)"|Kernel panic|Oops|BUG:|WARNING:|insmod .* failed' "$CONSOLE" |
		grep -v '"method":"CreateContainer","code":"DEADLINE_EXCEEDED"')
	[ -z "$bad" ] || {
		cut -c1-400 <<<"$bad" | sed 's/^/    /' >&2
		fail "errors on the console"
		return 1
	}
	local warn
	warn=$(grep -c '"level":"WARN"' "$CONSOLE")
	say "  $(grep -c '^{' "$CONSOLE") agent log lines, $warn warnings, no errors"
}

# --- the runner ------------------------------------------------------------------------------
[ -x "$CTL" ] || {
	echo "vm-test: $CTL missing: run make" >&2
	exit 1
}
for f in vmlinux initrd.cpio kernel-version; do
	[ -f "$GUEST/$f" ] || {
		echo "vm-test: $GUEST/$f missing: run make initrd" >&2
		exit 1
	}
done
if [ "$IMAGE" = systemd ]; then
	for f in rootfs.img initrd.cpio; do
		[ -f "$IMGDIR/$f" ] || {
			echo "vm-test: $IMGDIR/$f missing: run make image" >&2
			exit 1
		}
	done
elif [ "$IMAGE" != initrd ]; then
	echo "vm-test: VM_IMAGE is initrd or systemd, not $IMAGE" >&2
	exit 1
fi
command -v qemu-system-x86_64 >/dev/null || {
	echo "vm-test: qemu-system-x86_64 missing: run make deps" >&2
	exit 1
}

declare -A RES=() TIME=()
RESULT=PASS
for s in "${STEPS[@]}"; do
	if [ "$RESULT" != PASS ]; then
		RES[$s]=SKIP
		continue
	fi
	say "== $s"
	t=$(now_ms)
	"step_$s"
	case $? in
	0) RES[$s]=PASS ;;
	"$SKIP_RC") RES[$s]=SKIP ;;
	*)
		RES[$s]=FAIL
		RESULT=FAIL
		;;
	esac
	TIME[$s]=$(since "$t")
done

echo
say "summary:"
for s in "${STEPS[@]}"; do
	if [ -n "${TIME[$s]:-}" ]; then
		printf 'vm-test:   %-18s %s  %8s s\n' "$s" "${RES[$s]}" "$(ms_to_s "${TIME[$s]}")"
	else
		printf 'vm-test:   %-18s %s\n' "$s" "${RES[$s]}"
	fi
done
[ -z "${READY_MS:-}" ] || say "boot: QEMU start to the agent's readiness line $(ms_to_s "$READY_MS") s"
agent_clock=$(grep -o '"msg":"agent ready after [0-9]* ms"' "$CONSOLE" 2>/dev/null | head -n1 | grep -o '[0-9]*')
late_clock=$(grep -o '"msg":"late modules loaded [0-9]* ms after start"' "$CONSOLE" 2>/dev/null | head -n1 | grep -o '[0-9]*')
[ -z "$agent_clock" ] || say "boot: the agent's share, on its own clock from exec: serving after $agent_clock ms${late_clock:+, late modules loaded after $late_clock ms}"
[ -z "${BOOT_MS:-}" ] || say "boot: QEMU start to first good Check $(ms_to_s "$BOOT_MS") s"
[ -z "${BASE_MS:-}" ] || say "boot: QEMU start to a trivial init's first line $(ms_to_s "$BASE_MS") s (same kernel and initramfs)"
if [ -n "${BASE_MS:-}" ] && [ -n "${READY_MS:-}" ]; then
	share=$((READY_MS - BASE_MS))
	sign=
	[ "$share" -ge 0 ] || sign=- share=$((-share))
	say "boot: readiness line minus the trivial init's line $sign$(ms_to_s "$share") s (the trivial boot has none of the pod's devices)"
fi
if [ "$RESULT" != PASS ]; then
	echo
	say "console log tail ($CONSOLE):"
	tail -n 60 "$CONSOLE" | sed 's/^/  | /'
fi
skipped=0
for s in "${STEPS[@]}"; do [ "${RES[$s]}" = SKIP ] && skipped=$((skipped + 1)); done
say "$RESULT ($skipped of ${#STEPS[@]} steps skipped on $MACHINE, cgroup ${VM_CGROUP:-v1}, image $IMAGE)"
[ "$RESULT" = PASS ]
