/* libFuzzer target: the Server-Sent Events parser under `kaon logs -f`,
 * fed arbitrary bytes cut into pieces of arbitrary sizes (the first byte
 * picks the piece size), with a small cap so the limits are reached. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "cli/sse.h"

static int sse_fuzz_event(void *ctx, const struct sse_event *ev)
{
	size_t *n = ctx;
	if (!ev->type || ev->data[ev->data_len] != '\0')
		abort();
	*n += ev->data_len;
	return 0;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	if (size == 0)
		return 0;
	size_t step = (size_t)data[0] % 17 + 1, total = 0;
	struct sse *p = sse_new(256, sse_fuzz_event, &total);
	for (size_t i = 1; i < size; i += step) {
		char *cause = NULL;
		size_t n = size - i < step ? size - i : step;
		if (sse_feed(p, (const char *)data + i, n, &cause) < 0) {
			free(cause);
			sse_reset(p);
		}
	}
	sse_free(p);
	return 0;
}
