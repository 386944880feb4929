/*
 * api/jobspec — pure parsing and checks of a job submission, kept apart
 * from the handler so they can be unit-tested and fuzzed:
 * array specifications ("0-99%10", "1,3,5", "0-20:2") and the resource
 * request against a node and a group's limits.
 */
#ifndef KAON_API_JOBSPEC_H
#define KAON_API_JOBSPEC_H

#include <stddef.h>
#include <stdint.h>

/* Parse spec into sorted, distinct indices (at most max of them, each in
 * 0..1000000) and the `%N` throttle (0: none). 0, or -1 with *cause. */
int jobspec_array_parse(const char *spec, size_t max, int64_t **indices, size_t *n, int *limit,
			char **cause);

struct jobspec_resources {
	int64_t cpus, mem_mb, gpus, walltime_s;
};

struct jobspec_capacity {
	int64_t node_cpus, node_mem_mb, node_gpus;                     /* what the machine has */
	int64_t max_cpus, max_mem_mb, max_gpus, max_walltime_s;        /* the group's; -1: none */
};

/* NULL when the request fits, else a new message naming the limit. */
char *jobspec_check(const struct jobspec_resources *r, const struct jobspec_capacity *c,
		    const char *group);

#endif
