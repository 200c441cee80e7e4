/*
 * sandbox.c: chroot into an empty folder, a permanent drop to an unprivileged
 * user, then Landlock and a seccomp allowlist for the worker's event loop.
 */
/* setresuid, getresuid and friends are GNU extensions. */
#define _GNU_SOURCE

#include <sys/ioctl.h>
#include <sys/mman.h>
#include <sys/prctl.h>
#include <sys/stat.h>
#include <sys/syscall.h>

#include <linux/landlock.h>
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <grp.h>
#include <pwd.h>
#include <signal.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <seccomp.h>

/*
 * libseccomp's SCMP_A0() fills two of the three fields of its struct by
 * design (the third is for masked compares); clang warns about it, gcc
 * does not. The macro is theirs: quiet that one warning, for clang only.
 */
#ifdef __clang__
#pragma clang diagnostic ignored "-Wmissing-field-initializers"
#endif

#include "sandbox.h"

/*
 * Debian 12's headers stop at Landlock ABI 2; the kernel we run on may
 * know more. The values are fixed by the kernel's ABI.
 */
#ifndef LANDLOCK_ACCESS_FS_TRUNCATE
#define LANDLOCK_ACCESS_FS_TRUNCATE (1ULL << 14) /* ABI 3 */
#endif
#ifndef LANDLOCK_ACCESS_FS_IOCTL_DEV
#define LANDLOCK_ACCESS_FS_IOCTL_DEV (1ULL << 15) /* ABI 5 */
#endif
#ifndef LANDLOCK_ACCESS_NET_BIND_TCP
#define LANDLOCK_ACCESS_NET_BIND_TCP    (1ULL << 0) /* ABI 4 */
#define LANDLOCK_ACCESS_NET_CONNECT_TCP (1ULL << 1)
#endif
#ifndef LANDLOCK_SCOPE_ABSTRACT_UNIX_SOCKET
#define LANDLOCK_SCOPE_ABSTRACT_UNIX_SOCKET (1ULL << 0) /* ABI 6 */
#define LANDLOCK_SCOPE_SIGNAL               (1ULL << 1)
#endif

/*
 * Our own copy of struct landlock_ruleset_attr with the fields later ABIs
 * added. An older kernel accepts the longer struct as long as the fields
 * it does not know are zero, so one size fits all.
 */
struct ll_ruleset_attr {
	uint64_t handled_access_fs;
	uint64_t handled_access_net;
	uint64_t scoped;
};

static void
say(char *err, size_t errsz, const char *fmt, const char *arg, int errnum)
{
	int n;

	if (err == NULL || errsz == 0)
		return;
	n = snprintf(err, errsz, fmt, arg);
	if (errnum != 0 && n >= 0 && (size_t)n < errsz)
		snprintf(err + n, errsz - n, ": %s", strerror(errnum));
}

int
sandbox_user_lookup(
    const char *name, struct sandbox_user *u, char *err, size_t errsz)
{
	struct passwd *pw;

	if (strlen(name) >= sizeof(u->name)) {
		say(err, errsz, "user name too long: %s", name, 0);
		return -1;
	}
	/* getpwnam leaves errno alone when the user simply does not exist. */
	errno = 0;
	if ((pw = getpwnam(name)) == NULL) {
		if (errno != 0 && errno != ENOENT && errno != ESRCH)
			say(err, errsz, "getpwnam %s", name, errno);
		else
			say(err, errsz, "no such user: %s", name, 0);
		return -1;
	}
	/* Root "dropping" to root keeps every privilege; say so now. */
	if (pw->pw_uid == 0 || pw->pw_gid == 0) {
		say(err, errsz,
		    "user %s has uid or gid 0; pick an unprivileged "
		    "user such as nobody",
		    name, 0);
		return -1;
	}
	u->uid = pw->pw_uid;
	u->gid = pw->pw_gid;
	snprintf(u->name, sizeof(u->name), "%s", name);
	/* Content readable through a supplementary group is the user's too. */
	u->ngroups = SANDBOX_GROUPS;
	if (getgrouplist(name, pw->pw_gid, u->groups, &u->ngroups) == -1) {
		say(err, errsz, "user %s is in more than 64 groups", name, 0);
		return -1;
	}
	return 0;
}

/*
 * True when a folder can hold the jail: whoever may create entries in it
 * could otherwise swap our folder for a symlink or one with their files.
 */
static int
safe_parent(const struct stat *st)
{
	if (!S_ISDIR(st->st_mode))
		return 0;
	if (st->st_uid != 0 && st->st_uid != geteuid())
		return 0;
	if ((st->st_mode & (S_IWGRP | S_IWOTH)) && !(st->st_mode & S_ISVTX))
		return 0;
	return 1;
}

int
sandbox_jail_make(
    const char *parent_dir, char *out, size_t outsz, char *err, size_t errsz)
{
	struct stat st;
	int fd = -1, n;

	if (stat(parent_dir, &st) == -1) {
		say(err, errsz, "jail parent %s", parent_dir, errno);
		return -1;
	}
	if (!safe_parent(&st)) {
		say(err, errsz,
		    "jail parent %s is not a folder only root (or "
		    "sticky) can change",
		    parent_dir, 0);
		return -1;
	}
	n = snprintf(out, outsz, "%s/kapsula-jail.XXXXXX", parent_dir);
	if (n < 0 || (size_t)n >= outsz) {
		say(err, errsz, "jail path too long under %s", parent_dir, 0);
		return -1;
	}
	/* mkdtemp creates a new folder (never an existing one), mode 0700. */
	if (mkdtemp(out) == NULL) {
		say(err, errsz, "mkdtemp %s", out, errno);
		return -1;
	}
	/*
	 * Through a descriptor, so the folder checked and chmod-ed is the one
	 * made. 0755: the worker may look up "/" in it but never write.
	 */
	if ((fd = open(out, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC)) ==
	    -1) {
		say(err, errsz, "open %s", out, errno);
		goto err;
	}
	if (fstat(fd, &st) == -1 || fchmod(fd, 0755) == -1) {
		say(err, errsz, "chmod %s", out, errno);
		goto err;
	}
	if (st.st_uid != geteuid()) {
		say(err, errsz, "jail %s is not ours", out, 0);
		goto err;
	}
	close(fd);
	return 0;
err:
	if (fd != -1)
		close(fd);
	rmdir(out);
	return -1;
}

void
sandbox_jail_remove(const char *dir)
{
	/* rmdir, not a recursive delete: a jail is empty, or not ours. */
	if (dir != NULL && *dir != '\0')
		rmdir(dir);
}

/*
 * After chroot: is "/" what sandbox_jail_make made? Checked here, not
 * trusted, because the path was looked up again between the two.
 */
static int
jail_check(char *err, size_t errsz)
{
	struct stat st;
	struct dirent *de;
	DIR *d;
	int extra = 0;

	if (stat("/", &st) == -1) {
		say(err, errsz, "stat %s", "jail", errno);
		return -1;
	}
	if (st.st_uid != 0 || (st.st_mode & (S_IWGRP | S_IWOTH))) {
		say(err, errsz, "%s is not root's or is writable by others",
		    "jail", 0);
		return -1;
	}
	if ((d = opendir("/")) == NULL) {
		say(err, errsz, "opendir %s", "jail", errno);
		return -1;
	}
	while ((de = readdir(d)) != NULL)
		if (strcmp(de->d_name, ".") != 0 &&
		    strcmp(de->d_name, "..") != 0)
			extra++;
	closedir(d);
	if (extra) {
		say(err, errsz, "%s is not empty", "jail", 0);
		return -1;
	}
	return 0;
}

static int
drop_user(const struct sandbox_user *u, char *err, size_t errsz)
{
	uid_t ru, eu, su;
	gid_t rg, eg, sg;

	/* Groups first: only root may change them. */
	if (setgroups(u->ngroups > 0 ? (size_t)u->ngroups : 1,
	        u->ngroups > 0 ? u->groups : &u->gid) == -1) {
		say(err, errsz, "setgroups %s", u->name, errno);
		return -1;
	}
	/* setres*: real, effective and saved ids at once: none to regain. */
	if (setresgid(u->gid, u->gid, u->gid) == -1) {
		say(err, errsz, "setresgid %s", u->name, errno);
		return -1;
	}
	if (setresuid(u->uid, u->uid, u->uid) == -1) {
		say(err, errsz, "setresuid %s", u->name, errno);
		return -1;
	}
	if (getresuid(&ru, &eu, &su) == -1 || getresgid(&rg, &eg, &sg) == -1 ||
	    ru != u->uid || eu != u->uid || su != u->uid || rg != u->gid ||
	    eg != u->gid || sg != u->gid) {
		say(err, errsz, "ids did not change to %s", u->name, 0);
		return -1;
	}
	/* Trust, but verify: a drop that can be undone is no drop. */
	if (setuid(0) != -1 || seteuid(0) != -1 || setgid(0) != -1 ||
	    setegid(0) != -1) {
		say(err, errsz, "root could be regained after dropping to %s",
		    u->name, 0);
		return -1;
	}
	return 0;
}

int
sandbox_drop(
    const char *jail, const struct sandbox_user *user, char *err, size_t errsz)
{
	pid_t parent = getppid();

	/* chdir after chroot: a cwd outside the new root is a way out. */
	if (jail != NULL) {
		if (chroot(jail) == -1) {
			say(err, errsz, "chroot %s", jail, errno);
			return -1;
		}
		if (chdir("/") == -1) {
			say(err, errsz, "chdir / in %s", jail, errno);
			return -1;
		}
		if (jail_check(err, errsz) == -1)
			return -1;
	}
	if (user != NULL && drop_user(user, err, errsz) == -1)
		return -1;
	/*
	 * After the uid change: changing credentials clears the death
	 * signal. A worker outliving its parent would serve stale content
	 * with nobody to stop it.
	 */
	if (prctl(PR_SET_PDEATHSIG, SIGTERM) == -1) {
		say(err, errsz, "prctl %s", "PR_SET_PDEATHSIG", errno);
		return -1;
	}
	/* The parent may have died before the line above took effect. */
	if (getppid() != parent) {
		say(err, errsz, "%s exited while the worker started", "parent",
		    0);
		return -1;
	}
	return 0;
}

static int
ll_create(const struct ll_ruleset_attr *attr, size_t size, uint32_t flags)
{
	/* glibc 2.36 has no Landlock wrappers. */
	return (int)syscall(SYS_landlock_create_ruleset, attr, size, flags);
}

int
sandbox_landlock(int *skipped)
{
	struct ll_ruleset_attr attr;
	int abi, fd, saved;

	*skipped = 0;
	/* Landlock refuses to restrict without it (short of CAP_SYS_ADMIN). */
	if (prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0) == -1)
		return -1;
	if ((abi = ll_create(NULL, 0, LANDLOCK_CREATE_RULESET_VERSION)) == -1) {
		/* ENOSYS: not built in; EOPNOTSUPP: built in, off at boot. */
		if (errno == ENOSYS || errno == EOPNOTSUPP) {
			*skipped = 1;
			return 0;
		}
		return -1;
	}

	/*
	 * Every access right the kernel knows, and no rule granting any: an
	 * unhandled right would stay allowed. Rights the kernel does not know
	 * would make it refuse the whole ruleset (EINVAL).
	 */
	memset(&attr, 0, sizeof(attr));
	/* ABI 1: EXECUTE (bit 0) to MAKE_SYM (bit 12). */
	attr.handled_access_fs = (1ULL << 13) - 1;
	if (abi >= 2)
		attr.handled_access_fs |= LANDLOCK_ACCESS_FS_REFER;
	if (abi >= 3)
		attr.handled_access_fs |= LANDLOCK_ACCESS_FS_TRUNCATE;
	if (abi >= 5)
		attr.handled_access_fs |= LANDLOCK_ACCESS_FS_IOCTL_DEV;
	/* The parent binds every port; a worker never binds nor connects. */
	if (abi >= 4)
		attr.handled_access_net = LANDLOCK_ACCESS_NET_BIND_TCP |
		                          LANDLOCK_ACCESS_NET_CONNECT_TCP;
	/* No abstract unix sockets, no signals to processes outside. */
	if (abi >= 6)
		attr.scoped =
		    LANDLOCK_SCOPE_ABSTRACT_UNIX_SOCKET | LANDLOCK_SCOPE_SIGNAL;

	if ((fd = ll_create(&attr, sizeof(attr), 0)) == -1)
		return -1;
	if (syscall(SYS_landlock_restrict_self, fd, 0) == -1) {
		saved = errno;
		close(fd);
		errno = saved;
		return -1;
	}
	close(fd);
	return 0;
}

/*
 * The worker's syscalls once it serves, for libevent 2.1's epoll loop,
 * OpenSSL 3, glibc's malloc and stdio, and logging to stdout/stderr. What
 * is absent matters as much: open/openat, socket, bind, connect, listen,
 * execve, fork/clone/clone3, ptrace, prctl, chroot, setuid and friends,
 * epoll_create (the event_base must exist before), mount, and so on.
 * Calls with arguments that matter have rules in seccomp_build below.
 */
static const int allowed[] = {
    /* The loop: libevent's epoll backend waits and (de)registers fds. */
    SCMP_SYS(epoll_wait),
    SCMP_SYS(epoll_pwait),
    SCMP_SYS(epoll_ctl),
    /* Clients: evconnlistener (or we) accept with SOCK_NONBLOCK|CLOEXEC. */
    SCMP_SYS(accept4),
    SCMP_SYS(accept),
    /*
     * Reading: OpenSSL's socket BIO uses read, evbuffer_read readv,
     * libevent's signal socketpair recv (recvfrom); recvmsg for
     * descriptors or messages from the parent.
     */
    SCMP_SYS(read),
    SCMP_SYS(readv),
    SCMP_SYS(recvfrom),
    SCMP_SYS(recvmsg),
    /*
     * Writing: OpenSSL write, evbuffer_write writev, the signal handler
     * send (sendto), sendmsg to the parent, stdio logs write.
     */
    SCMP_SYS(write),
    SCMP_SYS(writev),
    SCMP_SYS(sendto),
    SCMP_SYS(sendmsg),
    /* evbuffer_write sends file segments with sendfile. */
    SCMP_SYS(sendfile),
    /* Ending a connection: half-close after close_notify, then close. */
    SCMP_SYS(close),
    SCMP_SYS(shutdown),
    /* TCP_NODELAY, SO_LINGER, SO_ERROR, and peer addresses for the log. */
    SCMP_SYS(setsockopt),
    SCMP_SYS(getsockopt),
    SCMP_SYS(getsockname),
    SCMP_SYS(getpeername),
    /* Time: vDSO calls normally, real syscalls under valgrind or no vDSO. */
    SCMP_SYS(clock_gettime),
    SCMP_SYS(gettimeofday),
    SCMP_SYS(time),
    /* Nothing sleeps today; a back-off that does must not kill us. */
    SCMP_SYS(nanosleep),
    SCMP_SYS(clock_nanosleep),
    /* OpenSSL seeds and reseeds its DRBG (after fork too) from getrandom. */
    SCMP_SYS(getrandom),
    /* glibc's malloc: heap, big blocks, realloc, trimming (mmap apart). */
    SCMP_SYS(brk),
    SCMP_SYS(munmap),
    SCMP_SYS(mremap),
    SCMP_SYS(madvise),
    /* Locks in glibc and OpenSSL; only contended ones make the call. */
    SCMP_SYS(futex),
    /*
     * The shared rate table's spinlocks yield while another worker holds
     * one (limit.c), rather than spin out the holder's time slice.
     */
    SCMP_SYS(sched_yield),
    /* raise()/abort() and OpenSSL's fork check ask for the pid. */
    SCMP_SYS(getpid),
    SCMP_SYS(gettid),
    SCMP_SYS(exit),
    SCMP_SYS(exit_group),
    /* Content served from descriptors opened before, by offset. */
    SCMP_SYS(lseek),
    SCMP_SYS(pread64),
    /*
     * glibc's stdio fstat()s a stream on its first write to size the
     * buffer (newfstatat with AT_EMPTY_PATH in glibc 2.36). In an empty
     * chroot under Landlock, stat by path reveals nothing.
     */
    SCMP_SYS(fstat),
    SCMP_SYS(newfstatat),
    /* The kernel restarts a call a signal interrupted with this. */
    SCMP_SYS(restart_syscall),
    /*
     * libevent installs and removes handlers in event_add/event_del of
     * signal events, and blocks signals around them; handlers return
     * through rt_sigreturn.
     */
    SCMP_SYS(rt_sigaction),
    SCMP_SYS(rt_sigprocmask),
    SCMP_SYS(rt_sigreturn),
};

static scmp_filter_ctx
seccomp_build(int log_mode, char *err, size_t errsz)
{
	scmp_filter_ctx ctx;
	const char *what = "";
	char *name = NULL;
	pid_t self = getpid();
	size_t i;
	int rc = 0;

	/* Kill the process, not one thread: a half-dead worker would hang. */
	if ((ctx = seccomp_init(
	         log_mode ? SCMP_ACT_LOG : SCMP_ACT_KILL_PROCESS)) == NULL) {
		say(err, errsz, "%s failed", "seccomp_init", 0);
		return NULL;
	}
	/* A syscall of another ABI (i386 int 0x80, x32) bypasses the table. */
	if ((rc = seccomp_attr_set(
	         ctx, SCMP_FLTATR_ACT_BADARCH, SCMP_ACT_KILL_PROCESS)) < 0) {
		what = "badarch action";
		goto err;
	}
	for (i = 0; i < sizeof(allowed) / sizeof(allowed[0]); i++)
		if ((rc = seccomp_rule_add(
		         ctx, SCMP_ACT_ALLOW, allowed[i], 0)) < 0) {
			name = seccomp_syscall_resolve_num_arch(
			    SCMP_ARCH_NATIVE, allowed[i]);
			what = name != NULL ? name : "a syscall";
			goto err;
		}

	/*
	 * ioctl: FIONREAD is how evbuffer_read sizes a read. TCGETS is
	 * isatty(), which glibc's stdio asks on the first write when stdout
	 * is a character device such as /dev/null; it only reads. Anything
	 * else, TIOCSTI above all, is refused.
	 */
	what = "ioctl";
	if ((rc = seccomp_rule_add(ctx, SCMP_ACT_ALLOW, SCMP_SYS(ioctl), 1,
	         SCMP_A1(SCMP_CMP_EQ, FIONREAD))) < 0 ||
	    (rc = seccomp_rule_add(ctx, SCMP_ACT_ALLOW, SCMP_SYS(ioctl), 1,
	         SCMP_A1(SCMP_CMP_EQ, TCGETS))) < 0)
		goto err;
	/*
	 * fcntl: libevent's evutil_make_socket_nonblocking and
	 * evutil_make_socket_closeonexec get and set flags; nothing else
	 * (no F_DUPFD, no F_SETOWN/F_SETSIG, no locks).
	 */
	what = "fcntl";
	if ((rc = seccomp_rule_add(ctx, SCMP_ACT_ALLOW, SCMP_SYS(fcntl), 1,
	         SCMP_A1(SCMP_CMP_EQ, F_GETFL))) < 0 ||
	    (rc = seccomp_rule_add(ctx, SCMP_ACT_ALLOW, SCMP_SYS(fcntl), 1,
	         SCMP_A1(SCMP_CMP_EQ, F_SETFL))) < 0 ||
	    (rc = seccomp_rule_add(ctx, SCMP_ACT_ALLOW, SCMP_SYS(fcntl), 1,
	         SCMP_A1(SCMP_CMP_EQ, F_GETFD))) < 0 ||
	    (rc = seccomp_rule_add(ctx, SCMP_ACT_ALLOW, SCMP_SYS(fcntl), 1,
	         SCMP_A1(SCMP_CMP_EQ, F_SETFD))) < 0)
		goto err;
	/*
	 * mmap and mprotect for malloc (big blocks, arena growth), never
	 * with PROT_EXEC: nothing we run loads or writes code after start,
	 * and executable memory is what an exploit would want.
	 */
	what = "mmap";
	if ((rc = seccomp_rule_add(ctx, SCMP_ACT_ALLOW, SCMP_SYS(mmap), 1,
	         SCMP_A2(SCMP_CMP_MASKED_EQ, PROT_EXEC, 0))) < 0 ||
	    (rc = seccomp_rule_add(ctx, SCMP_ACT_ALLOW, SCMP_SYS(mprotect), 1,
	         SCMP_A2(SCMP_CMP_MASKED_EQ, PROT_EXEC, 0))) < 0)
		goto err;
	/*
	 * Signals only to ourselves: raise() and abort() use tgkill on
	 * our own pid (the worker never forks, so it stays right).
	 */
	what = "tgkill";
	if ((rc = seccomp_rule_add(ctx, SCMP_ACT_ALLOW, SCMP_SYS(tgkill), 1,
	         SCMP_A0(SCMP_CMP_EQ, (scmp_datum_t)self))) < 0 ||
	    (rc = seccomp_rule_add(ctx, SCMP_ACT_ALLOW, SCMP_SYS(kill), 1,
	         SCMP_A0(SCMP_CMP_EQ, (scmp_datum_t)self))) < 0)
		goto err;
	return ctx;
err:
	say(err, errsz, "seccomp rule for %s", what, rc < 0 ? -rc : 0);
	free(name);
	seccomp_release(ctx);
	return NULL;
}

int
sandbox_restrict(int log_mode, int *landlock_skipped, char *err, size_t errsz)
{
	scmp_filter_ctx ctx;
	int rc;

	*landlock_skipped = 0;
	/* Nothing exec-ed from here on could gain privileges (setuid bits). */
	if (prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0) == -1) {
		say(err, errsz, "prctl %s", "PR_SET_NO_NEW_PRIVS", errno);
		return -1;
	}
	/* Landlock first: its own syscalls are not in the allowlist. */
	if (sandbox_landlock(landlock_skipped) == -1) {
		say(err, errsz, "%s", "landlock", errno);
		return -1;
	}
	if ((ctx = seccomp_build(log_mode, err, errsz)) == NULL)
		return -1;
	rc = seccomp_load(ctx);
	seccomp_release(ctx);
	if (rc < 0) {
		say(err, errsz, "%s", "seccomp_load", -rc);
		return -1;
	}
	return 0;
}
