/* api/openapi — serves the OpenAPI document compiled into the binary. */
#include "api/api.h"
#include "server/embedded.h"

void api_openapi(struct http_req *req, struct http_resp *resp)
{
	const struct embedded_file *f = embedded_find("openapi.json");
	if (!f) {
		http_resp_error(resp, 500, "internal", "this build has no OpenAPI document");
		return;
	}
	resp->status = 200;
	resp->static_body = f->data;
	resp->len = f->len;
	resp->content_type = "application/json";
}
