/* identity/secret — random secrets with libsodium (see secret.h). */
#include "identity/secret.h"

#include <sodium.h>
#include <string.h>

int secret_init(void)
{
	return sodium_init() < 0 ? -1 : 0;
}

void secret_random(char out[SECRET_B64_LEN + 1])
{
	unsigned char raw[SECRET_BYTES];
	randombytes_buf(raw, sizeof raw);
	sodium_bin2base64(out, SECRET_B64_LEN + 1, raw, sizeof raw,
			  sodium_base64_VARIANT_URLSAFE_NO_PADDING);
	sodium_memzero(raw, sizeof raw);
}

void secret_hash(const char *s, size_t len, unsigned char out[SECRET_HASH_LEN])
{
	crypto_hash_sha256(out, (const unsigned char *)s, len);
}

int secret_compare(const char *a, const char *b)
{
	size_t la = strlen(a), lb = strlen(b);
	if (la != lb || la == 0)
		return -1;
	return sodium_memcmp(a, b, la);
}
