# kaon — one binary, built with a plain Makefile and pkg-config.
#
#   make            release build:  build/kaon
#   make debug      ASan + UBSan:   build/debug/kaon (what the tests run)
#   make run        install what is missing, build, start on 127.0.0.1:8080
#   make test       install what is missing, build, run every test
#   make bench      benchmarks under bench/ (each prints ratios)
#   make format     clang-format every C file;  make lint  bans unsafe calls

PKGS      := libmicrohttpd jansson sqlite3 libsodium libcurl libcrypto libjwt
CC        ?= gcc
CSTD      := -std=c17 -D_GNU_SOURCE
WARN      := -Wall -Wextra -Werror -Wshadow -Wstrict-prototypes -Wmissing-prototypes -Wno-unused-parameter
PKG_CFLAGS := $(shell pkg-config --cflags $(PKGS) 2>/dev/null)
# Debian's libwslay-dev ships no .pc file: fall back to plain -lwslay.
WSLAY_CFLAGS := $(shell pkg-config --cflags libwslay 2>/dev/null)
WSLAY_LIBS   := $(shell pkg-config --libs libwslay 2>/dev/null || echo -lwslay)
PKG_CFLAGS += $(WSLAY_CFLAGS)
PKG_LIBS   := $(shell pkg-config --libs $(PKGS) 2>/dev/null) $(WSLAY_LIBS) -lpthread
INC       := -Isrc -Ibuild/gen

REL_CFLAGS := $(CSTD) $(WARN) -O2 -g $(INC) $(PKG_CFLAGS)
DBG_CFLAGS := $(CSTD) $(WARN) -O1 -g -fno-omit-frame-pointer \
              -fsanitize=address,undefined -fno-sanitize-recover=undefined $(INC) $(PKG_CFLAGS)
# -z now: resolve every symbol at start (full RELRO). Each job's supervisor
# is a fork of the daemon; with lazy binding every one of them paid the
# dynamic linker again for the calls the daemon itself never makes.
REL_LDFLAGS := -Wl,-z,relro,-z,now
DBG_LDFLAGS := -fsanitize=address,undefined -Wl,-z,relro,-z,now

SRCS      := $(sort $(wildcard src/*/*.c))
LIB_SRCS  := $(filter-out src/main.c,$(SRCS))
GEN_SRCS  := build/gen/embedded.c
WEB_SRCS  := $(shell find web/src -type f 2>/dev/null) web/build.mjs web/package.json web/package-lock.json
TEST_SRCS := $(sort $(wildcard tests/*/*_test.c))

REL_OBJS  := $(patsubst %.c,build/rel/%.o,$(LIB_SRCS) $(GEN_SRCS))
DBG_OBJS  := $(patsubst %.c,build/dbg/%.o,$(LIB_SRCS) $(GEN_SRCS))

.PHONY: all debug run test unit e2e browser fuzz bench format lint deps web clean
all: build/kaon

deps:
	@scripts/install-deps

# --- web assets, bundled with esbuild and embedded into the binary -----------
web/node_modules/.stamp: web/package.json web/package-lock.json
	cd web && npm ci --no-audit --no-fund --loglevel=error
	@touch $@

build/web/.stamp: web/node_modules/.stamp $(WEB_SRCS)
	@rm -rf build/web && mkdir -p build/web
	node web/build.mjs build/web
	@touch $@

build/tools/embed: tools/embed.c
	@mkdir -p $(dir $@)
	$(CC) $(CSTD) $(WARN) -O2 -o $@ $<

# The WebSocket client of the terminal's e2e test and benchmark.
build/tools/wsclient: tools/wsclient.c
	@mkdir -p $(dir $@)
	$(CC) $(CSTD) $(WARN) -O2 $(WSLAY_CFLAGS) -o $@ $< $(WSLAY_LIBS) -lcrypto

# One request at a time, timed: the proxy's benchmark (bench/proxy).
build/tools/httplat: tools/httplat.c
	@mkdir -p $(dir $@)
	$(CC) $(CSTD) $(WARN) -O2 -o $@ $<

# Helper programs for session and model jobs (src/server/libexec.c installs them).
LIBEXEC_SRCS := src/libexec/kaon-tensorboard.py src/libexec/kaon-model-worker.py

build/gen/embedded.c: build/tools/embed build/web/.stamp src/api/openapi.json $(LIBEXEC_SRCS)
	@mkdir -p $(dir $@)
	build/tools/embed $@ web:build/web openapi.json:src/api/openapi.json \
		libexec/kaon-tensorboard.py:src/libexec/kaon-tensorboard.py \
		libexec/kaon-model-worker.py:src/libexec/kaon-model-worker.py

web: build/web/.stamp

# --- C --------------------------------------------------------------------
build/rel/%.o: %.c
	@mkdir -p $(dir $@)
	$(CC) $(REL_CFLAGS) -MMD -MP -c -o $@ $<

build/dbg/%.o: %.c
	@mkdir -p $(dir $@)
	$(CC) $(DBG_CFLAGS) -MMD -MP -c -o $@ $<

build/kaon: build/rel/src/main.o $(REL_OBJS)
	$(CC) $(REL_LDFLAGS) -o $@ $^ $(PKG_LIBS)

.DELETE_ON_ERROR:

build/debug/kaon: build/dbg/src/main.o $(DBG_OBJS)
	@mkdir -p $(dir $@)
	$(CC) $(DBG_LDFLAGS) -o $@ $^ $(PKG_LIBS)

debug: build/debug/kaon

build/debug/unit: $(patsubst %.c,build/dbg/%.o,$(TEST_SRCS) tests/harness.c) $(DBG_OBJS)
	@mkdir -p $(dir $@)
	$(CC) $(DBG_LDFLAGS) -o $@ $^ $(PKG_LIBS)

run: deps build/kaon
	build/kaon server --seed-models $(CURDIR)/models $(ARGS)

unit: build/debug/unit
	build/debug/unit

e2e: build/debug/kaon build/tools/wsclient
	tests/e2e/run-all

browser: build/debug/kaon
	tests/browser/run

fuzz:
	tests/fuzz/run

test: deps
	@$(MAKE) --no-print-directory build/debug/kaon build/debug/unit build/kaon build/tools/wsclient
	@tests/run-all

bench: deps build/kaon build/tools/wsclient build/tools/httplat
	bench/http
	bench/sched
	bench/files
	bench/terminal
	bench/sessions
	bench/models

format:
	clang-format -i $(SRCS) $(TEST_SRCS) tests/harness.c tests/harness.h tests/fuzz/*.c tools/*.c $(wildcard src/*/*.h)

lint:
	@scripts/lint

clean:
	rm -rf build

-include $(shell find build -name '*.d' 2>/dev/null)
