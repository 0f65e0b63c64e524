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
# The spans are checked in the file as trace-forward wrote it (the agent's key order is kept);
# the OTLP parse of the whole run is trace_root's.
step_trace_spans() {
	local p1 p2 want1 want2 deadline t0
	TRACE_ID=$(hex_id 16) p1=$(hex_id 8) p2=$(hex_id 8)
	echo "  host trace $TRACE_ID, host spans $p1 (Check) and $p2 (Version)"
	t0=$(now_ms)
	"$CTL" --addr "serial://$SOCK" --timeout 10 --traceparent "00-$TRACE_ID-$p1-01" check >/dev/null ||
		fail "Check with a traceparent failed" || return 1
	"$CTL" --addr "serial://$SOCK" --timeout 10 --traceparent "00-$TRACE_ID-$p2-01" version >/dev/null ||
		fail "Version with a traceparent failed" || return 1
	want1="\"traceId\":\"$TRACE_ID\",\"spanId\":\"[0-9a-f]{16}\",\"parentSpanId\":\"$p1\",\"name\":\"check\",\"kind\":2,"
	want2="\"traceId\":\"$TRACE_ID\",\"spanId\":\"[0-9a-f]{16}\",\"parentSpanId\":\"$p2\",\"name\":\"version\",\"kind\":2,"
	deadline=$(($(now_ms) + 15000))
	until grep -qE "$want1" "$TRACE_OUT" 2>/dev/null && grep -qE "$want2" "$TRACE_OUT"; do
		[ "$(now_ms)" -lt "$deadline" ] ||
			fail "no Check span under $p1 and Version span under $p2 in trace $TRACE_ID: $(tail -c 600 "$TRACE_OUT")" ||
			return 1
		sleep 0.05
	done
	echo "  both spans reached trace-forward $(ms_to_s "$(since "$t0")") s after the first call,"
	echo "  in the host's trace, each under the host span its call named"
}

# After the power-off: the root span (sent as the agent stops) parents the untraced calls.
step_trace_root() {
	local root rtrace rspan children rc deadline
	deadline=$(($(now_ms) + 5000))
	until grep -q '"name":"root-span"' "$TRACE_OUT" 2>/dev/null; do
		[ "$(now_ms)" -lt "$deadline" ] || fail "no root span arrived before the power-off" || return 1
		sleep 0.05
	done
	trace_stop_forwarder
	trace_check_file
	rc=$?
	[ "$rc" = 0 ] || return "$rc"
	root=$(grep -E ' - 1 0 root-span$' <<<"$OUT" | head -n1)
	[ -n "$root" ] || fail "the root span is not an INTERNAL root: $(grep root-span <<<"$OUT")" || return 1
	read -r rtrace rspan _ <<<"$root"
	children=$(grep -cE "^$rtrace [0-9a-f]{16} $rspan 2 " <<<"$OUT")
	grep -qE "^$rtrace [0-9a-f]{16} $rspan 2 0 check\$" <<<"$OUT" ||
		fail "the boot's Check calls are not children of the root span $rspan" || return 1
	grep -qE "^$TRACE_ID [0-9a-f]{16} [0-9a-f]{16} 2 0 (check|version)\$" <<<"$OUT" ||
		fail "trace_spans' spans do not parse as OTLP" || return 1
	echo "  root span $rspan of trace $rtrace: parent of $children untraced calls;"
	echo "  all $(wc -l <<<"$OUT") spans of the run parse as OTLP TracesData"
}
