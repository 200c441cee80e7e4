/*
 * test_log.c: the access-log line, byte for byte: its fields, a cut reply,
 * and every byte of a path that could forge a line or steer a terminal.
 */
#include <sys/mman.h>
#include <sys/resource.h>
#include <sys/wait.h>

#include <limits.h>
#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "log.h"
#include "unit.h"

/* What is written on stdout (fd 1) meanwhile, as a file's bytes. */
struct writes {
	FILE *f;
	int saved;
};

static void
capture(struct writes *w)
{
	fflush(stdout);
	if ((w->f = tmpfile()) == NULL || (w->saved = dup(1)) == -1 ||
	    dup2(fileno(w->f), 1) == -1)
		exit(1);
}

static size_t
captured(struct writes *w, char *out, size_t outsz)
{
	size_t n;

	dup2(w->saved, 1);
	close(w->saved);
	rewind(w->f);
	n = fread(out, 1, outsz - 1, w->f);
	out[n] = '\0';
	fclose(w->f);
	return n;
}

/* The line log_access wrote on stdout (fd 1, one write(2)). */
static void
access_line(const struct access *a, char *out, size_t outsz)
{
	struct writes w;

	capture(&w);
	log_access(a);
	captured(&w, out, outsz);
}

/* The line without its time stamp, which it must start with. */
static const char *
after_time(const char *line)
{
	static const char shape[] = "dddd-dd-ddTdd:dd:ddZ";
	size_t i;

	for (i = 0; i < sizeof(shape) - 1; i++)
		if (shape[i] == 'd' ? line[i] < '0' || line[i] > '9'
		                    : line[i] != shape[i])
			return "(no time stamp)";
	return line + i;
}

static void
test_fields(void)
{
	struct access a = {"example.org", "gemini", "192.0.2.1", 20, 4184, 4184,
	    "/en/index.gmi"};
	char line[8192];

	access_line(&a, line, sizeof(line));
	CHECK_STR(after_time(line),
	    " 192.0.2.1 example.org gemini 20 4184 /en/index.gmi\n");
	/* A reply cut short says how much of how much. */
	a.sent = 1000;
	a.status = 59;
	access_line(&a, line, sizeof(line));
	CHECK_STR(after_time(line),
	    " 192.0.2.1 example.org gemini 59 1000/4184 /en/index.gmi\n");
	/* log-ip off: no address field at all. */
	a.ip = "";
	a.sent = 0;
	a.due = 0;
	a.proto = "gopher";
	a.status = 0;
	a.path = "-";
	access_line(&a, line, sizeof(line));
	CHECK_STR(after_time(line), " example.org gopher 0 0 -\n");
	a.ip = NULL;
	a.sent = a.due = (size_t)1 << 40;
	access_line(&a, line, sizeof(line));
	CHECK_STR(after_time(line), " example.org gopher 0 1099511627776 -\n");
}

static void
test_time_is_now(void)
{
	struct access a = {"-", "gemini", NULL, 20, 1, 1, "/"};
	char line[256], want[32];
	time_t t0 = time(NULL), t1;
	struct tm tm;

	access_line(&a, line, sizeof(line));
	t1 = time(NULL);
	/* Either second the call may have fallen in. */
	gmtime_r(&t0, &tm);
	strftime(want, sizeof(want), "%Y-%m-%dT%H:%M:%SZ", &tm);
	if (strncmp(line, want, 20) != 0) {
		gmtime_r(&t1, &tm);
		strftime(want, sizeof(want), "%Y-%m-%dT%H:%M:%SZ", &tm);
	}
	CHECKF(strncmp(line, want, 20) == 0, "line %s, want %s",
	    unit_quote(line), want);
}

static void
test_escapes(void)
{
	static const struct {
		const char *path, *logged;
	} rows[] = {
	    {"/plain/ascii-path_1.gmi", "/plain/ascii-path_1.gmi"},
	    {"/a b", "/a b"},
	    {"/new\nline", "/new\\x0aline"},
	    {"/cr\r\t", "/cr\\x0d\\x09"},
	    {"/esc\x1b[2J", "/esc\\x1b[2J"},
	    {"/del\x7f", "/del\\x7f"},
	    {"/back\\slash", "/back\\x5cslash"},
	    {"/\xc2\x9b"
	     "c1",
	        "/\\xc2\\x9bc1"},
	    {"/\xc2\x80\xc2\x9f", "/\\xc2\\x80\\xc2\\x9f"},
	    {"/\xc2\xa0nbsp", "/\xc2\xa0nbsp"},
	    {"/bidi\xe2\x80\xae", "/bidi\\xe2\\x80\\xae"},
	    {"/\xe2\x80\xaa\xe2\x80\xa9", "/\\xe2\\x80\\xaa\xe2\x80\xa9"},
	    {"/iso\xe2\x81\xa6\xe2\x81\xa9\xe2\x81\xaa",
	        "/iso\\xe2\\x81\\xa6\\xe2\\x81\\xa9\xe2\x81\xaa"},
	    {"/рус/ü", "/рус/ü"},
	    {"/cut\xe2", "/cut\xe2"},
	    {"/cut\xc2", "/cut\xc2"},
	};
	struct access a = {"-", "gemini", NULL, 20, 1, 1, NULL};
	char line[8192], want[512];
	size_t i;

	for (i = 0; i < sizeof(rows) / sizeof(rows[0]); i++) {
		a.path = rows[i].path;
		access_line(&a, line, sizeof(line));
		snprintf(
		    want, sizeof(want), " - gemini 20 1 %s\n", rows[i].logged);
		CHECKF(strcmp(after_time(line), want) == 0,
		    "path %s: logged %s, want %s", unit_quote(rows[i].path),
		    unit_quote(after_time(line)), unit_quote(want));
	}
}

/* A path longer than the line: cut, still one line with its newline. */
static void
test_long_path(void)
{
	static char path[10000], line[16384];
	struct access a = {"-", "gemini", NULL, 20, 1, 1, path};
	size_t n;

	memset(path, '\x01', sizeof(path) - 1);
	access_line(&a, line, sizeof(line));
	n = strlen(line);
	CHECKF(n == 4095, "%zu bytes", n);
	CHECK(line[n - 1] == '\n');
	CHECK(strchr(line, '\n') == line + n - 1);
	CHECK(strncmp(after_time(line), " - gemini 20 1 \\x01\\x01", 23) == 0);
}

static int armed;

static void
count_arm(void *arg)
{
	(void)arg;
	armed++;
}

/*
 * Kept lines: nothing written until log_flush, arm called once a batch,
 * a full batch written before the line that does not fit (so no write
 * is over PIPE_BUF or cuts a line), and log_batch(NULL) writes the rest.
 */
static void
test_batch(void)
{
	struct access a = {"x.test", "gopher", NULL, 20, 1, 1, "/p"};
	char out[65536], path[1000], *p;
	struct writes w;
	size_t n, lines = 0, i;
	off_t before;

	capture(&w);
	armed = 0;
	log_batch(count_arm, NULL);
	log_access(&a);
	log_access(&a);
	CHECK(armed == 1);
	CHECK(lseek(1, 0, SEEK_CUR) == 0); /* still kept */
	log_flush();
	CHECK(lseek(1, 0, SEEK_CUR) > 0);
	log_access(&a);
	CHECK(armed == 2);
	/* Lines of about 1 KiB: the fourth fills a batch. */
	memset(path, 'a', sizeof(path) - 1);
	path[0] = '/';
	path[sizeof(path) - 1] = '\0';
	a.path = path;
	before = lseek(1, 0, SEEK_CUR);
	for (i = 0; i < 5; i++)
		log_access(&a);
	/* Written: whole lines, less than PIPE_BUF, before the last ones. */
	CHECK(lseek(1, 0, SEEK_CUR) > before);
	CHECK(lseek(1, 0, SEEK_CUR) - before <= PIPE_BUF);
	log_batch(NULL, NULL);
	n = captured(&w, out, sizeof(out));
	for (p = out; (p = strchr(p, '\n')) != NULL; p++)
		lines++;
	CHECK(lines == 8);
	CHECK(n > 0 && out[n - 1] == '\n');
	/* Back to a line a write: written at once, nothing kept. */
	a.path = "/q";
	access_line(&a, out, sizeof(out));
	CHECK_STR(after_time(out), " x.test gopher 20 1 /q\n");
}

/*
 * A worker that keeps lines and then crashes writes them first, and
 * still dies of the crash: by a real fault (a write to a read-only
 * page, which happens again once the old action is back) or by abort().
 */
static int
crash_child(int how, char *out, size_t outsz)
{
	struct access a = {"x.test", "gopher", NULL, 20, 1, 1, "/kept"};
	struct writes w;
	pid_t pid;
	int st;

	capture(&w);
	fflush(stderr);
	if ((pid = fork()) == 0) {
		struct rlimit none = {0, 0};
		volatile char *page;

		setrlimit(RLIMIT_CORE, &none); /* no core file in the tree */
		log_batch(count_arm, NULL);
		log_access(&a);
		if (how == SIGSEGV) {
			page = mmap(NULL, 4096, PROT_READ,
			    MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
			page[0] = 1;
		}
		abort();
	}
	waitpid(pid, &st, 0);
	captured(&w, out, outsz);
	return WIFSIGNALED(st) ? WTERMSIG(st) : -1;
}

static void
test_crash_writes_kept(void)
{
	char out[8192];

	CHECK(crash_child(SIGSEGV, out, sizeof(out)) == SIGSEGV);
	CHECK_STR(after_time(out), " x.test gopher 20 1 /kept\n");
	CHECK(crash_child(SIGABRT, out, sizeof(out)) == SIGABRT);
	CHECK_STR(after_time(out), " x.test gopher 20 1 /kept\n");
}

int
main(void)
{
	RUN(test_fields);
	RUN(test_time_is_now);
	RUN(test_escapes);
	RUN(test_long_path);
	RUN(test_batch);
	RUN(test_crash_writes_kept);
	return UNIT_EXIT();
}
