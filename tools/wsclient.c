/*
 * tools/wsclient — a small WebSocket client for the terminal's tests and
 * benchmark (Debian 12 has no websocat, and node 20 no WebSocket).
 *
 *   wsclient [-H 'Name: value']... [-t SECONDS] [-o] [-U SOCKET] ws://HOST:PORT/PATH STEP...
 *
 * -U connects to the unix socket SOCKET instead of HOST:PORT (a session
 * backend such as kaon session-shell); the URL still gives Host and path.
 *
 * Steps run in order:
 *   send:TEXT     a binary message (escapes: \r \n \t \e \\ \xNN)
 *   ctl:JSON      a text message
 *   expect:TEXT   wait until the output holds TEXT (after the previous
 *                 match; escapes as for send)
 *   sleep:MS      wait, reading
 *   close         send a close frame, wait for the server's
 *   wait-close    wait until the server closes
 *   bench:N       N keystrokes at a shell prompt: send "x", time until the
 *                 echoed x arrives, erase it (DEL) and wait for the echo;
 *                 prints "rtt_us n=N p50=.. p90=.. p99=.. max=.."
 *
 * With -o every byte of output is written to stdout at the end, and text
 * messages from the server as "<text>JSON</text>". The exit status is 0
 * when every step succeeded, 1 when one failed (timeout, closed early),
 * 2 when the handshake was refused: then stdout holds "HTTP STATUS" and
 * the body of the answer.
 */
#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <netdb.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <openssl/evp.h>
#include <openssl/sha.h>
#include <poll.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/random.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <time.h>
#include <unistd.h>
#include <wslay/wslay.h>

struct wsc {
	int fd;
	wslay_event_context_ptr ctx;
	uint8_t *extra;
	size_t extra_len, extra_off;
	char *out; /* all binary output */
	size_t out_len, out_cap;
	char *texts; /* text messages, for -o */
	size_t texts_len;
	size_t cursor; /* expect: where the next search starts */
	bool closed;   /* the server's close frame came, or the stream ended */
};

static double wsc_timeout_s = 10;

static int64_t wsc_now_us(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (int64_t)ts.tv_sec * 1000000 + ts.tv_nsec / 1000;
}

static void *wsc_xrealloc(void *p, size_t n)
{
	p = realloc(p, n);
	if (!p) {
		fprintf(stderr, "wsclient: out of memory\n");
		exit(1);
	}
	return p;
}

static void wsc_append(char **buf, size_t *len, size_t *cap, const void *data, size_t n)
{
	if (*len + n + 1 > *cap) {
		*cap = (*len + n + 1) * 2;
		*buf = wsc_xrealloc(*buf, *cap);
	}
	memcpy(*buf + *len, data, n);
	*len += n;
	(*buf)[*len] = '\0';
}

/* Decode the escapes of a step argument into buf; returns the length. */
static size_t wsc_unescape(const char *s, char *buf)
{
	size_t n = 0;
	while (*s) {
		if (*s != '\\' || !s[1]) {
			buf[n++] = *s++;
			continue;
		}
		s++;
		switch (*s) {
		case 'r':
			buf[n++] = '\r';
			break;
		case 'n':
			buf[n++] = '\n';
			break;
		case 't':
			buf[n++] = '\t';
			break;
		case 'e':
			buf[n++] = 27;
			break;
		case 'x':
			if (s[1] && s[2]) {
				char hex[3] = {s[1], s[2], 0};
				buf[n++] = (char)strtol(hex, NULL, 16);
				s += 2;
			}
			break;
		default:
			buf[n++] = *s;
			break;
		}
		s++;
	}
	buf[n] = '\0';
	return n;
}

static ssize_t wsc_recv_cb(wslay_event_context_ptr ctx, uint8_t *buf, size_t len, int flags,
			   void *user)
{
	struct wsc *c = user;
	(void)flags;
	if (c->extra_off < c->extra_len) {
		size_t n = c->extra_len - c->extra_off < len ? c->extra_len - c->extra_off : len;
		memcpy(buf, c->extra + c->extra_off, n);
		c->extra_off += n;
		return (ssize_t)n;
	}
	ssize_t n = recv(c->fd, buf, len, 0);
	if (n > 0)
		return n;
	if (n < 0 && (errno == EAGAIN || errno == EINTR))
		wslay_event_set_error(ctx, WSLAY_ERR_WOULDBLOCK);
	else {
		c->closed = true;
		wslay_event_set_error(ctx, WSLAY_ERR_CALLBACK_FAILURE);
	}
	return -1;
}

static ssize_t wsc_send_cb(wslay_event_context_ptr ctx, const uint8_t *data, size_t len, int flags,
			   void *user)
{
	struct wsc *c = user;
	(void)flags;
	ssize_t n = send(c->fd, data, len, MSG_NOSIGNAL);
	if (n >= 0)
		return n;
	if (errno == EAGAIN || errno == EINTR)
		wslay_event_set_error(ctx, WSLAY_ERR_WOULDBLOCK);
	else
		wslay_event_set_error(ctx, WSLAY_ERR_CALLBACK_FAILURE);
	return -1;
}

static int wsc_genmask_cb(wslay_event_context_ptr ctx, uint8_t *buf, size_t len, void *user)
{
	(void)ctx;
	(void)user;
	return getrandom(buf, len, 0) == (ssize_t)len ? 0 : -1;
}

static void wsc_msg_cb(wslay_event_context_ptr ctx, const struct wslay_event_on_msg_recv_arg *arg,
		       void *user)
{
	struct wsc *c = user;
	(void)ctx;
	if (arg->opcode == WSLAY_BINARY_FRAME) {
		wsc_append(&c->out, &c->out_len, &c->out_cap, arg->msg, arg->msg_length);
	} else if (arg->opcode == WSLAY_TEXT_FRAME) {
		size_t cap = c->texts_len + 1;
		wsc_append(&c->texts, &c->texts_len, &cap, "<text>", 6);
		cap = c->texts_len + 1;
		wsc_append(&c->texts, &c->texts_len, &cap, arg->msg, arg->msg_length);
		cap = c->texts_len + 1;
		wsc_append(&c->texts, &c->texts_len, &cap, "</text>\n", 8);
	} else if (arg->opcode == WSLAY_CONNECTION_CLOSE) {
		c->closed = true;
	}
}

/* One round of I/O, waiting at most ms for the socket. -1 once the
 * connection is over. */
static int wsc_pump(struct wsc *c, int ms)
{
	if (wslay_event_want_write(c->ctx) && wslay_event_send(c->ctx) != 0)
		return -1;
	if (c->extra_off < c->extra_len && wslay_event_recv(c->ctx) != 0)
		return -1;
	struct pollfd p = {c->fd, POLLIN | (wslay_event_want_write(c->ctx) ? POLLOUT : 0), 0};
	int n = poll(&p, 1, ms);
	if (n < 0 && errno != EINTR)
		return -1;
	if (n > 0 && (p.revents & (POLLIN | POLLHUP | POLLERR)) && wslay_event_recv(c->ctx) != 0)
		return -1;
	if (wslay_event_want_write(c->ctx) && wslay_event_send(c->ctx) != 0)
		return -1;
	return (c->closed && !wslay_event_want_write(c->ctx)) ? -1 : 0;
}

static int wsc_connect(const char *host, const char *port)
{
	struct addrinfo hints = {.ai_socktype = SOCK_STREAM}, *res;
	if (getaddrinfo(host, port, &hints, &res) != 0) {
		fprintf(stderr, "wsclient: cannot resolve %s\n", host);
		return -1;
	}
	int fd = socket(res->ai_family, SOCK_STREAM | SOCK_CLOEXEC, 0);
	if (fd < 0 || connect(fd, res->ai_addr, res->ai_addrlen) < 0) {
		fprintf(stderr, "wsclient: cannot connect to %s:%s: %s\n", host, port,
			strerror(errno));
		freeaddrinfo(res);
		if (fd >= 0)
			close(fd);
		return -1;
	}
	freeaddrinfo(res);
	int one = 1;
	setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
	return fd;
}

static int wsc_connect_unix(const char *path)
{
	struct sockaddr_un sa = {.sun_family = AF_UNIX};
	if (strlen(path) >= sizeof sa.sun_path) {
		fprintf(stderr, "wsclient: socket path too long: %s\n", path);
		return -1;
	}
	memcpy(sa.sun_path, path, strlen(path) + 1);
	int fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
	if (fd < 0 || connect(fd, (struct sockaddr *)&sa, sizeof sa) < 0) {
		fprintf(stderr, "wsclient: cannot connect to %s: %s\n", path, strerror(errno));
		if (fd >= 0)
			close(fd);
		return -1;
	}
	return fd;
}

/* Send the upgrade request and read the answer's head. 0 on 101; exits 2
 * after printing a refusal. */
static int wsc_handshake(struct wsc *c, const char *hostport, const char *path, char **headers,
			 int nheaders)
{
	uint8_t raw[16];
	char key[32], expect[32];
	if (getrandom(raw, sizeof raw, 0) != sizeof raw)
		return -1;
	EVP_EncodeBlock((unsigned char *)key, raw, 16);
	char cat[128];
	snprintf(cat, sizeof cat, "%s258EAFA5-E914-47DA-95CA-C5AB0DC85B11", key);
	unsigned char dig[SHA_DIGEST_LENGTH];
	SHA1((unsigned char *)cat, strlen(cat), dig);
	EVP_EncodeBlock((unsigned char *)expect, dig, SHA_DIGEST_LENGTH);

	char *req = NULL;
	size_t len = 0, cap = 0;
	char line[4096];
	int n =
	    snprintf(line, sizeof line,
		     "GET %s HTTP/1.1\r\nHost: %s\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n"
		     "Sec-WebSocket-Key: %s\r\nSec-WebSocket-Version: 13\r\n",
		     path, hostport, key);
	wsc_append(&req, &len, &cap, line, (size_t)n);
	for (int i = 0; i < nheaders; i++) {
		wsc_append(&req, &len, &cap, headers[i], strlen(headers[i]));
		wsc_append(&req, &len, &cap, "\r\n", 2);
	}
	wsc_append(&req, &len, &cap, "\r\n", 2);
	if (send(c->fd, req, len, MSG_NOSIGNAL) != (ssize_t)len) {
		free(req);
		return -1;
	}
	free(req);

	char *resp = NULL;
	size_t rlen = 0, rcap = 0;
	char *end = NULL;
	int64_t deadline = wsc_now_us() + (int64_t)(wsc_timeout_s * 1e6);
	while (!end) {
		struct pollfd p = {c->fd, POLLIN, 0};
		if (poll(&p, 1, 100) < 0 && errno != EINTR)
			return -1;
		if (wsc_now_us() > deadline) {
			fprintf(stderr, "wsclient: no answer to the handshake\n");
			return -1;
		}
		if (!(p.revents & (POLLIN | POLLHUP)))
			continue;
		char buf[4096];
		ssize_t r = recv(c->fd, buf, sizeof buf, 0);
		if (r <= 0) {
			fprintf(stderr, "wsclient: connection closed during the handshake\n");
			return -1;
		}
		wsc_append(&resp, &rlen, &rcap, buf, (size_t)r);
		end = strstr(resp, "\r\n\r\n");
	}
	int status = 0;
	if (sscanf(resp, "HTTP/1.1 %d", &status) != 1)
		status = 0;
	size_t head = (size_t)(end - resp) + 4;
	if (status != 101) {
		/* Read the body (the server closes or sends Content-Length). */
		const char *clh = strcasestr(resp, "\r\ncontent-length:");
		size_t want = clh ? (size_t)strtoul(clh + 17, NULL, 10) : 0;
		while (rlen - head < want) {
			char buf[4096];
			ssize_t r = recv(c->fd, buf, sizeof buf, 0);
			if (r <= 0)
				break;
			wsc_append(&resp, &rlen, &rcap, buf, (size_t)r);
		}
		printf("HTTP %d\n%.*s", status, (int)(rlen - head), resp + head);
		fflush(stdout);
		exit(2);
	}
	const char *acc = strcasestr(resp, "\r\nsec-websocket-accept:");
	if (!acc) {
		fprintf(stderr, "wsclient: 101 without Sec-WebSocket-Accept\n");
		return -1;
	}
	acc += 23;
	while (*acc == ' ')
		acc++;
	if (strncmp(acc, expect, strlen(expect)) != 0) {
		fprintf(stderr, "wsclient: wrong Sec-WebSocket-Accept\n");
		return -1;
	}
	c->extra_len = rlen - head;
	if (c->extra_len) {
		c->extra = malloc(c->extra_len);
		memcpy(c->extra, resp + head, c->extra_len);
	}
	free(resp);
	return 0;
}

static int wsc_send(struct wsc *c, int opcode, const char *data, size_t len)
{
	struct wslay_event_msg m = {(uint8_t)opcode, (const uint8_t *)data, len};
	return wslay_event_queue_msg(c->ctx, &m) == 0 ? 0 : -1;
}

/* Wait until the output after the cursor holds s; moves the cursor past it. */
static int wsc_expect(struct wsc *c, const char *s, size_t slen, double timeout_s)
{
	int64_t deadline = wsc_now_us() + (int64_t)(timeout_s * 1e6);
	for (;;) {
		if (c->out_len >= c->cursor + slen) {
			char *hit = memmem(c->out + c->cursor, c->out_len - c->cursor, s, slen);
			if (hit) {
				c->cursor = (size_t)(hit - c->out) + slen;
				return 0;
			}
		}
		int64_t left = deadline - wsc_now_us();
		if (left <= 0 || wsc_pump(c, (int)(left / 1000) + 1) < 0) {
			/* One last look: the match may have come with the close. */
			if (c->out_len >= c->cursor + slen &&
			    memmem(c->out + c->cursor, c->out_len - c->cursor, s, slen))
				return 0;
			return -1;
		}
	}
}

static int wsc_cmp_i64(const void *a, const void *b)
{
	int64_t x = *(const int64_t *)a, y = *(const int64_t *)b;
	return x < y ? -1 : x > y;
}

static int wsc_bench(struct wsc *c, int n)
{
	/* Let the prompt settle first. */
	int64_t quiet_until = wsc_now_us() + 500000;
	while (wsc_now_us() < quiet_until)
		if (wsc_pump(c, 50) < 0)
			return -1;
	c->cursor = c->out_len;
	int64_t *rtt = calloc((size_t)n, sizeof *rtt);
	for (int i = 0; i < n; i++) {
		int64_t t0 = wsc_now_us();
		if (wsc_send(c, WSLAY_BINARY_FRAME, "x", 1) < 0 || wsc_expect(c, "x", 1, 5) < 0) {
			fprintf(stderr, "wsclient: bench: no echo of keystroke %d\n", i);
			free(rtt);
			return -1;
		}
		rtt[i] = wsc_now_us() - t0;
		if (wsc_send(c, WSLAY_BINARY_FRAME, "\x7f", 1) < 0 ||
		    wsc_expect(c, "\b", 1, 5) < 0) {
			fprintf(stderr, "wsclient: bench: no echo of the erase %d\n", i);
			free(rtt);
			return -1;
		}
	}
	qsort(rtt, (size_t)n, sizeof *rtt, wsc_cmp_i64);
	printf("rtt_us n=%d p50=%lld p90=%lld p99=%lld max=%lld\n", n, (long long)rtt[n / 2],
	       (long long)rtt[(n * 9) / 10], (long long)rtt[(n * 99) / 100], (long long)rtt[n - 1]);
	free(rtt);
	return 0;
}

static int wsc_step(struct wsc *c, const char *step)
{
	size_t alen = strlen(step);
	char *arg = malloc(alen + 1);
	int rc = 0;
	if (strncmp(step, "send:", 5) == 0) {
		size_t n = wsc_unescape(step + 5, arg);
		rc = wsc_send(c, WSLAY_BINARY_FRAME, arg, n);
		if (rc == 0)
			(void)wsc_pump(c, 0); /* a close is for wait-close to see */
	} else if (strncmp(step, "ctl:", 4) == 0) {
		rc = wsc_send(c, WSLAY_TEXT_FRAME, step + 4, strlen(step + 4));
	} else if (strncmp(step, "expect:", 7) == 0) {
		size_t n = wsc_unescape(step + 7, arg);
		rc = wsc_expect(c, arg, n, wsc_timeout_s);
		if (rc < 0)
			fprintf(stderr, "wsclient: did not see '%s' within %.0f s\n", step + 7,
				wsc_timeout_s);
	} else if (strncmp(step, "sleep:", 6) == 0) {
		int64_t until = wsc_now_us() + strtol(step + 6, NULL, 10) * 1000;
		while (rc == 0 && wsc_now_us() < until)
			if (wsc_pump(c, 20) < 0)
				break;
	} else if (strcmp(step, "close") == 0 || strcmp(step, "wait-close") == 0) {
		if (step[0] == 'c')
			wslay_event_queue_close(c->ctx, 1000, NULL, 0);
		int64_t deadline = wsc_now_us() + (int64_t)(wsc_timeout_s * 1e6);
		while (wsc_pump(c, 50) == 0)
			if (wsc_now_us() > deadline) {
				fprintf(stderr, "wsclient: the server did not close\n");
				rc = -1;
				break;
			}
	} else if (strncmp(step, "bench:", 6) == 0) {
		rc = wsc_bench(c, (int)strtol(step + 6, NULL, 10));
	} else {
		fprintf(stderr, "wsclient: unknown step '%s'\n", step);
		rc = -1;
	}
	free(arg);
	return rc;
}

int main(int argc, char **argv)
{
	char *headers[32];
	int nheaders = 0;
	bool dump = false;
	const char *unix_path = NULL;
	int i = 1;
	for (; i < argc && argv[i][0] == '-'; i++) {
		if (strcmp(argv[i], "-H") == 0 && i + 1 < argc && nheaders < 32)
			headers[nheaders++] = argv[++i];
		else if (strcmp(argv[i], "-t") == 0 && i + 1 < argc)
			wsc_timeout_s = strtod(argv[++i], NULL);
		else if (strcmp(argv[i], "-o") == 0)
			dump = true;
		else if (strcmp(argv[i], "-U") == 0 && i + 1 < argc)
			unix_path = argv[++i];
		else
			break;
	}
	if (i >= argc || strncmp(argv[i], "ws://", 5) != 0) {
		fprintf(stderr, "usage: wsclient [-H 'Name: value']... [-t SECONDS] [-o] "
				"[-U SOCKET] ws://HOST:PORT/PATH STEP...\n");
		return 1;
	}
	const char *url = argv[i++] + 5;
	const char *slash = strchr(url, '/');
	char hostport[256], host[256], port[16] = "80";
	size_t hl = slash ? (size_t)(slash - url) : strlen(url);
	if (hl >= sizeof hostport)
		return 1;
	memcpy(hostport, url, hl);
	hostport[hl] = '\0';
	memcpy(host, hostport, hl + 1);
	char *colon = strrchr(host, ':');
	if (colon) {
		*colon = '\0';
		snprintf(port, sizeof port, "%s", colon + 1);
	}
	const char *path = slash ? slash : "/";

	struct wsc c = {.fd = unix_path ? wsc_connect_unix(unix_path) : wsc_connect(host, port)};
	if (c.fd < 0 || wsc_handshake(&c, hostport, path, headers, nheaders) < 0)
		return 1;
	fcntl(c.fd, F_SETFL, fcntl(c.fd, F_GETFL) | O_NONBLOCK);
	static const struct wslay_event_callbacks cbs = {
	    .recv_callback = wsc_recv_cb,
	    .send_callback = wsc_send_cb,
	    .genmask_callback = wsc_genmask_cb,
	    .on_msg_recv_callback = wsc_msg_cb,
	};
	if (wslay_event_context_client_init(&c.ctx, &cbs, &c) != 0)
		return 1;
	int rc = 0;
	for (; i < argc && rc == 0; i++)
		rc = wsc_step(&c, argv[i]);
	if (dump) {
		fwrite(c.out, 1, c.out_len, stdout);
		if (c.texts_len)
			fwrite(c.texts, 1, c.texts_len, stdout);
	}
	wslay_event_context_free(c.ctx);
	close(c.fd);
	free(c.out);
	free(c.texts);
	free(c.extra);
	return rc == 0 ? 0 : 1;
}
