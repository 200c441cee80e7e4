# kapsula: a Gemini and Gopher server for one gemtext tree.
# `make` builds build/kapsula; `make run` serves the bundled capsule;
# `make check` runs every test. SANITIZE=1 builds with ASan+UBSan.

PREFIX	?= /usr/local
DESTDIR	?=
CC	?= cc
CFLAGS	?= -O2 -g

PKGS	 := libevent_core libevent_openssl openssl libidn2 inih libseccomp uchardet
PKG_CFLAGS := $(shell pkg-config --cflags $(PKGS) 2>/dev/null)
PKG_LIBS := $(shell pkg-config --libs $(PKGS) 2>/dev/null)
# Debian's libunistring ships no .pc file; fall back to plain -l.
UNI_CFLAGS := $(shell pkg-config --cflags libunistring 2>/dev/null)
UNI_LIBS := $(shell pkg-config --libs libunistring 2>/dev/null || echo -lunistring)
# Nor does libstemmer-dev (Snowball): the same fallback.
STEM_CFLAGS := $(shell pkg-config --cflags libstemmer 2>/dev/null)
STEM_LIBS := $(shell pkg-config --libs libstemmer 2>/dev/null || echo -lstemmer)

# _FILE_OFFSET_BITS=64: off_t, fstat and sendfile in 64 bits on 32-bit
# machines too, where big files would stop at 2 GiB (a no-op on 64-bit).
# -pthread: pages are rendered on several threads at load (site.c), and
# the search index is built on threads of its own beside them (search.c).
KCFLAGS	 = -std=c11 -Wall -Wextra -Werror -pthread -D_POSIX_C_SOURCE=200809L \
	   -D_DEFAULT_SOURCE -D_FILE_OFFSET_BITS=64 \
	   $(PKG_CFLAGS) $(UNI_CFLAGS) $(STEM_CFLAGS)
KLIBS	 = $(PKG_LIBS) $(UNI_LIBS) $(STEM_LIBS) -lm -pthread

ifeq ($(SANITIZE),1)
BUILD	 := build/san
KCFLAGS	 += -fsanitize=address,undefined -fno-omit-frame-pointer \
	    -fno-sanitize-recover=undefined
KLDFLAGS += -fsanitize=address,undefined
else
BUILD	 := build
endif

SRCS	:= $(wildcard server/*.c)
OBJS	:= $(SRCS:server/%.c=$(BUILD)/obj/%.o)
LIBOBJS	:= $(filter-out $(BUILD)/obj/main.o,$(OBJS))
UNITS	:= $(patsubst tests/unit/%.c,$(BUILD)/tests/%,$(wildcard tests/unit/test_*.c))

# libFuzzer targets: every server object but main.o, built by clang with
# the fuzzer's coverage and ASan+UBSan (Debian: clang-14, libclang-rt-14-dev).
FUZZ_CC	?= $(shell command -v clang-14 2>/dev/null || echo clang)
FUZZ_SECONDS ?= 300
FUZZ	:= build/fuzz
FUZZ_FLAGS = -g -O1 -fno-omit-frame-pointer -fsanitize=address,undefined \
	     -fno-sanitize-recover=undefined
FUZZ_OBJS := $(filter-out $(FUZZ)/obj/main.o,$(SRCS:server/%.c=$(FUZZ)/obj/%.o))
FUZZ_BINS := $(patsubst tests/fuzz/%.c,$(FUZZ)/%,$(wildcard tests/fuzz/fuzz_*.c))

.PHONY: all deps run check unit bench clean install format lint fuzz fuzz-build

all: $(BUILD)/kapsula

$(BUILD)/obj/%.o: server/%.c $(wildcard server/*.h) Makefile
	@mkdir -p $(@D)
	$(CC) $(KCFLAGS) $(CFLAGS) -c -o $@ $<

$(BUILD)/kapsula: $(OBJS)
	$(CC) $(CFLAGS) $(KLDFLAGS) $(LDFLAGS) -o $@ $(OBJS) $(KLIBS)

$(BUILD)/tests/%: tests/unit/%.c $(LIBOBJS) tests/unit/unit.h
	@mkdir -p $(@D)
	$(CC) $(KCFLAGS) $(CFLAGS) -Iserver $(KLDFLAGS) $(LDFLAGS) -o $@ $< \
	    $(LIBOBJS) $(KLIBS)

unit: $(UNITS)

$(FUZZ)/obj/%.o: server/%.c $(wildcard server/*.h) Makefile
	@mkdir -p $(@D)
	$(FUZZ_CC) $(KCFLAGS) $(FUZZ_FLAGS) -fsanitize=fuzzer-no-link -c -o $@ $<

$(FUZZ)/fuzz_%: tests/fuzz/fuzz_%.c tests/fuzz/fuzz.h $(FUZZ_OBJS)
	$(FUZZ_CC) $(KCFLAGS) $(FUZZ_FLAGS) -fsanitize=fuzzer -Iserver -o $@ \
	    $< $(FUZZ_OBJS) $(KLIBS)

fuzz-build: $(FUZZ_BINS)

# Objects made by a chain of pattern rules: keep them between builds.
.SECONDARY: $(FUZZ_OBJS)

# Each target for FUZZ_SECONDS; the corpus grows in build/fuzz/corpus.
fuzz:
	@sh contrib/deps.sh check
	@$(MAKE) --no-print-directory fuzz-build
	@FUZZDIR=$(FUZZ) FUZZ_SECONDS=$(FUZZ_SECONDS) FUZZ_KEEP=1 \
	    sh tests/e2e/test_fuzz.sh

# Installs the Debian packages that are missing; does nothing when all are.
deps:
	@sh contrib/deps.sh build

# Gopher on 7070 in UTF-8, and on 7071 in plain ASCII for old terminals.
run: deps
	@$(MAKE) --no-print-directory all
	./$(BUILD)/kapsula --root capsule --hostname localhost --certs certs \
	    --author SWAN --gemini '[::]:1965' --gemini 0.0.0.0:1965 \
	    --gopher '[::]:7070' --gopher 0.0.0.0:7070 \
	    --gopher '[::]:7071 charset=ascii' \
	    --gopher '0.0.0.0:7071 charset=ascii'

check:
	@sh contrib/deps.sh check
	@$(MAKE) --no-print-directory all unit fuzz-build
	@KAPSULA=$(BUILD)/kapsula UNITDIR=$(BUILD)/tests FUZZDIR=$(FUZZ) \
	    sh tests/run.sh

# The search benchmark loads a tree in-process: it links the server's objects.
$(BUILD)/bench-search: bench/search.c $(LIBOBJS)
	$(CC) $(KCFLAGS) $(CFLAGS) -Iserver $(KLDFLAGS) $(LDFLAGS) -o $@ $< \
	    $(LIBOBJS) $(KLIBS)

bench:
	@sh contrib/deps.sh bench
	@$(MAKE) --no-print-directory all $(BUILD)/bench-search
	@sh bench/run.sh $(BUILD)/kapsula $(BUILD)/bench-search

install: all
	install -d $(DESTDIR)$(PREFIX)/sbin $(DESTDIR)$(PREFIX)/share/man/man5 \
	    $(DESTDIR)$(PREFIX)/share/man/man8 \
	    $(DESTDIR)$(PREFIX)/share/examples/kapsula \
	    $(DESTDIR)$(PREFIX)/lib/systemd/system \
	    $(DESTDIR)$(PREFIX)/lib/sysusers.d $(DESTDIR)$(PREFIX)/share/kapsula
	install -m 755 $(BUILD)/kapsula $(DESTDIR)$(PREFIX)/sbin/kapsula
	install -m 644 man/kapsula.8 $(DESTDIR)$(PREFIX)/share/man/man8/kapsula.8
	install -m 644 man/kapsula.conf.5 \
	    $(DESTDIR)$(PREFIX)/share/man/man5/kapsula.conf.5
	install -m 644 contrib/kapsula.conf \
	    $(DESTDIR)$(PREFIX)/share/examples/kapsula/kapsula.conf
	sed 's|/usr/local/sbin/|$(PREFIX)/sbin/|g' contrib/kapsula.service \
	    > $(DESTDIR)$(PREFIX)/lib/systemd/system/kapsula.service
	chmod 644 $(DESTDIR)$(PREFIX)/lib/systemd/system/kapsula.service
	install -m 644 contrib/kapsula.sysusers \
	    $(DESTDIR)$(PREFIX)/lib/sysusers.d/kapsula.conf
	cp -R capsule $(DESTDIR)$(PREFIX)/share/kapsula/

format:
	clang-format -i server/*.c server/*.h tests/unit/*.c tests/unit/*.h \
	    tests/fuzz/*.c tests/fuzz/*.h

lint:
	cppcheck --quiet --error-exitcode=1 --enable=warning,performance,portability \
	    --inline-suppr -D__GNUC__ --std=c11 server tests/unit tests/fuzz

clean:
	rm -rf build
