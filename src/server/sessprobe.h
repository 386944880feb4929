/*
 * server/sessprobe — one small HTTP GET to a session's backend, for the
 * sessions monitor: is it up yet (readiness), are its kernels busy.
 *
 * The request is HTTP/1.0 (the backend closes after answering, so the
 * body ends at EOF and is never chunked) with `Authorization: token
 * SECRET`, to the backend's unix socket or to 127.0.0.1:PORT.
 *
 * A unix socket lives in a directory its owner controls, who could swap it
 * for a link to any other socket on the machine. The connect is therefore
 * made with the owner's file-system identity (identity/fsident.h), so the
 * kernel allows only what the owner could open anyway; the caller passes
 * that identity (NULL: the daemon's own, as in single-account mode).
 *
 * Blocks for at most timeout_ms in all. Call from a thread that may block.
 */
#ifndef KAON_SERVER_SESSPROBE_H
#define KAON_SERVER_SESSPROBE_H

#include <stddef.h>

struct fsident;

struct sessprobe_target {
	const char *socket; /* a unix socket path, or NULL */
	int port;	    /* a loopback port when socket is NULL */
	const char *secret;
	const struct fsident *owner; /* identity to connect with, or NULL */
};

/* Start a non-blocking connection to the backend, the owner's identity
 * for a unix socket: the fd (connected, or a TCP connect under way: the
 * first write waits for it), or -errno (-EDESTADDRREQ: neither a socket
 * nor a valid port). Never blocks. The proxy connects with it too, so the
 * owner's-identity rule above lives in one place. */
int sessprobe_connect(const struct sessprobe_target *t);

/* GET path. 0 with *status and *body (NUL-terminated, at most max bytes
 * kept, the caller frees; may be NULL when not wanted), or -errno when no
 * HTTP answer came (-ECONNREFUSED, -ENOENT, -ETIMEDOUT, -EPROTO for a
 * malformed one). */
int sessprobe_get(const struct sessprobe_target *t, const char *path, int timeout_ms, size_t max,
		  int *status, char **body);

/* The status code of an HTTP response head ("HTTP/1.1 200 OK..."), or -1. */
int sessprobe_status(const char *head, size_t len);

#endif
