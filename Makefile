# SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
# ordergate build: BPF objects + skeleton, ordergatectl, ordergated, tests, fuzzers, benches.
# Everything generated goes under $(BUILD); nothing generated enters the source tree.

BUILD   ?= build
CC      ?= gcc
CLANG   ?= clang
BPFTOOL ?= bpftool
PREFIX  ?= /usr/local

PKGS    := libbpf libxdp libevent libevent_pthreads yaml-0.1
PKG_CFLAGS := $(shell pkg-config --cflags $(PKGS) 2>/dev/null)
PKG_LIBS   := $(shell pkg-config --libs $(PKGS) 2>/dev/null)

WARN    := -Wall -Wextra -Wno-unused-parameter -Wno-missing-field-initializers
CFLAGS  ?= -O2 -g
override CFLAGS += -std=gnu11 $(WARN) -D_GNU_SOURCE -Iinclude -I$(BUILD) -Iuser $(PKG_CFLAGS) -MMD -MP
LDLIBS  := $(PKG_LIBS) -lelf -lz -lpthread -lm

BPF_CFLAGS := -g -O2 -target bpf -mcpu=v3 -D__TARGET_ARCH_x86 -Wall -Wno-unused-function \
	-I$(BUILD) -Iinclude -Ibpf

# Sources, found by wildcard so a new file needs no Makefile edit.
BPF_SRCS   := $(wildcard bpf/*.bpf.c)
BPF_OBJS   := $(patsubst bpf/%.bpf.c,$(BUILD)/bpf/%.bpf.o,$(BPF_SRCS))
DP_SRCS    := $(wildcard user/dp/*.c)
CTL_SRCS   := $(wildcard user/ctl/*.c)
# ordergated: every folder under user/ but the datapath library and the CLI; ops/main.c holds main().
D_DIRS     := $(filter-out user/dp/ user/ctl/,$(sort $(dir $(wildcard user/*/*.c))))
D_MAIN     := user/ops/main.c
D_SRCS     := $(filter-out $(D_MAIN),$(wildcard $(addsuffix *.c,$(D_DIRS))))
TLIB_SRCS  := $(wildcard tests/lib/*.c)
UNIT_SRCS  := $(wildcard tests/unit/test_*.c)
BPFT_SRCS  := $(wildcard tests/bpf/test_*.c)
FUZZ_SRCS  := $(wildcard tests/fuzz/fuzz_*.c)
BENCH_SRCS := $(wildcard bench/*.c)
BENCH_BPF  := $(wildcard bench/*.bpf.c)

DP_OBJS    := $(patsubst %.c,$(BUILD)/obj/%.o,$(DP_SRCS))
CTL_OBJS   := $(patsubst %.c,$(BUILD)/obj/%.o,$(CTL_SRCS))
D_OBJS     := $(patsubst %.c,$(BUILD)/obj/%.o,$(D_SRCS))
TLIB_OBJS  := $(patsubst %.c,$(BUILD)/obj/%.o,$(TLIB_SRCS))
TEST_BINS  := $(patsubst tests/unit/%.c,$(BUILD)/tests/%,$(UNIT_SRCS)) \
              $(patsubst tests/bpf/%.c,$(BUILD)/tests/%,$(BPFT_SRCS))
FUZZ_BINS  := $(patsubst tests/fuzz/%.c,$(BUILD)/fuzz/%,$(FUZZ_SRCS))
BENCH_BINS := $(patsubst bench/%.c,$(BUILD)/bench/%,$(filter-out %.bpf.c,$(BENCH_SRCS)))
BENCH_BOBJ := $(patsubst bench/%.bpf.c,$(BUILD)/bench/%.bpf.o,$(BENCH_BPF))

SKEL := $(BUILD)/og.skel.h
BINS := $(BUILD)/ordergatectl $(if $(wildcard $(D_MAIN)),$(BUILD)/ordergated)

.PHONY: all deps run test bench bench-lanes bench-bpf fuzz soak asan install clean format format-check tests
all: $(BINS)

deps:
	@bash deploy/deps.sh

# --- BPF -------------------------------------------------------------------
$(BUILD)/vmlinux.h:
	@mkdir -p $(@D)
	$(BPFTOOL) btf dump file /sys/kernel/btf/vmlinux format c > $@.tmp && mv $@.tmp $@

$(BUILD)/bpf/%.bpf.o: bpf/%.bpf.c $(BUILD)/vmlinux.h $(wildcard bpf/*.h) include/ordergate/og_shared.h
	@mkdir -p $(@D)
	$(CLANG) $(BPF_CFLAGS) -c $< -o $@

# One object, one skeleton: the per-attach-point files share their __weak maps.
$(BUILD)/og.bpf.o: $(BPF_OBJS)
	$(BPFTOOL) gen object $@ $^

$(SKEL): $(BUILD)/og.bpf.o
	$(BPFTOOL) gen skeleton $< name og_bpf > $@.tmp && mv $@.tmp $@

# --- user code -------------------------------------------------------------
$(BUILD)/obj/%.o: %.c | $(SKEL)
	@mkdir -p $(@D)
	$(CC) $(CFLAGS) -c $< -o $@

$(BUILD)/libogdp.a: $(DP_OBJS)
	@rm -f $@; $(AR) rcs $@ $^
$(BUILD)/libogd.a: $(D_OBJS)
	@rm -f $@; $(AR) rcs $@ $^
$(BUILD)/libogtest.a: $(TLIB_OBJS)
	@rm -f $@; $(AR) rcs $@ $^

$(BUILD)/ordergatectl: $(CTL_OBJS) $(BUILD)/libogdp.a
	$(CC) $(CFLAGS) -o $@ $^ $(LDLIBS)

$(BUILD)/ordergated: $(BUILD)/obj/user/ops/main.o $(BUILD)/libogd.a $(BUILD)/libogdp.a
	$(CC) $(CFLAGS) -o $@ $^ $(LDLIBS)

# --- tests -----------------------------------------------------------------
$(BUILD)/tests/%: $(BUILD)/obj/tests/unit/%.o $(BUILD)/libogtest.a $(BUILD)/libogd.a $(BUILD)/libogdp.a
	@mkdir -p $(@D)
	$(CC) $(CFLAGS) -o $@ $^ $(LDLIBS)
$(BUILD)/tests/%: $(BUILD)/obj/tests/bpf/%.o $(BUILD)/libogtest.a $(BUILD)/libogd.a $(BUILD)/libogdp.a
	@mkdir -p $(@D)
	$(CC) $(CFLAGS) -o $@ $^ $(LDLIBS)

tests: $(BINS) $(TEST_BINS) $(BENCH_BINS) $(BENCH_BOBJ) $(FUZZ_BINS) asan

test: deps
	$(MAKE) format-check
	$(MAKE) tests
	bash tests/run $(T)

# --- sanitizers and fuzzing (clang: libFuzzer needs it) --------------------
# OG_SAN: lib/iow.h uses libc read/write/writev, which ASan intercepts, not raw syscalls
SAN_FLAGS := -fsanitize=address,undefined -fno-omit-frame-pointer -fno-sanitize-recover=undefined \
	-DOG_SAN
$(BUILD)/san/%.o: %.c | $(SKEL)
	@mkdir -p $(@D)
	$(CLANG) $(CFLAGS) -O1 $(SAN_FLAGS) -fsanitize=fuzzer-no-link -c $< -o $@

asan: $(if $(wildcard $(D_MAIN)),$(BUILD)/ordergated-asan)
$(BUILD)/ordergated-asan: $(patsubst %.c,$(BUILD)/san/%.o,$(D_MAIN) $(D_SRCS) $(DP_SRCS))
	$(CLANG) $(SAN_FLAGS) -o $@ $^ $(LDLIBS)

$(BUILD)/fuzz/%: tests/fuzz/%.c $(patsubst %.c,$(BUILD)/san/%.o,$(D_SRCS) $(DP_SRCS)) | $(SKEL)
	@mkdir -p $(@D)
	$(CLANG) $(filter-out -MMD -MP,$(CFLAGS)) -O1 $(SAN_FLAGS) -fsanitize=fuzzer -o $@ $^ $(LDLIBS)

FUZZ_SECS ?= 60
fuzz: $(FUZZ_BINS)
	FUZZ_SECS=$(FUZZ_SECS) bash tests/fuzz/run

# --- benchmarks ------------------------------------------------------------
$(BUILD)/bench/%: bench/%.c
	@mkdir -p $(@D)
	$(CC) $(CFLAGS) -o $@ $< $(LDLIBS)
$(BUILD)/bench/%.bpf.o: bench/%.bpf.c $(BUILD)/vmlinux.h
	@mkdir -p $(@D)
	$(CLANG) $(BPF_CFLAGS) -c $< -o $@

bench-bpf: deps
	$(MAKE) $(TEST_BINS) $(BENCH_BOBJ)
	bash bench/bench-bpf.sh

bench: deps
	$(MAKE) all $(BENCH_BINS) $(BENCH_BOBJ)
	bash bench/bench-http.sh

bench-lanes: deps
	$(MAKE) all $(BUILD)/bench/openloop $(BUILD)/bench/lanes_origin
	bash bench/bench-lanes.sh

soak: deps
	$(MAKE) all
	bash tests/soak/run

# --- run / install / housekeeping ------------------------------------------
run: deps
	$(MAKE) all
	bash deploy/run.sh

install: all
	install -d $(DESTDIR)$(PREFIX)/sbin $(DESTDIR)$(PREFIX)/lib/ordergate
	install -m 0755 $(BINS) $(DESTDIR)$(PREFIX)/sbin/
	install -m 0644 $(BUILD)/og.bpf.o $(DESTDIR)$(PREFIX)/lib/ordergate/

format:
	clang-format -i $(shell git ls-files '*.c' '*.h')
format-check:
	clang-format --dry-run --Werror $(shell git ls-files '*.c' '*.h')

clean:
	rm -rf $(BUILD)

-include $(shell find $(BUILD)/obj $(BUILD)/san -name '*.d' 2>/dev/null)
