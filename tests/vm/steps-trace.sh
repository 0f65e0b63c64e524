# SPDX-License-Identifier: Apache-2.0
# shellcheck shell=bash disable=SC2034,SC2054 # variables used by vm-test.sh; QEMU option commas
# Sourced by tests/vm/vm-test.sh: agent.trace end to end.
#   trace_boot_args starts `kata-agent-ctl trace-forward` on $W/trace.sock before QEMU, gives
#   the guest a second virtio-serial port (agent.trace.0) whose chardev connects to it
#   (client mode), and boots the agent with agent.trace on that port. Every RPC of the run
#   is traced; the spans land in $W/trace.jsonl as OTLP/JSON TracesData lines.
#   trace_spans: calls made with a traceparent (kata-agent-ctl --traceparent) reach the host
#   in the client's trace, as children of the client's spans; the file parses as OTLP.
#   trace_root: after the power-off the agent's root span is there too, and is the parent of
#   the calls that came without a context (the boot's Check calls); the whole run's spans
#   parse as OTLP (tests/otlp/check-otlp.py: protoc + python3-protobuf).

TRACE_QEMU_ARGS=()
TRACE_APPEND=
TRACE_FWD_PID=
TRACE_OUT=
TRACE_CHECK=$(dirname "${BASH_SOURCE[0]}")/../otlp/check-otlp.py

trace_boot_args() {
	local sock=$W/trace.sock
	TRACE_OUT=$W/trace.jsonl
	"$CTL" trace-forward --listen "unix://$sock" --out "$TRACE_OUT" 2>"$W/trace-forward.log" &
	TRACE_FWD_PID=$!
	for _ in $(seq 200); do
		[ -S "$sock" ] && break
		sleep 0.02
	done
	[ -S "$sock" ] || fail "trace-forward did not listen: $(cat "$W/trace-forward.log")" || return 1
	TRACE_QEMU_ARGS=(-chardev "socket,id=trace,path=$sock,reconnect=1"
		-device virtserialport,bus=vser0.0,chardev=trace,name=agent.trace.0)
	TRACE_APPEND=" agent.trace agent.trace_addr=serial:///dev/virtio-ports/agent.trace.0"
}

trace_stop_forwarder() {
	[ -n "$TRACE_FWD_PID" ] || return 0
	kill "$TRACE_FWD_PID" 2>/dev/null
	wait "$TRACE_FWD_PID" 2>/dev/null
	TRACE_FWD_PID=
}

# check-otlp.py on the forwarder's file: one "trace span parent kind code name" line per span
# in $OUT; returns SKIP_RC when protoc or python3-protobuf is missing.
trace_check_file() {
	local rc
	OUT=$(python3 "$TRACE_CHECK" "$TRACE_OUT" 2>&1)
	rc=$?
	[ "$rc" = 77 ] && skip "$OUT"
	[ "$rc" = 0 ] || fail "$TRACE_OUT is not valid OTLP/JSON: $OUT"
}

hex_id() { od -An -N"$1" -tx1 /dev/urandom | tr -d ' \n'; }

TRACE_ID=
step_trace_spans() {
	local p1 p2 want1 want2 deadline rc
	TRACE_ID=$(hex_id 16) p1=$(hex_id 8) p2=$(hex_id 8)
	echo "  host trace $TRACE_ID, host spans $p1 (Check) and $p2 (Version)"
	"$CTL" --addr "serial://$SOCK" --timeout 10 --traceparent "00-$TRACE_ID-$p1-01" check >/dev/null ||
		fail "Check with a traceparent failed" || return 1
	"$CTL" --addr "serial://$SOCK" --timeout 10 --traceparent "00-$TRACE_ID-$p2-01" version >/dev/null ||
		fail "Version with a traceparent failed" || return 1
	want1="^$TRACE_ID [0-9a-f]{16} $p1 2 0 check\$"
	want2="^$TRACE_ID [0-9a-f]{16} $p2 2 0 version\$"
	deadline=$(($(now_ms) + 15000))
	while [ "$(now_ms)" -lt "$deadline" ]; do
		grep -q "\"parentSpanId\":\"$p2\"" "$TRACE_OUT" 2>/dev/null && break
		sleep 0.1
	done
	trace_check_file
	rc=$?
	[ "$rc" = 0 ] || return "$rc"
	grep -qE "$want1" <<<"$OUT" ||
		fail "no Check span in trace $TRACE_ID under $p1: $(tail -n 5 <<<"$OUT")" || return 1
	grep -qE "$want2" <<<"$OUT" ||
		fail "no Version span in trace $TRACE_ID under $p2: $(tail -n 5 <<<"$OUT")" || return 1
	echo "  both spans arrived through trace-forward, in the host's trace, under the host's spans;"
	echo "  $(wc -l <<<"$OUT") spans so far parse as OTLP TracesData"
}

# After the power-off: the root span (sent as the agent stops) parents the untraced calls.
step_trace_root() {
	local root rtrace rspan children rc
	# The guest is gone: what it sent has been read once trace-forward sees its EOF.
	sleep 0.5
	trace_stop_forwarder
	trace_check_file
	rc=$?
	[ "$rc" = 0 ] || return "$rc"
	root=$(grep -E ' - 1 0 root-span$' <<<"$OUT" | head -n1)
	[ -n "$root" ] || fail "no root span arrived before the power-off: $(tail -n 3 <<<"$OUT")" || return 1
	read -r rtrace rspan _ <<<"$root"
	children=$(grep -cE "^$rtrace [0-9a-f]{16} $rspan 2 " <<<"$OUT")
	[ "$children" -gt 0 ] || fail "no call is a child of the root span $rspan" || return 1
	grep -qE "^$rtrace [0-9a-f]{16} $rspan 2 0 check\$" <<<"$OUT" ||
		fail "the boot's Check calls are not children of the root span" || return 1
	echo "  root span $rspan of trace $rtrace: parent of $children untraced calls;"
	echo "  all $(wc -l <<<"$OUT") spans of the run parse as OTLP TracesData"
}
