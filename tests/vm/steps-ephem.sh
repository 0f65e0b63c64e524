# SPDX-License-Identifier: Apache-2.0
# shellcheck shell=bash disable=SC2034 # variables used by vm-test.sh
# Sourced by tests/vm/vm-test.sh: UpdateEphemeralMounts as the runtime sends it after a memory
# hot-plug (kata_agent.go: ["remount", "size=<MiB>M"] for an unsized emptyDir tmpfs), and the
# mem agent's memcg reclaim (MemAgentMemcgSet).
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

# memcg_reclaim (on the cgroup v2 initrd boot, which enables the mem agent): MemAgentMemcgSet
# with a short period and eviction after one aging starts a round at once; the long-lived
# container's memcg (older than the 60 s during which upstream leaves a memcg alone) is aged
# through /sys/kernel/debug/lru_gen (MGLRU, which Debian's kernel boots with off: the agent
# switches it on and mounts debugfs, as upstream's mem-agent expects), then its oldest
# generation is evicted: the page cache of a file c1 read once goes. The agent logs each
# memcg's outcome ("evicted NODE FILE_PAGES ANON_PAGES WHY|PATH").
step_memcg_reclaim() {
	grep -q '"msg":"mem-agent started' "$CONSOLE" || {
		skip "the mem agent is not enabled on this boot (the cgroup v2 initrd boot enables it)"
		return
	}
	# A memcg is aged once its youngest generation is 60 s old: c1's, made with c1, may be
	# younger on a fast run. Its age is that of c1's init ($OUT: seconds).
	# shellcheck disable=SC2016 # expanded in the guest
	exec_in_c1 'echo $(( $(cut -d. -f1 /proc/uptime) - $(cut -d" " -f22 /proc/1/stat) / 100 ))' ||
		return 1
	[[ "$OUT" =~ ^[0-9]+$ ]] || fail "c1's age: '$OUT'" || return 1
	if [ "$OUT" -lt 62 ]; then
		echo "  c1 is $OUT s old: waiting until it is 62 s old"
		sleep $((62 - OUT))
	fi
	# 4 MiB of page cache for c1's memcg: a file of the share read once (clean file pages,
	# which MGLRU puts in the oldest generation).
	dd if=/dev/zero of="$VFS_DIR/busybox/rootfs/tmp/cold" bs=1M count=4 2>/dev/null ||
		fail "cannot write the file in the share" || return 1
	exec_in_c1 'cat /tmp/cold >/dev/null && echo read' || return 1
	ctl_show 20 call MemAgentMemcgSet '{"period_secs":"3","eviction_run_aging_count_min":"1","period_psi_percent_limit":100,"eviction_psi_percent_limit":100}' ||
		fail "MemAgentMemcgSet refused" || return 1
	local i aged='' evicted=''
	for i in $(seq 100); do
		aged=$(grep -o '"msg":"memcg: aged [^"]*|/vm-test/c1"' "$CONSOLE" | head -n1)
		evicted=$(grep -o '"msg":"memcg: evicted [^"]*|/vm-test/c1"' "$CONSOLE" | head -n1)
		[ -n "$aged" ] && [ -n "$evicted" ] && break
		sleep 0.2
	done
	echo "  console: ${aged:-no aging line for /vm-test/c1}"
	echo "  console: ${evicted:-no eviction line for /vm-test/c1}"
	grep -q 'aged [0-9]* 0 0 ok|' <<<"$aged" || fail "the memcg of c1 was not aged" || return 1
	grep -q 'evicted [0-9]* [1-9][0-9]* ' <<<"$evicted" || fail "no file page of c1 evicted" || return 1
	ctl_show 20 call MemAgentMemcgSet '{"disabled":true}' || fail "MemAgentMemcgSet disabled refused"
}
