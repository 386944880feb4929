/*
 * lib/ring — a fixed-size byte ring that keeps the most recent bytes
 * written to it (a terminal's scrollback).
 *
 * Writing never fails and never blocks: once full, each write drops the
 * oldest bytes. The capacity is set at creation and never grows, so memory
 * per ring is bounded whatever the writer does. Not thread-safe: the owner
 * locks.
 */
#ifndef KAON_LIB_RING_H
#define KAON_LIB_RING_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

struct ring;

/* A ring of cap bytes (cap > 0). */
struct ring *ring_new(size_t cap);
void ring_free(struct ring *r);
/* Append len bytes; the oldest bytes go when the ring is full. */
void ring_write(struct ring *r, const void *data, size_t len);
/* Bytes held now (at most the capacity). */
size_t ring_len(const struct ring *r);
/* Whether bytes have ever been dropped (the start is mid-stream). */
bool ring_wrapped(const struct ring *r);
/* The content, oldest first, as two spans (the second may be empty). The
 * pointers are valid until the next write. */
void ring_peek(const struct ring *r, const uint8_t **a, size_t *alen, const uint8_t **b,
	       size_t *blen);
/* Offset of the first byte after the first '\n' of the content (so that a
 * replay of a wrapped ring starts on a whole line); 0 when the ring has
 * not wrapped or holds no newline. */
size_t ring_line_start(const struct ring *r);
/* Copy the content from offset `from` (0 = oldest) into dst, at most cap
 * bytes; returns the number copied. */
size_t ring_copy(const struct ring *r, size_t from, void *dst, size_t cap);

#endif
