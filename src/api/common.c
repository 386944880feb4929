/* api/common — small JSON helpers shared by the handlers (see api.h). */
#include <time.h>

#include "api/api.h"

json_t *api_time_json(int64_t t)
{
	if (t < 0)
		return json_null();
	char buf[32];
	struct tm tm;
	time_t tt = (time_t)t;
	gmtime_r(&tt, &tm);
	strftime(buf, sizeof buf, "%Y-%m-%dT%H:%M:%SZ", &tm);
	return json_string(buf);
}
