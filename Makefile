# postmill - top-level GNU Makefile.
#
#   make                 build every program into build/bin/
#   make check           build and run all tests (unit, milter protocol, end-to-end, config drift)
#   make check SANITIZE=1  the same under AddressSanitizer + UBSan (objects in build/asan/)
#   make fuzz            build the libFuzzer targets with clang (build/fuzz/) and run each briefly
#   make install         honours PREFIX and DESTDIR
#   make deb             build/deb/postmill_<version>_<arch>.deb (packaging/debian/, scripts/build-deb)
#
# Sources are picked up by wildcard: common/*.c form libpostmill.a; milters/<m>/*.c
# form lib<m>.a except <m>_main.c, which holds main(); tools/postmillctl/*.c form
# postmillctl; tests/unit/<x>_test.c become one cmocka binary each.

PREFIX     ?= /usr/local
DESTDIR    ?=
SBINDIR    ?= $(PREFIX)/sbin
MANDIR     ?= $(PREFIX)/share/man
SYSCONFDIR ?= /etc/postmill
UNITDIR    ?= $(PREFIX)/lib/systemd/system

CC       ?= cc
VERSION  := 0.1.0
SANITIZE ?=
FUZZ_SECONDS ?= 20

ifeq ($(SANITIZE),1)
  B := build/asan
  SAN_FLAGS := -fsanitize=address,undefined -fno-omit-frame-pointer -fno-sanitize-recover=undefined
else
  B := build
  SAN_FLAGS :=
endif

# The milter protocol: postmill's own engine (engine/, libmilter's API on fewer
# system calls, see engine/mproto.h) or Debian's libmilter, for comparison:
#   make MILTER_ENGINE=libmilter B=build/libmilter
MILTER_ENGINE ?= postmill
PKGS      := milter libssl libcrypto opendkim cmocka libidn2 libpsl hiredis json-c zlib libsystemd
PKG_CFLAGS := $(shell pkg-config --cflags $(PKGS) 2>/dev/null)
PKG_LIBS   := $(shell pkg-config --libs libssl libcrypto opendkim libidn2 libpsl hiredis json-c zlib libsystemd 2>/dev/null)
ifeq ($(MILTER_ENGINE),libmilter)
  PKG_LIBS += $(shell pkg-config --libs milter 2>/dev/null)
  ENGINE_SRC :=
else ifeq ($(MILTER_ENGINE),postmill)
  ENGINE_SRC := $(wildcard engine/*.c)
else
  $(error MILTER_ENGINE must be postmill or libmilter)
endif
CMOCKA_LIBS := $(shell pkg-config --libs cmocka 2>/dev/null)

# suite (postmill-suite, the host of the others) first: libsuite.a needs them
MILTERS := suite $(filter-out suite,$(notdir $(wildcard milters/*)))
MILTER_INCS := $(MILTERS:%=-Imilters/%)

WARN    := -Wall -Wextra -Werror -Wshadow -Wformat=2 -Wvla -Wno-unused-parameter
CFLAGS  ?= -O2 -g
ALL_CFLAGS := -std=c11 -D_GNU_SOURCE -DPOSTMILL_VERSION='"$(VERSION)"' \
              -DPOSTMILL_SYSCONFDIR='"$(SYSCONFDIR)"' \
              $(WARN) $(CFLAGS) $(SAN_FLAGS) -Icommon -Iengine -Itools/postmill-exporter -Itools/postmill-unsubscribe -Itools/postmill-events $(MILTER_INCS) $(PKG_CFLAGS) -MMD -MP
LDFLAGS ?=
ALL_LDFLAGS := $(LDFLAGS) $(SAN_FLAGS)
LIBS    := $(PKG_LIBS) -lpthread -lresolv


COMMON_SRC := $(wildcard common/*.c) $(ENGINE_SRC)
COMMON_OBJ := $(COMMON_SRC:%.c=$(B)/obj/%.o)
LIBCOMMON  := $(B)/lib/libpostmill.a

# per-milter library (everything but <m>_main.c) and program
define milter_rules
$(1)_SRC  := $$(filter-out milters/$(1)/$(1)_main.c,$$(wildcard milters/$(1)/*.c))
$(1)_OBJ  := $$($(1)_SRC:%.c=$(B)/obj/%.o)
$(B)/lib/lib$(1).a: $$($(1)_OBJ)
	@mkdir -p $$(@D)
	$$(AR) rcs $$@ $$^
$(B)/bin/postmill-$(1): $(B)/obj/milters/$(1)/$(1)_main.o $(B)/lib/lib$(1).a $(LIBCOMMON)
	@mkdir -p $$(@D)
	$$(CC) $$(ALL_LDFLAGS) -o $$@ $$(filter-out $(LIBCOMMON),$$^) $(LIBCOMMON) $$(LIBS)
endef
$(foreach m,$(MILTERS),$(eval $(call milter_rules,$(m))))
# postmill-suite hosts the other milters' modules (engine/mproto_chain.c)
$(B)/bin/postmill-suite: $(foreach m,$(filter-out suite,$(MILTERS)),$(B)/lib/lib$(m).a)

MILTER_LIBS := $(foreach m,$(MILTERS),$(B)/lib/lib$(m).a)
# the suite needs postmill's engine (module contexts): not with libmilter
PROGRAMS    := $(foreach m,$(if $(ENGINE_SRC),$(MILTERS),$(filter-out suite,$(MILTERS))),$(B)/bin/postmill-$(m)) $(B)/bin/postmillctl $(B)/bin/postmill-exporter \
               $(B)/bin/postmill-unsubscribe \
               $(B)/bin/postmill-events

# postmill-exporter: the one HTTP server (libmicrohttpd), merging the daemons' stats sockets
EXP_SRC := $(wildcard tools/postmill-exporter/*.c)
EXP_OBJ := $(EXP_SRC:%.c=$(B)/obj/%.o)
EXP_LIBS := $(shell pkg-config --libs libmicrohttpd 2>/dev/null)
$(B)/bin/postmill-exporter: $(EXP_OBJ) $(LIBCOMMON)
	@mkdir -p $(@D)
	$(CC) $(ALL_LDFLAGS) -o $@ $(EXP_OBJ) $(LIBCOMMON) $(LIBS) $(EXP_LIBS)

# postmill-unsubscribe: RFC 8058 one-click (libmicrohttpd); unsub_handle.c is the separable module
UNS_SRC := $(wildcard tools/postmill-unsubscribe/*.c)
UNS_OBJ := $(UNS_SRC:%.c=$(B)/obj/%.o)
$(B)/bin/postmill-unsubscribe: $(UNS_OBJ) $(B)/lib/libbounce.a $(LIBCOMMON)
	@mkdir -p $(@D)
	$(CC) $(ALL_LDFLAGS) -o $@ $(UNS_OBJ) $(B)/lib/libbounce.a $(LIBCOMMON) $(LIBS) $(EXP_LIBS)

# postmill-events: the delivery log follower and webhook sender; libevents.a for tests
EVT_SRC := $(filter-out tools/postmill-events/events_main.c,$(wildcard tools/postmill-events/*.c))
EVT_OBJ := $(EVT_SRC:%.c=$(B)/obj/%.o)
LIBEVENTS := $(B)/lib/libevents.a
EVT_LIBS := $(shell pkg-config --libs libcurl 2>/dev/null)
$(LIBEVENTS): $(EVT_OBJ)
	@mkdir -p $(@D)
	$(AR) rcs $@ $^
$(B)/bin/postmill-events: $(B)/obj/tools/postmill-events/events_main.o $(LIBEVENTS) $(B)/lib/libbounce.a $(LIBCOMMON)
	@mkdir -p $(@D)
	$(CC) $(ALL_LDFLAGS) -o $@ $^ $(LIBS) $(EVT_LIBS)

CTL_SRC := $(wildcard tools/postmillctl/*.c)
CTL_OBJ := $(CTL_SRC:%.c=$(B)/obj/%.o)

UNIT_SRC  := $(wildcard tests/unit/*_test.c)
UNIT_BINS := $(UNIT_SRC:tests/unit/%.c=$(B)/tests/%)
TEST_SUPPORT_SRC := $(filter-out %_test.c,$(wildcard tests/unit/*.c))
TEST_SUPPORT_OBJ := $(TEST_SUPPORT_SRC:%.c=$(B)/obj/%.o)

.DEFAULT_GOAL := all
.PHONY: all dmarc-mem check check-run check-unit check-diff check-milter check-e2e check-config check-fuzz fuzz install deb clean deps demo demo-stop bench bounce-eval
all: $(PROGRAMS)

$(B)/obj/%.o: %.c
	@mkdir -p $(@D)
	$(CC) $(ALL_CFLAGS) -c -o $@ $<

$(LIBCOMMON): $(COMMON_OBJ)
	@mkdir -p $(@D)
	$(AR) rcs $@ $^

$(B)/bin/postmillctl: $(CTL_OBJ) $(MILTER_LIBS) $(LIBCOMMON)
	@mkdir -p $(@D)
	$(CC) $(ALL_LDFLAGS) -o $@ $(CTL_OBJ) $(MILTER_LIBS) $(LIBCOMMON) $(LIBS)

$(B)/tests/%_test: $(B)/obj/tests/unit/%_test.o $(TEST_SUPPORT_OBJ) $(LIBEVENTS) $(MILTER_LIBS) $(LIBCOMMON)
	@mkdir -p $(@D)
	$(CC) $(ALL_LDFLAGS) -o $@ $< $(TEST_SUPPORT_OBJ) $(LIBEVENTS) $(MILTER_LIBS) $(LIBCOMMON) $(LIBS) $(EVT_LIBS) $(CMOCKA_LIBS)

# The differential test's tracing milter, built on each engine from one
# source (tests/diff/trace_milter.c; tests/diff/run.py drives both).
TRACE_BINS := $(B)/tests/trace_milter_postmill $(B)/tests/trace_milter_libmilter
$(B)/tests/trace_milter_postmill: tests/diff/trace_milter.c $(LIBCOMMON)
	@mkdir -p $(@D)
	$(CC) $(filter-out -MMD -MP,$(ALL_CFLAGS)) -DTRACE_POSTMILL $(ALL_LDFLAGS) -o $@ $< $(LIBCOMMON) $(LIBS)
$(B)/tests/trace_milter_libmilter: tests/diff/trace_milter.c
	@mkdir -p $(@D)
	$(CC) $(filter-out -MMD -MP,$(ALL_CFLAGS)) $(ALL_LDFLAGS) -o $@ $< $(shell pkg-config --libs milter) -lpthread

# Tests print one cmocka summary per binary; scripts/run-tests tallies them into
# the closing "N passed, N failed" line.
# "make check" is the README's test command: it installs what is missing
# first, then re-enters make so that pkg-config sees the new packages (the
# pkg-config calls above are quiet: on a fresh machine the first parse runs
# before the packages exist, and its empty flags are never used).
check:
	scripts/setup-deps
	$(MAKE) -j$(shell nproc) check-run

check-run: all $(UNIT_BINS) $(TRACE_BINS)
	BUILD=$(B) SANITIZE=$(SANITIZE) scripts/run-tests

check-unit: all $(UNIT_BINS)
	BUILD=$(B) SANITIZE=$(SANITIZE) scripts/run-tests unit

check-diff: all $(TRACE_BINS)
	BUILD=$(B) SANITIZE=$(SANITIZE) scripts/run-tests diff

check-e2e: all $(TRACE_BINS)
	BUILD=$(B) SANITIZE=$(SANITIZE) scripts/run-tests e2e

# scores of postmill-bounce --classify on ../shared/bounces-dev and messages/s
bounce-eval: all
	BUILD=$(B) bench/bounce-eval

# libFuzzer targets: clang, its own object tree
FUZZ_SRC  := $(wildcard tests/fuzz/*_fuzz.c)
fuzz:
	$(MAKE) CC=clang B=build/fuzz SAN_FLAGS="-fsanitize=fuzzer-no-link,address,undefined -fno-omit-frame-pointer" \
	    build/fuzz/lib/libpostmill.a build/fuzz/lib/libevents.a $(MILTERS:%=build/fuzz/lib/lib%.a)
	@mkdir -p build/fuzz/bin
	set -e; for f in $(FUZZ_SRC); do n=$$(basename $$f .c); \
	  clang -std=c11 -D_GNU_SOURCE -g -O1 -Icommon -Iengine $(MILTER_INCS) $(PKG_CFLAGS) -fsanitize=fuzzer,address,undefined \
	    -Itools/postmill-events -o build/fuzz/bin/$$n $$f build/fuzz/lib/libevents.a $(MILTERS:%=build/fuzz/lib/lib%.a) build/fuzz/lib/libpostmill.a $(LIBS) $(EVT_LIBS); done
	FUZZ_SECONDS=$(FUZZ_SECONDS) scripts/run-fuzz

install: all
	install -d $(DESTDIR)$(SBINDIR) $(DESTDIR)$(MANDIR)/man8 $(DESTDIR)$(MANDIR)/man5 $(DESTDIR)$(SYSCONFDIR)
	install -m 0644 conf/postmill.conf.5 $(DESTDIR)$(MANDIR)/man5/
	install -m 0755 $(PROGRAMS) $(DESTDIR)$(SBINDIR)/
	for m in $(wildcard milters/*/*.8 tools/postmillctl/*.8 tools/postmill-exporter/*.8 tools/postmill-unsubscribe/*.8 tools/postmill-events/*.8); do install -m 0644 $$m $(DESTDIR)$(MANDIR)/man8/; done
	install -m 0644 conf/postmill.conf.example $(DESTDIR)$(SYSCONFDIR)/postmill.conf.example
	install -d $(DESTDIR)$(UNITDIR)
	for u in packaging/systemd/*.service packaging/systemd/*.timer; do \
	  sed -e 's|@SBINDIR@|$(SBINDIR)|g' -e 's|@SYSCONFDIR@|$(SYSCONFDIR)|g' $$u \
	    > $(DESTDIR)$(UNITDIR)/$$(basename $$u); done

# the Debian package, built from an exported copy of this tree under build/deb/
deb:
	scripts/setup-deps deb
	scripts/build-deb

deps:
	scripts/setup-deps

demo:
	scripts/demo start

demo-stop:
	scripts/demo stop

bench:
	scripts/setup-deps bench
	$(MAKE) all $(B)/bench/null_milter
	$(MAKE) MILTER_ENGINE=libmilter B=build/libmilter all
	bench/dkim-bench

# bench/suite-bench --quick on a few configurations: each starts, carries 200
# messages and proves its work (make check runs it too); the full run is
# bench/suite-bench (after make bench, which builds the null milter)
.PHONY: bench-smoke
bench-smoke: all
	BUILD=$(B) scripts/run-tests bench-smoke

# the benchmark's null milter (bench/null_milter.c): the ceiling of any milter
$(B)/bench/null_milter: bench/null_milter.c $(LIBCOMMON)
	@mkdir -p $(@D)
	$(CC) $(ALL_CFLAGS) $(ALL_LDFLAGS) -o $@ $< $(LIBCOMMON) $(LIBS)

# Redis memory of a day of DMARC report data (bench/dmarc_mem.c): make dmarc-mem
# starts a private redis-server, records 1,000,000 messages, prints the figure
$(B)/bench/dmarc_mem: bench/dmarc_mem.c $(B)/lib/libauth.a $(LIBCOMMON)
	@mkdir -p $(@D)
	$(CC) $(ALL_CFLAGS) $(ALL_LDFLAGS) -o $@ $< $(B)/lib/libauth.a $(LIBCOMMON) $(LIBS) -lm

dmarc-mem: $(B)/bench/dmarc_mem
	bench/dmarc-mem $(B)/bench/dmarc_mem

clean:
	rm -rf build

# (build/deb/ holds make deb's copy of the tree, whose .d files and tmpfiles.d are not ours)
-include $(shell find build -path build/deb -prune -o -name '*.d' -type f -print 2>/dev/null)
.SECONDARY:
