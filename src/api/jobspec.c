/* api/jobspec — array specs and resource checks (see jobspec.h). */
#include "api/jobspec.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "lib/xalloc.h"

enum { JOBSPEC_MAX_INDEX = 1000000 };

static int jobspec_number(const char **p, int64_t *out)
{
	if (**p < '0' || **p > '9')
		return -1;
	char *end;
	errno = 0;
	long long v = strtoll(*p, &end, 10);
	if (errno || v > JOBSPEC_MAX_INDEX)
		return -1;
	*out = v;
	*p = end;
	return 0;
}

static int jobspec_cmp(const void *a, const void *b)
{
	int64_t x = *(const int64_t *)a, y = *(const int64_t *)b;
	return x < y ? -1 : x > y;
}

int jobspec_array_parse(const char *spec, size_t max, int64_t **indices, size_t *n, int *limit,
			char **cause)
{
	int64_t *out = NULL;
	size_t count = 0;
	const char *p = spec;
	*limit = 0;
	for (;;) {
		int64_t lo, hi, step = 1;
		if (jobspec_number(&p, &lo) < 0)
			goto bad;
		hi = lo;
		if (*p == '-') {
			p++;
			if (jobspec_number(&p, &hi) < 0 || hi < lo)
				goto bad;
			if (*p == ':') {
				p++;
				if (jobspec_number(&p, &step) < 0 || step < 1)
					goto bad;
			}
		}
		for (int64_t i = lo; i <= hi; i += step) {
			if (count == max) {
				*cause = xasprintf("array has more than %zu elements", max);
				free(out);
				return -1;
			}
			out = xrealloc(out, (count + 1) * sizeof *out);
			out[count++] = i;
		}
		if (*p == ',') {
			p++;
			continue;
		}
		break;
	}
	if (*p == '%') {
		int64_t l;
		p++;
		if (jobspec_number(&p, &l) < 0 || l < 1)
			goto bad;
		*limit = (int)l;
	}
	if (*p != '\0' || count == 0)
		goto bad;
	qsort(out, count, sizeof *out, jobspec_cmp);
	size_t w = 1;
	for (size_t r = 1; r < count; r++)
		if (out[r] != out[w - 1])
			out[w++] = out[r];
	*indices = out;
	*n = w;
	return 0;
bad:
	free(out);
	*cause = xasprintf("array '%s' is not like 0-99, 1,3,5, 0-20:2 or 0-99%%10", spec);
	return -1;
}

char *jobspec_check(const struct jobspec_resources *r, const struct jobspec_capacity *c,
		    const char *group)
{
	if (r->cpus > c->node_cpus)
		return xasprintf("asks for %lld CPUs; the machine has %lld", (long long)r->cpus,
				 (long long)c->node_cpus);
	if (r->mem_mb > c->node_mem_mb)
		return xasprintf("asks for %lld MiB of memory; the machine has %lld MiB",
				 (long long)r->mem_mb, (long long)c->node_mem_mb);
	if (r->gpus > c->node_gpus)
		return xasprintf("asks for %lld GPUs; the machine has %lld", (long long)r->gpus,
				 (long long)c->node_gpus);
	if (c->max_cpus >= 0 && r->cpus > c->max_cpus)
		return xasprintf("asks for %lld CPUs; group '%s' allows %lld (max_cpus)",
				 (long long)r->cpus, group, (long long)c->max_cpus);
	if (c->max_mem_mb >= 0 && r->mem_mb > c->max_mem_mb)
		return xasprintf("asks for %lld MiB; group '%s' allows %lld MiB (max_mem_mb)",
				 (long long)r->mem_mb, group, (long long)c->max_mem_mb);
	if (c->max_gpus >= 0 && r->gpus > c->max_gpus)
		return xasprintf("asks for %lld GPUs; group '%s' allows %lld (max_gpus)",
				 (long long)r->gpus, group, (long long)c->max_gpus);
	if (c->max_walltime_s >= 0 && r->walltime_s > c->max_walltime_s)
		return xasprintf("asks for a wall time of %lld s; group '%s' allows %lld s "
				 "(max_walltime_s)",
				 (long long)r->walltime_s, group, (long long)c->max_walltime_s);
	return NULL;
}
