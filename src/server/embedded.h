/*
 * server/embedded — files compiled into the binary by tools/embed.c:
 * the built web assets under "web/" and the OpenAPI document
 * "openapi.json". The table is generated (build/gen/embedded.c).
 */
#ifndef KAON_SERVER_EMBEDDED_H
#define KAON_SERVER_EMBEDDED_H

#include <stddef.h>

struct embedded_file {
	const char *path;
	const unsigned char *data;
	size_t len;
};

extern const struct embedded_file embedded_files[];
extern const size_t embedded_files_count;

/* The file at path, or NULL. */
const struct embedded_file *embedded_find(const char *path);

#endif
