/*
 * sandbox.h: what a worker gives up once it is ready to serve: its root
 * folder, its user, the filesystem and network (Landlock), most syscalls.
 */
#ifndef KAPSULA_SANDBOX_H
#define KAPSULA_SANDBOX_H

#include <sys/types.h>

#include <stddef.h>

#define SANDBOX_GROUPS 64

struct sandbox_user {
	uid_t uid;
	gid_t gid;
	char name[64];
	/* Its primary and supplementary groups, looked up while /etc is
	   still there to read. */
	gid_t groups[SANDBOX_GROUPS];
	int ngroups;
};

/*
 * Parent, at start: finds the user workers run as. Refuses unknown users
 * ("no such user: NAME") and root, which a drop could not take away.
 */
int sandbox_user_lookup(
    const char *name, struct sandbox_user *, char *err, size_t errsz);

/*
 * Parent: makes an empty root-owned folder (mode 0755) under parent_dir for
 * workers to chroot into; its path goes to out. parent_dir must not let
 * other users replace what is made in it (owned by us or root, and sticky
 * when others may write to it). sandbox_jail_remove removes it again.
 */
int sandbox_jail_make(
    const char *parent_dir, char *out, size_t outsz, char *err, size_t errsz);
void sandbox_jail_remove(const char *dir);

/*
 * Worker, as root: chroot into jail (when not NULL) and check that it is
 * empty and root's, then become user for good (when not NULL), then ask
 * for SIGTERM when the parent dies. -1 means the worker must exit.
 */
int sandbox_drop(
    const char *jail, const struct sandbox_user *user, char *err, size_t errsz);

/*
 * Worker, once every file and socket it needs is open and its event_base
 * exists: no new privileges, no filesystem or TCP bind/connect (Landlock;
 * *landlock_skipped is set to 1 when the kernel has none), and a syscall
 * allowlist that kills the process on anything else (seccomp). log_mode
 * logs forbidden calls to the audit log (dmesg) instead of killing.
 */
int sandbox_restrict(
    int log_mode, int *landlock_skipped, char *err, size_t errsz);

/*
 * The Landlock layer of sandbox_restrict alone, for tests: -1 with errno
 * set on failure; *skipped = 1 when the kernel has no Landlock.
 */
int sandbox_landlock(int *skipped);

#endif
