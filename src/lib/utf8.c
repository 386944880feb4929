/* utf8 — validation and repair of UTF-8 (see utf8.h). */
#include "lib/utf8.h"

#include <string.h>

#include "lib/xalloc.h"

/* Length of the valid sequence at s (1..4), 0 when invalid, or -n when
 * it is a valid start cut short after n bytes by the end of the buffer. */
static int utf8_seq(const unsigned char *s, size_t avail)
{
	unsigned char c = s[0];
	int need;
	unsigned lo = 0x80, hi = 0xBF;
	if (c < 0x80)
		return 1;
	if (c >= 0xC2 && c <= 0xDF)
		need = 2;
	else if (c >= 0xE0 && c <= 0xEF) {
		need = 3;
		if (c == 0xE0)
			lo = 0xA0; /* no overlong forms */
		if (c == 0xED)
			hi = 0x9F; /* no surrogates */
	} else if (c >= 0xF0 && c <= 0xF4) {
		need = 4;
		if (c == 0xF0)
			lo = 0x90;
		if (c == 0xF4)
			hi = 0x8F;
	} else
		return 0;
	for (int i = 1; i < need; i++) {
		if ((size_t)i >= avail)
			return -i;
		unsigned b = s[i];
		if (b < (i == 1 ? lo : 0x80) || b > (i == 1 ? hi : 0xBF))
			return 0;
	}
	return need;
}

size_t utf8_whole_prefix(const char *buf, size_t len)
{
	/* Only the last three bytes can start a cut-short sequence. */
	size_t from = len > 3 ? len - 3 : 0;
	for (size_t i = from; i < len; i++)
		if (utf8_seq((const unsigned char *)buf + i, len - i) < 0)
			return i;
	return len;
}

char *utf8_sanitize(const char *buf, size_t len, size_t *out_len)
{
	char *out = xmalloc(len * 3 + 1);
	size_t o = 0;
	for (size_t i = 0; i < len;) {
		int n = utf8_seq((const unsigned char *)buf + i, len - i);
		if (n > 0) {
			memcpy(out + o, buf + i, (size_t)n);
			o += (size_t)n;
			i += (size_t)n;
		} else {
			memcpy(out + o, "\xEF\xBF\xBD", 3);
			o += 3;
			i++;
		}
	}
	out[o] = '\0';
	*out_len = o;
	return out;
}
