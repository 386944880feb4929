/* libFuzzer target: HTTP request heads as a client of kaon session-shell
 * may send them (lib/httphead). */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "lib/httphead.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	char *buf = malloc(size ? size : 1);
	if (!buf)
		return 0;
	memcpy(buf, data, size);
	struct httphead h;
	long n = httphead_parse(buf, size, &h);
	if (n > 0) {
		/* What is accepted lies inside the head and is well formed. */
		if ((size_t)n > size || !h.method || !h.target || !*h.method || !*h.target ||
		    h.nfields > HTTPHEAD_MAX_FIELDS)
			abort();
		for (size_t i = 0; i < h.nfields; i++) {
			const char *nm = h.fields[i].name, *v = h.fields[i].value;
			if (nm < buf || nm >= buf + n || v < buf || v >= buf + n || !*nm ||
			    strchr(v, '\r') || strchr(v, '\n'))
				abort();
		}
		(void)httphead_get(&h, "host");
	} else if (n < -1) {
		abort();
	}
	free(buf);
	return 0;
}
