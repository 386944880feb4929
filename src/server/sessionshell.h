/*
 * server/sessionshell — `kaon session-shell`, the backend of a "shell"
 * session (docs/sessions-backends.md).
 *
 * It runs as the session's job: already the user's uid, inside the job's
 * resource group, started by the job's supervisor. From its environment:
 *
 *   KAON_SESSION_SOCKET   unix socket to listen on (created mode 0600), or
 *   KAON_SESSION_PORT     a port on 127.0.0.1
 *   KAON_SESSION_SECRET   what every request must carry, as
 *                         "Authorization: token SECRET" (kaon's proxy adds
 *                         it); anything else gets 403
 *   KAON_BASE_URL         "/s/ID/": everything is served under it
 *
 * It starts the user's login shell on a PTY (exec/pty, as the web
 * terminals do) and serves:
 *
 *   GET {base_url}        200 {"kind":"shell",...}: kaon's readiness probe
 *   GET {base_url}tty     WebSocket: the terminal, in exactly the protocol
 *                         of /api/v1/terminals/{id}/ws (termctl.h,
 *                         docs/terminal.md), so the page's terminal attaches
 *                         unchanged
 *
 * One shell per session; every WebSocket attaches to it, with the
 * scrollback replayed first, like the daemon's terminals: a reloaded page
 * or a second tab finds the same shell, which is what a session is for.
 * The shell lives on with no client attached (the daemon culls idle
 * sessions, not this). When the shell exits, clients get the exit message
 * and session-shell exits with the shell's status, so the session's job
 * ends. On SIGTERM (the job cancelled or out of time) or SIGINT/SIGHUP it
 * hangs up the shell's session, SIGKILLs what is left two seconds later,
 * tells the clients, and exits 0; the supervisor does the rest.
 *
 * One thread, one poll loop: the shell's PTY, the listening socket and
 * every connection. HTTP request heads are read by lib/httphead; the
 * WebSocket framing is server/ws.c.
 */
#ifndef KAON_SERVER_SESSIONSHELL_H
#define KAON_SERVER_SESSIONSHELL_H

/* The verb; returns the process exit status. */
int sessionshell_main(int argc, char **argv);

#endif
