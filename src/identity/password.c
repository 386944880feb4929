/* identity/password — argon2id with a bounded number of slots. */
#include "identity/password.h"

#include <errno.h>
#include <pthread.h>
#include <semaphore.h>
#include <sodium.h>
#include <string.h>
#include <time.h>

#include "lib/log.h"
#include "lib/xalloc.h"

enum { PASSWORD_SLOT_WAIT_S = 5 };

static sem_t password_slots;
static pthread_once_t password_once = PTHREAD_ONCE_INIT;
static int password_nslots = 2;
static char password_dummy[crypto_pwhash_STRBYTES];

void password_set_slots(int slots)
{
	password_nslots = slots > 0 ? slots : 1;
}

static void password_init(void)
{
	sem_init(&password_slots, 0, (unsigned)password_nslots);
	/* The dummy hash has the same parameters as real ones, so verifying
	 * against it costs the same. Its password is random and forgotten. */
	char pw[33];
	randombytes_buf(pw, 16);
	sodium_bin2hex(pw, sizeof pw, (unsigned char *)pw, 16);
	if (crypto_pwhash_str(password_dummy, pw, strlen(pw), crypto_pwhash_OPSLIMIT_INTERACTIVE,
			      crypto_pwhash_MEMLIMIT_INTERACTIVE) != 0)
		log_error("password: crypto_pwhash_str() failed computing the dummy hash");
}

static int password_slot_take(void)
{
	pthread_once(&password_once, password_init);
	struct timespec deadline;
	clock_gettime(CLOCK_REALTIME, &deadline);
	deadline.tv_sec += PASSWORD_SLOT_WAIT_S;
	while (sem_timedwait(&password_slots, &deadline) < 0) {
		if (errno == EINTR)
			continue;
		return -EBUSY;
	}
	return 0;
}

int password_hash(const char *password, char **out)
{
	if (password_slot_take() < 0)
		return -EBUSY;
	char buf[crypto_pwhash_STRBYTES];
	int rc = crypto_pwhash_str(buf, password, strlen(password), crypto_pwhash_OPSLIMIT_INTERACTIVE,
				   crypto_pwhash_MEMLIMIT_INTERACTIVE);
	sem_post(&password_slots);
	if (rc != 0) {
		log_error("password: crypto_pwhash_str() failed (out of memory?)");
		return -ENOMEM;
	}
	*out = xstrdup(buf);
	return 0;
}

int password_verify(const char *hash, const char *password)
{
	if (password_slot_take() < 0)
		return -EBUSY;
	const char *against = hash ? hash : password_dummy;
	int ok = crypto_pwhash_str_verify(against, password, strlen(password)) == 0;
	sem_post(&password_slots);
	return hash ? ok : 0;
}

char *password_generate(void)
{
	/* 20 characters from an alphabet without look-alikes: ~114 bits. */
	static const char alphabet[] = "abcdefghijkmnopqrstuvwxyzABCDEFGHJKLMNPQRSTUVWXYZ23456789";
	char *pw = xmalloc(21);
	for (int i = 0; i < 20; i++)
		pw[i] = alphabet[randombytes_uniform(sizeof alphabet - 1)];
	pw[20] = '\0';
	return pw;
}
