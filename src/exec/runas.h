/*
 * exec/runas — run a short helper program as a user and collect what it
 * prints, with a deadline: registering a model runs its worker's
 * `describe` as the model owner's account, so importing the model's code
 * never happens as root.
 *
 * The child gets its own session (a timeout kills the whole group),
 * stdin from /dev/null, and the user's uid, primary gid and supplementary
 * groups (only when the daemon is root; an inactive fsident runs it as
 * the daemon's own account). Between fork and exec the child makes raw
 * system calls only: the daemon is multithreaded.
 */
#ifndef KAON_EXEC_RUNAS_H
#define KAON_EXEC_RUNAS_H

#include <stdbool.h>
#include <stddef.h>

struct fsident;

struct runas_result {
	int exit_code;   /* 0..255, or 128 + signal */
	bool timed_out;  /* killed at the deadline */
	char *out;       /* stdout, NUL-terminated, at most max_out bytes kept */
	size_t out_len;
	char *err;       /* stderr, NUL-terminated, at most 64 KiB kept (the end of it) */
	size_t err_len;
	bool out_truncated;
};

void runas_result_clear(struct runas_result *r);

/* Run argv[0] (an absolute path) with envp in cwd as id. 0 once it ran
 * (whatever its exit status), or -1 with *cause when it could not start. */
int runas(const struct fsident *id, const char *cwd, char *const argv[], char *const envp[],
	  int timeout_ms, size_t max_out, struct runas_result *res, char **cause);

#endif
