/* server/modelio — one request to a predict worker (modelio.h). */
#include "server/modelio.h"

#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <poll.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "identity/fsident.h"
#include "lib/log.h"
#include "lib/xalloc.h"
#include "server/modelproto.h"
#include "server/sessprobe.h"

int64_t modelio_now_ms(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

int modelio_client_gone(int fd, short revents)
{
	if (revents & (POLLHUP | POLLERR | POLLRDHUP | POLLNVAL))
		return 1;
	char c;
	ssize_t r = recv(fd, &c, 1, MSG_PEEK | MSG_DONTWAIT);
	if (r == 0 || (r < 0 && errno == ENOTSOCK))
		return 1;
	if (r < 0)
		return errno == EAGAIN || errno == EINTR ? -1 : 1;
	return 0;
}

/* Wait until fd is ready for ev, watching the client, the stop eventfd
 * and the deadline. */
static enum modelio_result modelio_wait(struct modelio_call *c, int fd, short ev)
{
	for (;;) {
		int64_t left = c->deadline_ms - modelio_now_ms();
		if (left <= 0)
			return MODELIO_TIMEOUT;
		struct pollfd pf[3] = {{.fd = fd, .events = ev},
				       {.fd = c->stop_fd, .events = POLLIN},
				       {.fd = *c->cancel_fd, .events = POLLIN | POLLRDHUP}};
		nfds_t n = *c->cancel_fd >= 0 ? 3 : 2;
		int rc = poll(pf, n, left > INT_MAX ? INT_MAX : (int)left);
		if (rc < 0 && errno == EINTR)
			continue;
		if (rc < 0)
			return MODELIO_BROKEN;
		if (pf[1].revents)
			return MODELIO_STOPPING;
		if (n == 3 && pf[2].revents) {
			int g = modelio_client_gone(*c->cancel_fd, pf[2].revents);
			if (g > 0)
				return MODELIO_GONE;
			if (g == 0)
				*c->cancel_fd = -1;
		}
		if (fd >= 0 && pf[0].revents)
			return MODELIO_OK;
	}
}

static enum modelio_result modelio_send(struct modelio_call *c, int fd)
{
	size_t sent = 0;
	while (sent < c->reqlen) {
		ssize_t w = send(fd, c->req + sent, c->reqlen - sent, MSG_NOSIGNAL | MSG_DONTWAIT);
		if (w > 0) {
			sent += (size_t)w;
			continue;
		}
		if (w < 0 && errno == EINTR)
			continue;
		if (w == 0 || (errno != EAGAIN && errno != EWOULDBLOCK))
			return MODELIO_BROKEN;
		enum modelio_result io = modelio_wait(c, fd, POLLOUT);
		if (io != MODELIO_OK)
			return io;
	}
	return MODELIO_OK;
}

/* Read one line (its newline dropped) of at most c->max bytes. */
static enum modelio_result modelio_recv_line(struct modelio_call *c, int fd, char **line,
					     size_t *len)
{
	size_t cap = 64 * 1024, n = 0;
	char *buf = xmalloc(cap);
	enum modelio_result io = MODELIO_OK;
	for (;;) {
		if (n > c->max) {
			io = MODELIO_TOOBIG;
			break;
		}
		if (n == cap) {
			cap *= 2;
			buf = xrealloc(buf, cap);
		}
		ssize_t r = recv(fd, buf + n, cap - n, MSG_DONTWAIT);
		if (r > 0) {
			/* Only the new bytes can hold the newline. */
			char *found = memchr(buf + n, '\n', (size_t)r);
			n += (size_t)r;
			if (found) {
				*len = (size_t)(found - buf);
				*found = '\0';
				*line = buf;
				return MODELIO_OK;
			}
			continue;
		}
		if (r < 0 && errno == EINTR)
			continue;
		if (r == 0 || (errno != EAGAIN && errno != EWOULDBLOCK)) {
			io = MODELIO_BROKEN;
			break;
		}
		io = modelio_wait(c, fd, POLLIN);
		if (io != MODELIO_OK)
			break;
	}
	free(buf);
	return io;
}

/* Whether an idle connection was closed by the worker meanwhile. */
static bool modelio_stale(int fd)
{
	struct pollfd pf = {.fd = fd, .events = POLLIN | POLLRDHUP};
	return poll(&pf, 1, 0) > 0;
}

enum modelio_result modelio_exchange(const struct modelio_worker *w, struct modelio_call *c,
				     char **line, size_t *len, char **why)
{
	if (!w->owner) {
		*why = xstrdup("its owner's account cannot be had");
		return MODELIO_BROKEN;
	}
	if (*w->fd >= 0 && modelio_stale(*w->fd)) {
		close(*w->fd);
		*w->fd = -1;
	}
	for (int attempt = 0;; attempt++) {
		bool fresh = *w->fd < 0;
		if (fresh) {
			struct sessprobe_target t = {.socket = w->socket, .owner = w->owner};
			int fd = sessprobe_connect(&t);
			if (fd < 0) {
				*why = xasprintf("cannot connect to worker job %lld: %s",
						 (long long)w->job_id, strerror(-fd));
				return MODELIO_BROKEN;
			}
			*w->fd = fd;
		}
		enum modelio_result io = modelio_send(c, *w->fd);
		if (io == MODELIO_BROKEN && !fresh && attempt == 0) {
			close(*w->fd);
			*w->fd = -1;
			continue;
		}
		if (io == MODELIO_OK)
			io = modelio_recv_line(c, *w->fd, line, len);
		if (io == MODELIO_BROKEN)
			*why =
			    xasprintf("worker job %lld closed the connection before answering (it "
				      "may have crashed: kaon logs %lld --stderr)",
				      (long long)w->job_id, (long long)w->job_id);
		return io;
	}
}

/* A binary answer: the file the worker wrote, read as the model's owner
 * (the worker names the path: as root, a link there could reach any
 * file), then removed. 0, -EFBIG over max, or -errno. */
static int modelio_read_file(const struct modelio_worker *w, const char *path, size_t max,
			     char **body, size_t *len)
{
	int rc = fsident_enter(w->owner);
	if (rc < 0)
		return rc;
	int fd = open(path, O_RDONLY | O_NOFOLLOW | O_NONBLOCK | O_CLOEXEC);
	struct stat st;
	if (fd < 0)
		rc = -errno;
	else if (fstat(fd, &st) < 0)
		rc = -errno;
	else if (!S_ISREG(st.st_mode))
		rc = -EINVAL;
	else if ((uint64_t)st.st_size > max)
		rc = -EFBIG;
	if (rc == 0) {
		char *buf = xmalloc((size_t)st.st_size + 1);
		size_t n = 0;
		while (rc == 0 && n < (size_t)st.st_size) {
			ssize_t r = read(fd, buf + n, (size_t)st.st_size - n);
			if (r > 0)
				n += (size_t)r;
			else if (r == 0)
				break; /* shrank meanwhile: what is there */
			else if (errno != EINTR)
				rc = -errno;
		}
		if (rc == 0) {
			*body = buf;
			*len = n;
		} else {
			free(buf);
		}
	}
	if (fd >= 0)
		close(fd);
	if (unlink(path) < 0 && errno != ENOENT)
		log_warn("modelio: worker job %lld: cannot remove the answer file %s: %s",
			 (long long)w->job_id, path, strerror(errno));
	fsident_leave(w->owner);
	return rc;
}

int modelio_answer(const struct modelio_worker *w, const char *line, size_t len, size_t max,
		   struct modelpool_response *out, char **why)
{
	struct modelproto_answer a;
	if (modelproto_answer_parse(line, len, &a, why) < 0)
		return -1;
	if (a.path) {
		char *body = NULL;
		size_t blen = 0;
		int rc = modelio_read_file(w, a.path, max, &body, &blen);
		if (rc < 0) {
			*why = rc == -EFBIG
				   ? xasprintf("it answered more than %zu MiB", max >> 20)
				   : xasprintf("cannot read its answer file: %s", strerror(-rc));
			modelproto_answer_clear(&a);
			return -1;
		}
		a.body = body;
		a.len = blen;
	}
	free(out->body);
	free(out->content_type);
	out->status = a.status;
	out->content_type = a.content_type;
	out->body = a.body;
	out->len = a.len;
	free(a.path);
	return 0;
}
