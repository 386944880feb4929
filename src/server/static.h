/*
 * server/static — the web front-end, served from the embedded assets.
 *
 * `/` answers index.html with Cache-Control: no-cache; everything under
 * /assets/ has a content hash in its name and is cached for a year.
 * Every HTML answer carries a strict Content-Security-Policy.
 */
#ifndef KAON_SERVER_STATIC_H
#define KAON_SERVER_STATIC_H

#include "server/http.h"

void static_serve(struct http_req *req, struct http_resp *resp);

#endif
