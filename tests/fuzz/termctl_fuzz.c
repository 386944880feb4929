/* libFuzzer target: the terminal's control messages (text frames of the
 * terminal WebSocket), as a client may send them. */
#include <stdint.h>
#include <stdlib.h>

#include "server/termctl.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct termctl m;
	char *cause = NULL;
	int rc = termctl_parse((const char *)data, size, &m, &cause);
	if (rc == 0) {
		/* Whatever is accepted is in range: it goes to TIOCSWINSZ. */
		if (cause || m.type != TERMCTL_RESIZE || m.cols < 1 || m.rows < 1 ||
		    m.cols > TERMCTL_MAX_DIM || m.rows > TERMCTL_MAX_DIM)
			abort();
	} else if (!cause) {
		abort(); /* every refusal says why */
	}
	free(cause);
	return 0;
}
