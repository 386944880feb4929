/* lib/idkey — sorted (id, index) tables (see idkey.h). */
#include "lib/idkey.h"

int idkey_cmp(const void *a, const void *b)
{
	const struct idkey *x = a, *y = b;
	if (x->id != y->id)
		return x->id < y->id ? -1 : 1;
	return x->idx < y->idx ? -1 : x->idx > y->idx;
}

long idkey_find(const struct idkey *k, size_t n, int64_t id)
{
	size_t lo = 0, hi = n;
	while (lo < hi) {
		size_t mid = lo + (hi - lo) / 2;
		if (k[mid].id < id)
			lo = mid + 1;
		else
			hi = mid;
	}
	return lo < n && k[lo].id == id ? (long)lo : -1;
}
