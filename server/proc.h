/*
 * proc.h: the parent, which never reads a client's byte (binds, loads,
 * forks and supervises), and the sandboxed workers that serve.
 */
#ifndef KAPSULA_PROC_H
#define KAPSULA_PROC_H

struct conf;

/* Builds a fresh configuration: at start and at every SIGHUP. */
typedef struct conf *(*proc_conf_fn)(void *);

struct proc_opts {
	proc_conf_fn load;
	void *arg;
	/* From the flags when there is no file: --user, --sandbox. */
	int check_only; /* -n */
};

/* Runs until SIGTERM or SIGINT; returns the exit status. */
int proc_main(const struct proc_opts *);

#endif
