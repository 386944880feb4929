/*
 * tools/httplat — the latency of one HTTP request at a time, for the
 * proxy's benchmark (wrk measures throughput under load and speaks no
 * unix sockets).
 *
 *   httplat [-n N] [-w WARMUP] [-X METHOD] [-d BODY] [-H 'Name: value']... URL
 *
 * URL is http://HOST:PORT/PATH or unix:/SOCKET/PATH:/PATH (a unix socket,
 * then the request path after the colon). N requests (GET unless -X names
 * another method; -d gives a body, sent with its Content-Length, for the
 * models' benchmark's predictions) (default 2000,
 * after WARMUP, default 200) go one after the other on one keep-alive
 * connection (a new one when the server closes it); each is timed from
 * the first byte written to the last byte of the answer read. Prints
 *
 *   lat_us n=N p50=.. p90=.. p99=.. max=.. status=CODE
 *
 * and exits 1 when a request fails or answers anything but 2xx.
 */
#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <time.h>
#include <unistd.h>

struct hl {
	bool unix_sock;
	char sock[108];
	char host[256];
	int port;
	char path[2048];
	char req[65536];
	size_t req_len;
	int fd;
	char buf[1 << 16];
	size_t len; /* bytes in buf */
};

static int64_t hl_now_ns(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (int64_t)ts.tv_sec * 1000000000 + ts.tv_nsec;
}

static int hl_connect(struct hl *h)
{
	if (h->unix_sock) {
		struct sockaddr_un sa = {.sun_family = AF_UNIX};
		memcpy(sa.sun_path, h->sock, sizeof sa.sun_path);
		h->fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
		if (h->fd < 0 || connect(h->fd, (struct sockaddr *)&sa, sizeof sa) < 0)
			return -1;
	} else {
		struct sockaddr_in sa = {.sin_family = AF_INET,
					 .sin_port = htons((uint16_t)h->port)};
		if (inet_pton(AF_INET, h->host, &sa.sin_addr) != 1)
			return -1;
		h->fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
		int one = 1;
		if (h->fd < 0 ||
		    setsockopt(h->fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one) < 0 ||
		    connect(h->fd, (struct sockaddr *)&sa, sizeof sa) < 0)
			return -1;
	}
	h->len = 0;
	return 0;
}

/* Read more into buf; -1 at the end of the stream or an error. */
static int hl_fill(struct hl *h)
{
	if (h->len == sizeof h->buf)
		return -1;
	ssize_t n;
	do
		n = read(h->fd, h->buf + h->len, sizeof h->buf - h->len);
	while (n < 0 && errno == EINTR);
	if (n <= 0)
		return -1;
	h->len += (size_t)n;
	return 0;
}

static void hl_consume(struct hl *h, size_t n)
{
	memmove(h->buf, h->buf + n, h->len - n);
	h->len -= n;
}

/* One answer: its status, and whether the connection stays open. */
static int hl_answer(struct hl *h, int *status, bool *keep)
{
	char *end;
	while (!(end = memmem(h->buf, h->len, "\r\n\r\n", 4)))
		if (hl_fill(h) < 0)
			return -1;
	size_t head = (size_t)(end - h->buf) + 4;
	*status = (int)strtol(h->buf + 9, NULL, 10);
	long long length = -1;
	bool chunked = false;
	*keep = true;
	for (char *p = memchr(h->buf, '\n', head) + 1; p < h->buf + head - 2;) {
		char *e = memchr(p, '\n', (size_t)(h->buf + head - p));
		if (strncasecmp(p, "Content-Length:", 15) == 0)
			length = strtoll(p + 15, NULL, 10);
		else if (strncasecmp(p, "Transfer-Encoding:", 18) == 0 && strstr(p, "chunked") < e)
			chunked = true;
		else if (strncasecmp(p, "Connection:", 11) == 0 && strcasestr(p, "close") &&
			 strcasestr(p, "close") < e)
			*keep = false;
		p = e + 1;
	}
	hl_consume(h, head);
	if (chunked) {
		for (;;) {
			char *crlf;
			while (!(crlf = memmem(h->buf, h->len, "\r\n", 2)))
				if (hl_fill(h) < 0)
					return -1;
			long long n = strtoll(h->buf, NULL, 16);
			size_t need = (size_t)(crlf - h->buf) + 2 + (size_t)n + 2;
			while (h->len < need)
				if (hl_fill(h) < 0)
					return -1;
			hl_consume(h, need);
			if (n == 0)
				return 0; /* no trailers from the servers measured */
		}
	}
	if (length < 0) { /* until close */
		while (hl_fill(h) == 0)
			h->len = 0;
		*keep = false;
		return 0;
	}
	while ((long long)h->len < length) {
		length -= (long long)h->len;
		h->len = 0;
		if (hl_fill(h) < 0)
			return -1;
	}
	hl_consume(h, (size_t)length);
	return 0;
}

static int hl_cmp(const void *a, const void *b)
{
	int64_t x = *(const int64_t *)a, y = *(const int64_t *)b;
	return x < y ? -1 : x > y;
}

static int hl_parse_url(struct hl *h, const char *url)
{
	if (strncmp(url, "unix:", 5) == 0) {
		const char *colon = strchr(url + 5, ':');
		if (!colon || (size_t)(colon - url - 5) >= sizeof h->sock)
			return -1;
		h->unix_sock = true;
		memcpy(h->sock, url + 5, (size_t)(colon - url - 5));
		snprintf(h->host, sizeof h->host, "localhost");
		snprintf(h->path, sizeof h->path, "%s", colon + 1);
		return 0;
	}
	if (strncmp(url, "http://", 7) != 0)
		return -1;
	const char *hp = url + 7, *slash = strchr(hp, '/'), *colon = strchr(hp, ':');
	if (!slash || !colon || colon > slash || (size_t)(colon - hp) >= sizeof h->host)
		return -1;
	memcpy(h->host, hp, (size_t)(colon - hp));
	h->port = (int)strtol(colon + 1, NULL, 10);
	snprintf(h->path, sizeof h->path, "%s", slash);
	return 0;
}

int main(int argc, char **argv)
{
	static struct hl h;
	long n = 2000, warm = 200;
	const char *headers[32];
	const char *method = "GET", *body = NULL;
	int nh = 0, opt;
	while ((opt = getopt(argc, argv, "n:w:H:X:d:")) != -1) {
		if (opt == 'n')
			n = strtol(optarg, NULL, 10);
		else if (opt == 'w')
			warm = strtol(optarg, NULL, 10);
		else if (opt == 'H' && nh < 32)
			headers[nh++] = optarg;
		else if (opt == 'X')
			method = optarg;
		else if (opt == 'd')
			body = optarg;
		else
			goto usage;
	}
	if (optind != argc - 1 || n <= 0 || warm < 0 || hl_parse_url(&h, argv[optind]) < 0)
		goto usage;
	size_t len = (size_t)snprintf(h.req, sizeof h.req, "%s %s HTTP/1.1\r\nHost: %s:%d\r\n",
				      method, h.path, h.host, h.port);
	for (int i = 0; i < nh && len < sizeof h.req; i++)
		len += (size_t)snprintf(h.req + len, sizeof h.req - len, "%s\r\n", headers[i]);
	if (body && len < sizeof h.req)
		len += (size_t)snprintf(h.req + len, sizeof h.req - len,
					"Content-Length: %zu\r\n", strlen(body));
	if (len < sizeof h.req)
		len += (size_t)snprintf(h.req + len, sizeof h.req - len, "\r\n%s",
					body ? body : "");
	if (len >= sizeof h.req) {
		fprintf(stderr, "httplat: the request is over %zu bytes\n", sizeof h.req);
		return 2;
	}
	h.req_len = len;
	if (hl_connect(&h) < 0) {
		fprintf(stderr, "httplat: cannot connect to %s: %s\n", argv[optind],
			strerror(errno));
		return 1;
	}
	int64_t *lat = calloc((size_t)n, sizeof *lat);
	int status = 0;
	for (long i = 0; i < warm + n; i++) {
		int64_t t0 = hl_now_ns();
		bool keep;
		if (write(h.fd, h.req, h.req_len) != (ssize_t)h.req_len ||
		    hl_answer(&h, &status, &keep) < 0) {
			fprintf(stderr, "httplat: request %ld failed\n", i);
			return 1;
		}
		int64_t t1 = hl_now_ns();
		if (status < 200 || status > 299) {
			fprintf(stderr, "httplat: request %ld answered %d\n", i, status);
			return 1;
		}
		if (i >= warm)
			lat[i - warm] = t1 - t0;
		if (!keep) {
			close(h.fd);
			if (hl_connect(&h) < 0) {
				fprintf(stderr, "httplat: cannot reconnect: %s\n", strerror(errno));
				return 1;
			}
		}
	}
	qsort(lat, (size_t)n, sizeof *lat, hl_cmp);
	printf("lat_us n=%ld p50=%.1f p90=%.1f p99=%.1f max=%.1f status=%d\n", n,
	       (double)lat[n / 2] / 1e3, (double)lat[n * 9 / 10] / 1e3,
	       (double)lat[n * 99 / 100] / 1e3, (double)lat[n - 1] / 1e3, status);
	free(lat);
	close(h.fd);
	return 0;
usage:
	fprintf(stderr, "usage: httplat [-n N] [-w WARMUP] [-X METHOD] [-d BODY] "
			"[-H 'Name: value']... "
			"(http://HOST:PORT/PATH | unix:/SOCKET:/PATH)\n");
	return 2;
}
