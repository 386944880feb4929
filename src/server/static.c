/* server/static — embedded web assets with MIME types and caching. */
#include "server/static.h"

#include <string.h>

#include "server/embedded.h"

/* No inline scripts or styles, no third-party origins, no framing. */
#define STATIC_CSP                                                                                    \
	"default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data:; "             \
	"font-src 'self'; connect-src 'self'; object-src 'none'; base-uri 'none'; "                   \
	"form-action 'self'; frame-ancestors 'none'"

static const struct {
	const char *ext;
	const char *type;
} static_types[] = {
	{ ".html", "text/html; charset=utf-8" },
	{ ".js", "text/javascript; charset=utf-8" },
	{ ".css", "text/css; charset=utf-8" },
	{ ".json", "application/json" },
	{ ".svg", "image/svg+xml" },
	{ ".png", "image/png" },
	{ ".ico", "image/x-icon" },
	{ ".woff2", "font/woff2" },
	{ ".map", "application/json" },
	{ ".txt", "text/plain; charset=utf-8" },
};

static const char *static_type(const char *path)
{
	const char *dot = strrchr(path, '.');
	for (size_t i = 0; dot && i < sizeof static_types / sizeof static_types[0]; i++)
		if (strcmp(dot, static_types[i].ext) == 0)
			return static_types[i].type;
	return "application/octet-stream";
}

void static_serve(struct http_req *req, struct http_resp *resp)
{
	if (strcmp(req->method, "GET") != 0 && strcmp(req->method, "HEAD") != 0) {
		http_resp_header(resp, "Allow", "GET, HEAD");
		http_resp_error(resp, 405, "method_not_allowed", "%s is not allowed on %s", req->method,
				req->path);
		return;
	}
	const char *path = req->path;
	bool is_index = strcmp(path, "/") == 0 || strcmp(path, "/index.html") == 0;
	char key[512];
	if (is_index)
		path = "/index.html";
	else if (strncmp(path, "/assets/", 8) != 0 || strstr(path, "..")) {
		http_resp_error(resp, 404, "not_found", "no such page: %s", req->path);
		return;
	}
	if (snprintf(key, sizeof key, "web%s", path) >= (int)sizeof key) {
		http_resp_error(resp, 404, "not_found", "no such page");
		return;
	}
	const struct embedded_file *f = embedded_find(key);
	if (!f) {
		http_resp_error(resp, 404, "not_found", "no such page: %s", req->path);
		return;
	}
	resp->status = 200;
	resp->static_body = f->data;
	resp->len = f->len;
	resp->content_type = static_type(path);
	if (is_index) {
		http_resp_header(resp, "Cache-Control", "no-cache");
		http_resp_header(resp, "Content-Security-Policy", STATIC_CSP);
		http_resp_header(resp, "X-Frame-Options", "DENY");
	} else {
		http_resp_header(resp, "Cache-Control", "public, max-age=31536000, immutable");
	}
}
