# SPDX-License-Identifier: Apache-2.0
# One plain GNU make build (see README "Why make"). Entry points:
#   make deps    install build/test dependencies (Debian packages, musl archives)
#   make         build/kata-agent (static, musl) and build/kata-agent-ctl
#   make check   all tests (unit + integration), against the release agent
#   make san     the same tree built with clang ASan+UBSan into build-san/
#   make demo    the main job: start the agent on a local socket and drive it
#   make bench   figures against peers measured in the same run, $(O)/bench/report.md and .svg
#   make fuzz    run every libFuzzer harness and the lifecycle fuzzer for FUZZ_SECONDS each
#   make initrd  the guest: Debian's kernel as a PVH vmlinux and an initramfs, in $(O)/guest/
#   make vm-test boot that guest under QEMU and drive the agent as PID 1 (tests/vm/vm-test.sh)
#   make install DESTDIR=... [PREFIX=/usr] [INIT=no|yes]   the agent into a guest rootfs

SAN ?= 0
# Quiet by default: one short line per step; `make V=1` prints the full commands.
V ?= 0
ifeq ($(V),1)
Q :=
say = @true
else
Q := @
say = @printf '  %-6s %s\n' $(1) $(2)
endif
DEPS ?= $(CURDIR)/.deps
VERSION := 0.1.0
API_VERSION := 0.0.1

ifeq ($(SAN),1)
O ?= build-san
CC := clang
AGENT_CC := clang
SANFLAGS := -fsanitize=address,undefined -fno-omit-frame-pointer -fno-sanitize-recover=all
AGENT_LDFLAGS :=
AGENT_LIBS := -lprotobuf-c -lseccomp
OPT := -O1 -g
else
O ?= build
CC ?= gcc
AGENT_CC ?= musl-gcc
SANFLAGS :=
# The release agent is built for size (bench/size.sh prints where the bytes go; static-check
# keeps it under AGENT_MAX_BYTES):
# - -Oz: GCC 12's -Os that also prefers shorter instruction sequences (4 KiB less than -Os,
#   and no more instructions per Health.Check, counted with callgrind);
# - no .eh_frame: C code that never unwinds has no reader for it (-g still emits .debug_frame);
# - -fno-pie: the static binary is linked at a fixed address (not PIE, see below), so position-
#   independent code only cost longer address loads and put every table of pointers in RELRO
#   instead of read-only data (8 KiB);
# - link-time optimisation across src/ and the generated code. The objects are fat (LTO
#   bytecode and ordinary code), so that bench/size.sh can link them without LTO and give
#   each room its bytes.
# Hardening kept: -fstack-protector-strong (COMMON_CFLAGS; each function carries it into the
# LTO link), RELRO, headers and read-only data in a non-executable segment of their own, a
# non-executable stack (the linker's defaults, spelt out below). The static binary is not PIE,
# as before; _FORTIFY_SOURCE does nothing with musl (no fortified headers).
AGENT_SIZEFLAGS := -Oz -fno-asynchronous-unwind-tables -flto=auto -ffat-lto-objects -fno-pie
AGENT_LDFLAGS := -static -L$(DEPS)/musl/lib -Wl,--gc-sections -s $(AGENT_SIZEFLAGS) \
	-fstack-protector-strong -Wl,-z,relro -Wl,-z,separate-code -Wl,-z,noexecstack
AGENT_LIBS := -lprotobuf-c -lseccomp
AGENT_ISYS := -isystem $(DEPS)/musl/include
OPT := -O2 -g
endif

WARN := -Wall -Wextra -Werror -Wshadow -Wformat=2 -Wno-unused-parameter -Wvla -Wstrict-prototypes
# -Ulinux: gnu11 predefines `linux`, which the OCI Spec's `linux` field needs as a name.
COMMON_CFLAGS := -std=gnu11 -Ulinux $(OPT) $(WARN) -D_GNU_SOURCE -DAGENT_VERSION='"$(VERSION)"' \
	-DAGENT_API_VERSION='"$(API_VERSION)"' -Isrc -I$(O)/gen -ffunction-sections -fdata-sections \
	-fstack-protector-strong -MMD -MP
# protoc-c output is not ours to warn about beyond the basics.
GEN_CFLAGS := -Wno-error -Wno-unused-parameter

PROTOS := proto/agent.proto proto/oci.proto proto/types.proto proto/health.proto \
	proto/csi.proto proto/ttrpc.proto proto/google/rpc/status.proto \
	proto/google/protobuf/empty.proto proto/google/protobuf/any.proto \
	proto/google/protobuf/timestamp.proto
PROTOS := $(wildcard $(PROTOS))
GEN_C := $(patsubst proto/%.proto,$(O)/gen/%.pb-c.c,$(PROTOS))
GEN_H := $(GEN_C:.c=.h)

LIB_SRCS := $(sort $(wildcard src/base/*.c src/loop/*.c src/rpc/*.c src/config/*.c \
	src/transport/*.c src/agent/*.c src/sandbox/*.c src/net/*.c src/cgroups/*.c \
	src/container/*.c src/storage/*.c src/init/*.c src/trace/*.c \
	src/uevent/*.c src/device/*.c src/guest/*.c))
CLIENT_SRCS := $(sort $(wildcard tools/lib/*.c))
CTL_SRCS := $(sort $(wildcard tools/ctl/*.c))
UNIT_SRCS := $(sort $(wildcard tests/unit/test-*.c))
INTEG_SRCS := $(sort $(wildcard tests/integration/test-*.c))
FUZZ_SRCS := $(sort $(wildcard fuzz/fuzz-*.c))
BENCH_SRCS := $(sort $(wildcard bench/*.c))

# Two object sets: the agent's (musl, static) and the host's (tests, ctl, fuzzers).
AOBJ := $(O)/agent-obj
HOBJ := $(O)/host-obj
AGENT_OBJS := $(patsubst %.c,$(AOBJ)/%.o,$(LIB_SRCS) src/main.c) $(patsubst $(O)/gen/%.c,$(AOBJ)/gen/%.o,$(GEN_C))
HOST_LIB_OBJS := $(patsubst %.c,$(HOBJ)/%.o,$(LIB_SRCS)) $(patsubst $(O)/gen/%.c,$(HOBJ)/gen/%.o,$(GEN_C))
CLIENT_OBJS := $(patsubst %.c,$(HOBJ)/%.o,$(CLIENT_SRCS))

UNIT_BINS := $(patsubst tests/unit/%.c,$(O)/tests/unit/%,$(UNIT_SRCS))
INTEG_BINS := $(patsubst tests/integration/%.c,$(O)/tests/integration/%,$(INTEG_SRCS))
FUZZ_BINS := $(patsubst fuzz/%.c,$(O)/fuzz/%,$(FUZZ_SRCS))
BENCH_BINS := $(patsubst bench/%.c,$(O)/bench/%,$(BENCH_SRCS))

HOST_CFLAGS := $(COMMON_CFLAGS) $(SANFLAGS)
AGENT_CFLAGS := $(COMMON_CFLAGS) $(SANFLAGS) $(AGENT_ISYS) $(AGENT_SIZEFLAGS)

.PHONY: install all deps check check-unit check-integration san demo bench bench-deps \
	bench-report-check fuzz fuzz-build \
	fuzz-lifecycle format format-check clean static-check initrd image vm-test vm-test-image \
	check-no-wait check-layers
.SECONDARY:

all: $(O)/kata-agent $(O)/kata-agent-ctl

deps:
	scripts/deps.sh $(DEPS)

# --- generated protobuf code ---------------------------------------------------------------
$(O)/gen/.stamp: $(PROTOS)
	@mkdir -p $(O)/gen
	$(call say,PROTOC,$(O)/gen)
	$(Q)protoc-c --c_out=$(O)/gen -Iproto $(patsubst proto/%,%,$(PROTOS))
	@touch $@
$(GEN_C) $(GEN_H): $(O)/gen/.stamp

# --- objects -------------------------------------------------------------------------------
# The agent's objects are rebuilt when the flags that made them change: a stamp holds them,
# rewritten (so newer than the objects) only when they differ.
AGENT_FLAGS_STAMP := $(AOBJ)/.flags
AGENT_FLAGS_TEXT := $(AGENT_CC) $(AGENT_CFLAGS) $(GEN_CFLAGS)
texts_differ = $(subst $(1),,$(2))$(subst $(2),,$(1))
$(AGENT_FLAGS_STAMP): FORCE
	$(shell mkdir -p $(@D))$(if $(call texts_differ,$(file <$@),$(AGENT_FLAGS_TEXT)),$(file >$@,$(AGENT_FLAGS_TEXT)))@:
.PHONY: FORCE
FORCE:
# The agent reads a message or enum descriptor's full name (the runtime's messages) but never
# its short and C names, nor an enum value's C name (only the tools' JSON code reads short names):
# the agent's copy of the generated code has them empty, which saves their strings. The tools compile the untouched code.
$(AOBJ)/gen/%.c: $(O)/gen/%.c $(O)/gen/.stamp
	@mkdir -p $(dir $@)
	$(Q)sed -e '/^  PROTOBUF_C__\(MESSAGE\|ENUM\)_DESCRIPTOR_MAGIC,$$/{n;n;s/^  "[^"]*",$$/  "",/;n;s/^  "[^"]*",$$/  "",/}' \
		-e 's/^  { "\([^"]*\)", "[^"]*", /  { "\1", "", /' $< >$@.tmp && mv $@.tmp $@
$(AOBJ)/gen/%.o: $(AOBJ)/gen/%.c $(AGENT_FLAGS_STAMP)
	@mkdir -p $(dir $@)
	$(call say,CC,$<)
	$(Q)$(AGENT_CC) $(AGENT_CFLAGS) $(GEN_CFLAGS) -I$(O)/gen -c $< -o $@
$(AOBJ)/%.o: %.c $(O)/gen/.stamp $(AGENT_FLAGS_STAMP)
	@mkdir -p $(dir $@)
	$(call say,CC,$<)
	$(Q)$(AGENT_CC) $(AGENT_CFLAGS) -c $< -o $@
$(HOBJ)/gen/%.o: $(O)/gen/%.c $(O)/gen/.stamp
	@mkdir -p $(dir $@)
	$(call say,CC,$<)
	$(Q)$(CC) $(HOST_CFLAGS) $(GEN_CFLAGS) -c $< -o $@
$(HOBJ)/%.o: %.c $(O)/gen/.stamp
	@mkdir -p $(dir $@)
	$(call say,CC,$<)
	$(Q)$(CC) $(HOST_CFLAGS) -Itools/lib -Itests/unit -c $< -o $@

$(O)/libagent.a: $(HOST_LIB_OBJS)
	@rm -f $@
	$(call say,AR,$@)
	$(Q)ar rcs $@ $^
$(O)/libagentclient.a: $(CLIENT_OBJS)
	@rm -f $@
	$(call say,AR,$@)
	$(Q)ar rcs $@ $^

# --- binaries ------------------------------------------------------------------------------
# Relinked when make deps rebuilds the musl archives.
$(O)/kata-agent: $(AGENT_OBJS) $(wildcard $(DEPS)/musl/lib/libprotobuf-c.a $(DEPS)/musl/lib/libseccomp.a)
	$(call say,LD,$@)
	$(Q)$(AGENT_CC) $(SANFLAGS) $(AGENT_LDFLAGS) $(filter %.o,$^) $(AGENT_LIBS) -o $@

HOST_LIBS := $(O)/libagentclient.a $(O)/libagent.a -lprotobuf-c -ljson-c -lseccomp
$(O)/kata-agent-ctl: $(patsubst %.c,$(HOBJ)/%.o,$(CTL_SRCS)) $(O)/libagentclient.a $(O)/libagent.a
	$(call say,LD,$@)
	$(Q)$(CC) $(SANFLAGS) $(filter %.o,$^) $(HOST_LIBS) -o $@

$(O)/tests/unit/%: $(HOBJ)/tests/unit/%.o $(HOBJ)/tests/unit/harness.o $(O)/libagentclient.a $(O)/libagent.a
	@mkdir -p $(dir $@)
	$(call say,LD,$@)
	$(Q)$(CC) $(SANFLAGS) $(filter %.o,$^) $(HOST_LIBS) -o $@
$(O)/tests/integration/%: $(HOBJ)/tests/integration/%.o $(HOBJ)/tests/unit/harness.o $(HOBJ)/tests/integration/itest.o $(HOBJ)/tests/integration/ctr.o $(O)/libagentclient.a $(O)/libagent.a
	@mkdir -p $(dir $@)
	$(call say,LD,$@)
	$(Q)$(CC) $(SANFLAGS) $(filter %.o,$^) $(HOST_LIBS) -o $@
# The lifecycle fuzzer's operation model (generator and text form) is its own file.
$(O)/tests/integration/test-lifecycle-fuzz: $(HOBJ)/tests/integration/lifecycle-ops.o
$(O)/bench/%: $(HOBJ)/bench/%.o $(O)/libagentclient.a $(O)/libagent.a
	@mkdir -p $(dir $@)
	$(call say,LD,$@)
	$(Q)$(CC) $(SANFLAGS) $(filter %.o,$^) $(HOST_LIBS) -o $@

# Fuzzers always use clang + libFuzzer, in their own tree.
FUZZ_O := build-fuzz
fuzz-build:
	$(MAKE) O=$(FUZZ_O) SAN=1 FUZZING=1 $(FUZZ_O)/.fuzz-bins
ifeq ($(FUZZING),1)
HOST_CFLAGS += -fsanitize=fuzzer-no-link -DFUZZING
endif
$(O)/.fuzz-bins: $(FUZZ_BINS)
	@touch $@
$(O)/fuzz/%: $(HOBJ)/fuzz/%.o $(O)/libagent.a
	@mkdir -p $(dir $@)
	$(call say,LD,$@)
	$(Q)$(CC) $(SANFLAGS) -fsanitize=fuzzer $(filter %.o,$^) $(O)/libagent.a -lprotobuf-c -lseccomp -o $@

FUZZ_SECONDS ?= 20
fuzz: fuzz-build fuzz-lifecycle
	tests/run-fuzz.sh $(FUZZ_O) $(FUZZ_SECONDS)

# The stateful lifecycle fuzzer against the release agent (root): make check runs it for 45 s;
# here for LIFECYCLE_SECONDS (SEED=N replays a sequence it printed).
LIFECYCLE_SECONDS ?= $(FUZZ_SECONDS)
fuzz-lifecycle: all $(O)/tests/integration/test-lifecycle-fuzz $(PAYLOAD)
	KATA_AGENT_BIN=$(CURDIR)/$(O)/kata-agent LIFECYCLE_SECONDS=$(LIFECYCLE_SECONDS) \
		$(O)/tests/integration/test-lifecycle-fuzz

# --- tests ---------------------------------------------------------------------------------
# The container payload: a static program that reports what it sees from inside.
PAYLOAD := $(if $(wildcard tests/payload/payload.c),$(O)/tests/payload/payload)
$(PAYLOAD): tests/payload/payload.c
	@mkdir -p $(dir $@)
	$(call say,CC,$@)
	$(Q)musl-gcc -static -std=gnu11 -O2 $(WARN) -D_GNU_SOURCE -s $< -o $@

check: all $(UNIT_BINS) $(INTEG_BINS) $(PAYLOAD) check-no-wait check-layers
	tests/install-check.sh $(O)
	tests/run-tests.sh $(O)

# Only src/loop/ waits for children (see tests/check-no-wait.sh).
check-no-wait:
	tests/check-no-wait.sh src

# Each room of src/ includes only the rooms below it (see tests/check-layers.sh and the README).
check-layers:
	tests/check-layers.sh src

san:
	$(MAKE) SAN=1 all $(addprefix build-san/,$(patsubst $(O)/%,%,$(UNIT_BINS) $(INTEG_BINS) \
		$(PAYLOAD)))

# Static, and under 512 KiB (bench/size.sh shows where the bytes go).
AGENT_MAX_BYTES := 524288
static-check: $(O)/kata-agent
	@file $< | grep -q 'statically linked' || { file $<; echo "kata-agent is not static"; exit 1; }
	@! ldd $< >/dev/null 2>&1 || { ldd $<; echo "kata-agent has dynamic deps"; exit 1; }
	@s=$$(stat -c %s $<); [ "$$s" -lt $(AGENT_MAX_BYTES) ] || { \
		echo "kata-agent is $$s bytes, not under $(AGENT_MAX_BYTES) (bench/size.sh $(O) shows where they go)"; \
		[ -f $(DEPS)/musl/lib/.cflags ] || echo "$(DEPS) holds archives not built for size: make deps"; \
		exit 1; }
	@echo "static-check: $< is static, $$(stat -c %s $<) bytes (limit $(AGENT_MAX_BYTES))"

demo: all $(PAYLOAD)
	tools/demo.sh $(O)
	@if [ "$$(id -u)" = 0 ] && command -v qemu-system-x86_64 >/dev/null; then \
		echo; echo "== the same agent as PID 1 of a VM (Debian's kernel under QEMU): a pod"; \
		$(MAKE) --no-print-directory vm-test; \
	fi

# make bench: bench-deps installs its Debian packages (Go, containerd's ttrpc, crun, runc), the
# Go ttRPC peer is built offline in GOPATH mode against /usr/share/gocode, then bench/run.sh runs
# every bench program and writes $(O)/bench/report.md and report.svg. Without the peer (no Go)
# the agent's figures are still measured.
GO_ENV := GOPATH=/usr/share/gocode GO111MODULE=off GOFLAGS= GOTOOLCHAIN=local CGO_ENABLED=0 \
	GOCACHE=$(abspath $(O))/bench/go-cache
$(O)/bench/ttrpc-peer: bench/ttrpc-peer/main.go
	@mkdir -p $(dir $@)
	$(call say,GO,$@)
	$(Q)$(GO_ENV) go build -trimpath -o $@ ./bench/ttrpc-peer
bench-deps:
	bench/deps.sh
bench: all $(BENCH_BINS) $(PAYLOAD)
	@bench/deps.sh || echo "bench: bench-deps failed; peers that are missing are skipped"
	@$(MAKE) --no-print-directory $(O)/bench/ttrpc-peer || \
		echo "bench: the Go ttRPC peer did not build; its figures run without a peer"
	bench/run.sh $(O)
# CI: the report and chart from a fixed sample; the chart must render (rsvg-convert).
bench-report-check:
	bench/report-check.sh $(O)

# --- the guest image and the VM end-to-end test ------------------------------------------------
# INITRD_FLAGS=--shell-init: /init is a busybox script that prepares the guest and execs the agent.
INITRD_FLAGS ?=
initrd: $(O)/kata-agent
	tools/mkinitrd.sh $(INITRD_FLAGS) $(O)

# The systemd flavour: a Debian 12 image (mmdebstrap) with the agent started by systemd.
image: initrd
	tools/mkimage.sh $(O)

# Both flavours on cgroup v1 and v2: the initramfs (agent as PID 1) on microvm (the fast boot)
# with v1 and v2, then on q35 with PCI hot-plug; the systemd image on microvm with v1, then on
# q35 (hot-plug included) with v2, the mode systemd defaults to.
vm-test: image $(O)/kata-agent-ctl
	tests/vm/vm-test.sh $(O)
	VM_CGROUP=v2 tests/vm/vm-test.sh $(O)
	VM_MACHINE=q35 tests/vm/vm-test.sh $(O)
	VM_IMAGE=systemd tests/vm/vm-test.sh $(O)
	VM_IMAGE=systemd VM_MACHINE=q35 VM_CGROUP=v2 tests/vm/vm-test.sh $(O)

# The systemd image alone, on each machine and cgroup mode (by hand: about 4 boots).
vm-test-image: image $(O)/kata-agent-ctl
	VM_IMAGE=systemd tests/vm/vm-test.sh $(O)
	VM_IMAGE=systemd VM_CGROUP=v2 tests/vm/vm-test.sh $(O)
	VM_IMAGE=systemd VM_MACHINE=q35 tests/vm/vm-test.sh $(O)
	VM_IMAGE=systemd VM_MACHINE=q35 VM_CGROUP=v2 tests/vm/vm-test.sh $(O)

# --- installing into a guest rootfs (the variables of upstream's agent Makefile) -------------
# INIT=no: the agent is started by systemd (kata-agent.service, kata-containers.target);
# INIT=yes: the agent is the image's /sbin/init.
DESTDIR ?=
PREFIX ?= /usr
BINDIR ?= $(PREFIX)/bin
INIT ?= no
UNIT_DIR ?= /usr/lib/systemd/system
install: $(O)/kata-agent
	install -D -m 0755 $(O)/kata-agent $(DESTDIR)$(BINDIR)/kata-agent
ifeq ($(INIT),yes)
	install -d $(DESTDIR)/sbin
	ln -sfn $(BINDIR)/kata-agent $(DESTDIR)/sbin/init
else
	@mkdir -p $(DESTDIR)$(UNIT_DIR)
	sed -e 's|@bindir@|$(BINDIR)|g' systemd/kata-agent.service.in \
		>$(DESTDIR)$(UNIT_DIR)/kata-agent.service
	chmod 0644 $(DESTDIR)$(UNIT_DIR)/kata-agent.service
	install -m 0644 systemd/kata-containers.target $(DESTDIR)$(UNIT_DIR)/kata-containers.target
endif

format:
	clang-format -i $$(git ls-files '*.c' '*.h')
format-check:
	clang-format --dry-run --Werror $$(git ls-files '*.c' '*.h')

clean:
	rm -rf build build-san build-fuzz

-include $(shell find $(O) -name '*.d' -type f -not -path '*/image/*' 2>/dev/null)
