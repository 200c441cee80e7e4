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

KCFLAGS	 = -std=c11 -Wall -Wextra -Werror -D_POSIX_C_SOURCE=200809L \
	   -D_DEFAULT_SOURCE $(PKG_CFLAGS) $(UNI_CFLAGS) $(STEM_CFLAGS)
KLIBS	 = $(PKG_LIBS) $(UNI_LIBS) $(STEM_LIBS) -lm

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

.PHONY: all deps run check unit bench clean install format lint

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
	@$(MAKE) --no-print-directory all unit
	@KAPSULA=$(BUILD)/kapsula UNITDIR=$(BUILD)/tests sh tests/run.sh

# The search benchmark loads a tree in-process: it links the server's objects.
$(BUILD)/bench-search: bench/search.c $(LIBOBJS)
	$(CC) $(KCFLAGS) $(CFLAGS) -Iserver $(KLDFLAGS) $(LDFLAGS) -o $@ $< \
	    $(LIBOBJS) $(KLIBS)

bench:
	@sh contrib/deps.sh check
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
	clang-format -i server/*.c server/*.h tests/unit/*.c tests/unit/*.h

lint:
	cppcheck --quiet --error-exitcode=1 --enable=warning,performance,portability \
	    --inline-suppr -D__GNUC__ --std=c11 server tests/unit

clean:
	rm -rf build
