# iommu-audit build. `make` builds ./iommu-audit, `make static` the fully
# static binary the VM guest runs, `make check` runs every test (unit + VM).
# All intermediates live in .output/. V=1 shows the commands.

# SAN=1: the user-space code, unit tests and CLI binary built with ASan and
# UBSan in their own tree (.output/asan/), run by `make SAN=1 unit cli-test`
# and by `make check` (suites unit-asan, cli-asan). The BPF object is shared.
SKEL_DIR	:= .output
# a GNU extension the shared event structs use (ia_ev_stack in a union)
CLANG_NOWARN	:= -Wno-gnu-variable-sized-type-not-at-end
ifeq ($(SAN),1)
OUTPUT		:= .output/asan
CC		:= clang
SAN_FLAGS	:= -fsanitize=address,undefined -fno-sanitize-recover=all \
		   -fno-omit-frame-pointer $(CLANG_NOWARN)
BIN		:= $(OUTPUT)/iommu-audit
else
OUTPUT		:= .output
SAN_FLAGS	:=
BIN		:= iommu-audit
endif
CLANG		?= clang
BPFTOOL		?= bpftool
CC		?= gcc
ARCH		:= $(shell uname -m | sed 's/x86_64/x86/;s/aarch64/arm64/')
VERSION		:= $(shell git describe --always --dirty 2>/dev/null || echo unknown)

# state.bpf.c defines the shared maps; the others declare them extern.
# libbpf 1.1's linker resolves extern maps only after their definition, so
# it links first.
BPF_SRCS	:= bpf/state.bpf.c $(filter-out bpf/state.bpf.c,$(wildcard bpf/*.bpf.c))
BPF_OBJS	:= $(patsubst bpf/%.bpf.c,$(SKEL_DIR)/bpf/%.bpf.o,$(BPF_SRCS))
SKEL		:= $(SKEL_DIR)/iommu_audit.skel.h
# bpf/lookup/: objects of their own, loaded before the main one (ksyms.bpf.c)
LOOKUP_SKELS	:= $(patsubst bpf/lookup/%.bpf.c,$(SKEL_DIR)/lookup/%.skel.h,$(wildcard bpf/lookup/*.bpf.c))
# user/ has one folder per stage of the data flow (docs/architecture.md);
# headers are included by their path below user/ ("check/shadow.h").
USER_SRCS	:= $(wildcard user/*/*.c)
USER_OBJS	:= $(patsubst user/%.c,$(OUTPUT)/user/%.o,$(USER_SRCS))
LIB_OBJS	:= $(filter-out $(OUTPUT)/user/cmd/main.o,$(USER_OBJS))
UNIT_SRCS	:= $(wildcard tests/unit/test_*.c)
UNIT_BINS	:= $(patsubst tests/unit/%.c,$(OUTPUT)/tests/%,$(UNIT_SRCS))

CFLAGS		?= -O2 -g
CFLAGS		+= -std=gnu11 -Wall -Wextra -Werror -Wno-unused-parameter \
		   -Wno-missing-field-initializers -MMD -MP \
		   -Iuser -I$(SKEL_DIR) -DIA_VERSION='"$(VERSION)"' $(SAN_FLAGS)
BPF_CFLAGS	:= -g -O2 -target bpf -D__TARGET_ARCH_$(ARCH) -Wall -Werror \
		   -I. -Iuser -Ibpf -MMD -MP
LIBS		:= -lbpf -lelf -lz -lmicrohttpd -pthread
STATIC_LIBS	:= -Wl,-Bstatic -lbpf -lelf -lz -static

ifeq ($(V),1)
Q =
msg =
else
Q = @
msg = @printf '  %-8s %s\n' "$(1)" "$(2)";
endif

.PHONY: install uninstall deb lab-test all static guest fixture floor bench check unit cli-test vm-test demo deps clean vmlinux \
	fuzz fuzz-build fuzz-smoke sanitize test-bins check-build
all: $(BIN)

# Install missing Debian packages once (tools/deps.sh is idempotent).
$(SKEL_DIR)/.deps: tools/deps.sh | $(SKEL_DIR)
	$(call msg,DEPS,tools/deps.sh)
	$(Q)tools/deps.sh
	$(Q)touch $@
deps: $(SKEL_DIR)/.deps

$(sort $(OUTPUT) $(SKEL_DIR) $(SKEL_DIR)/bpf $(OUTPUT)/user $(OUTPUT)/tests $(OUTPUT)/static):
	$(Q)mkdir -p $@

$(SKEL_DIR)/bpf/%.bpf.o: bpf/%.bpf.c vmlinux.h $(SKEL_DIR)/.deps | $(SKEL_DIR)/bpf
	$(call msg,BPF,$@)
	$(Q)$(CLANG) $(BPF_CFLAGS) -c $< -o $@

# One object from all programs, so they share maps; then its skeleton.
$(SKEL_DIR)/iommu_audit.bpf.o: $(BPF_OBJS)
	$(call msg,LINK,$@)
	$(Q)$(BPFTOOL) gen object $@ $^

$(SKEL): $(SKEL_DIR)/iommu_audit.bpf.o
	$(call msg,GEN-SKEL,$@)
	$(Q)$(BPFTOOL) gen skeleton $< name iommu_audit_bpf > $@

$(SKEL_DIR)/lookup/%.bpf.o: bpf/lookup/%.bpf.c vmlinux.h $(SKEL_DIR)/.deps
	$(call msg,BPF,$@)
	$(Q)mkdir -p $(@D)
	$(Q)$(CLANG) $(BPF_CFLAGS) -c $< -o $@
$(SKEL_DIR)/lookup/%.skel.h: $(SKEL_DIR)/lookup/%.bpf.o
	$(call msg,GEN-SKEL,$@)
	$(Q)$(BPFTOOL) gen skeleton $< name ia_$*_bpf > $@

$(OUTPUT)/user/%.o: user/%.c $(SKEL) $(LOOKUP_SKELS)
	$(call msg,CC,$@)
	$(Q)mkdir -p $(@D)
	$(Q)$(CC) $(CPPFLAGS) $(CFLAGS) -c $< -o $@

$(BIN): $(USER_OBJS)
	$(call msg,BINARY,$@)
	$(Q)$(CC) $(CFLAGS) $(LDFLAGS) $^ $(LIBS) -o $@

# Fully static: the guest initramfs has no libc, libbpf or libelf. It has
# no HTTP server: Debian's libmicrohttpd links GnuTLS, whose p11-kit has no
# static library (out/metrics_http.c, IA_NO_HTTP); the VM tests that scrape
# run the dynamic binary with its libraries (tools/guest-bundle.sh).
STATIC_OBJS	:= $(filter-out $(OUTPUT)/user/out/metrics_http.o,$(USER_OBJS)) \
		   $(OUTPUT)/static/metrics_http.o
$(OUTPUT)/static/metrics_http.o: user/out/metrics_http.c | $(OUTPUT)/static
	$(call msg,CC,$@)
	$(Q)$(CC) $(CFLAGS) -DIA_NO_HTTP -c $< -o $@
static: $(OUTPUT)/iommu-audit.static
$(OUTPUT)/iommu-audit.static: $(STATIC_OBJS)
	$(call msg,STATIC,$@)
	$(Q)$(CC) $(CFLAGS) $^ $(STATIC_LIBS) -o $@

# Static helpers the VM tests run in the guest (tests/guest/*.c), copied in
# with `tools/vm-run.sh --extra .output/guest`.
GUEST_BINS	:= $(patsubst tests/guest/%.c,$(OUTPUT)/guest/bin/%,$(wildcard tests/guest/*.c))
$(OUTPUT)/guest/bin/%: tests/guest/%.c
	$(call msg,GUEST,$@)
	$(Q)mkdir -p $(@D)
	$(Q)$(CC) -O2 -Wall -Wextra -Werror -static $< -o $@
guest: $(GUEST_BINS)

# The DMA fixture module for the VM tests (tests/fixture/, docs/fixture.md),
# built against the Debian headers of the VM kernel.
FIXTURE		:= $(OUTPUT)/fixture/ia_fixture.ko
$(FIXTURE): $(wildcard tests/fixture/*.c tests/fixture/Kbuild tests/fixture/build.sh tests/fixture/bin/*) $(OUTPUT)/.deps
	$(call msg,FIXTURE,$@)
	$(Q)tests/fixture/build.sh $(if $(V),,>/dev/null)
fixture: $(FIXTURE)

# Benchmarks (bench/*.c link the user/ objects; results in docs/benchmarks.md)
BENCH_BINS	:= $(patsubst bench/%.c,$(OUTPUT)/bench/%,$(wildcard bench/*.c))
$(OUTPUT)/bench/%: bench/%.c $(LIB_OBJS)
	$(call msg,BENCH-CC,$@)
	$(Q)mkdir -p $(@D)
	$(Q)$(CC) $(CFLAGS) $< $(LIB_OBJS) $(LIBS) -o $@
bench: $(BENCH_BINS)

# tools/trace-edit derives test traces from recorded ones by dropping or
# changing requests (tools/make-diff-trace.sh); it needs only the trace code.
TRACE_EDIT	:= $(OUTPUT)/tools/trace-edit
TRACE_OBJS	:= $(OUTPUT)/user/trace/trace.o $(OUTPUT)/user/lib/openfile.o \
		   $(OUTPUT)/user/lib/crc32.o
$(TRACE_EDIT): tools/trace-edit.c $(TRACE_OBJS)
	$(call msg,TOOL-CC,$@)
	$(Q)mkdir -p $(@D)
	$(Q)$(CC) $(CFLAGS) $< $(TRACE_OBJS) -lz -o $@

# ---- install ---------------------------------------------------------------
# make install [PREFIX=/usr/local] [DESTDIR=...]: the binary (sbin: it needs
# CAP_BPF), the man page (roff, from docs/iommu-audit.8.md), bash
# completion (from the binary's --help), the systemd unit running `monitor`,
# its options file and a logrotate rule. The Debian package (debian/) uses
# PREFIX=/usr.
PREFIX		?= /usr/local
SBINDIR		:= $(PREFIX)/sbin
MANDIR		:= $(PREFIX)/share/man
COMPDIR		:= $(PREFIX)/share/bash-completion/completions
UNITDIR		?= $(if $(filter /usr,$(PREFIX)),/lib/systemd/system,$(PREFIX)/lib/systemd/system)
SYSCONFDIR	?= $(if $(filter /usr,$(PREFIX)),/etc,$(PREFIX)/etc)
INSTALL		?= install

$(OUTPUT)/iommu-audit.8: docs/iommu-audit.8.md tools/gen-roff.sh | $(OUTPUT)
	$(call msg,MAN,$@)
	$(Q)tools/gen-roff.sh $< $(VERSION) > $@
$(OUTPUT)/iommu-audit.bash: iommu-audit tools/gen-completion.sh | $(OUTPUT)
	$(call msg,COMPL,$@)
	$(Q)tools/gen-completion.sh ./iommu-audit > $@
$(OUTPUT)/iommu-audit.service: dist/iommu-audit.service | $(OUTPUT)
	$(Q)sed 's|/usr/sbin/iommu-audit|$(SBINDIR)/iommu-audit|; s|/etc/default/|$(SYSCONFDIR)/default/|' $< > $@

install: iommu-audit $(OUTPUT)/iommu-audit.8 $(OUTPUT)/iommu-audit.bash $(OUTPUT)/iommu-audit.service
	$(INSTALL) -D -m 0755 iommu-audit $(DESTDIR)$(SBINDIR)/iommu-audit
	$(INSTALL) -D -m 0644 $(OUTPUT)/iommu-audit.8 $(DESTDIR)$(MANDIR)/man8/iommu-audit.8
	$(INSTALL) -D -m 0644 $(OUTPUT)/iommu-audit.bash $(DESTDIR)$(COMPDIR)/iommu-audit
	$(INSTALL) -D -m 0644 $(OUTPUT)/iommu-audit.service $(DESTDIR)$(UNITDIR)/iommu-audit.service
	$(INSTALL) -D -m 0644 dist/iommu-audit.default $(DESTDIR)$(SYSCONFDIR)/default/iommu-audit
	$(INSTALL) -D -m 0644 dist/iommu-audit.logrotate $(DESTDIR)$(SYSCONFDIR)/logrotate.d/iommu-audit

uninstall:
	rm -f $(DESTDIR)$(SBINDIR)/iommu-audit $(DESTDIR)$(MANDIR)/man8/iommu-audit.8 \
	      $(DESTDIR)$(COMPDIR)/iommu-audit $(DESTDIR)$(UNITDIR)/iommu-audit.service \
	      $(DESTDIR)$(SYSCONFDIR)/default/iommu-audit \
	      $(DESTDIR)$(SYSCONFDIR)/logrotate.d/iommu-audit

# The Debian package, in .output/deb/ (docs/monitor.md): dpkg-buildpackage
# on a copy of the tree, so the work tree gets no debian/ build litter.
deb:
	$(Q)tools/build-deb.sh

# ---- tests -----------------------------------------------------------------
# Each tests/unit/test_X.c links the user/ objects it needs (all but main.o).
$(OUTPUT)/tests/test_%: tests/unit/test_%.c $(LIB_OBJS) | $(OUTPUT)/tests
	$(call msg,TEST-CC,$@)
	$(Q)$(CC) $(CFLAGS) $< $(LIB_OBJS) -lcmocka $(LIBS) -o $@

unit: $(UNIT_BINS)
	$(Q)tests/run-unit.sh $(UNIT_BINS)

cli-test: $(BIN) $(TRACE_EDIT)
	$(Q)IA_BIN=$(abspath $(BIN)) tests/run-cli.sh

# The sanitizer builds: `make sanitize` = unit and CLI suites under ASan+UBSan.
sanitize:
	$(Q)$(MAKE) --no-print-directory SAN=1 unit cli-test

# ---- fuzzing (tests/fuzz/, docs/testing.md) ----------------------------------
# libFuzzer harnesses linked with the user/ objects built by clang with
# coverage, ASan and UBSan (.output/fuzz/). `make fuzz [FUZZ_TIME=S]` runs
# each for S seconds (default 60) on its corpus in tests/fuzz/corpus/;
# `make fuzz-smoke` (in `make check`) runs each for FUZZ_SMOKE seconds.
FUZZ_OUT	:= .output/fuzz
FUZZ_FLAGS	:= -g -O1 -fsanitize=fuzzer-no-link,address,undefined \
		   -fno-sanitize-recover=all -fno-omit-frame-pointer $(CLANG_NOWARN) \
		   -DFUZZING_BUILD_MODE_UNSAFE_FOR_PRODUCTION
.SECONDARY: $(FUZZ_OBJS)
FUZZ_OBJS	:= $(patsubst user/%.c,$(FUZZ_OUT)/user/%.o,$(filter-out user/cmd/main.c,$(USER_SRCS)))
FUZZ_BINS	:= $(patsubst tests/fuzz/%.c,$(FUZZ_OUT)/%,$(wildcard tests/fuzz/fuzz_*.c))
FUZZ_TIME	?= 60
FUZZ_SMOKE	?= 25
$(FUZZ_OUT)/user/%.o: user/%.c $(SKEL) $(LOOKUP_SKELS)
	$(call msg,FUZZ-CC,$@)
	$(Q)mkdir -p $(@D)
	$(Q)$(CLANG) -std=gnu11 -Wall -Werror -Wno-unused-parameter -MMD -MP -Iuser \
		-I$(SKEL_DIR) -DIA_VERSION='"fuzz"' $(FUZZ_FLAGS) -c $< -o $@
$(FUZZ_OUT)/fuzz_%: tests/fuzz/fuzz_%.c tests/fuzz/fuzz_util.h $(FUZZ_OBJS)
	$(call msg,FUZZ-LD,$@)
	$(Q)$(CLANG) -std=gnu11 -Wall -Werror -Iuser -I$(SKEL_DIR) $(FUZZ_FLAGS) \
		-fsanitize=fuzzer $< $(FUZZ_OBJS) $(LIBS) -o $@
fuzz-build: $(FUZZ_BINS)
fuzz: fuzz-build
	$(Q)tests/run-fuzz.sh --time $(FUZZ_TIME) $(FUZZ_BINS)
fuzz-smoke: fuzz-build
	$(Q)tests/run-fuzz.sh --time $(FUZZ_SMOKE) $(FUZZ_BINS)

vm-test: iommu-audit static guest fixture
	$(Q)tests/run-vm.sh --mode both

# The lab suite (docs/lab-kernel.md): builds the lab kernel once per version
# (22-26 CPU-minutes each, cached in ~/.cache/iommu-audit/lab), then 5 boots
# per version; `make check` runs both. LAB_VERSIONS=6.1 for one.
LAB_VERSIONS	?= 6.1 7.2
lab-test: iommu-audit static $(TRACE_EDIT)
	$(Q)IA_LAB_VERSIONS="$(LAB_VERSIONS)" tests/lab/run.sh

# The README's test command: unit, CLI, VM and lab tests, with one summary.
# Its builds take one job per core whatever -j make was given (CI runs a
# plain `make check`; on 2 cores that halves the build's 2.4 minutes).
NPROC		:= $(shell nproc 2>/dev/null || echo 1)
check:
	$(Q)$(MAKE) --no-print-directory -j$(NPROC) check-build
	$(Q)$(MAKE) --no-print-directory -j$(NPROC) SAN=1 test-bins
	$(Q)tests/run-all.sh $(UNIT_BINS)

check-build: $(UNIT_BINS) iommu-audit $(TRACE_EDIT) static guest fixture fuzz-build

# What the unit and CLI suites run (with SAN=1: the ASan+UBSan build).
test-bins: $(BIN) $(UNIT_BINS) $(TRACE_EDIT)

demo: static
	$(Q)tools/demo.sh

vmlinux:
	tools/gen-vmlinux-h.sh

clean:
	$(call msg,CLEAN)
	$(Q)rm -rf $(OUTPUT) iommu-audit

-include $(wildcard $(SKEL_DIR)/bpf/*.d $(SKEL_DIR)/lookup/*.d $(OUTPUT)/user/*/*.d $(OUTPUT)/tests/*.d \
		   $(OUTPUT)/tools/*.d $(FUZZ_OUT)/user/*/*.d)

# The floor tracer of the benchmarks (bench/floor/: counters only, on the
# hooks a mode attaches), static for the guest.
$(OUTPUT)/bench/floor.bpf.o: bench/floor/floor.bpf.c vmlinux.h $(OUTPUT)/.deps
	$(call msg,BPF,$@)
	$(Q)mkdir -p $(@D)
	$(Q)$(CLANG) $(BPF_CFLAGS) -c $< -o $@
$(OUTPUT)/bench/floor.skel.h: $(OUTPUT)/bench/floor.bpf.o
	$(call msg,GEN-SKEL,$@)
	$(Q)$(BPFTOOL) gen skeleton $< name floor_bpf > $@
$(OUTPUT)/bench/floor: bench/floor/floor.c $(OUTPUT)/bench/floor.skel.h
	$(call msg,STATIC,$@)
	$(Q)$(CC) -O2 -Wall -Wextra -Werror -I$(OUTPUT)/bench $< $(STATIC_LIBS) -o $@
floor: $(OUTPUT)/bench/floor
