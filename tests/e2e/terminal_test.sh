#!/usr/bin/env bash
# terminal_test — the web terminal against the real daemon, through its
# WebSocket (build/tools/wsclient): open, run a command and see its output,
# resize, reattach and find the scrollback and the same shell, several
# clients at once, the shell's exit, DELETE, the Origin check (403), another
# user's terminal (404), the handshake checks, the frame size limit, the
# max_sessions limit (429), the grace period and the idle timeout. As root:
# the shell runs as the user's uid, in their home, as their login shell.
. "$(dirname "$0")/lib.sh"

WSC=$ROOT/build/tools/wsclient
if [ ! -x "$WSC" ]; then
	make -C "$ROOT" --no-print-directory build/tools/wsclient >/dev/null ||
		{ fail "build/tools/wsclient builds"; finish; }
fi

printf '[terminal]\ngrace_s = 6\nscrollback_kib = 16\n' >"$T/kaon.ini"
start_server --config "$T/kaon.ini" || { fail "server starts"; finish; }
ADMIN=$(admin_token) || { fail "admin token"; finish; }
ALICE=alice$RUN_ID BOB=bob$RUN_ID
use_token "$ADMIN"
api POST /api/v1/groups "{\"name\":\"term$RUN_ID\",\"max_sessions\":2}"
check_status 201 "a group allowing 2 sessions"
for u in "$ALICE" "$BOB"; do
	api POST /api/v1/users "{\"username\":\"$u\",\"password\":\"$u-password\",\"groups\":[\"term$RUN_ID\"]}"
	check_status 201 "create $u"
done
ALICE_TOKEN=$(new_token "$ALICE" "$ALICE-password") || fail "token for $ALICE"
BOB_TOKEN=$(new_token "$BOB" "$BOB-password") || fail "token for $BOB"
use_token "$ALICE_TOKEN"
api GET /api/v1/me
AHOME=$(jq -r .home <<<"$BODY") AUID=$(jq -r .uid <<<"$BODY")

WS=ws://127.0.0.1:$PORT/api/v1/terminals
# ws TOKEN ID [wsclient args and steps...] — run wsclient against terminal
# ID; its stdout in $WS_OUT, its exit status returned.
ws() {
	local tok=$1 id=$2
	shift 2
	WS_OUT=$("$WSC" -t 10 -H "Authorization: Bearer $tok" "$WS/$id/ws" "$@" 2>"$T/ws.err")
}
# ws_with TOKEN ID OPTS... -- STEPS... — the same with wsclient options.
ws_with() {
	local tok=$1 id=$2
	shift 2
	local opts=()
	while [ $# -gt 0 ] && [ "$1" != -- ]; do opts+=("$1"); shift; done
	shift
	WS_OUT=$("$WSC" -t 10 "${opts[@]}" -H "Authorization: Bearer $tok" "$WS/$id/ws" "$@" 2>"$T/ws.err")
}

# ---- open, list, run a command ----------------------------------------------------
api POST /api/v1/terminals '{"cols":100,"rows":30}'
check_status 201 "POST /terminals -> 201"
check_schema Terminal . "... answered as a Terminal"
check_jq '.cols == 100 and .rows == 30 and .clients == 0' "... of the size asked for, no client yet"
TERM1=$(jq -r .id <<<"$BODY")
api GET /api/v1/terminals
check_status 200 "GET /terminals -> 200"
check_schema TerminalList . "... answered as a TerminalList"
check_jq --arg id "$TERM1" '[.terminals[].id] == [$id]' "... listing it"
api GET "/api/v1/terminals/$TERM1"
check_status 200 "GET /terminals/ID -> 200"

# The command echoes differently from its output, so the match is the output.
ws "$ALICE_TOKEN" "$TERM1" 'send:echo ab$((6*7))cd\r' 'expect:ab42cd' 'send:TERMVAR=kept$((1+1))\r' \
	'send:echo S$(stty size)S\r' 'expect:S30 100S'
check_eq "$?" 0 "attach, run 'echo', see its output and the PTY size"
check "... with TERM=xterm-256color and the home as cwd" \
	"$WSC" -t 10 -H "Authorization: Bearer $ALICE_TOKEN" "$WS/$TERM1/ws" \
	'send:echo T$TERM:$PWD:$HOME:T\r' "expect:Txterm-256color:$AHOME:$AHOME:T"
ws "$ALICE_TOKEN" "$TERM1" 'ctl:{"type":"resize","cols":120,"rows":40}' 'sleep:100' \
	'send:echo R$(stty size)R\r' 'expect:R40 120R'
check_eq "$?" 0 "a resize message changes the PTY size"
ws "$ALICE_TOKEN" "$TERM1" 'ctl:{"type":"resize","cols":0}' 'ctl:not json' 'send:echo ok$((2+3))\r' 'expect:ok5'
check_eq "$?" 0 "bad control messages are ignored, the terminal goes on"

# ---- reattach: scrollback and the same shell ------------------------------------------
ws "$ALICE_TOKEN" "$TERM1" 'expect:ab42cd' 'send:echo v=$TERMVAR\r' 'expect:v=kept2'
check_eq "$?" 0 "reattach: the scrollback is replayed, the shell variable is still set"
api GET "/api/v1/terminals/$TERM1"
check_jq '.clients == 0 and .cols == 120' "after the clients left it lives on, with its last size"

# Two clients at once see the same output.
("$WSC" -t 10 -H "Authorization: Bearer $ALICE_TOKEN" "$WS/$TERM1/ws" 'sleep:700' 'expect:two$((1))clients' \
	'expect:two1clients' >/dev/null 2>&1; echo $? >"$T/second.rc") &
SECOND=$!
sleep 0.3
ws "$ALICE_TOKEN" "$TERM1" 'send:echo two$((1))clients\r' 'expect:two1clients'
wait "$SECOND"
check_eq "$?:$(cat "$T/second.rc")" "0:0" "a second client attached at the same time sees the same output"

if [ "$(id -u)" = 0 ]; then
	ws "$ALICE_TOKEN" "$TERM1" 'send:echo U$(id -u)U G$(id -g)G $0\r' "expect:U${AUID}U"
	check_eq "$?" 0 "as root: the shell runs as the user's uid ($AUID)"
	check_ne "$AUID" 0 "... which is not root's"
	ws_with "$ALICE_TOKEN" "$TERM1" -o -- 'send:echo Z$0Z; tty\r' 'expect:/dev/pts/'
	check "... as a login shell (argv[0] starts with '-')" grep -q 'Z-bashZ' <<<"$WS_OUT"
	PTS=$(grep -o '/dev/pts/[0-9]*' <<<"$WS_OUT" | tail -n1)
	check_eq "$(stat -c %u "$PTS" 2>/dev/null)" "$AUID" "... on a PTY that belongs to the user"
else
	skip "the shell's uid, login shell and PTY owner need root (multi-user mode)"
fi

# ---- refusals ------------------------------------------------------------------------
ws_with "$ALICE_TOKEN" "$TERM1" -H "Origin: http://evil.example" --
check_eq "$?:$(head -n1 <<<"$WS_OUT")" "2:HTTP 403" "a WebSocket from another site's page -> 403"
check "... forbidden_origin" grep -q forbidden_origin <<<"$WS_OUT"
ws_with "$ALICE_TOKEN" "$TERM1" -H "Origin: http://127.0.0.1:$PORT" -- 'send:echo same$((0))origin\r' 'expect:same0origin'
check_eq "$?" 0 "a WebSocket from this server's own page is accepted"
ws "$BOB_TOKEN" "$TERM1"
check_eq "$?:$(head -n1 <<<"$WS_OUT")" "2:HTTP 404" "another user cannot attach to my terminal (404)"
use_token "$BOB_TOKEN"
api GET "/api/v1/terminals/$TERM1"
check_error 404 not_found "... nor see it"
api DELETE "/api/v1/terminals/$TERM1"
check_error 404 not_found "... nor end it"
api GET /api/v1/terminals
check_jq '.terminals == []' "... and does not list it"
use_token "$ALICE_TOKEN"
ws "$ALICE_TOKEN" 0123456789abcdef
check_eq "$?:$(head -n1 <<<"$WS_OUT")" "2:HTTP 404" "an unknown terminal -> 404"
WS_OUT=$("$WSC" -t 10 "$WS/$TERM1/ws" 2>/dev/null)
check_eq "$(head -n1 <<<"$WS_OUT")" "HTTP 401" "no credentials -> 401"
api GET "/api/v1/terminals/$TERM1/ws"
check_error 426 upgrade_required "a plain GET of the WebSocket route -> 426"
api GET "/api/v1/terminals/$TERM1/ws" '' -X GET -H 'Upgrade: websocket' -H 'Connection: Upgrade' \
	-H 'Sec-WebSocket-Version: 13' -H 'Sec-WebSocket-Key: tooshort'
check_error 400 bad_handshake "a bad Sec-WebSocket-Key -> 400"
api GET "/api/v1/terminals/$TERM1/ws" '' -X GET -H 'Upgrade: websocket' -H 'Connection: Upgrade' \
	-H 'Sec-WebSocket-Version: 8' -H 'Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ=='
check_error 426 upgrade_required "another WebSocket version -> 426"
api POST /api/v1/terminals '{"cols":0}'
check_error 422 invalid "cols 0 -> 422"
api POST /api/v1/terminals '{"shell":"/bin/sh"}'
check_error 422 invalid "an unknown field -> 422"
# A message over 64 KiB closes the connection; the terminal lives on.
head -c 70000 /dev/zero | tr '\0' a >"$T/big"
ws "$ALICE_TOKEN" "$TERM1" "send:$(cat "$T/big")" 'wait-close'
check_eq "$?" 0 "a message over 64 KiB: the server closes the connection"
ws "$ALICE_TOKEN" "$TERM1" 'send:sleep 30\r' 'sleep:300' 'send:\x03' 'sleep:300' 'send:echo still$((1))here\r' 'expect:still1here'
check_eq "$?" 0 "... and the terminal is still there (Ctrl-C reaches the shell)"

# ---- the limit, the shell's exit, DELETE -----------------------------------------------
api POST /api/v1/terminals
check_status 201 "a second terminal"
TERM2=$(jq -r .id <<<"$BODY")
api POST /api/v1/terminals
check_error 429 too_many_terminals "a third one, over the group's max_sessions of 2 -> 429"
check_jq '.error.message | test("2 open terminals") and test("term'"$RUN_ID"'")' "... saying the limit and the group"
use_token "$BOB_TOKEN"
api POST /api/v1/terminals
check_status 201 "the limit is per user: bob may open one"
BOBTERM=$(jq -r .id <<<"$BODY")
use_token "$ALICE_TOKEN"

ws_with "$ALICE_TOKEN" "$TERM2" -o -- 'send:exit 7\r' 'wait-close'
check_eq "$?" 0 "'exit' in the shell closes the WebSocket"
check "... after an exit message with the status" grep -q '"type":"exit","reason":"exited","status":7' <<<"$WS_OUT"
sleep 0.3
api GET "/api/v1/terminals/$TERM2"
check_error 404 not_found "... and the terminal is gone"

("$WSC" -t 10 -o -H "Authorization: Bearer $ALICE_TOKEN" "$WS/$TERM1/ws" 'send:sleep 300 & sleep 400\r' \
	'wait-close' >"$T/deleted.out" 2>&1; echo $? >>"$T/deleted.out") &
DELETED=$!
sleep 1
api DELETE "/api/v1/terminals/$TERM1"
check_status 204 "DELETE /terminals/ID -> 204"
wait "$DELETED"
check "... the attached client gets the exit message and a close" grep -q '"reason":"ended"' "$T/deleted.out"
for _ in $(seq 40); do
	pgrep -f 'sleep [34]00' -u "$AUID" >/dev/null 2>&1 || break
	sleep 0.1
done
if [ "$(id -u)" = 0 ]; then
	check "... and the shell's session, background jobs included, is killed" \
		test -z "$(pgrep -u "$AUID" -f 'sleep [34]00')"
else
	check "... and the shell's session, background jobs included, is killed" \
		test -z "$(pgrep -f 'sleep [34]00')"
fi
api GET /api/v1/terminals
check_jq '.terminals == []' "alice has no terminal left"

# ---- grace period: a terminal without clients ends -----------------------------------
api POST /api/v1/terminals
TERM3=$(jq -r .id <<<"$BODY")
ws "$ALICE_TOKEN" "$TERM3" 'send:echo x\r' 'expect:x'
ended=
for _ in $(seq 80); do
	api GET "/api/v1/terminals/$TERM3"
	[ "$STATUS" = 404 ] && { ended=1; break; }
	sleep 0.2
done
check_eq "$ended" 1 "with no client for grace_s (6 s), the terminal ends"
grep -q "terminal $TERM3 .*ended (grace)" "$SERVER_LOG"
check_eq "$?" 0 "... logged as the grace period running out"

# ---- idle timeout, after a restart (terminals end with the daemon) ------------------------
use_token "$BOB_TOKEN"
api POST /api/v1/terminals
BOBTERM=$(jq -r .id <<<"$BODY")
("$WSC" -t 15 -o -H "Authorization: Bearer $BOB_TOKEN" "$WS/$BOBTERM/ws" 'wait-close' >"$T/shutdown.out" 2>&1) &
SHUT=$!
sleep 0.5
printf '[terminal]\nidle_s = 2\n' >"$T/idle.ini"
restart_server --config "$T/idle.ini" || { fail "server restarts"; finish; }
wait "$SHUT"
check "at shutdown an attached client is told (reason shutdown)" grep -q '"reason":"shutdown"' "$T/shutdown.out"
WS=ws://127.0.0.1:$PORT/api/v1/terminals
api GET /api/v1/terminals
check_jq '.terminals == []' "terminals do not survive a restart"
api POST /api/v1/terminals
TERM4=$(jq -r .id <<<"$BODY")
ws_with "$BOB_TOKEN" "$TERM4" -t 8 -o -- 'wait-close'
check_eq "$?" 0 "with idle_s = 2, an attached but idle terminal ends"
check "... with the reason idle" grep -q '"reason":"idle"' <<<"$WS_OUT"

stop_server
finish
