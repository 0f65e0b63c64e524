#!/usr/bin/env bash
# Checks what `make install` lays out, for both INIT=no (systemd units) and INIT=yes
# (/sbin/init), in scratch DESTDIRs that are removed again. Usage: tests/install-check.sh BUILD_DIR
set -u
O=${1:-build}
passed=0 failed=0
work=$(mktemp -d /tmp/kata-install-check.XXXXXX)
trap 'rm -rf "$work"' EXIT

ok() { echo "PASS $1"; passed=$((passed + 1)); }
bad() { echo "FAIL $1: $2"; failed=$((failed + 1)); }
inst() { make --no-print-directory -s O="$O" install DESTDIR="$1" "${@:2}" >"$work/log" 2>&1; }

# INIT=no, default prefix: upstream's layout.
d=$work/no
if inst "$d" INIT=no; then
	u=$d/usr/lib/systemd/system
	if [ -x "$d/usr/bin/kata-agent" ] && cmp -s "$d/usr/bin/kata-agent" "$O/kata-agent"; then
		ok init_no_agent_in_usr_bin
	else
		bad init_no_agent_in_usr_bin "no executable copy of $O/kata-agent at /usr/bin/kata-agent"
	fi
	if grep -qx 'ExecStart=/usr/bin/kata-agent' "$u/kata-agent.service" &&
		grep -qx 'FailureAction=poweroff' "$u/kata-agent.service" &&
		grep -qx 'Wants=kata-containers.target' "$u/kata-agent.service" &&
		! grep -q '@' "$u/kata-agent.service"; then
		ok init_no_service_unit
	else
		bad init_no_service_unit "$(cat "$u/kata-agent.service" 2>&1)"
	fi
	if grep -qx 'Requires=kata-agent.service' "$u/kata-containers.target" &&
		grep -qx 'AllowIsolate=yes' "$u/kata-containers.target"; then
		ok init_no_target_unit
	else
		bad init_no_target_unit "$(cat "$u/kata-containers.target" 2>&1)"
	fi
	if [ ! -e "$d/sbin/init" ] && [ "$(stat -c %a "$u/kata-agent.service")" = 644 ]; then
		ok init_no_no_sbin_init
	else
		bad init_no_no_sbin_init "unexpected /sbin/init or unit mode"
	fi
	if command -v systemd-analyze >/dev/null 2>&1; then
		# Units are checked against their own tree; missing targets of the host are fine.
		if out=$(systemd-analyze verify --root="$d" "$u/kata-containers.target" 2>&1) ||
			! grep -qiE 'unknown (key|section)|invalid|failed to parse' <<<"$out"; then
			ok init_no_units_parse
		else
			bad init_no_units_parse "$out"
		fi
	fi
else
	bad init_no_install "$(cat "$work/log")"
fi

# INIT=yes with another prefix: the agent is /sbin/init, no units.
d=$work/yes
if inst "$d" INIT=yes PREFIX=/opt/kata; then
	if [ "$(readlink "$d/sbin/init")" = /opt/kata/bin/kata-agent ] &&
		[ -x "$d/opt/kata/bin/kata-agent" ] && [ ! -e "$d/usr/lib/systemd" ]; then
		ok init_yes_sbin_init
	else
		bad init_yes_sbin_init "$(find "$d" -printf '%p -> %l\n')"
	fi
else
	bad init_yes_install "$(cat "$work/log")"
fi

echo "install-check: $passed passed, $failed failed, 0 skipped"
[ "$failed" -eq 0 ]
