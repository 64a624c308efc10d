# herald - build, test, install.
#
#   make            install what the build needs (scripts/deps build), build build/herald
#   make check      install what the tests need (scripts/deps), build, run every test
#   make asan       the same tests under AddressSanitizer + UndefinedBehaviorSanitizer
#   make fuzz       build the libFuzzer targets (clang) and run each briefly
#   make bench      the benchmarks; they print their figures
#   make demo       the main job, end to end
#   make install    PREFIX=/usr/local DESTDIR=: the binary, herald(1), herald.yaml(5), the unit
#   make uninstall  the same PREFIX and DESTDIR
#
# Every target a person types first runs scripts/deps, then builds in a make
# of its own: pkg-config and the -dev packages may only just have been
# installed, and a make reads its flags when it starts.

PREFIX ?= /usr/local
BINDIR ?= $(PREFIX)/bin
MANDIR ?= $(PREFIX)/share/man
UNITDIR ?= $(PREFIX)/lib/systemd/system
O ?= build
CC = gcc

# DKIM signs RSA with libcrypto and ed25519 with libsodium, the fastest of each here (src/dkim.c);
# libmagic names the type of each attached file (src/attach.c).
PKGS = libcurl libetpan yaml-0.1 sqlite3 libcmark gnutls libsystemd libmicrohttpd libcrypto libsodium \
  libmagic
# libetpan's .pc leaks Debian's no-PIE link specs; they break clang and PIE.
PKG_CFLAGS := $(shell pkg-config --cflags $(PKGS) 2>/dev/null)
PKG_LIBS := $(shell pkg-config --libs $(PKGS) 2>/dev/null | sed 's/-specs=[^ ]*//g')

WARN = -Wall -Wextra -Werror
CFLAGS ?= -O2 -g
# -Isrc first: a package's include directory must not shadow herald's own headers.
ALL_CFLAGS = -std=gnu11 -pthread $(WARN) $(CFLAGS) $(EXTRA_CFLAGS) -Isrc $(PKG_CFLAGS) -MMD -MP
ALL_LDFLAGS = $(LDFLAGS) $(EXTRA_LDFLAGS)
# libcsv (CSV import) has no pkg-config file.
LIBS = $(PKG_LIBS) -lcsv -lm -pthread

SRCS := $(sort $(wildcard src/*.c))
LIB_SRCS := $(filter-out src/main.c,$(SRCS))
# herald init carries a new project's files: skel/ and the sample templates.
SKEL_FILES := $(sort $(shell find skel -type f))
SKEL_TEMPLATES := $(sort $(wildcard templates/*.yaml templates/partials/*.mustache))
LIB_OBJS := $(LIB_SRCS:src/%.c=$(O)/obj/%.o) $(O)/obj/skeleton.o
UNIT_SRCS := $(sort $(wildcard tests/unit/t_*.c))
UNIT_BINS := $(UNIT_SRCS:tests/unit/%.c=$(O)/t/%)
# Small programs the integration tests drive (not tests themselves).
TOOL_SRCS := $(sort $(wildcard tests/tools/*.c))
TOOL_BINS := $(TOOL_SRCS:tests/tools/%.c=$(O)/tools/%)

.SECONDARY:

.PHONY: all programs check test asan fuzz fuzz-build fuzz-smoke bench demo install uninstall clean deps deps-build

all: deps-build
	@$(MAKE) --no-print-directory programs

programs: $(O)/herald $(UNIT_BINS) $(TOOL_BINS)

$(O)/obj/%.o: src/%.c
	@mkdir -p $(@D)
	$(CC) $(ALL_CFLAGS) -c $< -o $@

$(O)/gen/skeleton.c: scripts/embed $(SKEL_FILES) $(SKEL_TEMPLATES)
	@mkdir -p $(@D)
	scripts/embed $@ $(foreach f,$(SKEL_FILES),$(f:skel/%=%)=$(f)) \
	  $(foreach f,$(SKEL_TEMPLATES),$(f)=$(f))

$(O)/obj/skeleton.o: $(O)/gen/skeleton.c
	$(CC) $(ALL_CFLAGS) -c $< -o $@

$(O)/obj/tests/%.o: tests/unit/%.c
	@mkdir -p $(@D)
	$(CC) $(ALL_CFLAGS) -Itests/unit -c $< -o $@

$(O)/libherald.a: $(LIB_OBJS)
	@rm -f $@
	ar rcs $@ $^

$(O)/herald: $(O)/obj/main.o $(O)/libherald.a
	$(CC) $(ALL_LDFLAGS) -o $@ $^ $(LIBS)

$(O)/obj/tools/%.o: tests/tools/%.c
	@mkdir -p $(@D)
	$(CC) $(ALL_CFLAGS) -c $< -o $@

$(O)/tools/%: $(O)/obj/tools/%.o $(O)/libherald.a
	@mkdir -p $(@D)
	$(CC) $(ALL_LDFLAGS) -o $@ $^ $(LIBS)

$(O)/t/%: $(O)/obj/tests/%.o $(O)/libherald.a
	@mkdir -p $(@D)
	$(CC) $(ALL_LDFLAGS) -o $@ $^ $(LIBS)

deps:
	@scripts/deps

deps-build:
	@scripts/deps build

# Unit tests (one binary per pure module) and integration tests (shell, real
# programs), all TAP under prove. HERALD and HERALD_BUILD tell the scripts
# which build to test. No terminal on standard input: herald send asks
# before it sends when it has one.
test: programs
	HERALD=$(CURDIR)/$(O)/herald HERALD_BUILD=$(CURDIR)/$(O) SHARED=$(CURDIR)/../shared \
	  prove -f $(UNIT_BINS) tests/integration/*.t </dev/null

# Fuzzing first, so that prove's summary is the last thing printed.
check: deps
	$(MAKE) fuzz-smoke
	$(MAKE) test

asan: deps
	$(MAKE) O=build-asan EXTRA_CFLAGS="-fsanitize=address,undefined -fno-omit-frame-pointer -fno-sanitize-recover=all" \
	  EXTRA_LDFLAGS="-fsanitize=address,undefined" CFLAGS="-O1 -g" test

FUZZ_TARGETS := $(patsubst tests/fuzz/%.c,%,$(sort $(wildcard tests/fuzz/fuzz_*.c)))
FUZZ_CFLAGS = -std=gnu11 -g -O1 -fsanitize=fuzzer,address,undefined -fno-sanitize-recover=all -Isrc $(PKG_CFLAGS) -Wall -Wextra -Werror

fuzz: deps
	@$(MAKE) --no-print-directory fuzz-build

fuzz-build: $(FUZZ_TARGETS:%=$(O)/fuzz/%)

# The commands are not fuzzed (they need main.c); the code they call is.
FUZZ_SRCS = $(filter-out src/cmd_%.c,$(LIB_SRCS))

$(O)/fuzz/%: tests/fuzz/%.c $(FUZZ_SRCS)
	@mkdir -p $(@D)
	clang $(FUZZ_CFLAGS) -o $@ $< $(FUZZ_SRCS) $(LIBS)

# Each fuzz target for a short while, from its seed corpus; a crash fails check.
FUZZ_SECONDS ?= 20
fuzz-smoke: fuzz-build
	@for t in $(FUZZ_TARGETS); do \
	  echo "fuzz: $$t for $(FUZZ_SECONDS)s"; \
	  mkdir -p $(O)/fuzz/corpus-$$t; \
	  LSAN_OPTIONS=suppressions=$(CURDIR)/tests/fuzz/lsan.supp \
	  $(O)/fuzz/$$t -max_total_time=$(FUZZ_SECONDS) -max_len=8192 -print_final_stats=1 \
	    $(O)/fuzz/corpus-$$t tests/fuzz/seeds/$${t#fuzz_} 2>$(O)/fuzz/$$t.log \
	    || { tail -40 $(O)/fuzz/$$t.log; exit 1; }; \
	  grep -E 'stat::number_of_executed_units' $(O)/fuzz/$$t.log; \
	done

bench: deps
	@$(MAKE) --no-print-directory programs
	scripts/bench-check
	scripts/bench-yaml
	scripts/bench-send
	scripts/bench-expand
	scripts/bench-attach
	scripts/bench-poll
	scripts/bench-archive
	scripts/bench-import

demo: deps
	@$(MAKE) --no-print-directory programs
	scripts/demo

# The unit's ExecStart names the herald installed here.
install: all
	install -d $(DESTDIR)$(BINDIR) $(DESTDIR)$(MANDIR)/man1 $(DESTDIR)$(MANDIR)/man5 \
	  $(DESTDIR)$(UNITDIR)
	install -m 0755 $(O)/herald $(DESTDIR)$(BINDIR)/herald
	install -m 0644 man/herald.1 $(DESTDIR)$(MANDIR)/man1/herald.1
	install -m 0644 man/herald.yaml.5 $(DESTDIR)$(MANDIR)/man5/herald.yaml.5
	sed 's|^ExecStart=[^ ]*herald|ExecStart=$(BINDIR)/herald|' contrib/herald.service \
	  >$(DESTDIR)$(UNITDIR)/herald.service
	chmod 0644 $(DESTDIR)$(UNITDIR)/herald.service

uninstall:
	rm -f $(DESTDIR)$(BINDIR)/herald $(DESTDIR)$(MANDIR)/man1/herald.1 \
	  $(DESTDIR)$(MANDIR)/man5/herald.yaml.5 $(DESTDIR)$(UNITDIR)/herald.service

clean:
	rm -rf build build-asan

-include $(wildcard $(O)/obj/*.d $(O)/obj/tests/*.d $(O)/obj/tools/*.d)
