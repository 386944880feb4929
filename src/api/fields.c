/* api/fields — table-driven body validation (see fields.h). */
#include "api/fields.h"

#include <string.h>

static const char *fields_type_name(enum fields_type t)
{
	static const char *const names[] = { "a string",  "an integer", "an integer or null",
					     "a number",  "a boolean",  "an array of strings",
					     "an object", "an array of ids", "an array of strings" };
	return names[t];
}

static int fields_check_count(const struct fields_spec *s, size_t n, struct http_resp *resp)
{
	if ((int64_t)n >= s->min && (int64_t)n <= s->max)
		return 0;
	http_resp_error(resp, 422, "invalid", "field '%s' must have %lld to %lld entries", s->name,
			(long long)s->min, (long long)s->max);
	return -1;
}

/* Objects, id lists and argv lists: the container, its size, its items. */
static int fields_check_list(const struct fields_spec *s, json_t *v, struct http_resp *resp)
{
	if (s->type == FIELDS_OBJECT ? !json_is_object(v) : !json_is_array(v)) {
		http_resp_error(resp, 422, "invalid", "field '%s' must be %s", s->name,
				fields_type_name(s->type));
		return -1;
	}
	if (s->type == FIELDS_OBJECT)
		return fields_check_count(s, json_object_size(v), resp);
	if (fields_check_count(s, json_array_size(v), resp) < 0)
		return -1;
	size_t i;
	json_t *e;
	json_array_foreach(v, i, e)
	{
		bool ok = s->type == FIELDS_INTS
				  ? json_is_integer(e) && json_integer_value(e) > 0
				  : json_is_string(e) && json_string_length(e) <= 128 * 1024 &&
					    !memchr(json_string_value(e), '\0', json_string_length(e));
		if (!ok) {
			http_resp_error(resp, 422, "invalid", "field '%s' entry %zu must be %s", s->name, i,
					s->type == FIELDS_INTS ? "a positive integer"
							       : "a string without NUL, at most 128 KiB");
			return -1;
		}
	}
	return 0;
}

static int fields_check_one(const struct fields_spec *s, json_t *v, struct http_resp *resp)
{
	switch (s->type) {
	case FIELDS_STRING: {
		if (!json_is_string(v))
			break;
		size_t n = json_string_length(v);
		if ((int64_t)n < s->min || (int64_t)n > s->max) {
			http_resp_error(resp, 422, "invalid", "field '%s' must be %lld to %lld characters",
					s->name, (long long)s->min, (long long)s->max);
			return -1;
		}
		if (memchr(json_string_value(v), '\0', n)) {
			http_resp_error(resp, 422, "invalid", "field '%s' must not contain NUL", s->name);
			return -1;
		}
		return 0;
	}
	case FIELDS_LIMIT:
		if (json_is_null(v))
			return 0;
		/* fall through */
	case FIELDS_INT: {
		if (!json_is_integer(v))
			break;
		json_int_t i = json_integer_value(v);
		if (i < s->min || i > s->max) {
			http_resp_error(resp, 422, "invalid", "field '%s' must be from %lld to %lld",
					s->name, (long long)s->min, (long long)s->max);
			return -1;
		}
		return 0;
	}
	case FIELDS_NUMBER: {
		if (!json_is_number(v))
			break;
		double d = json_number_value(v);
		if (!(d > 0) || d > (double)s->max) {
			http_resp_error(resp, 422, "invalid", "field '%s' must be above 0 and at most %lld",
					s->name, (long long)s->max);
			return -1;
		}
		return 0;
	}
	case FIELDS_BOOL:
		if (!json_is_boolean(v))
			break;
		return 0;
	case FIELDS_STRINGS: {
		if (!json_is_array(v))
			break;
		size_t n = json_array_size(v), i;
		json_t *e;
		if ((int64_t)n < s->min || (int64_t)n > s->max) {
			http_resp_error(resp, 422, "invalid", "field '%s' must have %lld to %lld entries",
					s->name, (long long)s->min, (long long)s->max);
			return -1;
		}
		json_array_foreach(v, i, e)
		{
			if (!json_is_string(e) || json_string_length(e) == 0 || json_string_length(e) > 64) {
				http_resp_error(resp, 422, "invalid",
						"field '%s' must hold strings of 1 to 64 characters", s->name);
				return -1;
			}
		}
		return 0;
	}
	case FIELDS_OBJECT:
	case FIELDS_INTS:
	case FIELDS_ARGV:
		return fields_check_list(s, v, resp);
	}
	http_resp_error(resp, 422, "invalid", "field '%s' must be %s", s->name, fields_type_name(s->type));
	return -1;
}

int fields_check(json_t *obj, const struct fields_spec *specs, size_t n, struct http_resp *resp)
{
	const char *key;
	json_t *v;
	json_object_foreach(obj, key, v)
	{
		const struct fields_spec *s = NULL;
		for (size_t i = 0; i < n && !s; i++)
			if (strcmp(specs[i].name, key) == 0)
				s = &specs[i];
		if (!s) {
			http_resp_error(resp, 422, "invalid", "unknown field '%s'", key);
			return -1;
		}
		if (fields_check_one(s, v, resp) < 0)
			return -1;
	}
	for (size_t i = 0; i < n; i++)
		if (specs[i].required && !json_object_get(obj, specs[i].name)) {
			http_resp_error(resp, 422, "invalid", "field '%s' is required", specs[i].name);
			return -1;
		}
	return 0;
}

int fields_require_some(json_t *obj, struct http_resp *resp)
{
	if (json_object_size(obj) > 0)
		return 0;
	http_resp_error(resp, 422, "invalid", "nothing to change: send at least one field");
	return -1;
}
