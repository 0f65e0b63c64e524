#!/usr/bin/env bash
# SPDX-License-Identifier: Apache-2.0
# The packages only `make bench` needs, from Debian: Go and containerd's ttrpc (the peer
# server, built offline in GOPATH mode), crun and runc (the container peers), librsvg2-bin
# (rsvg-convert, to check the chart renders; make deps installs it too, for CI).
set -euo pipefail
export DEBIAN_FRONTEND=noninteractive
pkgs=(golang-go golang-github-containerd-ttrpc-dev crun runc librsvg2-bin)
missing=()
for p in "${pkgs[@]}"; do
	dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
done
[ "${#missing[@]}" -eq 0 ] && exit 0
sudo_cmd=()
[ "$(id -u)" -eq 0 ] || sudo_cmd=(sudo)
echo "bench-deps: installing ${missing[*]}"
"${sudo_cmd[@]}" apt-get update -qq
"${sudo_cmd[@]}" apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
