/*
 * store/schema — the migrations, in order. Migration i (0-based) upgrades
 * the schema from version i to i+1. Never edit a migration that has
 * shipped: add a new one.
 */
#ifndef KAON_STORE_SCHEMA_H
#define KAON_STORE_SCHEMA_H

#include <stddef.h>

extern const char *const schema_migrations[];
extern const size_t schema_migrations_count;

#endif
