/*
 * api/joblog — a job's output: GET /api/v1/jobs/ID/log.
 *
 * Without follow, the bytes from `offset` (at most 4 MiB; X-Log-Offset
 * says where to continue). With follow=1, Server-Sent Events: one `log`
 * event per chunk, whose id is the byte offset after it, so a client that
 * reconnects with Last-Event-ID misses nothing and sees nothing twice;
 * then an `end` event once the job has ended and everything was sent.
 * Chunks never split a UTF-8 character; invalid bytes show as U+FFFD
 * (offsets still count the raw bytes).
 */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "api/api.h"
#include "lib/utf8.h"
#include "lib/xalloc.h"
#include "server/scheduler.h"
#include "server/server.h"
#include "store/jobs.h"

enum {
	JOBLOG_MAX_PLAIN = 4 << 20,
	JOBLOG_CHUNK = 8192,
	JOBLOG_KEEPALIVE_S = 15,
};

struct joblog_follow {
	int64_t job_id;
	char *path;
	int fd;
	int64_t offset;
	time_t last_sent;
	bool done;
};

static bool joblog_ended(const char *state)
{
	return strcmp(state, "pending") != 0 && strcmp(state, "running") != 0;
}

/* Read up to max bytes at offset; the count, 0 at the end, -1 on error. */
static ssize_t joblog_read(int *fd, const char *path, int64_t offset, char *buf, size_t max)
{
	if (*fd < 0 && (*fd = open(path, O_RDONLY | O_CLOEXEC)) < 0)
		return errno == ENOENT ? 0 : -1;
	ssize_t n;
	while ((n = pread(*fd, buf, max, offset)) < 0 && errno == EINTR)
		;
	return n;
}

static long joblog_event(char *buf, size_t len, const char *event, const char *id, json_t *data)
{
	char *text = json_dumps(data, JSON_COMPACT);
	json_decref(data);
	int n = snprintf(buf, len, "%s%s%sevent: %s\ndata: %s\n\n", id ? "id: " : "", id ? id : "",
			 id ? "\n" : "", event, text ? text : "{}");
	free(text);
	return n < 0 || (size_t)n >= len ? 0 : n;
}

static long joblog_next(void *ctx, struct store *st, char *buf, size_t len)
{
	struct joblog_follow *f = ctx;
	if (f->done)
		return HTTP_STREAM_END;
	/* Escaping can grow a byte to six ("\u001b"), plus the event frame. */
	size_t room = len > 512 ? (len - 256) / 6 : 0;
	if (room > JOBLOG_CHUNK)
		room = JOBLOG_CHUNK;
	char raw[JOBLOG_CHUNK];
	ssize_t n = room ? joblog_read(&f->fd, f->path, f->offset, raw, room) : 0;
	if (n > 0) {
		size_t whole = utf8_whole_prefix(raw, (size_t)n);
		if (whole == 0)
			whole = (size_t)n; /* a lone broken byte: send it repaired */
		size_t clean_len;
		char *clean = utf8_sanitize(raw, whole, &clean_len);
		f->offset += (int64_t)whole;
		char id[32];
		snprintf(id, sizeof id, "%lld", (long long)f->offset);
		long out = joblog_event(buf, len, "log", id,
					json_pack("{s:I,s:s%}", "offset", (json_int_t)f->offset, "text",
						  clean, clean_len));
		free(clean);
		f->last_sent = time(NULL);
		return out;
	}
	struct store_job j = { 0 };
	if (store_job_get(st, f->job_id, &j) == 0 && joblog_ended(j.state)) {
		/* Ended: one last read catches output written just before. */
		n = joblog_read(&f->fd, f->path, f->offset, raw, 1);
		if (n <= 0) {
			f->done = true;
			long out = joblog_event(
				buf, len, "end", NULL,
				json_pack("{s:s,s:o,s:I}", "state", j.state, "exit_code",
					  j.has_exit && j.signal == 0 ? json_integer(j.exit_code) : json_null(),
					  "offset", (json_int_t)f->offset));
			store_job_clear(&j);
			return out;
		}
		store_job_clear(&j);
		return joblog_next(ctx, st, buf, len);
	}
	store_job_clear(&j);
	time_t now = time(NULL);
	if (now - f->last_sent >= JOBLOG_KEEPALIVE_S) {
		/* A comment line: lets a dead client be noticed on write. */
		f->last_sent = now;
		return snprintf(buf, len, ": keepalive\n\n");
	}
	return 0;
}

static void joblog_release(void *ctx)
{
	struct joblog_follow *f = ctx;
	if (f->fd >= 0)
		close(f->fd);
	free(f->path);
	free(f);
}

static int64_t joblog_offset(struct http_req *req, const char *s, bool *ok)
{
	char *end;
	long long v = strtoll(s, &end, 10);
	*ok = !*end && end != s && v >= 0;
	(void)req;
	return v;
}

static void joblog_plain(struct http_req *req, struct http_resp *resp, const struct store_job *j,
			 const char *path, int64_t offset)
{
	char *buf = xmalloc(JOBLOG_MAX_PLAIN);
	int fd = -1;
	ssize_t n = joblog_read(&fd, path, offset, buf, JOBLOG_MAX_PLAIN);
	if (fd >= 0)
		close(fd);
	if (n < 0) {
		free(buf);
		http_resp_error(resp, 500, "internal", "cannot read the log of job %lld", (long long)j->id);
		return;
	}
	char next[32];
	snprintf(next, sizeof next, "%lld", (long long)(offset + n));
	http_resp_header(resp, "X-Log-Offset", next);
	http_resp_header(resp, "X-Job-State", j->state);
	resp->status = 200;
	resp->body = buf;
	resp->len = (size_t)n;
	resp->content_type = "text/plain; charset=utf-8";
	(void)req;
}

void api_jobs_log(struct http_req *req, struct http_resp *resp)
{
	struct store_job j = { 0 };
	if (api_jobs_load(req, resp, &j) < 0)
		return;
	if (!req->who.admin && j.user_id != req->who.user_id) {
		http_resp_error(resp, 403, "forbidden", "job %lld belongs to %s", (long long)j.id,
				j.username);
		goto out;
	}
	const char *stream = http_req_query(req, "stream");
	if (stream && strcmp(stream, "stdout") != 0 && strcmp(stream, "stderr") != 0) {
		http_resp_error(resp, 422, "invalid", "stream must be stdout or stderr");
		goto out;
	}
	const char *off_s = http_req_query(req, "offset");
	const char *resume = http_req_header(req, "Last-Event-ID");
	bool ok = true;
	int64_t offset = resume ? joblog_offset(req, resume, &ok) : off_s ? joblog_offset(req, off_s, &ok) : 0;
	if (!ok) {
		http_resp_error(resp, 422, "invalid", "offset must be a byte offset (0 or more)");
		goto out;
	}
	char *dir = scheduler_job_dir(req->srv, j.id);
	char *path = xasprintf("%s/%s", dir, stream ? stream : "stdout");
	free(dir);
	const char *follow = http_req_query(req, "follow");
	if (!follow || strcmp(follow, "1") != 0) {
		joblog_plain(req, resp, &j, path, offset);
		free(path);
		goto out;
	}
	struct joblog_follow *f = xcalloc(1, sizeof *f);
	*f = (struct joblog_follow){ .job_id = j.id, .path = path, .fd = -1, .offset = offset,
				     .last_sent = time(NULL) };
	http_resp_header(resp, "X-Accel-Buffering", "no");
	http_resp_stream(resp, 200, "text/event-stream", joblog_next, joblog_release, f);
out:
	store_job_clear(&j);
}
