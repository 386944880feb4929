/* exec/runas — a helper program as a user, with a deadline (see runas.h). */
#include "exec/runas.h"

#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "identity/fsident.h"
#include "lib/xalloc.h"

enum { RUNAS_ERR_KEEP = 64 * 1024 };

void runas_result_clear(struct runas_result *r)
{
	free(r->out);
	free(r->err);
	memset(r, 0, sizeof *r);
}

/* In the child, between fork and exec: raw system calls only. */
static void runas_child(const struct fsident *id, const char *cwd, char *const argv[],
			char *const envp[], int out_fd, int err_fd)
{
	int null = open("/dev/null", O_RDONLY | O_CLOEXEC);
	if (setsid() < 0 || null < 0 || dup2(null, 0) < 0 || dup2(out_fd, 1) < 0 ||
	    dup2(err_fd, 2) < 0)
		_exit(127);
	if (id && id->active &&
	    (syscall(SYS_setgroups, (size_t)id->ngroups, id->groups) < 0 ||
	     syscall(SYS_setgid, id->gid) < 0 || syscall(SYS_setuid, id->uid) < 0))
		_exit(126);
	if (cwd && chdir(cwd) < 0)
		_exit(125);
	execve(argv[0], argv, envp);
	_exit(127);
}

static int64_t runas_now_ms(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

/* Append what fd has to *buf (keeping at most max bytes: the first ones
 * for stdout, the last ones for stderr). false at EOF or error. */
static bool runas_drain(int fd, char **buf, size_t *len, size_t max, bool keep_end, bool *trunc)
{
	char chunk[8192];
	ssize_t n = read(fd, chunk, sizeof chunk);
	if (n < 0 && (errno == EINTR || errno == EAGAIN))
		return true;
	if (n <= 0)
		return false;
	size_t take = (size_t)n;
	if (!keep_end && *len + take > max) {
		take = max - *len;
		*trunc = true;
	}
	*buf = xrealloc(*buf, *len + take + 1);
	memcpy(*buf + *len, chunk, take);
	*len += take;
	if (keep_end && *len > max) {
		memmove(*buf, *buf + (*len - max), max);
		*len = max;
	}
	(*buf)[*len] = '\0';
	return true;
}

int runas(const struct fsident *id, const char *cwd, char *const argv[], char *const envp[],
	  int timeout_ms, size_t max_out, struct runas_result *res, char **cause)
{
	memset(res, 0, sizeof *res);
	int out[2], err[2];
	if (pipe2(out, O_CLOEXEC) < 0) {
		*cause = xasprintf("pipe: %s", strerror(errno));
		return -1;
	}
	if (pipe2(err, O_CLOEXEC) < 0) {
		*cause = xasprintf("pipe: %s", strerror(errno));
		close(out[0]), close(out[1]);
		return -1;
	}
	pid_t pid = fork();
	if (pid == 0)
		runas_child(id, cwd, argv, envp, out[1], err[1]);
	close(out[1]);
	close(err[1]);
	if (pid < 0) {
		*cause = xasprintf("fork: %s", strerror(errno));
		close(out[0]), close(err[0]);
		return -1;
	}
	bool bogus = false;
	struct pollfd fds[2] = { { .fd = out[0], .events = POLLIN }, { .fd = err[0], .events = POLLIN } };
	int64_t deadline = runas_now_ms() + timeout_ms;
	while (fds[0].fd >= 0 || fds[1].fd >= 0) {
		int64_t left = deadline - runas_now_ms();
		if (left <= 0) {
			res->timed_out = true;
			kill(-pid, SIGKILL);
			kill(pid, SIGKILL);
			break;
		}
		int rc = poll(fds, 2, (int)(left > 1000 ? 1000 : left));
		if (rc < 0 && errno != EINTR)
			break;
		if (fds[0].fd >= 0 && fds[0].revents &&
		    !runas_drain(fds[0].fd, &res->out, &res->out_len, max_out, false,
				 &res->out_truncated))
			fds[0].fd = -1;
		if (fds[1].fd >= 0 && fds[1].revents &&
		    !runas_drain(fds[1].fd, &res->err, &res->err_len, RUNAS_ERR_KEEP, true, &bogus))
			fds[1].fd = -1;
	}
	close(out[0]);
	close(err[0]);
	int status = 0;
	while (waitpid(pid, &status, 0) < 0 && errno == EINTR)
		;
	/* Whatever it left behind in its session goes too. */
	kill(-pid, SIGKILL);
	res->exit_code = WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status);
	if (!res->out)
		res->out = xstrdup("");
	if (!res->err)
		res->err = xstrdup("");
	return 0;
}
