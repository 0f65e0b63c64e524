# SPDX-License-Identifier: Apache-2.0
# shellcheck shell=bash disable=SC2034 # variables used by vm-test.sh
# Sourced by tests/vm/vm-test.sh: UpdateEphemeralMounts as the runtime sends it after a memory
# hot-plug (kata_agent.go: ["remount", "size=<MiB>M"] for an unsized emptyDir tmpfs).
#   ephemeral_resize: a container's ephemeral tmpfs storage is made with size=1m, resized to
#   8M, then the container writes 4 MiB into it (more than the old size could hold) and sees
#   8192 KiB. Hostile requests are tested in tests/integration/test-ephemeral.c (a refused
#   call would log an error, which console_clean counts).

EPH_DIR=/run/kata-containers/sandbox/storage

step_ephemeral_resize() {
	local st='{"driver":"ephemeral","source":"tmpfs","fstype":"tmpfs","options":["size=1m","nosuid"],"mount_point":"'$EPH_DIR/eph'"}'
	write_storage_spec eph 'dd if=/dev/zero of=/data/f bs=1024 count=4096 2>/dev/null && echo wrote-4m; df -k /data | tail -n1'
	ctl_show 20 create-container --id eph --spec "$W/config-eph.json" --storage "$st" || return 1
	ctl_show 20 call UpdateEphemeralMounts '{"storages":[{"driver":"ephemeral","source":"tmpfs","fstype":"tmpfs","options":["remount","size=8M"],"mount_point":"'$EPH_DIR/eph'"}]}' ||
		fail "UpdateEphemeralMounts refused the runtime's resize" || return 1
	run_storage_container eph wrote-4m || return 1
	grep -q ' 8192 ' <<<"$RUN_OUT" || fail "the tmpfs is not 8192 KiB after the resize" || return 1
	echo "  size=1m tmpfs resized to 8M in the guest: 4 MiB written"
}
