/* libFuzzer target: what the sessions proxy reads from a backend it does
 * not control (lib/httpmsg). The input is parsed as a response head, and
 * its rest as a chunked body cut into pieces of arbitrary sizes (the
 * first byte picks the piece size); the decoder must never write past
 * what it was given nor claim more than it consumed. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "lib/httpmsg.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	if (size == 0)
		return 0;
	size_t step = (size_t)data[0] % 23 + 1;
	data++, size--;
	struct httpmsg_head h;
	int rc = httpmsg_parse_response((const char *)data, size, &h);
	if (rc > 0) {
		if (h.len > size || h.nfields > HTTPMSG_MAX_FIELDS || h.status < 100 ||
		    h.status > 999)
			abort();
		for (size_t i = 0; i < h.nfields; i++) {
			const struct httpmsg_field *f = &h.fields[i];
			if (f->name < (const char *)data ||
			    f->value + f->value_len > (const char *)data + size)
				abort();
			(void)httpmsg_has_token(f->value, f->value_len, "chunked");
		}
	}
	struct httpmsg_chunked c = {0};
	char *buf = malloc(step);
	for (size_t i = 0; i < size; i += step) {
		size_t n = size - i < step ? size - i : step, used, out;
		memcpy(buf, data + i, n);
		rc = httpmsg_chunked_decode(&c, buf, n, &used, &out);
		if (used > n || out > used || (rc == 0 && used != n))
			abort();
		if (rc != 0)
			break;
	}
	free(buf);
	return 0;
}
