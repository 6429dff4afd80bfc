# simroute — plain Makefile. `make demo` and `make check` are all a newcomer needs.
PREFIX    ?= /usr/local
DESTDIR   ?=
BUILD     ?= build
CC        ?= cc
PKGS      := libserialport libevent libevent_extra libevent_pthreads sqlite3 inih libcurl jansson libcrypto libsystemd libpq
PKG_CFLAGS = $(shell pkg-config --cflags $(PKGS) 2>/dev/null)
PKG_LIBS   = $(shell pkg-config --libs $(PKGS) 2>/dev/null)
WARN      := -Wall -Wextra -Werror -Wshadow -Wstrict-prototypes -Wmissing-prototypes -Wformat=2 -Wno-unused-parameter
CFLAGS    ?= -O2 -g
ALL_CFLAGS = -std=gnu11 -D_GNU_SOURCE $(WARN) $(CFLAGS) -Iinclude -Isrc/daemon $(PKG_CFLAGS) -MMD -MP
LDLIBS     = $(PKG_LIBS) -lm

# Debian packages `make deps` installs when missing (a fresh Debian 12 has only git and make).
# chromium + chromium-driver + python3-selenium: the dashboard's browser test; prometheus: promtool;
# libpq-dev: the postgresql store backend; postgresql: the server its tests start (tests/pg_server.sh).
DEB_PKGS  := gcc libc6-dev make pkg-config libserialport-dev libevent-dev libsqlite3-dev \
             libinih-dev libcurl4-openssl-dev libssl-dev libjansson-dev libcmocka-dev libsystemd-dev libpq-dev \
             python3 python3-pytest python3-yaml curl ca-certificates tzdata tmux mandoc \
             chromium chromium-driver python3-selenium prometheus postgresql
# What `make bench` adds (load generator for the HTTP ingest benchmark).
BENCH_PKGS := wrk

LIB_SRC    := $(wildcard src/lib/*.c)
DAEMON_SRC := $(filter-out src/daemon/main.c,$(wildcard src/daemon/*.c src/daemon/*/*.c))
CLI_SRC    := $(wildcard src/cli/*.c)
SIM_SRC    := $(wildcard src/gsmsim/*.c)
UNIT_SRC   := $(wildcard tests/unit/test_*.c)
FUZZ_SRC   := $(wildcard tests/fuzz/fuzz_*.c)
# The dashboard's files, built into simrouted as C arrays (see $(UI_GEN)).
UI_SRC     := $(sort $(wildcard src/ui/*.html src/ui/*.css src/ui/*.js src/ui/*.svg))
UI_GEN      = $(BUILD)/gen/ui_assets.c

obj = $(patsubst %.c,$(1)/obj/%.o,$(2))

LIB_A      := $(BUILD)/libsimroute.a
DAEMON_A   := $(BUILD)/libsimrouted.a
SIM_A      := $(BUILD)/libgsmsim.a
BINS       := $(BUILD)/simrouted $(BUILD)/simroute $(BUILD)/gsmsim
UNIT_BINS  := $(patsubst tests/unit/%.c,$(BUILD)/tests/%,$(UNIT_SRC))
FUZZ_BINS  := $(patsubst tests/fuzz/%.c,$(BUILD)/fuzz/%,$(FUZZ_SRC))

.PHONY: all deps bench-deps check unit unit-asan integration reliability soak bench fuzz-replay fuzz demo install uninstall clean
.DEFAULT_GOAL := all

all: $(BINS)

V ?= 0
Q := $(if $(filter 1,$(V)),,@)

$(BUILD)/obj/%.o: %.c
	@mkdir -p $(dir $@)
	@$(if $(Q),echo "  CC      $<")
	$(Q)$(CC) $(ALL_CFLAGS) -c $< -o $@

$(LIB_A): $(call obj,$(BUILD),$(LIB_SRC))
	@rm -f $@; ar rcs $@ $^
$(DAEMON_A): $(call obj,$(BUILD),$(DAEMON_SRC) $(UI_GEN))
	@rm -f $@; ar rcs $@ $^
# The dashboard as C arrays: od and awk are in every Debian base system (xxd comes with vim, so is not).
$(UI_GEN): $(UI_SRC) Makefile
	@mkdir -p $(dir $@)
	@$(if $(Q),echo "  GEN     $@")
	$(Q){ echo '/* generated from src/ui/ by the Makefile: do not edit */'; \
	  echo '#include "api/ui_assets.h"'; \
	  i=0; for f in $(UI_SRC); do \
	    echo "static const unsigned char f$$i[] = {"; \
	    od -An -v -tx1 "$$f" | awk '{ s = ""; for (k = 1; k <= NF; k++) s = s "0x" $$k ","; print s }'; \
	    echo "};"; i=$$((i + 1)); \
	  done; \
	  echo 'const struct ui_asset ui_assets[] = {'; \
	  i=0; for f in $(UI_SRC); do echo "	{ \"$${f##*/}\", f$$i, sizeof(f$$i) },"; i=$$((i + 1)); done; \
	  echo '};'; \
	  echo "const size_t ui_nassets = $$i;"; } > $@.tmp && mv $@.tmp $@

# gsmsim without its main(), so unit tests can reach its AT interpreter.
$(SIM_A): $(call obj,$(BUILD),$(filter-out src/gsmsim/main.c,$(SIM_SRC)))
	@rm -f $@; ar rcs $@ $^

$(BUILD)/simrouted: $(BUILD)/obj/src/daemon/main.o $(DAEMON_A) $(LIB_A)
	$(CC) $(CFLAGS) -o $@ $^ $(LDLIBS)
$(BUILD)/simroute: $(call obj,$(BUILD),$(CLI_SRC)) $(LIB_A)
	$(CC) $(CFLAGS) -o $@ $^ $(LDLIBS)
$(BUILD)/gsmsim: $(call obj,$(BUILD),$(SIM_SRC)) $(LIB_A)
	$(CC) $(CFLAGS) -o $@ $^ $(LDLIBS) -lutil

$(BUILD)/tests/%: $(BUILD)/obj/tests/unit/%.o $(DAEMON_A) $(SIM_A) $(LIB_A)
	@mkdir -p $(dir $@)
	$(CC) $(CFLAGS) -o $@ $^ $(LDLIBS) -lcmocka -lutil

# libFuzzer targets are replayed over their corpus with a plain driver, so `make check` needs no clang.
$(BUILD)/fuzz/%: $(BUILD)/obj/tests/fuzz/%.o $(BUILD)/obj/tests/fuzz/replay_main.o $(DAEMON_A) $(LIB_A)
	@mkdir -p $(dir $@)
	$(CC) $(CFLAGS) -o $@ $^ $(LDLIBS)

# Installs the Debian packages of $(1) that are missing (apt-get update only when something is).
define install_missing
	@missing=""; for p in $(1); do \
	  dpkg-query -W -f='$${Status}\n' $$p 2>/dev/null | grep -q 'install ok installed' || missing="$$missing $$p"; \
	done; \
	if [ -n "$$missing" ]; then \
	  sudo=""; [ "$$(id -u)" -eq 0 ] || sudo=sudo; \
	  echo "make: installing$$missing"; \
	  $$sudo apt-get update -q && DEBIAN_FRONTEND=noninteractive $$sudo apt-get install -y -q --no-install-recommends $$missing; \
	fi
endef

deps:
	$(call install_missing,$(DEB_PKGS))

# The postgresql store cases need a server: the one named by SIMROUTE_TEST_PG_DSN, else a throw-away one
# from tests/pg_server.sh for this run (their cases are skipped, said here, when it cannot start one).
unit: $(UNIT_BINS)
	@pgdir=""; dsn="$${SIMROUTE_TEST_PG_DSN:-}"; \
	if [ -z "$$dsn" ]; then \
	  pgdir=$$(mktemp -d /tmp/simroute_pg.XXXXXX); trap 'tests/pg_server.sh stop "$$pgdir"' EXIT INT TERM; \
	  dsn=$$(tests/pg_server.sh start "$$pgdir") || { dsn=""; echo "unit: no PostgreSQL server: the postgresql store cases are skipped"; }; \
	fi; \
	fail=0; for t in $(UNIT_BINS); do echo "== $$t"; SIMROUTE_TEST_PG_DSN="$$dsn" $$t || fail=1; done; exit $$fail

# The same unit tests, rebuilt with AddressSanitizer and UndefinedBehaviorSanitizer.
unit-asan:
	$(MAKE) --no-print-directory BUILD=$(BUILD)/asan CFLAGS="-O1 -g -fsanitize=address,undefined -fno-omit-frame-pointer -fno-sanitize-recover=all" unit

fuzz-replay: $(FUZZ_BINS)
	@for f in $(FUZZ_BINS); do n=$$(basename $$f); echo "== $$n corpus"; $$f tests/fuzz/corpus/$$n/* || exit 1; done

# Coverage-guided fuzzing with clang's libFuzzer (not part of `make check`): FUZZ_SECONDS per target,
# new inputs land in build/fuzz-corpus/ (merge the useful ones into tests/fuzz/corpus/). Needs clang.
FUZZ_SECONDS ?= 60
fuzz: $(LIB_A)
	@command -v clang >/dev/null || { echo "make fuzz needs clang: apt-get install clang"; exit 2; }
	@mkdir -p $(BUILD)/libfuzzer
	@for src in $(FUZZ_SRC); do n=$$(basename $$src .c); \
	  clang -g -O1 -fsanitize=fuzzer,address,undefined -std=gnu11 -D_GNU_SOURCE -Iinclude -Isrc/daemon $(PKG_CFLAGS) \
	    $$src $(LIB_SRC) $(DAEMON_SRC) -o $(BUILD)/libfuzzer/$$n $(LDLIBS) || exit 1; \
	  mkdir -p $(BUILD)/fuzz-corpus/$$n; \
	  $(BUILD)/libfuzzer/$$n -max_total_time=$(FUZZ_SECONDS) $(BUILD)/fuzz-corpus/$$n tests/fuzz/corpus/$$n || exit 1; \
	done

integration: all
	cd tests/integration && /usr/bin/python3 -m pytest -q -p no:cacheprovider

# Crash safety and disk full against real processes: short form in `make check`, long form in `make soak`
# (SOAK_KILLS kill -9 cycles; RELIABILITY_KILLS sets the count for either).
SOAK_KILLS ?= 200
reliability: all
	cd tests/reliability && SIMROUTE_BUILD=$(abspath $(BUILD)) /usr/bin/python3 -m pytest -q -p no:cacheprovider
soak: deps
	$(MAKE) --no-print-directory all
	cd tests/reliability && SIMROUTE_BUILD=$(abspath $(BUILD)) RELIABILITY_KILLS=$(SOAK_KILLS) /usr/bin/python3 -m pytest -q -s -p no:cacheprovider

# Benchmarks: print figures and append them to bench/results/<name>.jsonl; never pass/fail on time.
# BENCH=ingest,delivery,latency,footprint,scaleout picks some; BENCH_RUNS runs per figure (median, min, max).
BENCH ?= ingest,delivery,latency,footprint,scaleout
BENCH_RUNS ?= 3
bench-deps:
	$(call install_missing,$(BENCH_PKGS))
bench: deps bench-deps
	$(MAKE) --no-print-directory all
	SIMROUTE_BUILD=$(abspath $(BUILD)) /usr/bin/python3 bench/bench.py --only $(BENCH) --runs $(BENCH_RUNS)

check: deps
	$(MAKE) --no-print-directory all
	$(MAKE) --no-print-directory unit
	$(MAKE) --no-print-directory unit-asan
	$(MAKE) --no-print-directory BUILD=$(BUILD)/asan CFLAGS="-O1 -g -fsanitize=address,undefined -fno-omit-frame-pointer -fno-sanitize-recover=all" fuzz-replay
	$(MAKE) --no-print-directory integration
	$(MAKE) --no-print-directory reliability

demo: deps
	$(MAKE) --no-print-directory all
	@bash conf/demo.sh $(BUILD)

install: all
	install -d $(DESTDIR)$(PREFIX)/bin $(DESTDIR)$(PREFIX)/sbin $(DESTDIR)/etc/simroute $(DESTDIR)/lib/udev/rules.d
	install -m 755 $(BUILD)/simroute $(BUILD)/gsmsim $(DESTDIR)$(PREFIX)/bin/
	install -m 755 $(BUILD)/simrouted $(DESTDIR)$(PREFIX)/sbin/
	[ -e $(DESTDIR)/etc/simroute/simroute.ini ] || install -m 640 conf/simroute.ini $(DESTDIR)/etc/simroute/simroute.ini
	install -m 644 udev/*.rules $(DESTDIR)/lib/udev/rules.d/
	install -d $(DESTDIR)/lib/systemd/system $(DESTDIR)/usr/lib/sysusers.d $(DESTDIR)/usr/lib/tmpfiles.d
	sed 's|/usr/local/|$(PREFIX)/|g' conf/systemd/simrouted.service > $(DESTDIR)/lib/systemd/system/simrouted.service
	install -m 644 conf/systemd/simroute.sysusers $(DESTDIR)/usr/lib/sysusers.d/simroute.conf
	install -m 644 conf/systemd/simroute.tmpfiles $(DESTDIR)/usr/lib/tmpfiles.d/simroute.conf
	install -d $(DESTDIR)$(PREFIX)/share/doc/simroute
	install -m 644 README.md docs/*.md docs/openapi.yaml $(DESTDIR)$(PREFIX)/share/doc/simroute/
	install -d $(DESTDIR)$(PREFIX)/share/doc/simroute/monitoring
	install -m 644 docs/monitoring/* $(DESTDIR)$(PREFIX)/share/doc/simroute/monitoring/
	install -d $(DESTDIR)$(PREFIX)/share/man/man8 $(DESTDIR)$(PREFIX)/share/man/man5 $(DESTDIR)$(PREFIX)/share/man/man1
	install -m 644 docs/man/simrouted.8 $(DESTDIR)$(PREFIX)/share/man/man8/
	install -m 644 docs/man/simroute.ini.5 $(DESTDIR)$(PREFIX)/share/man/man5/
	install -m 644 docs/man/simroute.1 $(DESTDIR)$(PREFIX)/share/man/man1/
	install -d $(DESTDIR)$(PREFIX)/share/bash-completion/completions
	install -m 644 conf/simroute.bash-completion $(DESTDIR)$(PREFIX)/share/bash-completion/completions/simroute

uninstall:
	rm -f $(DESTDIR)$(PREFIX)/bin/simroute $(DESTDIR)$(PREFIX)/bin/gsmsim $(DESTDIR)$(PREFIX)/sbin/simrouted
	rm -f $(addprefix $(DESTDIR)/lib/udev/rules.d/,$(notdir $(wildcard udev/*.rules)))
	rm -f $(DESTDIR)/lib/systemd/system/simrouted.service $(DESTDIR)/usr/lib/sysusers.d/simroute.conf \
	      $(DESTDIR)/usr/lib/tmpfiles.d/simroute.conf
	rm -rf $(DESTDIR)$(PREFIX)/share/doc/simroute
	rm -f $(DESTDIR)$(PREFIX)/share/man/man8/simrouted.8 $(DESTDIR)$(PREFIX)/share/man/man5/simroute.ini.5 \
	      $(DESTDIR)$(PREFIX)/share/man/man1/simroute.1 $(DESTDIR)$(PREFIX)/share/bash-completion/completions/simroute

clean:
	rm -rf $(BUILD)

-include $(shell find $(BUILD) -name '*.d' 2>/dev/null)
