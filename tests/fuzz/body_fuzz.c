/* libFuzzer target: JSON request bodies through the field validator, with
 * a table that has every field type. Any 422 must come with a message
 * and no crash, leak or undefined behaviour. */
#include <jansson.h>
#include <stdint.h>
#include <stdlib.h>

#include "api/fields.h"

static const struct fields_spec body_fuzz_fields[] = {
	{ "name", FIELDS_STRING, true, 1, 32 },
	{ "count", FIELDS_INT, false, 0, 100 },
	{ "limit", FIELDS_LIMIT, false, 0, 1 << 20 },
	{ "weight", FIELDS_NUMBER, false, 0, 1000 },
	{ "flag", FIELDS_BOOL, false, 0, 0 },
	{ "groups", FIELDS_STRINGS, false, 1, 16 },
	{ "env", FIELDS_OBJECT, false, 0, 8 },
	{ "after", FIELDS_INTS, false, 0, 8 },
	{ "command", FIELDS_ARGV, false, 1, 8 },
};

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	json_error_t err;
	json_t *j = json_loadb((const char *)data, size, JSON_REJECT_DUPLICATES, &err);
	if (!j || !json_is_object(j)) {
		json_decref(j);
		return 0;
	}
	struct http_resp resp = { 0 };
	if (fields_check(j, body_fuzz_fields, FIELDS_COUNT(body_fuzz_fields), &resp) < 0 &&
	    (resp.status != 422 || !resp.body))
		abort();
	free(resp.body);
	for (size_t i = 0; i < resp.nheaders; i++) {
		free(resp.headers[i].name);
		free(resp.headers[i].value);
	}
	free(resp.headers);
	json_decref(j);
	return 0;
}
