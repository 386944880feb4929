#!/usr/bin/env bash
# session_shell_test — `kaon session-shell`, the backend of a shell session,
# started by hand the way a session's job starts it (as the user, with
# KAON_SESSION_SOCKET/SECRET and KAON_BASE_URL in its environment), then
# once as a real job of the daemon: the socket is the user's, mode 0600;
# every request without "Authorization: token SECRET" is refused 403; the
# readiness answer; the terminal WebSocket at {base_url}tty (build/tools/
# wsclient -U) with the protocol of kaon's terminals: output, the user's
# uid and home, no secret in the shell's environment, resize, scrollback
# and the same shell on reattach, two clients at once; SIGTERM hangs up the
# shell and tells clients; the shell's exit ends it with its status;
# cancelling the job ends it.
. "$(dirname "$0")/lib.sh"

WSC=$ROOT/build/tools/wsclient
if [ ! -x "$WSC" ]; then
	make -C "$ROOT" --no-print-directory build/tools/wsclient >/dev/null ||
		{ fail "build/tools/wsclient builds"; finish; }
fi

start_server || { fail "server starts"; finish; }
ADMIN=$(admin_token) || { fail "admin token"; finish; }
ALICE=alice$RUN_ID
use_token "$ADMIN"
api POST /api/v1/users "{\"username\":\"$ALICE\",\"password\":\"$ALICE-password\"}"
check_status 201 "create $ALICE"
ALICE_TOKEN=$(new_token "$ALICE" "$ALICE-password") || fail "token for $ALICE"
use_token "$ALICE_TOKEN"
api GET /api/v1/me
AHOME=$(jq -r .home <<<"$BODY") AUSER=$(jq -r .unix_user <<<"$BODY")
AUID=$(jq -r .uid <<<"$BODY")

# As root the backend runs as the user, as a session's job does; the binary
# must then be one the user may run (the checkout may be in a home only
# root can enter).
if [ "$(id -u)" = 0 ]; then
	mkdir -p "$T/bin" && cp "$KAON" "$T/bin/kaon" && chmod 0755 "$T/bin" "$T/bin/kaon"
	SSKAON=$T/bin/kaon
	AGID=$(id -g "$AUSER")
	AS_USER=(setpriv --reuid="$AUID" --regid="$AGID" --init-groups)
	RUNUID=$AUID
else
	SSKAON=$KAON
	AS_USER=()
	RUNUID=$(id -u)
	AHOME=$T/home
	mkdir -p "$AHOME"
	AUSER=$(id -un)
fi
SSDIR=$T/ss
mkdir -p "$SSDIR" && chmod 0700 "$SSDIR"
[ "$(id -u)" = 0 ] && chown "$AUID:$AGID" "$SSDIR"
SOCK=$SSDIR/s.sock
SECRET=$(head -c 32 /dev/urandom | base64 | tr -d '/+=\n')
BASE=/s/7/

# ss_start — start session-shell by hand in the background (SS_PID: setpriv
# and env exec it, so that is its pid), and wait until its socket is there.
ss_start() {
	SS_LOG=$T/ss.$1.log
	rm -f "$SOCK"
	${AS_USER[@]+"${AS_USER[@]}"} env -i PATH=/usr/local/bin:/usr/bin:/bin HOME="$AHOME" USER="$AUSER" LANG=C.UTF-8 \
		KAON_SESSION_SECRET="$SECRET" KAON_SESSION_SOCKET="$SOCK" KAON_BASE_URL="$BASE" \
		KAON_JOB_ID=77 "$SSKAON" session-shell >"$SS_LOG" 2>&1 &
	SS_PID=$!
	local i
	for ((i = 0; i < 100; i++)); do
		[ -S "$SOCK" ] && return 0
		kill -0 "$SS_PID" 2>/dev/null || break
		sleep 0.05
	done
	fail "session-shell listens on $SOCK"
	sed 's/^/    /' "$SS_LOG" >&2
	return 1
}
# ss_wait — wait (5 s at most) for session-shell to exit; its status in SS_RC.
ss_wait() {
	local i
	SS_RC=
	for ((i = 0; i < 100; i++)); do
		kill -0 "$SS_PID" 2>/dev/null || break
		sleep 0.05
	done
	if kill -0 "$SS_PID" 2>/dev/null; then
		SS_RC=timeout
		kill -KILL "$SS_PID" 2>/dev/null
	fi
	wait "$SS_PID"
	local rc=$?
	[ "${SS_RC:-}" = timeout ] || SS_RC=$rc
}
# session_gone SID — no process is left in session SID (2 s at most: a
# process that got its signal may take a moment to go).
session_gone() {
	local i
	for ((i = 0; i < 40; i++)); do
		pgrep -s "$1" >/dev/null || return 0
		sleep 0.05
	done
	return 1
}
check_no_sanitizer_report() {
	if grep -qE 'ERROR: (AddressSanitizer|LeakSanitizer)|runtime error:' "$1"; then
		fail "sanitizer report in $1:"
		grep -m5 -A20 -E 'ERROR: (AddressSanitizer|LeakSanitizer)|runtime error:' "$1" |
			head -40 | sed 's/^/    /'
	else
		pass "no sanitizer report in $(basename "$1")"
	fi
}
# get PATH [curl args] — plain HTTP over the socket; STATUS and BODY.
get() {
	local path=$1
	shift
	BODY=$(curl -s --max-time 10 --unix-socket "$SOCK" -o - -w '\n%{http_code}' "$@" "http://kaon$path")
	STATUS=${BODY##*$'\n'}
	BODY=${BODY%$'\n'*}
}
# await_clients N — wait (5 s at most) until N WebSockets are attached.
await_clients() {
	local i
	for ((i = 0; i < 100; i++)); do
		get "$BASE" -H "$AUTHZ"
		jq -e --argjson n "$1" '.clients == $n' <<<"$BODY" >/dev/null 2>&1 && return 0
		sleep 0.05
	done
	return 1
}
WSURL=ws://kaon${BASE}tty
AUTHZ="Authorization: token $SECRET"
# ws [wsclient options] -- STEPS... — the terminal; stdout in WS_OUT.
ws() {
	local opts=()
	while [ $# -gt 0 ] && [ "$1" != -- ]; do opts+=("$1"); shift; done
	shift
	WS_OUT=$("$WSC" -t 10 -U "$SOCK" "${opts[@]}" "$WSURL" "$@" 2>"$T/ws.err")
}

# ---- the environment it needs ------------------------------------------------------
OUT=$(env -i PATH=/usr/bin:/bin "$KAON" session-shell 2>&1)
check_eq "$?" 2 "without its environment session-shell exits 2"
check "... saying what it needs" grep -q KAON_SESSION_SECRET <<<"$OUT"
check "... and it is not in 'kaon help'" bash -c "! '$KAON' help | grep -q session-shell"

# ---- listening, refusing ---------------------------------------------------------------
ss_start 1 || finish
check_eq "$(stat -c '%a %u' "$SOCK")" "600 $RUNUID" "the socket is the user's, mode 0600"
get "$BASE"
check_eq "$STATUS" 403 "no Authorization -> 403"
check_jq '.error.code == "forbidden"' "... with kaon's JSON error"
get "$BASE" -H "Authorization: token wrong$SECRET"
check_eq "$STATUS" 403 "a wrong secret -> 403"
get "$BASE" -H "Authorization: token ${SECRET:1}"
check_eq "$STATUS" 403 "a prefix of the secret -> 403"
get "$BASE" -H "Authorization: Bearer $SECRET"
check_eq "$STATUS" 403 "the secret as a Bearer token -> 403"
get /s/8/ -H "Authorization: token wrong"
check_eq "$STATUS" 403 "any path without the secret -> 403"
get "$BASE" -H "$AUTHZ"
check_eq "$STATUS" 200 "GET {base_url} with the secret -> 200 (the readiness probe)"
check_jq --arg t "${BASE}tty" '.kind == "shell" and .tty == $t and .clients == 0' "... saying it is a shell session"
get "$BASE?x=1" -H "authorization:   token $SECRET" -I
check_eq "$STATUS" 200 "HEAD, a query, the header's name in lower case -> 200"
get "${BASE}nope" -H "$AUTHZ"
check_eq "$STATUS" 404 "another path -> 404"
get /s/8/ -H "$AUTHZ"
check_eq "$STATUS" 404 "another session's base -> 404"
get "$BASE" -H "$AUTHZ" -X POST -d x=1
check_eq "$STATUS" 405 "POST {base_url} -> 405"
get "${BASE}tty" -H "$AUTHZ"
check_eq "$STATUS" 426 "a plain GET of {base_url}tty -> 426"
RAW=$(printf 'GET %s HTTP/1.1\r\nHost : x\r\n\r\n' "$BASE" | curl -s --max-time 5 --unix-socket "$SOCK" telnet://kaon 2>/dev/null | head -n1)
check "a malformed request -> 400" grep -q '^HTTP/1.1 400' <<<"$RAW"

ws -- 'send:echo hi\r'
check_eq "$?:$(head -n1 <<<"$WS_OUT")" "2:HTTP 403" "the terminal without the secret -> 403"
ws -H "Authorization: token nope" -- 'send:echo hi\r'
check_eq "$?:$(head -n1 <<<"$WS_OUT")" "2:HTTP 403" "the terminal with a wrong secret -> 403"

# ---- the terminal ------------------------------------------------------------------------
ws -H "$AUTHZ" -- 'send:echo hi$((6*7))\r' 'expect:hi42' 'send:SSVAR=kept$((1+1))\r'
check_eq "$?" 0 "the terminal: 'echo hi' and its output"
ws -o -H "$AUTHZ" -- 'send:echo "U$(id -u):$PWD:${KAON_SESSION_SECRET:-none}:$KAON_JOB_ID:$TERM:U"; echo Z$0Z\r' \
	"expect:U$RUNUID:$AHOME:none:77:xterm-256color:U" 'expect:Z-'
check_eq "$?" 0 "... the user's uid, in the home, the job's environment without the secret, TERM set, a login shell (argv[0] starts with '-')"
ws -H "$AUTHZ" -- 'ctl:{"type":"resize","cols":120,"rows":40}' 'sleep:100' 'send:echo R$(stty size)R\r' 'expect:R40 120R'
check_eq "$?" 0 "a resize message changes the PTY size"
ws -H "$AUTHZ" -- 'ctl:not json' 'send:echo ok$((2+3))\r' 'expect:ok5'
check_eq "$?" 0 "a bad control message is ignored"
ws -H "$AUTHZ" -- 'expect:hi42' 'send:echo v=$SSVAR\r' 'expect:v=kept2'
check_eq "$?" 0 "reattach: the scrollback is replayed, the same shell (its variable is set)"

("$WSC" -t 10 -U "$SOCK" -H "$AUTHZ" "$WSURL" 'sleep:700' 'expect:two$((1))clients' \
	'expect:two1clients' >/dev/null 2>&1; echo $? >"$T/second.rc") &
SECOND=$!
check "the readiness answer counts the client attached" await_clients 1
ws -H "$AUTHZ" -- 'send:echo two$((1))clients\r' 'expect:two1clients'
wait "$SECOND"
check_eq "$?:$(cat "$T/second.rc")" "0:0" "a second client attached at the same time sees the same output"

# ---- SIGTERM: the shell is hung up, clients are told -------------------------------------
ws -H "$AUTHZ" -- 'send:echo $$ >'"$SSDIR"'/shellpid; sleep 1000 & echo wr$((1))ote\r' 'expect:wr1ote'
SHELLPID=$(cat "$SSDIR/shellpid" 2>/dev/null)
check "the shell's pid is known ($SHELLPID)" test -n "$SHELLPID"
("$WSC" -t 10 -o -U "$SOCK" -H "$AUTHZ" "$WSURL" 'wait-close' >"$T/term.out" 2>&1; echo "rc=$?" >>"$T/term.out") &
WATCH=$!
await_clients 1
kill -TERM "$SS_PID"
ss_wait
check_eq "$SS_RC" 0 "on SIGTERM session-shell exits 0"
wait "$WATCH"
check "... an attached client gets the exit message (reason ended)" grep -q '"type":"exit","reason":"ended"' "$T/term.out"
check "... and a clean close" grep -q 'rc=0' "$T/term.out"
check "... the shell and its background job are gone" session_gone "$SHELLPID"
check "... the socket is removed" test ! -e "$SOCK"
check_no_sanitizer_report "$SS_LOG"

# ---- the shell's exit ends it, with the shell's status ---------------------------------
ss_start 2 || finish
ws -o -H "$AUTHZ" -- 'send:exit 3\r' 'wait-close'
check_eq "$?" 0 "'exit 3' in the shell closes the connection"
check "... after the exit message with the status" grep -q '"reason":"exited","status":3' <<<"$WS_OUT"
ss_wait
check_eq "$SS_RC" 3 "... and session-shell exits with the shell's status"
check_no_sanitizer_report "$SS_LOG"

# ---- as a job: cancel ends it ---------------------------------------------------------------
use_token "$ALICE_TOKEN"
JOBSOCK=$SSDIR/job.sock
submit "$(jq -n --arg k "$SSKAON" --arg s "$SECRET" --arg p "$JOBSOCK" --arg b "$BASE" \
	'{command:[$k,"session-shell"], env:{KAON_SESSION_SECRET:$s, KAON_SESSION_SOCKET:$p, KAON_BASE_URL:$b}}')"
check_status 201 "a job running session-shell is accepted"
job_wait "$JOB" running 10
for ((i = 0; i < 100; i++)); do [ -S "$JOBSOCK" ] && break; sleep 0.05; done
SOCK=$JOBSOCK
ws -H "$AUTHZ" -- 'send:echo J$KAON_JOB_ID:$(id -u)J\r' "expect:J$JOB:${RUNUID}J"
check_eq "$?" 0 "the job's shell answers, with the job's id and the user's uid"
("$WSC" -t 15 -o -U "$SOCK" -H "$AUTHZ" "$WSURL" 'wait-close' >"$T/cancel.out" 2>&1) &
WATCH=$!
await_clients 1
api POST "/api/v1/jobs/$JOB/cancel"
check_job_ends "$JOB" cancelled "cancelling the job ends it as cancelled" 15
wait "$WATCH"
check "... the attached client is told (reason ended)" grep -q '"reason":"ended"' "$T/cancel.out"
check "... and the socket is gone" test ! -e "$JOBSOCK"
check_no_sanitizer_report "$DATA/jobs/$JOB/stderr"

stop_server
finish
