/* libFuzzer target: route matching on arbitrary request paths. Input:
 * METHOD, a NUL byte, then the path. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "server/routes.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	char *buf = malloc(size + 2);
	if (!buf)
		return 0;
	memcpy(buf, data, size);
	buf[size] = buf[size + 1] = '\0';
	const char *method = buf, *path = buf + strlen(buf) + 1;
	if (path > buf + size)
		path = buf + size;
	struct http_req req = { 0 };
	bool known;
	char allow[64];
	const struct route *r = routes_match(method, path, &req, &known, allow, sizeof allow);
	if (r && req.nparams > HTTP_MAX_PARAMS)
		abort();
	for (size_t i = 0; r && i < req.nparams; i++)
		if (strchr(req.params[i], '/') && !((r->flags & ROUTE_TAIL) && i + 1 == req.nparams))
			abort(); /* a capture never spans segments, but a route's tail */
	free(buf);
	return 0;
}
