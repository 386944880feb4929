/* server/termctl — terminal control messages (see termctl.h). */
#include "server/termctl.h"

#include <jansson.h>
#include <stdlib.h>
#include <string.h>

#include "lib/xalloc.h"

static int termctl_dim(json_t *msg, const char *name, int *out, char **cause)
{
	json_t *v = json_object_get(msg, name);
	if (!json_is_integer(v)) {
		*cause = xasprintf("resize: '%s' must be an integer", name);
		return -1;
	}
	json_int_t n = json_integer_value(v);
	if (n < 1 || n > TERMCTL_MAX_DIM) {
		*cause = xasprintf("resize: '%s' must be from 1 to %d", name, TERMCTL_MAX_DIM);
		return -1;
	}
	*out = (int)n;
	return 0;
}

int termctl_parse(const char *data, size_t len, struct termctl *out, char **cause)
{
	memset(out, 0, sizeof *out);
	if (len > TERMCTL_MAX_LEN) {
		*cause = xasprintf("control message over %d bytes", TERMCTL_MAX_LEN);
		return -1;
	}
	json_error_t err;
	json_t *msg = json_loadb(data, len, JSON_REJECT_DUPLICATES, &err);
	if (!msg) {
		*cause = xasprintf("control message is not JSON: %s", err.text);
		return -1;
	}
	int rc = -1;
	const char *type = json_string_value(json_object_get(msg, "type"));
	if (!json_is_object(msg) || !type) {
		*cause = xstrdup("control message must be an object with a string 'type'");
		goto out;
	}
	if (strcmp(type, "resize") == 0) {
		out->type = TERMCTL_RESIZE;
		if (termctl_dim(msg, "cols", &out->cols, cause) < 0 ||
		    termctl_dim(msg, "rows", &out->rows, cause) < 0)
			goto out;
		rc = 0;
	} else {
		*cause = xasprintf("unknown control message type '%.32s'", type);
	}
out:
	json_decref(msg);
	return rc;
}

char *termctl_exit_json(const char *reason, int status)
{
	json_t *j = json_pack("{s:s,s:s,s:o}", "type", "exit", "reason", reason, "status",
			      status < 0 ? json_null() : json_integer(status));
	char *s = json_dumps(j, JSON_COMPACT);
	json_decref(j);
	if (!s)
		abort();
	char *copy = xstrdup(s);
	free(s);
	return copy;
}
