/*
 * fuzz.h: what the libFuzzer targets share: a small capsule loaded once
 * into a real snapshot, and a connection the protocol fronts can answer.
 */
#ifndef KAPSULA_FUZZ_H
#define KAPSULA_FUZZ_H

#include <sys/stat.h>

#include <netinet/in.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "gen.h"
#include "net.h"
#include "tree.h"

static struct capsule_conf fz_cc;
static struct capsule fz_cap;
static struct listen_spec fz_spec;
static struct gen_listener fz_gl;
static struct listener fz_l;
static const struct view_spec fz_views[1] = {{70, 0}};

static void
fz_write(const char *dir, const char *rel, const char *data)
{
	char p[512];
	FILE *f;

	snprintf(p, sizeof(p), "%s/%s", dir, rel);
	if ((f = fopen(p, "w")) == NULL)
		abort();
	fputs(data, f);
	fclose(f);
}

/* A capsule with a folder, pages and a text file, loaded from a temp dir. */
static void
fz_capsule(void)
{
	char dir[] = "/tmp/kapsula-fuzz-XXXXXX", sub[600], err[512];
	struct tree_opts t = {
	    .hostname = "localhost",
	    .gemini_port = 1965,
	    .gopher_host = "localhost",
	    .views = fz_views,
	    .nviews = 1,
	    .max_file = 1 << 20,
	};

	if (mkdtemp(dir) == NULL)
		abort();
	snprintf(sub, sizeof(sub), "%s/en", dir);
	mkdir(sub, 0755);
	fz_write(dir, "index.gmi", "# Home\n\n=> en/ English\n");
	fz_write(dir, "en/index.gmi", "# English\n=> page.gmi A page\n");
	fz_write(dir, "en/page.gmi", "# Page\n\n* item\n> quote\n");
	fz_write(dir, "notes.txt", "plain\n");
	t.root = dir;
	if ((fz_cap.snap = tree_load(&t, err, sizeof(err))) == NULL) {
		fprintf(stderr, "fuzz: %s\n", err);
		abort();
	}
	snprintf(sub, sizeof(sub), "rm -rf '%s'", dir);
	if (system(sub) != 0)
		fprintf(stderr, "fuzz: cannot remove %s\n", dir);
	strcpy(fz_cc.name, "localhost");
	strcpy(fz_cc.uname, "localhost");
	fz_cc.gopher_host = (char *)"localhost";
	fz_cap.cc = &fz_cc;
	fz_cap.names[0] = fz_cc.name;
	fz_cap.nnames = 1;
	fz_cap.views[0] = fz_views[0];
	fz_cap.nviews = 1;
	fz_gl.port = 1965;
	fz_gl.spec = &fz_spec;
	fz_l.gl = &fz_gl;
}

/*
 * Bytes as the connection core would hand them to a front: framed as
 * they arrive (eof or not), then handled, and every reply kind written.
 */
static void
fz_front(const struct front *f, const uint8_t *data, size_t size, int eof)
{
	static char req[REQ_MAX + 3];
	struct conn *c;
	long len;

	if ((c = calloc(1, sizeof(*c))) == NULL)
		return;
	c->cap = &fz_cap;
	c->l = &fz_l;
	c->front = f;
	c->local.ss_family = AF_INET;
	((struct sockaddr_in *)&c->local)->sin_addr.s_addr = htonl(0x7f000001);
	c->local_known = 1;
	c->reqlen = size < sizeof(req) - 1 ? size : sizeof(req) - 1;
	memcpy(req, data, c->reqlen);
	req[c->reqlen] = '\0';
	len = f->frame(req, c->reqlen, eof);
	if (len >= 0) {
		if ((size_t)len > c->reqlen)
			abort(); /* a frame longer than the bytes */
		f->handle(c, req, (size_t)len);
		if (c->outlen > 0 && c->out == NULL)
			abort();
	}
	free(c->own);
	free(c->logpath);
	free(c);
}

#endif
