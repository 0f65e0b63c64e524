# SPDX-License-Identifier: Apache-2.0
# shellcheck shell=bash disable=SC2034 # variables used by vm-test.sh
# Sourced by tests/vm/vm-test.sh: passfd I/O (agent.passfd_listener_port=$PASSFD_PORT, which
# vm-test.sh puts on the command line). There is no vhost-vsock here, so the host's side runs in
# the guest over vsock_loopback: tests/vm/passfd-peer.c, built static and put into the busybox
# rootfs of the virtio-fs share, connects to the agent's passfd port on VMADDR_CID_LOCAL from an
# exec in c1 (a container: it shares only the vsock with the agent), writes the three source
# ports where the host reads them (the share), and checks what comes through the streams.
#   passfd_exec       an exec whose stdio are the streams: VM_PASSFD_BYTES (default 4 MiB, which
#                     TCG moves in about a second; 256 MiB with VM_PASSFD_BYTES=268435456) of
#                     stdout arrive byte-exact, stdin's EOF reaches it, stderr is its own
#                     stream, WaitProcess gives its status, ReadStdout on it answers EOF at once
#                     (the output is the stream's). VM_PASSFD_BENCH=1 adds the throughput
#                     figures: passfd vs a plain pipe in the guest vs ReadStdout (FIGURE lines)
#   passfd_container  the same for a container's init (CreateContainer's ports)
#   passfd_missing    a named stream that never comes: after the agent's wait the process's
#                     stdout is a plain pipe, read with ReadStdout, as upstream does

PASSFD_PORT=1027
PASSFD_BYTES=${VM_PASSFD_BYTES:-4194304}
PASSFD_N=0

# The peer goes into the busybox rootfs every container here runs from.
passfd_peer() {
	[ -n "${VFS_DIR:-}" ] || {
		skip "no virtio-fs share (the peer runs from it)"
		return
	}
	[ -x "$VFS_DIR/busybox/rootfs/bin/passfd-peer" ] && return 0
	command -v musl-gcc >/dev/null || {
		skip "no musl-gcc to build the peer"
		return
	}
	musl-gcc -static -std=gnu11 -O2 -Wall -Wextra -Werror -D_GNU_SOURCE -s \
		"$(dirname "${BASH_SOURCE[0]}")/passfd-peer.c" -o "$VFS_DIR/busybox/rootfs/bin/passfd-peer" ||
		fail "cannot build tests/vm/passfd-peer.c"
}

# Starts the peer's client as exec $1 in c1; sets PF_PORTS to the IN:OUT:ERR it connected from.
passfd_client() {
	local file=/tmp/pf-ports-$1 host deadline
	host=$VFS_DIR/busybox/rootfs$file
	rm -f "$host"
	ctl_show 20 exec "$CID" "$1" -- passfd-peer client $PASSFD_PORT "$file" || return 1
	deadline=$(($(now_ms) + 20000))
	while [ ! -s "$host" ] && [ "$(now_ms)" -lt "$deadline" ]; do sleep 0.1; done
	if [ ! -s "$host" ]; then
		ctl_show 10 read-stdout "$CID" "$1" --all
		fail "the peer wrote no ports (is the agent listening on $PASSFD_PORT?)"
		return 1
	fi
	PF_PORTS=$(cat "$host")
	echo "  the peer connected to vsock port $PASSFD_PORT from ports $PF_PORTS"
}

# The client's report (exec $1 in c1): every byte, stdin's EOF and the workload's stderr.
passfd_check_client() {
	ctl_show 120 read-stdout "$CID" "$1" --all || return 1
	local got=$OUT
	grep -qx "stdout $PASSFD_BYTES ok" <<<"$got" ||
		fail "the stdout stream did not carry the $PASSFD_BYTES pattern bytes" || return 1
	grep -qx "stderr stdin 13 passfd-stdin" <<<"$got" ||
		fail "stdin's data and EOF did not reach the process, or stderr did not come" || return 1
	ctl_show 20 wait "$CID" "$1" || return 1
	[ "$OUT" = 0 ] || fail "the client exited $OUT" || return 1
	echo "  $PASSFD_BYTES bytes byte-exact through the stream; stdin EOF seen; $(grep '^seconds' <<<"$got")"
	PF_MBPS=$(awk '/^seconds/ { print $4 }' <<<"$got")
}

# VM_PASSFD_BENCH=1: the same bytes through a plain pipe in the guest and through ReadStdout
# (the host's ctl over virtio-serial, as the Go runtime reads), one run each.
passfd_bench() {
	[ "${VM_PASSFD_BENCH:-0}" = 1 ] || return 0
	local pipe rs t0 ms
	ctl_show 20 exec "$CID" pfpipe -- sh -c "passfd-peer gen $PASSFD_BYTES 2>/dev/null </dev/null | passfd-peer sink" || return 1
	ctl_show 120 read-stdout "$CID" pfpipe --all || return 1
	grep -qx "stdout $PASSFD_BYTES ok" <<<"$OUT" || fail "the pipe lost bytes" || return 1
	pipe=$(awk '/^seconds/ { print $4 }' <<<"$OUT")
	ctl_show 20 wait "$CID" pfpipe >/dev/null || return 1
	ctl_show 20 exec "$CID" pfrs -- sh -c "passfd-peer gen $PASSFD_BYTES </dev/null" || return 1
	t0=$(now_ms)
	# The reference: the same static peer, run on the host.
	ctl 300 read-stdout "$CID" pfrs --all |
		cmp -s - <("$VFS_DIR/busybox/rootfs/bin/passfd-peer" gen "$PASSFD_BYTES" 2>/dev/null </dev/null) ||
		fail "ReadStdout did not return the pattern" || return 1
	ms=$(since "$t0")
	rs=$(awk -v b="$PASSFD_BYTES" -v ms="$ms" 'BEGIN { printf "%.1f", b / (ms / 1000) / 1e6 }')
	ctl 20 wait "$CID" pfrs >/dev/null
	echo "  stdout of $PASSFD_BYTES bytes: passfd $PF_MBPS MB/s, plain pipe in the guest $pipe MB/s, ReadStdout to the host $rs MB/s"
	printf 'FIGURE\tpassfd_stdout_vs_readstdout\tMB/s\thigher\treadstdout\t%s\t%s\t%s\t%s\t%s\t%s\n' \
		"$PF_MBPS" "$PF_MBPS" "$PF_MBPS" "$rs" "$rs" "$rs"
	printf 'FIGURE\tpassfd_stdout_vs_pipe\tMB/s\thigher\tpipe\t%s\t%s\t%s\t%s\t%s\t%s\n' \
		"$PF_MBPS" "$PF_MBPS" "$PF_MBPS" "$pipe" "$pipe" "$pipe"
}

step_passfd_exec() {
	passfd_peer || return
	local cl=pfcl$((++PASSFD_N)) w=pfgen$PASSFD_N
	passfd_client "$cl" || return 1
	ctl_show 20 exec "$CID" "$w" --passfd-ports "$PF_PORTS" -- passfd-peer gen "$PASSFD_BYTES" || return 1
	# The output is the stream's: ReadStdout answers EOF at once.
	ctl_show 10 read-stdout "$CID" "$w" --all || return 1
	[ -z "$OUT" ] || fail "ReadStdout on a passfd process returned data" || return 1
	ctl_show 120 wait "$CID" "$w" || return 1
	[ "$OUT" = 7 ] || fail "WaitProcess gave $OUT, the workload exits 7" || return 1
	passfd_check_client "$cl" || return 1
	passfd_bench
}

step_passfd_container() {
	passfd_peer || return
	local cl=pfcl$((++PASSFD_N))
	passfd_client "$cl" || return 1
	cat >"$W/config-pf.json" <<JSON
{
  "ociVersion": "1.0.2",
  "process": {"user": {"uid": 0, "gid": 0}, "args": ["passfd-peer", "gen", "$PASSFD_BYTES"],
              "env": ["PATH=/bin"], "cwd": "/",
              "capabilities": {"bounding": [], "effective": [], "permitted": []}},
  "root": {"path": "$CTR_ROOTFS"},
  "linux": {"cgroupsPath": "/vm-test/pf", "namespaces": [{"type": "pid"}, {"type": "mount"}]}
}
JSON
	ctl_show 30 create-container --id pf --spec "$W/config-pf.json" --passfd-ports "$PF_PORTS" || return 1
	ctl_show 20 start-container pf || return 1
	ctl_show 120 wait pf || return 1
	[ "$OUT" = 7 ] || fail "WaitProcess gave $OUT, the workload exits 7" || return 1
	passfd_check_client "$cl" || return 1
	ctl_show 20 remove-container pf
}

# Port 65000 never connects: the agent waits for it, then stdout stays a pipe (upstream: the
# stream is None and the process keeps its pipe), which ReadStdout reads.
step_passfd_missing() {
	passfd_peer || return
	local t0
	t0=$(now_ms)
	ctl_show 20 exec "$CID" pfmiss --passfd-ports 0:65000:0 -- echo via-the-pipe || return 1
	echo "  ExecProcess answered after $(since "$t0") ms (the agent waits 300 ms for the stream)"
	ctl_show 20 read-stdout "$CID" pfmiss --all || return 1
	grep -qx via-the-pipe <<<"$OUT" || fail "the output did not stay in the pipe" || return 1
	ctl_show 20 wait "$CID" pfmiss || return 1
	[ "$OUT" = 0 ] || fail "exit status $OUT"
	grep -q 'no stream from port 65000 (stdout)' "$CONSOLE" ||
		fail "the agent did not log the missing stream" || return 1
}
