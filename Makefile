# synack build. One entry point: `make` builds the library and the command;
# `make demo`, `make test`, `make bench`, `make fuzz`, `make install`.
PREFIX ?= /usr/local
DESTDIR ?=
BUILD ?= build
CC ?= cc
SAN ?=
OPT ?= -O2
OBJCOPY ?= objcopy

WARN := -Wall -Wextra -Werror -Wshadow -Wstrict-prototypes -Wmissing-prototypes -Wno-unused-parameter
CFLAGS_BASE := -std=gnu11 -g $(OPT) $(WARN) -Iinclude -Isrc -fPIC -D_GNU_SOURCE
ifeq ($(SAN),1)
CFLAGS_BASE += -fsanitize=address,undefined -fno-omit-frame-pointer -fno-sanitize-recover=undefined
LDFLAGS_SAN := -fsanitize=address,undefined
DEBUG ?= 1
endif
# DEBUG=1: a broken internal invariant (a frame that does not fit its
# buffer ...) aborts instead of being only counted. On in SAN=1 builds.
ifeq ($(DEBUG),1)
CFLAGS_BASE += -DSYNACK_DEBUG
endif
CFLAGS += $(CFLAGS_BASE)
LDFLAGS += $(LDFLAGS_SAN)

# The sans-I/O core (checked by scripts/check-core-symbols.sh), then the
# crypto table (libcrypto: files, OS randomness) and the glue.
CORE_DIRS := src/base src/wire src/net src/tcp src/stack src/tls
LIB_SRCS := $(sort $(wildcard $(addsuffix /*.c,$(CORE_DIRS)) src/crypto/*.c src/link/*.c src/app/*.c))
# libcrypto (libssl-dev) is the one library synack links: every TLS
# primitive and all X.509 work (DESIGN.md principle 5).
LIBS := -lcrypto -lm
LIB_OBJS := $(LIB_SRCS:%.c=$(BUILD)/obj/%.o)
# Library objects hide every name but the public API (SYNACK_API in
# include/synack/*.h); scripts/check-exports.sh checks what the libraries export.
$(LIB_OBJS): CFLAGS += -fvisibility=hidden
CORE_OBJS := $(filter $(addprefix $(BUILD)/obj/,$(addsuffix /%,$(CORE_DIRS))),$(LIB_OBJS))
TOOL_SRCS := $(sort $(wildcard tools/*.c))
TOOL_OBJS := $(TOOL_SRCS:%.c=$(BUILD)/obj/%.o)
UNIT_SRCS := $(sort $(wildcard tests/unit/test_*.c))
UNIT_BINS := $(UNIT_SRCS:tests/unit/%.c=$(BUILD)/tests/%)
SIM_SRCS := $(sort $(wildcard tests/sim/*.c))
SIM_BINS := $(SIM_SRCS:tests/sim/%.c=$(BUILD)/tests/sim_%)
BENCH_SRCS := $(sort $(wildcard bench/*.c))
BENCH_BINS := $(BENCH_SRCS:bench/%.c=$(BUILD)/bench/%)
HDRS := $(wildcard include/synack/*.h include/synack/*.def src/*/*.h tools/*.h)

.PHONY: all lib tools tests demo test bench fuzz install clean format deps-demo deps-test
all: lib tools

lib: $(BUILD)/libsynack.a $(BUILD)/libsynack.so $(BUILD)/synack.pc
tools: $(BUILD)/synack
# and bench/sim_path, whose SIM_PLOT tests/scripts/test-sim-plot.sh checks,
# and bench/crr_client, the kernel-side client tests/scripts/test-threads.sh drives
tests: $(UNIT_BINS) $(SIM_BINS) $(BUILD)/bench/sim_path $(BUILD)/bench/crr_client

$(BUILD)/obj/%.o: %.c $(HDRS)
	@mkdir -p $(dir $@)
	$(CC) $(CFLAGS) -c $< -o $@

# libsynack.a (installed): one relocatable object with every hidden symbol
# made local, so that only SYNACK_API names stay global and an application
# may define its own ring_push or link lwIP beside it.
$(BUILD)/libsynack.a: $(LIB_OBJS)
	@rm -f $@
	$(LD) -r -o $(BUILD)/obj/libsynack.o $^
	$(OBJCOPY) --localize-hidden $(BUILD)/obj/libsynack.o
	ar rcs $@ $(BUILD)/obj/libsynack.o

# libsynack-internal.a (not installed): the plain objects, internal names
# still global, for the tests, benchmarks and the synack command, which
# call internals (net_send, wire_*, ring_* ...).
$(BUILD)/libsynack-internal.a: $(LIB_OBJS)
	@rm -f $@
	ar rcs $@ $^

$(BUILD)/libsynack.so: $(LIB_OBJS)
	$(CC) -shared -Wl,-soname,libsynack.so.0 $(LDFLAGS) -o $@ $^ $(LIBS)

$(BUILD)/synack.pc: synack.pc.in
	@mkdir -p $(BUILD)
	sed -e 's|@PREFIX@|$(PREFIX)|g' $< > $@

$(BUILD)/synack: $(TOOL_OBJS) $(BUILD)/libsynack-internal.a
	$(CC) $(LDFLAGS) -o $@ $(TOOL_OBJS) $(BUILD)/libsynack-internal.a $(LIBS)

UNIT_LIBS_test_tls12_server := -lssl
$(BUILD)/tests/%: tests/unit/%.c tests/unit/unit.c $(wildcard tests/unit/*.h) $(BUILD)/libsynack-internal.a
	@mkdir -p $(dir $@)
	$(CC) $(CFLAGS) -Itests/unit $(LDFLAGS) -o $@ $< tests/unit/unit.c $(BUILD)/libsynack-internal.a $(LIBS) $(UNIT_LIBS_$*)

$(BUILD)/tests/sim_%: tests/sim/%.c tests/unit/unit.c $(wildcard tests/unit/*.h) $(BUILD)/libsynack-internal.a
	@mkdir -p $(dir $@)
	$(CC) $(CFLAGS) -Itests/unit $(LDFLAGS) -o $@ $< tests/unit/unit.c $(filter %.o,$^) $(BUILD)/libsynack-internal.a $(LIBS)

# The simulators draw time-sequence graphs (SIM_PLOT) with the command's
# tools/plot.c: its object is linked in (the rules link the .o prerequisites).
$(BUILD)/bench/sim_path $(BUILD)/tests/sim_transfer: $(BUILD)/obj/tools/plot.o

# The TLS benchmarks also link their baselines: libssl, and GnuTLS.
BENCH_LIBS_tls := -lssl -lgnutls
BENCH_LIBS_tls_idle := -lssl
# bench/crr_client: the kernel-side CRR client of bench/crr_threads.sh, in threads.
BENCH_LIBS_crr_client := -pthread
$(BUILD)/bench/%: bench/%.c $(wildcard bench/*.h) $(BUILD)/libsynack-internal.a
	@mkdir -p $(dir $@)
	$(CC) $(CFLAGS) $(LDFLAGS) -o $@ $< $(filter %.o,$^) $(BUILD)/libsynack-internal.a $(LIBS) $(BENCH_LIBS_$*)

# bench/lwip also links lwIP, Debian's liblwip-dev (pkg-config name lwip),
# which only `make bench` installs: no other target builds this binary, so
# `make`, `make tests` and `make test` never need it. Its headers come in
# with -isystem (their warnings are not ours). It links libsynack.a, whose
# internal names are local, not libsynack-internal.a: synack's tcp_output,
# tcp_input ... would otherwise take the place of lwIP's (the synack side
# uses the public API only). Recursive `=`: pkg-config runs only when this
# recipe does.
LWIP_CFLAGS = $(patsubst -I%,-isystem %,$(shell pkg-config --cflags lwip 2>/dev/null || echo -I/usr/include/lwip))
LWIP_LIBS = $(shell pkg-config --libs lwip 2>/dev/null || echo -llwip)
$(BUILD)/bench/lwip: bench/lwip.c $(wildcard bench/*.h) $(BUILD)/libsynack.a
	@mkdir -p $(dir $@)
	@pkg-config --exists lwip 2>/dev/null || [ -f /usr/include/lwip/lwip/tcp.h ] || { \
		echo "bench/lwip: lwIP not found: install liblwip-dev (make bench does: scripts/deps.sh bench)" >&2; exit 1; }
	$(CC) $(CFLAGS) $(LWIP_CFLAGS) $(LDFLAGS) -o $@ $< $(BUILD)/libsynack.a $(LIBS) $(LWIP_LIBS)

# examples/ (see docs/API.md): built as an application builds them, with
# the public headers only (no -Isrc, no _GNU_SOURCE) and the installed
# library, libsynack.a. `make examples`; run by `make test`.
EXAMPLE_SRCS := $(sort $(wildcard examples/*.c))
EXAMPLE_BINS := $(EXAMPLE_SRCS:examples/%.c=$(BUILD)/examples/%)
.PHONY: examples
examples: $(EXAMPLE_BINS)
$(BUILD)/examples/%: examples/%.c $(wildcard include/synack/*.h include/synack/*.def) $(BUILD)/libsynack.a
	@mkdir -p $(dir $@)
	$(CC) $(filter-out -Isrc -D_GNU_SOURCE,$(CFLAGS)) $(LDFLAGS) -o $@ $< $(BUILD)/libsynack.a $(LIBS)

# The core must stay sans-I/O: no clock, fd, randomness or thread symbols.
$(BUILD)/core-symbols.ok: $(CORE_OBJS)
	scripts/check-core-symbols.sh $(CORE_OBJS)
	@touch $@

# The layers point one way (base <- wire <- net <- tcp <- stack; links know
# frames only): no object references a symbol of a layer above its own.
$(BUILD)/layers.ok: $(LIB_OBJS)
	scripts/check-layers.sh $(LIB_OBJS)
	@touch $@

demo: deps-demo all
	./$(BUILD)/synack demo --tls12

test: deps-test
	@scripts/run-tests.sh

bench: deps-bench all $(BENCH_BINS)
	scripts/run-bench.sh

FUZZ_SECONDS ?= 60
fuzz: deps-test
	$(MAKE) -f fuzz.mk FUZZ_SECONDS=$(FUZZ_SECONDS) run

deps-demo:
	@scripts/deps.sh demo
deps-test:
	@scripts/deps.sh test
.PHONY: deps-bench
deps-bench:
	@scripts/deps.sh bench

install: lib tools
	install -d $(DESTDIR)$(PREFIX)/include/synack $(DESTDIR)$(PREFIX)/lib/pkgconfig $(DESTDIR)$(PREFIX)/bin
	install -m 644 include/synack/*.h include/synack/*.def $(DESTDIR)$(PREFIX)/include/synack/
	install -m 644 $(BUILD)/libsynack.a $(DESTDIR)$(PREFIX)/lib/
	install -m 755 $(BUILD)/libsynack.so $(DESTDIR)$(PREFIX)/lib/libsynack.so.0
	ln -sf libsynack.so.0 $(DESTDIR)$(PREFIX)/lib/libsynack.so
	install -m 644 $(BUILD)/synack.pc $(DESTDIR)$(PREFIX)/lib/pkgconfig/
	install -m 755 $(BUILD)/synack $(DESTDIR)$(PREFIX)/bin/

format:
	clang-format -i $$(git ls-files '*.c' '*.h')

# make test runs it: every C file as .clang-format says, or a printed SKIP
# when clang-format is absent.
.PHONY: format-check
format-check:
	@scripts/check-format.sh

clean:
	rm -rf build build-asan build-fuzz
