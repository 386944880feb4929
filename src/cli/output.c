/*
 * cli/output — errors, tables, units and prompts for the client verbs
 * (see output.h). Nothing here talks to the server.
 */
#include "cli/output.h"

#include <ctype.h>
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <termios.h>
#include <time.h>
#include <unistd.h>

#include "lib/xalloc.h"

enum { OUTPUT_LINE_MAX = 4096, OUTPUT_KEY_WIDTH = 14 };

int output_fail(const char *fmt, ...)
{
	va_list ap;
	va_start(ap, fmt);
	char *msg = xvasprintf(fmt, ap);
	va_end(ap);
	return output_fail_cause(msg);
}

int output_fail_cause(char *cause)
{
	char *clean = output_clean(cause ? cause : "failed");
	fflush(stdout);
	fprintf(stderr, "kaon: %s\n", clean);
	free(clean);
	free(cause);
	return 1;
}

int output_usage(const char *usage, const char *fmt, ...)
{
	if (fmt) {
		va_list ap;
		va_start(ap, fmt);
		char *msg = xvasprintf(fmt, ap);
		va_end(ap);
		char *clean = output_clean(msg);
		fprintf(stderr, "kaon: %s\n", clean);
		free(clean);
		free(msg);
	}
	fprintf(stderr, "usage: kaon %s\n", usage);
	return 2;
}

/* getopt_long with our messages; where (may be NULL) prefixes them. */
static int output_getopt_with(int argc, char **argv, const struct option *opts,
			      const char *optstring, const char *where)
{
	opterr = 0;
	const char *sep = where ? ": " : "";
	where = where ? where : "";
	int ch = getopt_long(argc, argv, optstring, opts, NULL);
	if (ch == '?') {
		if (optopt && optopt != '?')
			output_fail("%s%sunknown option '-%c'", where, sep, optopt);
		else
			output_fail("%s%sunknown option '%s'", where, sep, argv[optind - 1]);
	} else if (ch == ':') {
		output_fail("%s%soption '%s' needs a value", where, sep, argv[optind - 1]);
		ch = '?';
	}
	return ch;
}

int output_getopt(int argc, char **argv, const struct option *opts)
{
	/* Leading ':' tells a missing value (':') from an unknown option. */
	return output_getopt_with(argc, argv, opts, ":", NULL);
}

int output_getopt_in_order(int argc, char **argv, const struct option *opts, const char *where)
{
	/* '+': stop at the first operand instead of permuting argv. */
	return output_getopt_with(argc, argv, opts, "+:", where);
}

static void output_dispatch_list(const struct output_cmd *cmds, size_t n, FILE *out)
{
	fprintf(out, "usage:\n");
	for (size_t i = 0; i < n; i++)
		fprintf(out, "  kaon %s\n", cmds[i].usage);
}

int output_dispatch(const struct output_cmd *cmds, size_t n, const char *prefix, int argc,
		    char **argv)
{
	if (argc < 2) {
		fprintf(stderr, "kaon: '%s' needs a command\n", prefix);
		output_dispatch_list(cmds, n, stderr);
		return 2;
	}
	const char *name = argv[1];
	if (strcmp(name, "help") == 0 || strcmp(name, "--help") == 0 || strcmp(name, "-h") == 0) {
		output_dispatch_list(cmds, n, stdout);
		return 0;
	}
	for (size_t i = 0; i < n; i++)
		if (cmds[i].run && strcmp(name, cmds[i].name) == 0)
			return cmds[i].run(argc - 1, argv + 1);
	char *clean = output_clean(name);
	fprintf(stderr, "kaon: unknown command '%s %s'\n", prefix, clean);
	free(clean);
	output_dispatch_list(cmds, n, stderr);
	return 2;
}

int output_args(int argc, char **argv, const char *usage, int noperands, bool *as_json)
{
	static const struct option with_json[] = {
	    {"json", no_argument, NULL, 'j'},
	    {"help", no_argument, NULL, 'h'},
	    {NULL, 0, NULL, 0},
	};
	const struct option *opts = as_json ? with_json : with_json + 1;
	int ch;
	optind = 0;
	while ((ch = output_getopt(argc, argv, opts)) != -1) {
		switch (ch) {
		case 'j':
			*as_json = true;
			break;
		case 'h':
			printf("usage: kaon %s\n", usage);
			return 0;
		default:
			return output_usage(usage, NULL);
		}
	}
	if (argc - optind < noperands)
		return output_usage(usage, "missing arguments");
	if (argc - optind > noperands)
		return output_usage(usage, "too many arguments");
	return -1;
}

void output_json(const json_t *j)
{
	json_dumpf(j, stdout, JSON_INDENT(2));
	fputc('\n', stdout);
}

/* Length of the valid UTF-8 sequence at s (1..4), or 0 when invalid or a
 * C1 control character (U+0080..U+009F: some terminals obey them). */
static size_t output_utf8_len(const unsigned char *s)
{
	unsigned char c = s[0];
	size_t n;
	if (c >= 0xc2 && c <= 0xdf)
		n = 2;
	else if (c >= 0xe0 && c <= 0xef)
		n = 3;
	else if (c >= 0xf0 && c <= 0xf4)
		n = 4;
	else
		return 0;
	for (size_t i = 1; i < n; i++)
		if ((s[i] & 0xc0) != 0x80)
			return 0;
	if ((c == 0xe0 && s[1] < 0xa0) || (c == 0xed && s[1] > 0x9f) ||
	    (c == 0xf0 && s[1] < 0x90) || (c == 0xf4 && s[1] > 0x8f))
		return 0; /* overlong, surrogate or past U+10FFFF */
	if (c == 0xc2 && s[1] <= 0x9f)
		return 0;
	return n;
}

char *output_clean(const char *s)
{
	if (!s)
		return xstrdup("-");
	size_t len = strlen(s);
	char *out = xmalloc(len + 1);
	const unsigned char *p = (const unsigned char *)s;
	size_t o = 0;
	while (*p) {
		if (*p >= 0x80) {
			size_t n = output_utf8_len(p);
			if (n) {
				memcpy(out + o, p, n);
				o += n;
				p += n;
				continue;
			}
			out[o++] = '?';
		} else {
			out[o++] = (*p < 0x20 || *p == 0x7f) ? '?' : (char)*p;
		}
		p++;
	}
	out[o] = '\0';
	return out;
}

/* Columns a clean string takes: one per code point (wide CJK characters
 * take two, but names here rarely have them, and a column off is cosmetic). */
static size_t output_width(const char *s)
{
	size_t w = 0;
	for (const unsigned char *p = (const unsigned char *)s; *p; p++)
		if ((*p & 0xc0) != 0x80)
			w++;
	return w;
}

struct output_table {
	size_t ncols;
	size_t ncells, cap;
	char **cells; /* headers first, then row-major; all clean */
};

struct output_table *output_table_new(const char *const *headers, size_t ncols)
{
	struct output_table *t = xcalloc(1, sizeof *t);
	t->ncols = ncols;
	for (size_t i = 0; i < ncols; i++)
		output_table_add(t, headers[i]);
	return t;
}

void output_table_add(struct output_table *t, const char *cell)
{
	if (t->ncells == t->cap) {
		t->cap = t->cap ? t->cap * 2 : 64;
		t->cells = xrealloc(t->cells, t->cap * sizeof *t->cells);
	}
	t->cells[t->ncells++] = output_clean(cell);
}

void output_table_addf(struct output_table *t, const char *fmt, ...)
{
	va_list ap;
	va_start(ap, fmt);
	char *s = xvasprintf(fmt, ap);
	va_end(ap);
	output_table_add(t, s);
	free(s);
}

void output_table_free(struct output_table *t)
{
	for (size_t i = 0; i < t->ncells; i++)
		free(t->cells[i]);
	free(t->cells);
	free(t);
}

void output_table_print(struct output_table *t, FILE *out)
{
	size_t *width = xcalloc(t->ncols, sizeof *width);
	for (size_t i = 0; i < t->ncells; i++) {
		size_t w = output_width(t->cells[i]);
		if (w > width[i % t->ncols])
			width[i % t->ncols] = w;
	}
	for (size_t i = 0; i < t->ncells; i++) {
		size_t col = i % t->ncols;
		bool last = col == t->ncols - 1 || i == t->ncells - 1;
		fputs(t->cells[i], out);
		if (last) {
			fputc('\n', out);
			continue;
		}
		for (size_t pad = output_width(t->cells[i]); pad < width[col] + 2; pad++)
			fputc(' ', out);
	}
	free(width);
	output_table_free(t);
}

void output_field(const char *key, const char *value)
{
	char *clean = output_clean(value && *value ? value : NULL);
	printf("%-*s %s\n", OUTPUT_KEY_WIDTH, key, clean);
	free(clean);
}

char *output_join(const json_t *arr, const char *sep)
{
	char *s = xstrdup("");
	size_t i;
	json_t *v;
	json_array_foreach(arr, i, v)
	{
		const char *name = json_string_value(v);
		char *next = xasprintf("%s%s%s", s, i ? sep : "", name ? name : "?");
		free(s);
		s = next;
	}
	if (!*s) {
		free(s);
		s = xstrdup("-");
	}
	return s;
}

const char *output_str(const json_t *obj, const char *key)
{
	return json_string_value(json_object_get(obj, key));
}

const char *output_size_mb(int64_t mb, char *buf)
{
	static const struct {
		const char *unit;
		int64_t mb;
	} units[] = {{"T", 1024 * 1024}, {"G", 1024}};
	if (mb < 0) {
		snprintf(buf, OUTPUT_UNIT_LEN, "-");
		return buf;
	}
	/* The largest unit with at most two decimals that still parses back
	 * to exactly mb: "1.25T", "1.5G", but "1331M" rather than "1.3G". */
	for (size_t i = 0; i < sizeof units / sizeof units[0]; i++) {
		if (mb < units[i].mb)
			continue;
		snprintf(buf, OUTPUT_UNIT_LEN, "%.2f", (double)mb / (double)units[i].mb);
		size_t n = strlen(buf);
		while (buf[n - 1] == '0')
			n--;
		if (buf[n - 1] == '.')
			n--;
		snprintf(buf + n, OUTPUT_UNIT_LEN - n, "%s", units[i].unit);
		int64_t back;
		if (output_parse_size_mb(buf, &back) == 0 && back == mb)
			return buf;
	}
	snprintf(buf, OUTPUT_UNIT_LEN, "%lldM", (long long)mb);
	return buf;
}

static const struct {
	char unit;
	int64_t seconds;
} output_duration_units[] = {
    {'w', 7 * 86400}, {'d', 86400}, {'h', 3600}, {'m', 60}, {'s', 1},
};

const char *output_duration(int64_t s, char *buf)
{
	if (s < 0) {
		snprintf(buf, OUTPUT_UNIT_LEN, "-");
		return buf;
	}
	if (s == 0) {
		snprintf(buf, OUTPUT_UNIT_LEN, "0s");
		return buf;
	}
	size_t o = 0;
	/* Weeks are skipped: "30d" reads better than "4w2d". Every non-zero
	 * part is printed, so the text parses back to the same value. */
	for (size_t i = 1; i < sizeof output_duration_units / sizeof output_duration_units[0];
	     i++) {
		int64_t n = s / output_duration_units[i].seconds;
		if (n == 0)
			continue;
		s -= n * output_duration_units[i].seconds;
		int w = snprintf(buf + o, OUTPUT_UNIT_LEN - o, "%lld%c", (long long)n,
				 output_duration_units[i].unit);
		if (w < 0 || (size_t)w >= OUTPUT_UNIT_LEN - o)
			break;
		o += (size_t)w;
	}
	return buf;
}

const char *output_time(const char *rfc3339, char *buf)
{
	if (!rfc3339) {
		snprintf(buf, OUTPUT_UNIT_LEN, "-");
		return buf;
	}
	struct tm tm = {0};
	const char *end = strptime(rfc3339, "%Y-%m-%dT%H:%M:%SZ", &tm);
	time_t t;
	struct tm local;
	if (!end || *end || (t = timegm(&tm)) == (time_t)-1 || !localtime_r(&t, &local) ||
	    strftime(buf, OUTPUT_UNIT_LEN, "%Y-%m-%d %H:%M", &local) == 0)
		snprintf(buf, OUTPUT_UNIT_LEN, "%s", rfc3339);
	return buf;
}

int output_parse_time(const char *rfc3339, time_t *out)
{
	struct tm tm = {0};
	const char *end = rfc3339 ? strptime(rfc3339, "%Y-%m-%dT%H:%M:%SZ", &tm) : NULL;
	if (!end || *end)
		return -1;
	time_t t = timegm(&tm);
	if (t == (time_t)-1)
		return -1;
	*out = t;
	return 0;
}

int output_parse_int(const char *s, int64_t min, int64_t max, int64_t *out)
{
	/* strtoll would skip leading spaces and take a sign; a count is digits. */
	if (!s || !isdigit((unsigned char)s[0]))
		return -1;
	char *end;
	errno = 0;
	long long v = strtoll(s, &end, 10);
	if (errno || *end || v < min || v > max)
		return -1;
	*out = v;
	return 0;
}

int output_parse_duration(const char *s, int64_t *out)
{
	if (!s || !isdigit((unsigned char)s[0]))
		return -1;
	int64_t total = 0;
	const char *p = s;
	while (*p) {
		if (!isdigit((unsigned char)*p))
			return -1;
		char *end;
		errno = 0;
		long long n = strtoll(p, &end, 10);
		if (errno)
			return -1;
		int64_t mult = 0;
		if (*end == '\0' && p == s) {
			mult = 1; /* a bare number: seconds */
		} else {
			for (size_t i = 0;
			     i < sizeof output_duration_units / sizeof output_duration_units[0];
			     i++)
				if (*end == output_duration_units[i].unit)
					mult = output_duration_units[i].seconds;
			if (!mult)
				return -1;
			end++;
		}
		int64_t part;
		if (__builtin_mul_overflow((int64_t)n, mult, &part) ||
		    __builtin_add_overflow(total, part, &total))
			return -1;
		p = end;
	}
	*out = total;
	return 0;
}

int output_parse_size_mb(const char *s, int64_t *out)
{
	static const struct {
		const char *suffix;
		double mb;
	} units[] = {
	    {"", 1},	      {"k", 1.0 / 1024}, {"kb", 1.0 / 1024}, {"kib", 1.0 / 1024},
	    {"m", 1},	      {"mb", 1},	 {"mib", 1},	     {"g", 1024},
	    {"gb", 1024},     {"gib", 1024},	 {"t", 1048576},     {"tb", 1048576},
	    {"tib", 1048576},
	};
	if (!s || !isdigit((unsigned char)s[0]))
		return -1;
	/* Digits with at most one '.': strtod alone would also take
	 * exponents, hex and "inf". */
	size_t n = strspn(s, "0123456789");
	if (s[n] == '.') {
		size_t frac = strspn(s + n + 1, "0123456789");
		if (frac == 0)
			return -1;
		n += 1 + frac;
	}
	if (n > 32)
		return -1;
	char num[40];
	memcpy(num, s, n);
	num[n] = '\0';
	double v = strtod(num, NULL);
	for (size_t i = 0; i < sizeof units / sizeof units[0]; i++) {
		if (strcasecmp(s + n, units[i].suffix) != 0)
			continue;
		double mb = v * units[i].mb;
		if (!(mb <= 1e15)) /* also false for NaN */
			return -1;
		int64_t whole = (int64_t)mb;
		*out = (double)whole < mb ? whole + 1 : whole; /* round up */
		return 0;
	}
	return -1;
}

/* Set by the signal handler while a password is read with echo off, so
 * the terminal can be restored before the process goes. */
static volatile sig_atomic_t output_interrupted;

static void output_on_signal(int sig)
{
	output_interrupted = sig;
}

/* Read one line from fd, byte by byte so nothing past the newline is
 * consumed. 0, or -1 with *cause. */
static int output_read_line(int fd, char **out, char **cause)
{
	char *buf = xmalloc(OUTPUT_LINE_MAX + 1);
	size_t len = 0;
	for (;;) {
		char c;
		ssize_t n = read(fd, &c, 1);
		if (n < 0) {
			if (errno == EINTR && !output_interrupted)
				continue;
			*cause = errno == EINTR ? xstrdup("interrupted")
						: xasprintf("read failed: %s", strerror(errno));
			goto fail;
		}
		if (n == 0) {
			if (len == 0) {
				*cause = xstrdup("end of input");
				goto fail;
			}
			break;
		}
		if (c == '\n')
			break;
		if (len == OUTPUT_LINE_MAX) {
			*cause = xasprintf("input line longer than %d bytes", OUTPUT_LINE_MAX);
			goto fail;
		}
		buf[len++] = c;
	}
	if (len > 0 && buf[len - 1] == '\r')
		len--;
	buf[len] = '\0';
	*out = buf;
	return 0;
fail:
	explicit_bzero(buf, OUTPUT_LINE_MAX + 1);
	free(buf);
	return -1;
}

static int output_tty_open(char **cause)
{
	int fd = open("/dev/tty", O_RDWR | O_CLOEXEC | O_NOCTTY);
	if (fd < 0)
		*cause = xasprintf("no terminal to ask on (/dev/tty: %s)", strerror(errno));
	return fd;
}

int output_prompt_line(const char *prompt, char **out, char **cause)
{
	int fd = output_tty_open(cause);
	if (fd < 0)
		return -1;
	int rc = -1;
	char *inner = NULL;
	if (write(fd, prompt, strlen(prompt)) < 0) {
		*cause = xasprintf("write to the terminal failed: %s", strerror(errno));
		goto out;
	}
	if (output_read_line(fd, out, &inner) < 0) {
		*cause = xasprintf("no answer to '%s': %s", prompt, inner);
		goto out;
	}
	rc = 0;
out:
	free(inner);
	close(fd);
	return rc;
}

static const int output_signals[] = {SIGINT, SIGTERM, SIGHUP, SIGQUIT, SIGTSTP};
enum { OUTPUT_NSIGNALS = sizeof output_signals / sizeof output_signals[0] };

static int output_read_hidden(const char *prompt, char **out, char **cause)
{
	int fd = output_tty_open(cause);
	if (fd < 0)
		return -1;
	struct termios saved, quiet;
	struct sigaction old[OUTPUT_NSIGNALS];
	char *inner = NULL;
	int rc = -1;
	if (tcgetattr(fd, &saved) < 0) {
		*cause = xasprintf("tcgetattr on the terminal failed: %s", strerror(errno));
		goto out_close;
	}
	/* No SA_RESTART: a signal interrupts read(), and we put the echo back
	 * before the process acts on it. */
	struct sigaction sa = {.sa_handler = output_on_signal};
	sigemptyset(&sa.sa_mask);
	output_interrupted = 0;
	for (size_t i = 0; i < OUTPUT_NSIGNALS; i++)
		sigaction(output_signals[i], &sa, &old[i]);
	quiet = saved;
	quiet.c_lflag &= ~(tcflag_t)ECHO;
	quiet.c_lflag |= ECHONL;
	if (tcsetattr(fd, TCSAFLUSH, &quiet) < 0) {
		*cause = xasprintf("tcsetattr on the terminal failed: %s", strerror(errno));
		goto out_signals;
	}
	if (write(fd, prompt, strlen(prompt)) < 0)
		inner = xasprintf("write to the terminal failed: %s", strerror(errno));
	else if (output_read_line(fd, out, &inner) == 0)
		rc = 0;
	tcsetattr(fd, TCSAFLUSH, &saved);
	if (rc < 0 && output_interrupted) {
		/* End the prompt's line; if the terminal is gone, so be it. */
		ssize_t w = write(fd, "\n", 1);
		(void)w;
		free(inner);
		*cause = xstrdup("interrupted");
	} else if (rc < 0) {
		*cause = inner;
	}
out_signals:
	for (size_t i = 0; i < OUTPUT_NSIGNALS; i++)
		sigaction(output_signals[i], &old[i], NULL);
out_close:
	close(fd);
	return rc;
}

int output_read_password(const char *prompt, bool from_stdin, char **out, char **cause)
{
	if (!from_stdin && isatty(STDIN_FILENO))
		return output_read_hidden(prompt, out, cause);
	char *inner = NULL;
	if (output_read_line(STDIN_FILENO, out, &inner) < 0) {
		*cause = xasprintf("no password on standard input: %s", inner);
		free(inner);
		return -1;
	}
	return 0;
}

void output_secret_free(char *s)
{
	if (!s)
		return;
	explicit_bzero(s, strlen(s));
	free(s);
}

void output_secret_wipe(json_t *obj, const char *key)
{
	const char *s = output_str(obj, key);
	if (s)
		explicit_bzero((char *)s, strlen(s));
}
