# mpconv - an MPTCP Conversion Point in XDP/TC + a userspace agent.
#
#   make            BPF objects, skeletons, mpconvd, mpconvctl
#   make deps       install every Debian package the project uses
#   make demo       converted MPTCP traffic in namespaces (installs deps)
#   make test       unit + BPF fixture + end-to-end tests (installs deps)
#   make check      static analysis (cppcheck, clang-tidy, clang-format)
#   make fuzz       each libFuzzer target for FUZZ_SECONDS (default 60)
#   make vmtest     the suite on other kernels under qemu
#   make bench      side-by-side benchmarks, results in docs/
#   make vmlinux    regenerate bpf/vmlinux.h (see tools/gen-vmlinux-h.sh)
#   V=1             print every command

.DELETE_ON_ERROR:
.SUFFIXES:

CLANG ?= clang
CC ?= gcc
BPFTOOL ?= bpftool
LLVM_STRIP ?= llvm-strip
PKG_CONFIG ?= pkg-config
FUZZ_SECONDS ?= 60

O := build
ARCH := $(shell uname -m | sed 's/x86_64/x86/;s/aarch64/arm64/')

ifeq ($(V),1)
Q :=
msg :=
else
Q := @
msg = @printf '  %-8s %s\n' "$(1)" "$(2)";
endif

INCLUDES := -Iinclude -I$(O)/skel
BPF_CFLAGS := -g -O2 -target bpf -D__TARGET_ARCH_$(ARCH) -Wall -Werror \
	-Wno-unused-function -Ibpf -Imaps $(INCLUDES)
HOST_WARN := -Wall -Wextra -Werror -Wshadow -Wstrict-prototypes \
	-Wmissing-prototypes -Wno-unused-parameter
CFLAGS ?= -O2 -g
HOST_CFLAGS := $(CFLAGS) $(HOST_WARN) -std=gnu11 -D_GNU_SOURCE $(INCLUDES) \
	-Iagent $(shell $(PKG_CONFIG) --cflags json-c 2>/dev/null)
LIBS := $(shell $(PKG_CONFIG) --libs libbpf libxdp libcrypto json-c inih 2>/dev/null || \
	echo -lbpf -lxdp -lcrypto -ljson-c -linih) -lelf -lz

# ---- BPF ------------------------------------------------------------------
# Product programs live in bpf/, test-only programs in tests/fixtures/bpf/.
BPF_SRCS := $(wildcard bpf/*.bpf.c)
TEST_BPF_SRCS := $(wildcard tests/fixtures/bpf/*.bpf.c)
BPF_OBJS := $(patsubst bpf/%.bpf.c,$(O)/bpf/%.bpf.o,$(BPF_SRCS)) \
	$(patsubst tests/fixtures/bpf/%.bpf.c,$(O)/bpf/%.bpf.o,$(TEST_BPF_SRCS))
SKELS := $(patsubst $(O)/bpf/%.bpf.o,$(O)/skel/%.skel.h,$(BPF_OBJS))
SHARED_HDRS := $(wildcard include/mpconv/*.h) $(wildcard bpf/lib/*.h) \
	$(wildcard maps/*.h) bpf/vmlinux.h

$(O)/bpf/%.tmp.o: bpf/%.bpf.c $(SHARED_HDRS) | $(O)/bpf
	$(call msg,BPF,$@)
	$(Q)$(CLANG) $(BPF_CFLAGS) -c $< -o $@

$(O)/bpf/%.tmp.o: tests/fixtures/bpf/%.bpf.c $(SHARED_HDRS) | $(O)/bpf
	$(call msg,BPF,$@)
	$(Q)$(CLANG) $(BPF_CFLAGS) -c $< -o $@

# `gen object` links (and so checks BTF/relocations); strip DWARF, keep BTF
$(O)/bpf/%.bpf.o: $(O)/bpf/%.tmp.o
	$(call msg,GEN-OBJ,$@)
	$(Q)$(BPFTOOL) gen object $@ $<

$(O)/skel/%.skel.h: $(O)/bpf/%.bpf.o | $(O)/skel
	$(call msg,GEN-SKEL,$@)
	$(Q)$(BPFTOOL) gen skeleton $< name $(subst -,_,$*) > $@

# ---- agent ----------------------------------------------------------------
# agent/*.c except the two mains form libmpconv.a, which tests link too.
AGENT_MAINS := agent/mpconvd.c agent/mpconvctl.c
AGENT_LIB_SRCS := $(filter-out $(AGENT_MAINS),$(wildcard agent/*.c))
AGENT_LIB_OBJS := $(patsubst agent/%.c,$(O)/agent/%.o,$(AGENT_LIB_SRCS))
AGENT_HDRS := $(wildcard agent/*.h)

$(O)/agent/%.o: agent/%.c $(AGENT_HDRS) $(SHARED_HDRS) | $(O)/agent
	$(call msg,CC,$@)
	$(Q)$(CC) $(HOST_CFLAGS) -c $< -o $@

# the mains embed the BPF skeletons; library objects never do
$(O)/agent/mpconvd.o $(O)/agent/mpconvctl.o: $(SKELS)

$(O)/libmpconv.a: $(AGENT_LIB_OBJS)
	$(call msg,AR,$@)
	$(Q)rm -f $@ && ar rcs $@ $^

$(O)/mpconvd: $(O)/agent/mpconvd.o $(O)/libmpconv.a
	$(call msg,LD,$@)
	$(Q)$(CC) $(CFLAGS) -o $@ $^ $(LIBS)

$(O)/mpconvctl: $(O)/agent/mpconvctl.o $(O)/libmpconv.a
	$(call msg,LD,$@)
	$(Q)$(CC) $(CFLAGS) -o $@ $^ $(LIBS)

# ---- test tools (real-traffic helpers used by tests/e2e and bench) --------
TOOL_SRCS := $(wildcard tests/tools/*.c)
TOOLS := $(patsubst tests/tools/%.c,$(O)/tools/%,$(TOOL_SRCS))

$(O)/tools/%: tests/tools/%.c $(SHARED_HDRS) $(O)/libmpconv.a | $(O)/tools
	$(call msg,CC,$@)
	$(Q)$(CC) $(HOST_CFLAGS) -o $@ $< $(O)/libmpconv.a $(LIBS)

# ---- unit tests (cmocka) --------------------------------------------------
UNIT_SRCS := $(wildcard tests/unit/test_*.c)
UNITS := $(patsubst tests/unit/%.c,$(O)/tests/%,$(UNIT_SRCS))

$(O)/tests/test_%: tests/unit/test_%.c $(SHARED_HDRS) $(AGENT_HDRS) $(O)/libmpconv.a | $(O)/tests
	$(call msg,CC,$@)
	$(Q)$(CC) $(HOST_CFLAGS) -Itests/unit -o $@ $< $(O)/libmpconv.a $(LIBS) -lcmocka

# ---- BPF_PROG_TEST_RUN fixtures ------------------------------------------
FIX_SRCS := $(wildcard tests/fixtures/*.c)
$(O)/tests/fixture_runner: $(FIX_SRCS) $(wildcard tests/fixtures/*.h) $(SKELS) $(O)/libmpconv.a | $(O)/tests
	$(call msg,CC,$@)
	$(Q)$(CC) $(HOST_CFLAGS) -Itests/fixtures -o $@ $(FIX_SRCS) $(O)/libmpconv.a $(LIBS)

# ---- fuzzing (libFuzzer, clang) ------------------------------------------
FUZZ_SRCS := $(wildcard tests/fuzz/fuzz_*.c)
FUZZERS := $(patsubst tests/fuzz/%.c,$(O)/fuzz/%,$(FUZZ_SRCS))
FUZZ_CFLAGS := -g -O1 -fsanitize=fuzzer,address,undefined \
	-fno-sanitize-recover=undefined -std=gnu11 -D_GNU_SOURCE $(INCLUDES) -Iagent

$(O)/fuzz/%: tests/fuzz/%.c $(SHARED_HDRS) | $(O)/fuzz
	$(call msg,FUZZCC,$@)
	$(Q)$(CLANG) $(FUZZ_CFLAGS) -o $@ $< $(shell sed -n 's,^/\* fuzz-link: \(.*\) \*/,\1,p' $<)

# ---- directories ----------------------------------------------------------
$(O)/bpf $(O)/skel $(O)/agent $(O)/tests $(O)/fuzz $(O)/tools:
	$(Q)mkdir -p $@

# ---- top-level targets ----------------------------------------------------
.PHONY: all deps deps-check demo test test-unit test-fixtures test-e2e check \
	fuzz fuzz-build vmtest bench vmlinux clean format

all: $(BPF_OBJS) $(SKELS) $(O)/mpconvd $(O)/mpconvctl $(TOOLS)

deps:
	$(Q)tools/deps.sh all

deps-check:
	$(Q)tools/deps.sh --check test

demo: deps-check
	$(Q)$(MAKE) --no-print-directory all
	$(Q)tests/e2e/demo.sh

test: deps-check
	$(Q)$(MAKE) --no-print-directory all $(UNITS) $(O)/tests/fixture_runner
	$(Q)tests/run-all.sh

test-unit: $(UNITS)
	$(Q)tests/run-all.sh unit

test-fixtures: all $(O)/tests/fixture_runner
	$(Q)tests/run-all.sh fixtures

test-e2e: all
	$(Q)tests/run-all.sh e2e

fuzz-build: $(FUZZERS)

fuzz: fuzz-build
	$(Q)tests/fuzz/run.sh $(FUZZ_SECONDS) $(FUZZERS)

vmtest: all
	$(Q)tools/deps.sh --check vm
	$(Q)vmtest/run.sh

bench: all
	$(Q)tools/deps.sh --check bench
	$(Q)bench/run.sh

vmlinux:
	$(Q)tools/gen-vmlinux-h.sh bpf/vmlinux.h

CHECK_SRCS = $(filter-out bpf/vmlinux.h,$(wildcard agent/*.c agent/*.h include/mpconv/*.h \
	bpf/*.c bpf/lib/*.h maps/*.h tests/unit/*.c tests/fixtures/*.c tests/fixtures/*.h \
	tests/fixtures/bpf/*.c tests/tools/*.c tests/fuzz/*.c))

check: all
	$(call msg,CPPCHECK,)
	$(Q)cppcheck --quiet --error-exitcode=1 --enable=warning,performance,portability \
		--inline-suppr --suppress=missingIncludeSystem -Iinclude -Iagent \
		-D__x86_64__ agent tests/tools include
	$(call msg,TIDY,)
	$(Q)clang-tidy --quiet $(wildcard agent/*.c tests/tools/*.c) -- $(HOST_CFLAGS) 2>/dev/null
	$(call msg,FORMAT,)
	$(Q)clang-format --dry-run --Werror $(CHECK_SRCS)

format:
	$(Q)clang-format -i $(CHECK_SRCS)

clean:
	$(Q)rm -rf $(O)
