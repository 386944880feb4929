/*
 * api/fields — validation of JSON request bodies against a table of
 * fields, so that every handler refuses bad input the same way: 422 with
 * a message naming the field, before anything is written.
 */
#ifndef KAON_API_FIELDS_H
#define KAON_API_FIELDS_H

#include <jansson.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "server/http.h"

enum fields_type {
	FIELDS_STRING,  /* min/max: length in bytes */
	FIELDS_INT,     /* min/max: value */
	FIELDS_LIMIT,   /* integer in min..max, or null for "no limit" */
	FIELDS_NUMBER,  /* integer or real, > 0 and <= max */
	FIELDS_BOOL,
	FIELDS_STRINGS, /* array of strings; min/max: count; each 1..64 bytes */
	FIELDS_OBJECT,  /* JSON object; min/max: number of keys (contents checked by the caller) */
	FIELDS_INTS,    /* array of positive integers (ids); min/max: count */
	FIELDS_ARGV,    /* array of strings; min/max: count; each up to 128 KiB, no NUL */
};

struct fields_spec {
	const char *name;
	enum fields_type type;
	bool required;
	int64_t min, max;
};

/* 0 when obj has only known fields, every required one, each of the right
 * type and range; else answer 422 and return -1. */
int fields_check(json_t *obj, const struct fields_spec *specs, size_t n, struct http_resp *resp);
/* For PATCH: 422 unless obj has at least one field. */
int fields_require_some(json_t *obj, struct http_resp *resp);

#define FIELDS_COUNT(a) (sizeof(a) / sizeof((a)[0]))

#endif
