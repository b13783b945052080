# libFuzzer targets (tests/fuzz/fuzz_*.c), built with clang, ASan and UBSan.
# The library sources are compiled into build-fuzz/obj (with fuzzer
# coverage instrumentation) and linked straight into each target; nothing
# comes from build/libsynack.a.
#
#   make -f fuzz.mk                      build every target
#   make -f fuzz.mk run FUZZ_SECONDS=N   fuzz each target N seconds, keeping
#                                        its corpus in build-fuzz/corpus-NAME
#   make -f fuzz.mk smoke                a short bounded run of each target;
#                                        prints "fuzz NAME: N executions,
#                                        N crashes" and fails on any crash
#   make -f fuzz.mk fuzz_NAME            one target
#
# A corpus starts from the frames the target writes itself
# (SYNACK_FUZZ_SEEDS=DIR build-fuzz/fuzz_NAME); tests/fuzz/seeds-NAME/, when
# it exists, is read as a second (read-only) corpus: checked-in inputs that
# once found a bug. Crashes land in build-fuzz/crash-NAME-*; replay one with
#   build-fuzz/fuzz_NAME build-fuzz/crash-NAME-<hash>
# (fuzz_stack, fuzz_net: SYNACK_FUZZ_VERBOSE=1, SYNACK_FUZZ_PCAP=file.pcap
# help; see the top of tests/fuzz/fuzz_stack.c, and tests/fuzz/fuzz_common.c
# for SYNACK_FUZZ_ALLOW_STORMS).
#
# Targets: fuzz_wire (the stateless parsers of src/wire), fuzz_stack (raw
# IPv4 frames into a live stack), fuzz_net (raw IPv4, raw IPv6, Ethernet
# with IPv4 + ARP, Ethernet with IPv6 + ND: fragments, ICMP errors, the
# neighbour cache). The smoke run takes about SMOKE_SECONDS per target.
CLANG ?= clang
FUZZ_BUILD ?= build-fuzz
FUZZ_SECONDS ?= 60
SMOKE_SECONDS ?= 15
SMOKE_RUNS ?= 2000000
FUZZ_FLAGS ?= -timeout=20 -rss_limit_mb=2048

SAN := -fsanitize=address,undefined -fno-sanitize-recover=undefined -fno-omit-frame-pointer
BASE_CFLAGS := -std=gnu11 -g -O1 -Iinclude -Isrc -D_GNU_SOURCE -DSYNACK_DEBUG $(SAN)
# library code: not -Werror here (clang may warn where gcc does not)
LIB_CFLAGS := $(BASE_CFLAGS) -fsanitize=fuzzer-no-link -Wall -Wno-unused-parameter
TARGET_CFLAGS := $(BASE_CFLAGS) -Wall -Wextra -Werror -Wshadow -Wstrict-prototypes -Wmissing-prototypes

LIB_DIRS := src/base src/wire src/net src/tcp src/stack src/crypto src/tls src/link src/app
LIB_SRCS := $(sort $(wildcard $(addsuffix /*.c,$(LIB_DIRS))))
LIB_OBJS := $(LIB_SRCS:%.c=$(FUZZ_BUILD)/obj/%.o)
HDRS := $(wildcard include/synack/*.h include/synack/*.def src/*/*.h)
# tests/fuzz/fuzz_common.c is not a target: what the targets share, linked
# into each of them.
TARGETS := $(sort $(filter-out common,$(patsubst tests/fuzz/fuzz_%.c,%,$(wildcard tests/fuzz/fuzz_*.c))))
COMMON_OBJ := $(FUZZ_BUILD)/obj/tests/fuzz/fuzz_common.o
BINS := $(TARGETS:%=$(FUZZ_BUILD)/fuzz_%)

.PHONY: all run smoke corpora $(TARGETS:%=fuzz_%)
.SECONDARY: $(LIB_OBJS)
all: $(BINS)

$(TARGETS:%=fuzz_%): fuzz_%: $(FUZZ_BUILD)/fuzz_%

$(FUZZ_BUILD)/obj/%.o: %.c $(HDRS)
	@mkdir -p $(dir $@)
	$(CLANG) $(LIB_CFLAGS) -c $< -o $@

$(COMMON_OBJ): tests/fuzz/fuzz_common.c tests/fuzz/fuzz_common.h $(HDRS)
	@mkdir -p $(dir $@)
	$(CLANG) $(TARGET_CFLAGS) -fsanitize=fuzzer-no-link -c $< -o $@

$(FUZZ_BUILD)/fuzz_%: tests/fuzz/fuzz_%.c tests/fuzz/fuzz_common.h $(COMMON_OBJ) $(LIB_OBJS) $(HDRS)
	@mkdir -p $(dir $@)
	$(CLANG) $(TARGET_CFLAGS) -fsanitize=fuzzer -o $@ $< $(COMMON_OBJ) $(LIB_OBJS) -lcrypto -lm

# Create and seed build-fuzz/corpus-NAME if it is empty.
$(FUZZ_BUILD)/corpus-%/.seeded: $(FUZZ_BUILD)/fuzz_%
	@mkdir -p $(dir $@)
	SYNACK_FUZZ_SEEDS=$(dir $@) $<
	@touch $@

corpora: $(TARGETS:%=$(FUZZ_BUILD)/corpus-%/.seeded)

# One target for $(1) seconds; $(2) extra flags. Prints the summary line the
# test script reads and returns the fuzzer's status.
define fuzz_one
log=$(FUZZ_BUILD)/fuzz-$$t.log; \
ASAN_OPTIONS=detect_leaks=1:abort_on_error=1 UBSAN_OPTIONS=print_stacktrace=1:halt_on_error=1 \
$(FUZZ_BUILD)/fuzz_$$t -max_total_time=$(1) $(2) $(FUZZ_FLAGS) -print_final_stats=1 \
	-artifact_prefix=$(FUZZ_BUILD)/crash-$$t- $(FUZZ_BUILD)/corpus-$$t \
	$$([ -d tests/fuzz/seeds-$$t ] && echo tests/fuzz/seeds-$$t) >$$log 2>&1; rc=$$?; \
execs=$$(sed -n 's/^stat::number_of_executed_units: *\([0-9]*\).*/\1/p' $$log | tail -n 1); \
[ -n "$$execs" ] || execs=$$(sed -n 's/^Done \([0-9]*\) runs.*/\1/p' $$log | tail -n 1); \
crashes=0; [ $$rc -eq 0 ] || crashes=1; \
echo "fuzz $$t: $${execs:-0} executions, $$crashes crashes"; \
if [ $$rc -ne 0 ]; then grep -E 'ERROR|REQUIRE|SUMMARY|Test unit written|==[0-9]+==' $$log | head -n 30; \
	ls $(FUZZ_BUILD)/crash-$$t-* 2>/dev/null | head -n 5; fi
endef

run: $(BINS) corpora
	@fail=0; for t in $(TARGETS); do \
		$(call fuzz_one,$(FUZZ_SECONDS),); [ $$rc -eq 0 ] || fail=1; \
	done; exit $$fail

smoke: $(BINS) corpora
	@fail=0; for t in $(TARGETS); do \
		$(call fuzz_one,$(SMOKE_SECONDS),-runs=$(SMOKE_RUNS)); [ $$rc -eq 0 ] || fail=1; \
	done; exit $$fail
