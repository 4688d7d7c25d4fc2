# goscope build. `make` builds ./goscope; `make test` runs the whole suite;
# `make deps` installs every build and test dependency (Debian 12, root).
# SAN=1 builds with AddressSanitizer + UBSan into build-san/.

CC      ?= cc
CLANG   ?= clang
V       ?= 0
SAN     ?= 0

ifeq ($(SAN),1)
BUILD   := build-san
SANFLAGS := -fsanitize=address,undefined -fno-sanitize-recover=undefined -fno-omit-frame-pointer
else
BUILD   := build
SANFLAGS :=
endif

PKGS    := libbpf libelf libdw capstone libprotobuf-c libmicrohttpd zlib
CFLAGS  ?= -O2 -g
CFLAGS  += -std=gnu11 -D_GNU_SOURCE -Wall -Wextra -Werror -Wshadow \
	   -Wno-missing-field-initializers $(SANFLAGS) \
	   $(shell pkg-config --cflags $(PKGS) 2>/dev/null)
LDLIBS  += $(shell pkg-config --libs $(PKGS) 2>/dev/null || echo -lbpf -ldw -lelf -lcapstone -lprotobuf-c -lmicrohttpd -lz) -lm -lpthread
LDFLAGS += $(SANFLAGS)

ifeq ($(V),1)
Q :=
msg :=
else
Q := @
msg = @printf '  %-8s %s\n' "$(1)" "$(2)";
endif

LIB_SRCS := $(wildcard src/core/*.c src/agent/*.c src/gobin/*.c src/proc/*.c src/collect/*.c src/report/*.c src/output/*.c src/cli/*.c)
BPF_SRCS := $(wildcard src/bpf/*.bpf.c)
SKELS    := $(patsubst src/bpf/%.bpf.c,$(BUILD)/gen/%.skel.h,$(BPF_SRCS))
GEN      := $(BUILD)/gen/syscalls_table.h $(BUILD)/gen/profile.pb-c.h $(SKELS)
BPF_OBJS := $(patsubst src/bpf/%.bpf.c,$(BUILD)/bpf/%.bpf.o,$(BPF_SRCS))
ARCH     := $(shell uname -m | sed -e 's/x86_64/x86/' -e 's/aarch64/arm64/')
GEN_OBJS := $(BUILD)/obj/gen/profile.pb-c.o
LIB_OBJS := $(patsubst src/%.c,$(BUILD)/obj/%.o,$(LIB_SRCS))
MAIN_OBJ := $(BUILD)/obj/main.o
LIB      := $(BUILD)/libgoscope.a

UNIT_SRCS := $(wildcard tests/unit/test_*.c)
UNIT_BINS := $(patsubst tests/unit/%.c,$(BUILD)/tests/%,$(UNIT_SRCS))

ifeq ($(SAN),1)
TARGET := $(BUILD)/goscope
else
TARGET := goscope
endif

.PHONY: all clean test unit unit-run fixtures deps fuzz bench install testbins
all: $(TARGET)

$(TARGET): $(MAIN_OBJ) $(LIB)
	$(call msg,LINK,$@)
	$(Q)$(CC) $(LDFLAGS) -o $@ $^ $(LDLIBS)

$(LIB): $(LIB_OBJS) $(GEN_OBJS)
	$(call msg,AR,$@)
	$(Q)rm -f $@ && ar rcs $@ $^

$(BUILD)/obj/%.o: src/%.c $(wildcard src/*/*.h src/bpf/lib/*.h) $(GEN)
	$(call msg,CC,$<)
	$(Q)mkdir -p $(dir $@)
	$(Q)$(CC) $(CFLAGS) -I$(BUILD)/gen -c -o $@ $<

# Keep the BPF objects and skeletons (make would delete them as intermediates).
.SECONDARY: $(SKELS) $(BPF_OBJS)

# BPF: CO-RE objects against the running kernel's BTF, embedded as skeletons.
$(BUILD)/gen/vmlinux.h:
	$(call msg,BTF,$@)
	$(Q)mkdir -p $(dir $@)
	$(Q)bpftool btf dump file /sys/kernel/btf/vmlinux format c > $@.tmp && mv $@.tmp $@

$(BUILD)/bpf/%.bpf.o: src/bpf/%.bpf.c src/bpf/%.h $(wildcard src/bpf/*.bpf.h src/bpf/lib/*.h) $(BUILD)/gen/vmlinux.h
	$(call msg,BPF,$<)
	$(Q)mkdir -p $(dir $@)
	$(Q)$(CLANG) -g -O2 -target bpf -D__TARGET_ARCH_$(ARCH) -Wall -Werror \
		-I$(BUILD)/gen -Isrc/bpf -c $< -o $@
	$(Q)llvm-strip -g $@ 2>/dev/null || true

$(BUILD)/gen/%.skel.h: $(BUILD)/bpf/%.bpf.o
	$(call msg,SKEL,$@)
	$(Q)bpftool gen skeleton $< > $@.tmp && mv $@.tmp $@

$(BUILD)/gen/syscalls_table.h: scripts/gen-syscalls.sh
	$(call msg,GEN,$@)
	$(Q)mkdir -p $(dir $@)
	$(Q)CC=$(CC) scripts/gen-syscalls.sh $@

$(BUILD)/gen/profile.pb-c.h $(BUILD)/gen/profile.pb-c.c: src/output/profile.proto
	$(call msg,PROTOC,$<)
	$(Q)mkdir -p $(BUILD)/gen
	$(Q)protoc-c --c_out=$(BUILD)/gen -Isrc/output $<

$(BUILD)/obj/gen/profile.pb-c.o: $(BUILD)/gen/profile.pb-c.c
	$(call msg,CC,$<)
	$(Q)mkdir -p $(dir $@)
	$(Q)$(CC) $(filter-out -Wextra -Wshadow,$(CFLAGS)) -I$(BUILD)/gen -c -o $@ $<

$(BUILD)/tests/%: tests/unit/%.c tests/unit/testutil.h $(LIB)
	$(call msg,CC,$<)
	$(Q)mkdir -p $(dir $@)
	$(Q)$(CC) $(CFLAGS) -Isrc -I$(BUILD)/gen -o $@ $< $(LIB) $(LDFLAGS) $(LDLIBS) -lcmocka

unit: $(UNIT_BINS) fixtures

# Run every unit test binary; the summary of each is cmocka's.
unit-run: unit
	$(Q)fail=0; for t in $(UNIT_BINS); do $$t || fail=1; done; exit $$fail

# Go programs the unit tests read, built with the local toolchain into
# build/fixtures/ (tests skip what is missing, so no go means no fixtures).
GO       ?= go
FIXDIR   := build/fixtures
FIXSRC   := $(wildcard tests/unit/fixtures/hello/*)
FIXTURES := $(addprefix $(FIXDIR)/,hello hello-stripped hello-pie hello-arm64 hello-386)
fixenv_hello-arm64 := GOARCH=arm64
fixenv_hello-386   := GOARCH=386
fixflags_hello-stripped := -ldflags=-s\ -w
fixflags_hello-pie      := -buildmode=pie

fixtures:
	$(Q)if command -v $(GO) >/dev/null 2>&1; then \
		$(MAKE) --no-print-directory $(FIXTURES); \
	else echo "  SKIP     fixtures (no go toolchain)"; fi

$(FIXDIR)/%: $(FIXSRC)
	$(call msg,GO,$@)
	$(Q)mkdir -p $(FIXDIR)
	$(Q)cd tests/unit/fixtures/hello && CGO_ENABLED=0 GOFLAGS=-mod=mod GOPROXY=off \
		$(fixenv_$*) $(GO) build $(fixflags_$*) -o $(CURDIR)/$@ .

# Fuzzers need clang's libFuzzer; built on demand by tests/run.sh.
FUZZ_SRCS := $(wildcard tests/fuzz/fuzz_*.c)
FUZZ_BINS := $(patsubst tests/fuzz/%.c,build-fuzz/%,$(FUZZ_SRCS))
# Small pclntab caches: the default 4 MB is faulted in on every run (20 runs/s, not 700).
FUZZ_FLAGS := -g -O1 -std=gnu11 -D_GNU_SOURCE -fsanitize=fuzzer,address,undefined \
	      -DPCLNTAB_DTABS=1024 -DPCLNTAB_CACHE_SETS=16 \
	      $(shell pkg-config --cflags $(PKGS) 2>/dev/null)
# The fuzzers exercise parsers of outside input: the Go binary reader
# (src/gobin), the /proc text readers (src/proc), the option table
# (src/core/opts.c), the rules file (src/collect/netrules.c) and the agent's
# configuration (src/agent/config.c); nothing
# that needs libbpf or a BPF skeleton.
FUZZ_LIB_SRCS := $(wildcard src/gobin/*.c src/proc/*.c) src/core/opts.c src/collect/netrules.c \
		 src/agent/config.c
fuzz: $(FUZZ_BINS)
build-fuzz/%: tests/fuzz/%.c $(FUZZ_LIB_SRCS) $(wildcard src/gobin/*.h src/proc/*.h src/core/opts.h src/agent/config.h) \
		src/collect/netrules.h $(BUILD)/gen/syscalls_table.h
	$(call msg,FUZZ,$@)
	$(Q)mkdir -p build-fuzz
	$(Q)$(CLANG) $(FUZZ_FLAGS) -Isrc -I$(BUILD)/gen -o $@ $< $(FUZZ_LIB_SRCS) $(LDLIBS)

test: all
	$(Q)tests/run.sh

deps:
	$(Q)scripts/deps.sh

testbins:
	$(Q)scripts/testbins.sh

# Benchmarks: bench/<name>.c links the library like the unit tests do.
BENCH_BINS := $(BUILD)/bench/bench_symbolize
$(BUILD)/bench/%: bench/%.c $(LIB)
	$(call msg,CC,$<)
	$(Q)mkdir -p $(dir $@)
	$(Q)$(CC) $(CFLAGS) -Isrc -o $@ $< $(LIB) $(LDFLAGS) $(LDLIBS)

bench: all $(BENCH_BINS)
	$(Q)bench/run.sh

PREFIX ?= /usr/local
install: all
	install -D -m 0755 goscope $(DESTDIR)$(PREFIX)/bin/goscope
	install -d $(DESTDIR)/etc/systemd/system
	sed 's|/usr/local/bin/goscope|$(PREFIX)/bin/goscope|' dist/goscope-agent.service \
		> $(DESTDIR)/etc/systemd/system/goscope-agent.service
	test -e $(DESTDIR)/etc/goscope/agent.conf || \
		install -D -m 0644 dist/agent.conf $(DESTDIR)/etc/goscope/agent.conf
	install -D -m 0644 dist/grafana-dashboard.json $(DESTDIR)$(PREFIX)/share/goscope/grafana-dashboard.json

clean:
	rm -rf build build-san build-fuzz goscope
