/*
 * lib/idkey — a table of (id, index) pairs sorted by id, for finding the
 * position of a record by its id in O(log n) without a hash table (the
 * scheduler looks up users, groups and arrays this way).
 */
#ifndef KAON_LIB_IDKEY_H
#define KAON_LIB_IDKEY_H

#include <stddef.h>
#include <stdint.h>

struct idkey {
	int64_t id;
	size_t idx; /* position of the record in the caller's array */
};

/* qsort comparator: by id, then by idx, so that the order is total. */
int idkey_cmp(const void *a, const void *b);
/* Position in k (sorted with idkey_cmp) of the first key with this id, or -1. */
long idkey_find(const struct idkey *k, size_t n, int64_t id);

#endif
