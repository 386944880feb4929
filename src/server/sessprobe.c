/* server/sessprobe — a small HTTP GET to a session backend (see sessprobe.h). */
#include "server/sessprobe.h"

#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <time.h>
#include <unistd.h>

#include "identity/fsident.h"
#include "lib/xalloc.h"

enum { SESSPROBE_HEAD_MAX = 16 * 1024 };

static int64_t sessprobe_now_ms(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

/* Wait for events on fd until the deadline; 0, or -ETIMEDOUT. */
static int sessprobe_wait(int fd, short events, int64_t deadline)
{
	for (;;) {
		int64_t left = deadline - sessprobe_now_ms();
		if (left <= 0)
			return -ETIMEDOUT;
		struct pollfd p = { .fd = fd, .events = events };
		int rc = poll(&p, 1, (int)left);
		if (rc > 0)
			return 0;
		if (rc < 0 && errno != EINTR)
			return -errno;
	}
}

int sessprobe_connect(const struct sessprobe_target *t)
{
	struct sockaddr_un un = { .sun_family = AF_UNIX };
	struct sockaddr_in in = { .sin_family = AF_INET };
	struct sockaddr *sa;
	socklen_t sl;
	if (t->socket) {
		if (strlen(t->socket) >= sizeof un.sun_path)
			return -ENAMETOOLONG;
		memcpy(un.sun_path, t->socket, strlen(t->socket) + 1);
		sa = (struct sockaddr *)&un, sl = sizeof un;
	} else {
		if (t->port <= 0 || t->port > 65535)
			return -EDESTADDRREQ;
		in.sin_port = htons((uint16_t)t->port);
		in.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
		sa = (struct sockaddr *)&in, sl = sizeof in;
	}
	int fd = socket(sa->sa_family, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
	if (fd < 0)
		return -errno;
	int rc = 0;
	if (t->socket && t->owner && (rc = fsident_enter(t->owner)) < 0) {
		close(fd);
		return rc;
	}
	if (!t->socket) {
		int one = 1;
		(void)setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
	}
	if (connect(fd, sa, sl) < 0)
		rc = -errno;
	if (t->socket && t->owner)
		fsident_leave(t->owner);
	/* A TCP connect under way is fine: the first write waits for it. */
	if (rc < 0 && rc != -EINPROGRESS) {
		close(fd);
		return rc;
	}
	return fd;
}

/* sessprobe_connect, then wait until the connection is made. */
static int sessprobe_connect_wait(const struct sessprobe_target *t, int64_t deadline)
{
	int fd = sessprobe_connect(t);
	if (fd < 0)
		return fd;
	int rc = sessprobe_wait(fd, POLLOUT, deadline), err = 0;
	socklen_t el = sizeof err;
	if (rc == 0 && getsockopt(fd, SOL_SOCKET, SO_ERROR, &err, &el) < 0)
		rc = -errno;
	else if (rc == 0 && err)
		rc = -err;
	if (rc < 0) {
		close(fd);
		return rc;
	}
	return fd;
}

int sessprobe_status(const char *head, size_t len)
{
	/* "HTTP/1.x NNN" */
	if (len < 12 || strncmp(head, "HTTP/1.", 7) != 0 || head[8] != ' ')
		return -1;
	int code = 0;
	for (int i = 9; i < 12; i++) {
		if (head[i] < '0' || head[i] > '9')
			return -1;
		code = code * 10 + (head[i] - '0');
	}
	if (len > 12 && head[12] != ' ' && head[12] != '\r')
		return -1;
	return code < 100 ? -1 : code;
}

int sessprobe_get(const struct sessprobe_target *t, const char *path, int timeout_ms, size_t max,
		  int *status, char **body)
{
	int64_t deadline = sessprobe_now_ms() + timeout_ms;
	if (body)
		*body = NULL;
	int fd = sessprobe_connect_wait(t, deadline);
	if (fd < 0)
		return fd;
	char *req = xasprintf("GET %s HTTP/1.0\r\nHost: localhost\r\nAuthorization: token %s\r\n"
			      "Accept: application/json\r\nUser-Agent: kaon-sessions\r\n\r\n",
			      path, t->secret);
	size_t reqlen = strlen(req), sent = 0;
	int rc = 0;
	while (sent < reqlen && rc == 0) {
		ssize_t w = send(fd, req + sent, reqlen - sent, MSG_NOSIGNAL);
		if (w > 0)
			sent += (size_t)w;
		else if (w < 0 && (errno == EAGAIN || errno == EINTR))
			rc = sessprobe_wait(fd, POLLOUT, deadline);
		else
			rc = w < 0 ? -errno : -EPIPE;
	}
	explicit_bzero(req, reqlen);
	free(req);
	/* Read until EOF: the head, and the body up to max bytes. */
	size_t cap = SESSPROBE_HEAD_MAX + max + 1, len = 0;
	char *buf = xmalloc(cap);
	while (rc == 0) {
		if (len == cap - 1)
			break; /* enough: the rest is not wanted */
		ssize_t r = recv(fd, buf + len, cap - 1 - len, 0);
		if (r > 0)
			len += (size_t)r;
		else if (r == 0)
			break;
		else if (errno == EAGAIN || errno == EINTR)
			rc = sessprobe_wait(fd, POLLIN, deadline);
		else
			rc = -errno;
	}
	close(fd);
	buf[len] = '\0';
	int code = rc == 0 ? sessprobe_status(buf, len) : -1;
	if (rc == 0 && code < 0)
		rc = -EPROTO;
	if (rc == 0) {
		*status = code;
		char *sep = strstr(buf, "\r\n\r\n");
		if (body && sep) {
			size_t blen = len - (size_t)(sep + 4 - buf);
			*body = xstrndup(sep + 4, blen > max ? max : blen);
		} else if (body) {
			*body = xstrdup("");
		}
	}
	free(buf);
	return rc;
}
