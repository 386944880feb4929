/*
 * exec/zygote — forks job supervisors on the daemon's behalf (see
 * zygote.h): the request encoding, the daemon's side, and the zygote's
 * loop.
 */
#include "exec/zygote.h"

#include <errno.h>
#include <poll.h>
#include <signal.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/socket.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

#include "exec/executor.h"
#include "exec/local.h"
#include "lib/fsio.h"
#include "lib/log.h"
#include "lib/xalloc.h"

enum {
	ZYGOTE_MAX_MSG = 16 << 20, /* a request: the environment dominates */
	ZYGOTE_MAX_GPUS = 64,
	ZYGOTE_BATCH = 32,         /* requests forked before their reports are read */
	ZYGOTE_HAS_WORKDIR = 1,
	ZYGOTE_HAS_NOTIFY = 2,
};

static struct {
	int fd;    /* daemon's end; -1 when there is no zygote */
	pid_t pid;
} zygote = { -1, -1 };

/* The fixed part of a request; the strings follow. */
struct zygote_head {
	int64_t job_id, mem_mb, walltime_s;
	uint32_t uid, gid;
	int32_t cpus, max_procs, grace_s;
	uint32_t ngpus, nargv, nenvp, flags;
	int32_t gpus[ZYGOTE_MAX_GPUS];
};

struct zygote_buf {
	char *p;
	size_t len, cap;
};

static void zygote_put(struct zygote_buf *b, const void *p, size_t n)
{
	if (b->len + n > b->cap) {
		b->cap = (b->len + n) * 2;
		b->p = xrealloc(b->p, b->cap);
	}
	memcpy(b->p + b->len, p, n);
	b->len += n;
}

static void zygote_put_str(struct zygote_buf *b, const char *s)
{
	zygote_put(b, s ? s : "", strlen(s ? s : "") + 1);
}

/* Read exactly n bytes; 0, -EPIPE at end-of-file, or -errno. */
static int zygote_read_full(int fd, void *buf, size_t n)
{
	size_t got = 0;
	while (got < n) {
		ssize_t r = read(fd, (char *)buf + got, n - got);
		if (r < 0 && errno == EINTR)
			continue;
		if (r < 0)
			return -errno;
		if (r == 0)
			return -EPIPE;
		got += (size_t)r;
	}
	return 0;
}

/* One length-prefixed message into *out (caller frees); 0 or -errno. */
static int zygote_read_msg(int fd, char **out, uint32_t *len)
{
	int rc = zygote_read_full(fd, len, sizeof *len);
	if (rc < 0)
		return rc;
	if (*len > ZYGOTE_MAX_MSG)
		return -EMSGSIZE;
	*out = xmalloc(*len + 1);
	rc = zygote_read_full(fd, *out, *len);
	if (rc < 0) {
		free(*out);
		*out = NULL;
		return rc;
	}
	(*out)[*len] = '\0';
	return 0;
}

static int zygote_write_msg(int fd, const void *p, uint32_t len)
{
	int rc = fsio_write_all(fd, &len, sizeof len);
	return rc < 0 ? rc : fsio_write_all(fd, p, len);
}

/* ---- daemon side ---------------------------------------------------------- */

bool zygote_running(void)
{
	return zygote.fd >= 0;
}

static void zygote_lost(const char *why)
{
	log_warn("exec: the zygote is gone (%s); supervisors are forked by the daemon from now on",
		 why);
	close(zygote.fd);
	zygote.fd = -1;
	if (zygote.pid > 0 && waitpid(zygote.pid, NULL, WNOHANG) == zygote.pid)
		zygote.pid = -1;
}

int zygote_send(const struct exec_job *job)
{
	if (zygote.fd < 0)
		return -ENOTCONN;
	struct zygote_head h = {
		.job_id = job->job_id, .mem_mb = job->mem_mb, .walltime_s = job->walltime_s,
		.uid = job->uid, .gid = job->gid, .cpus = job->cpus, .max_procs = job->max_procs,
		.grace_s = job->grace_s,
	};
	if (job->ngpus > ZYGOTE_MAX_GPUS)
		return -E2BIG;
	h.ngpus = (uint32_t)job->ngpus;
	for (size_t i = 0; i < job->ngpus; i++)
		h.gpus[i] = job->gpus[i];
	while (job->argv[h.nargv])
		h.nargv++;
	while (job->envp && job->envp[h.nenvp])
		h.nenvp++;
	h.flags = (job->workdir ? ZYGOTE_HAS_WORKDIR : 0) |
		  (job->notify_socket ? ZYGOTE_HAS_NOTIFY : 0);
	struct zygote_buf b = { 0 };
	zygote_put(&b, &h, sizeof h);
	zygote_put_str(&b, job->dir);
	zygote_put_str(&b, job->workdir);
	zygote_put_str(&b, job->user);
	zygote_put_str(&b, job->notify_socket);
	for (uint32_t i = 0; i < h.nargv; i++)
		zygote_put_str(&b, job->argv[i]);
	for (uint32_t i = 0; i < h.nenvp; i++)
		zygote_put_str(&b, job->envp[i]);
	int rc = b.len > ZYGOTE_MAX_MSG ? -EMSGSIZE : zygote_write_msg(zygote.fd, b.p, (uint32_t)b.len);
	free(b.p);
	if (rc < 0 && rc != -EMSGSIZE)
		zygote_lost(strerror(-rc));
	return rc;
}

int zygote_recv(char **cause)
{
	if (zygote.fd < 0) {
		*cause = xstrdup("the zygote is gone");
		return -ECHILD;
	}
	char *msg = NULL;
	uint32_t len = 0;
	int rc = zygote_read_msg(zygote.fd, &msg, &len);
	if (rc < 0 || len < sizeof(int32_t)) {
		zygote_lost(rc < 0 ? strerror(-rc) : "short reply");
		free(msg);
		*cause = xstrdup("the zygote died while starting the job");
		return -ECHILD;
	}
	int32_t result;
	memcpy(&result, msg, sizeof result);
	if (result < 0)
		*cause = xstrdup(msg + sizeof result);
	free(msg);
	return result;
}

/* ---- the zygote ----------------------------------------------------------- */

/* A decoded request: exec_job's pointers point into msg and the vectors. */
struct zygote_req {
	char *msg;
	struct zygote_head head;
	char **argv, **envp;
	struct exec_job job;
	struct exec_start *start; /* NULL: failed before the fork */
	int rc;
	char *cause;
};

static void zygote_req_clear(struct zygote_req *r)
{
	free(r->msg);
	free(r->argv);
	free(r->envp);
	free(r->cause);
	memset(r, 0, sizeof *r);
}

/* The next NUL-terminated string at *pos within [0, len); NULL if none. */
static char *zygote_next_str(char *msg, uint32_t len, size_t *pos)
{
	if (*pos >= len)
		return NULL;
	char *s = msg + *pos;
	char *nul = memchr(s, '\0', len - *pos);
	if (!nul)
		return NULL;
	*pos = (size_t)(nul - msg) + 1;
	return s;
}

static int zygote_decode(struct zygote_req *r, uint32_t len)
{
	if (len < sizeof r->head)
		return -EBADMSG;
	memcpy(&r->head, r->msg, sizeof r->head);
	const struct zygote_head *h = &r->head;
	if (h->ngpus > ZYGOTE_MAX_GPUS || h->nargv == 0 || h->nargv > len || h->nenvp > len)
		return -EBADMSG;
	size_t pos = sizeof r->head;
	char *dir = zygote_next_str(r->msg, len, &pos);
	char *workdir = zygote_next_str(r->msg, len, &pos);
	char *user = zygote_next_str(r->msg, len, &pos);
	char *notify = zygote_next_str(r->msg, len, &pos);
	if (!dir || !workdir || !user || !notify)
		return -EBADMSG;
	r->argv = xcalloc(h->nargv + 1, sizeof *r->argv);
	r->envp = xcalloc(h->nenvp + 1, sizeof *r->envp);
	for (uint32_t i = 0; i < h->nargv; i++)
		if (!(r->argv[i] = zygote_next_str(r->msg, len, &pos)))
			return -EBADMSG;
	for (uint32_t i = 0; i < h->nenvp; i++)
		if (!(r->envp[i] = zygote_next_str(r->msg, len, &pos)))
			return -EBADMSG;
	r->job = (struct exec_job){
		.job_id = h->job_id,
		.dir = dir,
		.argv = r->argv,
		.envp = r->envp,
		.workdir = h->flags & ZYGOTE_HAS_WORKDIR ? workdir : NULL,
		.user = user,
		.uid = h->uid,
		.gid = h->gid,
		.cpus = h->cpus,
		.mem_mb = h->mem_mb,
		.walltime_s = h->walltime_s,
		.max_procs = h->max_procs,
		.gpus = h->gpus,
		.ngpus = h->ngpus,
		.grace_s = h->grace_s,
		.notify_socket = h->flags & ZYGOTE_HAS_NOTIFY ? notify : NULL,
	};
	return 0;
}

static void zygote_reply(int fd, const struct zygote_req *r)
{
	struct zygote_buf b = { 0 };
	int32_t result = r->rc;
	zygote_put(&b, &result, sizeof result);
	zygote_put_str(&b, r->rc < 0 ? (r->cause ? r->cause : "unknown error") : "");
	if (zygote_write_msg(fd, b.p, (uint32_t)b.len) < 0) {
		free(b.p);
		_exit(0); /* the daemon is gone */
	}
	free(b.p);
}

/* Is another request already waiting? */
static bool zygote_more(int fd)
{
	struct pollfd p = { .fd = fd, .events = POLLIN };
	return poll(&p, 1, 0) == 1 && (p.revents & POLLIN);
}

static _Noreturn void zygote_main(int fd)
{
	/* Supervisors reset every signal disposition (supervisor.c), so
	 * ignoring SIGCHLD here only means they are reaped by the kernel. */
	signal(SIGCHLD, SIG_IGN);
	(void)syscall(SYS_prctl, PR_SET_NAME, "kaon-zygote", 0, 0, 0);
	if ((fd > 3 && close_range(3, (unsigned)fd - 1, 0) < 0) ||
	    close_range((unsigned)fd + 1, ~0U, 0) < 0)
		log_warn("exec: zygote: close_range failed: %s", strerror(errno));
	struct zygote_req reqs[ZYGOTE_BATCH];
	for (;;) {
		size_t n = 0;
		do {
			struct zygote_req *r = &reqs[n];
			memset(r, 0, sizeof *r);
			uint32_t len;
			int rc = zygote_read_msg(fd, &r->msg, &len);
			if (rc == -EPIPE)
				_exit(0); /* the daemon closed its end */
			if (rc < 0) {
				log_error("exec: zygote: bad request (%s); exiting", strerror(-rc));
				_exit(1);
			}
			if ((r->rc = zygote_decode(r, len)) < 0)
				r->cause = xstrdup("malformed request to the zygote (a bug)");
			else
				r->rc = exec_local_fork_begin(&r->job, &r->start, &r->cause);
			n++;
		} while (n < ZYGOTE_BATCH && zygote_more(fd));
		for (size_t i = 0; i < n; i++) {
			struct zygote_req *r = &reqs[i];
			if (r->start)
				r->rc = exec_local_fork_finish(r->start, &r->cause);
			zygote_reply(fd, r);
			zygote_req_clear(r);
		}
		exec_local_reap();
	}
}

int zygote_start(char **cause)
{
	int sv[2];
	if (socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, sv) < 0) {
		*cause = xasprintf("socketpair() failed for the zygote: %s", strerror(errno));
		return -errno;
	}
	pid_t pid = fork();
	if (pid < 0) {
		int err = errno;
		close(sv[0]);
		close(sv[1]);
		*cause = xasprintf("fork() failed for the zygote: %s", strerror(err));
		return -err;
	}
	if (pid == 0) {
		close(sv[0]);
		zygote_main(sv[1]);
	}
	close(sv[1]);
	zygote.fd = sv[0];
	zygote.pid = pid;
	log_debug("exec: zygote %ld forks the job supervisors", (long)pid);
	return 0;
}

void zygote_stop(void)
{
	if (zygote.fd >= 0) {
		close(zygote.fd);
		zygote.fd = -1;
	}
	if (zygote.pid > 0) {
		while (waitpid(zygote.pid, NULL, 0) < 0 && errno == EINTR)
			;
		zygote.pid = -1;
	}
}
