# vtb: plain Makefile. `make` builds ./vtb; `make check` installs what is
# missing, builds, and runs every test (also under ASan+UBSan); `make demo`
# runs the demo; `make fuzz` and `make bench` run the fuzzer and benchmarks.

CC      ?= cc
CFLAGS  ?= -O2 -g
WARN    := -Wall -Wextra -Wshadow -Wmissing-prototypes -Wstrict-prototypes -Werror
STD     := -std=gnu17 -D_GNU_SOURCE
INC     := -Ilib -Ixir -Imodel -Icompile -Irealize -Imaterialize -Istate -Iexec -Icli -Iemu -Ivm -Icluster
PKGS    := jansson libmnl sqlite3 libbpf zlib
# opened on first use (lib/dynlib.h), not linked: their headers only
DLPKGS  := libcgraph libgvc libpcap libcurl openssl
PKG_CFLAGS := $(shell pkg-config --cflags $(PKGS) $(DLPKGS) 2>/dev/null)
PKG_LIBS   := $(shell pkg-config --libs $(PKGS) 2>/dev/null || echo -ljansson -lmnl -lsqlite3 -lbpf -lz) -lpthread
ALL_CFLAGS = $(STD) $(WARN) $(INC) $(PKG_CFLAGS) $(CFLAGS) -MMD -MP

LIB_SRCS := $(wildcard lib/*.c xir/*.c model/*.c compile/*.c realize/*.c materialize/*.c state/*.c exec/*.c emu/*.c vm/*.c cluster/*.c)
CLI_SRCS := $(wildcard cli/*.c)
TEST_SRCS := $(wildcard tests/unit/test_*.c)
SYSTEST_SRCS := $(wildcard tests/system/test_*.c)

B ?= build
SAN_FLAGS := -O1 -g -fsanitize=address,undefined -fno-omit-frame-pointer -fno-sanitize-recover=all

LIB_OBJS  = $(LIB_SRCS:%.c=$(B)/%.o)
CLI_OBJS  = $(CLI_SRCS:%.c=$(B)/%.o)
TEST_BINS = $(TEST_SRCS:tests/unit/%.c=$(B)/tests/%)
SYSTEST_BINS = $(SYSTEST_SRCS:tests/system/%.c=$(B)/systests/%)

.PHONY: all deps check system unit unit-asan golden golden-asan asan demo cluster-demo fuzz fuzz-build fuzz-replay bench clean
.SUFFIXES:

all: vtb

# by rename, so a ./vtb that is running (a supervisor) does not block the update
vtb: $(B)/vtb $(B)/vtb-init
	cp $< $@.tmp && mv -f $@.tmp $@
	cp $(B)/vtb-init vtb-init.tmp && mv -f vtb-init.tmp vtb-init

$(B)/%.o: %.c
	@mkdir -p $(dir $@)
	$(CC) $(ALL_CFLAGS) -c $< -o $@

$(B)/libvtb.a: $(LIB_OBJS)
	@rm -f $@
	ar rcs $@ $^

# vtb-init (materialize/init/): the factory that vtb up spawns once and
# that forks each container node's helper and init; vtb up finds it next
# to its own executable (so the
# system tests' binaries get a copy too). Static, from glibc's libc.a, and
# never with the sanitizers (their runtimes are neither static nor small):
# each node's init holds only this program's pages.
INIT_SRCS := $(wildcard materialize/init/*.c)
INIT_OBJS  = $(INIT_SRCS:materialize/init/%.c=$(B)/init/%.o) $(B)/init/lib/file.o
INIT_CFLAGS = $(STD) $(WARN) $(INC) -Imaterialize/init \
	$(filter-out -fsanitize=% -fno-sanitize-recover=%,$(CFLAGS)) -MMD -MP

$(B)/init/%.o: materialize/init/%.c
	@mkdir -p $(dir $@)
	$(CC) $(INIT_CFLAGS) -c $< -o $@

$(B)/init/lib/%.o: lib/%.c
	@mkdir -p $(dir $@)
	$(CC) $(INIT_CFLAGS) -c $< -o $@

$(B)/vtb-init: $(INIT_OBJS)
	$(CC) -static -o $@ $^

$(B)/systests/vtb-init: $(B)/vtb-init
	@mkdir -p $(dir $@)
	cp $< $@

$(B)/vtb: $(CLI_OBJS) $(B)/libvtb.a | $(B)/vtb-init
	$(CC) $(CFLAGS) -o $@ $(CLI_OBJS) $(B)/libvtb.a $(PKG_LIBS) -lm

$(B)/tests/%: tests/unit/%.c $(B)/libvtb.a tests/unit/unit.h
	@mkdir -p $(dir $@)
	$(CC) $(ALL_CFLAGS) -Itests/unit $< -o $@ $(B)/libvtb.a -lcmocka $(PKG_LIBS) -lm

$(B)/systests/%: tests/system/%.c $(B)/libvtb.a tests/unit/unit.h
	@mkdir -p $(dir $@)
	$(CC) $(ALL_CFLAGS) -Itests/unit $< -o $@ $(B)/libvtb.a -lcmocka $(PKG_LIBS) -lm

deps:
	@scripts/deps.sh build

# Unit tests and golden tests in the normal and the sanitizer build; the
# system tests (root: real namespaces, links, ping) with the sanitizer build.
check: deps
	scripts/shape.sh
	$(MAKE) unit golden
	$(MAKE) B=build/asan CFLAGS="$(SAN_FLAGS)" unit golden fuzz-replay system
	@echo "make check: all test suites passed"

system: $(B)/vtb $(B)/systests/vtb-init $(SYSTEST_BINS) $(B)/udpbench
	@VTB=$(CURDIR)/$(B)/vtb scripts/run-system.sh $(SYSTEST_BINS)

unit: $(TEST_BINS)
	@scripts/run-unit.sh $(TEST_BINS)

golden: $(B)/vtb
	@tests/golden/run.sh $(B)/vtb

asan:
	$(MAKE) B=build/asan CFLAGS="$(SAN_FLAGS)" $(B)/vtb

demo: deps vtb
	@scripts/demo.sh

# the demo experiment across three simulated hosts (docs/cluster.md)
cluster-demo: deps vtb
	@scripts/cluster-demo.sh

FUZZ_TIME ?= 60
fuzz-build:
	@scripts/deps.sh fuzz
	$(MAKE) -C fuzz
fuzz: fuzz-build
	@fuzz/run.sh $(FUZZ_TIME)

# The fuzz targets built with $(CC) (no clang needed) around fuzz/replay.c,
# a main() that feeds them files: replays each seed corpus and fuzz/crashes,
# so a fixed crash stays fixed. `make check` runs it in the sanitizer build.
FUZZ_REPLAY_BINS = $(patsubst fuzz/%.c,$(B)/fuzz/%,$(wildcard fuzz/fuzz_*.c))
# A parser that is not in libvtb.a (vtb-init's) is compiled into its target.
FUZZ_EXTRA_fuzz_nr_request = materialize/init/noderun_req.c
$(B)/fuzz/fuzz_nr_request: $(FUZZ_EXTRA_fuzz_nr_request)
$(B)/fuzz/%: fuzz/%.c fuzz/replay.c $(B)/libvtb.a
	@mkdir -p $(dir $@)
	$(CC) $(ALL_CFLAGS) $< fuzz/replay.c $(FUZZ_EXTRA_$*) -o $@ $(B)/libvtb.a $(PKG_LIBS) -lm
fuzz-replay: $(FUZZ_REPLAY_BINS)
	@fuzz/replay.sh $(B)/fuzz

# bench/udpbench: the UDP load generator and receiver of the link benchmarks
$(B)/udpbench: bench/udpbench.c
	@mkdir -p $(dir $@)
	$(CC) $(STD) $(WARN) $(CFLAGS) $< -o $@ -lm

bench: deps vtb $(B)/udpbench
	@bench/run.sh

clean:
	rm -rf build vtb vtb-init fuzz/build

-include $(shell find build -name '*.d' 2>/dev/null)
