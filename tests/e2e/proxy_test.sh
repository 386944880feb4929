#!/usr/bin/env bash
# proxy_test — kaon's reverse proxy for sessions (/s/ID/...) against a fake
# backend (proxy_backend.py, on a unix socket and on a loopback port):
# who passes (owner, admin) and who does not (another user 403, nobody 401,
# a browser sent to the login page), unknown 404, pending and starting 503,
# ended 410, a dead backend 502; what reaches the backend (the request as
# sent, the secret, never kaon's cookie or token, other cookies kept,
# X-Forwarded-*); bodies both ways streamed (200 MB up and down with the
# daemon's RSS flat, chunked both ways, until-close), HEAD, bad backends
# (not HTTP, hang-up, a head over the limit), a Set-Cookie of kaon's
# session dropped; WebSocket echo through the proxy, with bytes sent right
# behind the 101; the Origin check for cookie sessions; and the backend
# refusing a request without the secret.
. "$(dirname "$0")/lib.sh"

PY=/usr/bin/python3
[ -x "$PY" ] || { fail "$PY is missing (apt-get install -y python3)"; finish; }
WSC=$ROOT/build/tools/wsclient
if [ ! -x "$WSC" ]; then
	make -C "$ROOT" --no-print-directory build/tools/wsclient >/dev/null ||
		{ fail "build/tools/wsclient builds"; finish; }
fi

printf '[node]\noversubscribe = 16\n' >"$T/kaon.ini"
start_server --config "$T/kaon.ini" || { fail "server starts"; finish; }
ADMIN=$(admin_token) || { fail "admin token"; finish; }
ALICE=alice$RUN_ID BOB=bob$RUN_ID
use_token "$ADMIN"
for u in "$ALICE" "$BOB"; do
	api POST /api/v1/users "{\"username\":\"$u\",\"password\":\"$u-password\",\"groups\":[\"researchers\"]}"
	check_status 201 "create $u"
done
ALICE_TOKEN=$(new_token "$ALICE" "$ALICE-password") || fail "token for $ALICE"
BOB_TOKEN=$(new_token "$BOB" "$BOB-password") || fail "token for $BOB"

BACKEND_PIDS=()
cleanup_backends() {
	local p
	for p in ${BACKEND_PIDS[@]+"${BACKEND_PIDS[@]}"}; do kill "$p" 2>/dev/null; done
}
# Then lib.sh's own cleanup, which wants the exit status in $?.
trap 'rc=$?; cleanup_backends; (exit $rc); e2e_cleanup' EXIT

# sql STATEMENT — against the daemon's store (WAL: fine while it runs).
sql() {
	"$PY" -c 'import sqlite3, sys
db = sqlite3.connect(sys.argv[1], timeout=10)
for row in db.execute(sys.argv[2]):
    print("|".join(str(c) for c in row))
db.commit()' "$DATA/kaon.db" "$1"
}

# backend NAME SECRET (--unix PATH | --port N) --base /s/ID/ — start a fake
# backend, wait until it listens.
backend() {
	local name=$1 secret=$2
	shift 2
	KAON_SESSION_SECRET=$secret "$PY" "$ROOT/tests/e2e/proxy_backend.py" "$@" \
		--log "$T/$name.log" >"$T/$name.out" 2>"$T/$name.err" &
	BACKEND_PIDS+=($!)
	local i
	for ((i = 0; i < 100; i++)); do
		grep -q ready "$T/$name.out" 2>/dev/null && return 0
		sleep 0.05
	done
	echo "backend $name did not start: $(cat "$T/$name.err")" >&2
	return 1
}

# session JOB_ID SECRET SOCKET PORT READY — make job JOB_ID a session (the
# row the sessions API would write).
session() {
	sql "UPDATE jobs SET kind = 'session' WHERE id = $1"
	sql "INSERT INTO sessions (job_id, user_id, name, profile, kind, socket, port, secret,
		idle_timeout_s, max_lifetime_s, ready_at, created_at)
		SELECT id, user_id, 's$1', 'test', 'web', $( [ -n "$3" ] && echo "'$3'" || echo NULL),
		$( [ -n "$4" ] && echo "$4" || echo NULL), '$2', 3600, 86400,
		$( [ "$5" = 1 ] && echo "strftime('%s','now')" || echo NULL), strftime('%s','now')
		FROM jobs WHERE id = $1"
}

# ---- the sessions: jobs of alice's, made sessions --------------------------------
use_token "$ALICE_TOKEN"
sleep_job() { # sleep_job [hold] — a job that runs until cancelled
	submit "{\"command\":[\"sleep\",\"3600\"],\"resources\":{\"cpus\":1,\"mem_mb\":64},\"hold\":${1:-false}}" ||
		{ fail "submit a sleep job: $STATUS $BODY"; return 1; }
}
sleep_job && S_UNIX=$JOB
sleep_job && S_TCP=$JOB
sleep_job && S_STARTING=$JOB
sleep_job && S_DEAD=$JOB
sleep_job && S_LINK=$JOB
sleep_job true && S_PENDING=$JOB
sleep_job && S_ENDED=$JOB
for j in $S_UNIX $S_TCP $S_STARTING $S_DEAD $S_LINK $S_ENDED; do
	check_job_ends "$j" running "session job $j runs"
done
api POST "/api/v1/jobs/$S_ENDED/cancel"
check_job_ends "$S_ENDED" cancelled "session job $S_ENDED is cancelled"

SECRET=secret-$RUN_ID-$RANDOM$RANDOM
SOCK=$T/backend.sock
# A port the kernel says is free now (a random one may be some other
# connection's ephemeral port); tried again should it be taken meanwhile.
free_port() { "$PY" -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])'; }
backend unix "$SECRET" --unix "$SOCK" --base "/s/$S_UNIX/" || { fail "backend on a unix socket"; finish; }
# A session's socket is its owner's (kaon connects with the owner's
# file-system identity); root's own socket, which alice cannot open, is
# what a link in her session's place would point at.
[ "$(id -u)" = 0 ] && chown "$ALICE" "$SOCK"
backend rootonly "$SECRET" --unix "$T/root.sock" --base "/s/$S_LINK/" || { fail "a root-only backend"; finish; }
ln -s "$T/root.sock" "$T/link.sock"
for try in 1 2 3; do
	TPORT=$(free_port)
	backend tcp "$SECRET" --port "$TPORT" --base "/s/$S_TCP/" && break
	[ "$try" = 3 ] && { fail "backend on port $TPORT"; finish; }
done
session "$S_UNIX" "$SECRET" "$SOCK" "" 1
session "$S_TCP" "$SECRET" "" "$TPORT" 1
session "$S_STARTING" "$SECRET" "$SOCK" "" 0
session "$S_DEAD" "$SECRET" "$T/nobody-listens.sock" "" 1
session "$S_LINK" "$SECRET" "$T/link.sock" "" 1
session "$S_PENDING" "$SECRET" "$SOCK" "" 0
session "$S_ENDED" "$SECRET" "$SOCK" "" 1

S=/s/$S_UNIX

# ---- who passes -----------------------------------------------------------------------
use_token "$ALICE_TOKEN"
api GET "$S/"
check_status 200 "the owner: GET /s/ID/ -> 200 from the backend"
check_eq "$BODY" "hello from the session backend" "... with the backend's body"
api GET "/s/$S_TCP/"
check_status 200 "a backend on a loopback port works the same"
use_token "$ADMIN"
api GET "$S/echo"
check_status 200 "an admin passes too"
use_token "$BOB_TOKEN"
api GET "$S/echo"
check_error 403 forbidden "another user -> 403"
use_nobody
api GET "$S/echo"
check_error 401 unauthorized "no credentials -> 401"
api GET "$S/tree" -H 'Accept: text/html,application/xhtml+xml'
check_status 302 "a browser without a session asking for a page -> 302"
check_header Location "^/\\?next=%2Fs%2F$S_UNIX%2Ftree#/login\$" "... to the login page, with the way back"
use_token "$ALICE_TOKEN"
api GET /s/999999/
check_error 404 not_found "an unknown session -> 404"
api GET /s/0$S_UNIX/
check_error 404 not_found "a session id with a leading zero -> 404"
api GET "/s/$S_PENDING/"
check_error 503 session_pending "a session waiting in the queue -> 503"
check_header Retry-After '^[0-9]+$' "... with Retry-After"
api GET "/s/$S_STARTING/"
check_error 503 session_starting "a session whose server has not answered yet -> 503"
api GET "/s/$S_STARTING/" -H 'Accept: text/html'
check_status 503 "... a browser gets 503 too"
check_header Content-Type '^text/html' "... as a page"
check "... that reloads itself" grep -q 'http-equiv="refresh"' <<<"$BODY"
api GET "/s/$S_ENDED/"
check_error 410 session_ended "an ended session -> 410"
api GET "/s/$S_DEAD/"
check_error 502 bad_gateway "a backend that does not listen -> 502"
check_jq '.error.message | contains("does not take connections")' "... saying why"
if [ "$(id -u)" = 0 ]; then
	api GET "/s/$S_LINK/"
	check_error 502 bad_gateway "a session socket linked to one its owner may not open -> 502 (connected as the owner)"
	check_jq '.error.message | contains("Permission denied")' "... refused by the kernel"
else
	skip "the owner's identity for the socket (needs root)"
fi
api GET "/s/$S_UNIX?x=1"
check_status 301 "/s/ID without the slash -> 301"
check_header Location "^/s/$S_UNIX/\\?x=1\$" "... to /s/ID/, query kept"

# ---- what reaches the backend ----------------------------------------------------------
# An admin's browser is kept out of other users' sessions: their pages
# would run with the admin's rights on kaon's origin. A token passes.
login admin "$(admin_password)" "$T/admin.jar"
ADMIN_COOKIE=$(awk '$6 == "kaon_session" { print $7 }' "$T/admin.jar")
use_nobody
api GET "$S/echo" -H "Cookie: kaon_session=$ADMIN_COOKIE"
check_error 403 forbidden "an admin's browser (cookie) in another user's session -> 403"
check_jq '.error.message | contains("API token")' "... saying to use an API token"

# A cookie session of alice's (the browser way).
login "$ALICE" "$ALICE-password" "$T/alice.jar"
KAON_COOKIE=$(awk '$6 == "kaon_session" { print $7 }' "$T/alice.jar")
use_nobody
api POST "$S/echo?a=%2Fb&c=d%20e" --data-binary 'hello body' \
	-H "Cookie: _xsrf=abc; kaon_session=$KAON_COOKIE; other=1" -H 'X-Forwarded-For: 6.6.6.6' \
	-H "Origin: $URL" -H 'X-Custom: yes'
check_status 200 "a cookie POST without X-CSRF-Token passes (the backend guards its own)"
check_jq --arg t "$S/echo?a=%2Fb&c=d%20e" '.target == $t' "the request-target goes as sent, not decoded"
check_jq '.method == "POST" and .body_len == 10' "method and body pass"
check_jq '[.headers[] | select(.[0] | ascii_downcase == "cookie") | .[1]] == ["_xsrf=abc; other=1"]' \
	"kaon's cookie is taken out of Cookie, the others stay"
check_jq --arg s "$SECRET" '[.headers[] | select(.[0] | ascii_downcase == "authorization") | .[1]] == ["token " + $s]' \
	"the backend gets Authorization: token SECRET, and only that"
check_jq '[.headers[] | select(.[0] == "X-Forwarded-For") | .[1]] == ["127.0.0.1"]' \
	"X-Forwarded-For is kaon's view of the client (the client's own is dropped)"
check_jq --arg h "127.0.0.1:$PORT" '([.headers[] | select(.[0] == "X-Forwarded-Host") | .[1]] == [$h])
	and ([.headers[] | select(.[0] == "X-Forwarded-Proto") | .[1]] == ["http"])
	and ([.headers[] | select(.[0] | ascii_downcase == "host") | .[1]] == [$h])' \
	"X-Forwarded-Host and -Proto are set, Host passes as sent"
check_jq '[.headers[] | select(.[0] == "X-Custom") | .[1]] == ["yes"]' "other headers pass"
api POST "$S/echo" --data-binary x -H "Cookie: kaon_session=$KAON_COOKIE" -H 'Origin: http://evil.example'
check_error 403 forbidden_origin "a cookie POST from another origin -> 403"
use_token "$ALICE_TOKEN"
api GET "$S/echo" -H 'Connection: X-Hop' -H 'X-Hop: 1' -H 'Keep-Alive: 5' -H 'TE: trailers'
check_jq '[.headers[] | .[0] | ascii_downcase | select(. == "x-hop" or . == "keep-alive" or . == "te")] == []' \
	"hop-by-hop headers (and those named in Connection) stop at kaon"
check "no request ever brought kaon's cookie or token to a backend" \
	bash -c "! grep -h -e '$KAON_COOKIE' -e 'Bearer' -e 'kaon_session' '$T/unix.log' '$T/tcp.log'"

# ---- kept backend connections -------------------------------------------------------------
acc() { curl -s -H "Authorization: Bearer $ALICE_TOKEN" "$URL$S/stats" | jq -r .accepted; }
a0=$(acc)
for i in $(seq 1 20); do curl -s -o /dev/null -H "Authorization: Bearer $ALICE_TOKEN" "$URL$S/"; done
a1=$(acc)
check "20 requests one after the other reuse a kept backend connection ($a0 -> $a1 accepted)" \
	test $((a1 - a0)) -le 2
api GET "$S/dropnext"
check_status 200 "a backend connection that will drop the next request goes back to the pool"
api GET "$S/"
check_status 200 "... the request it drops goes again on a new connection and is answered"

# ---- the backend contract: no secret, no answer ---------------------------------------
check_eq "$(curl -s -o /dev/null -w '%{http_code}' --unix-socket "$SOCK" "http://x$S/echo")" 403 \
	"a request to the backend's socket without the secret -> 403"
check_eq "$(curl -s -o /dev/null -w '%{http_code}' -H 'Authorization: token wrong' "http://127.0.0.1:$TPORT/s/$S_TCP/")" 403 \
	"... and with a wrong one, on its port"
check_eq "$(stat -c %a "$SOCK")" 600 "the backend's socket is 0600"

# ---- bodies ------------------------------------------------------------------------------
"$PY" -c 'import sys; p = bytes(range(256)) * 4096; n = int(sys.argv[1])
with open(sys.argv[2], "wb") as f:
    while n > 0: f.write(p[:n]); n -= len(p)' $((3 * 1024 * 1024 + 17)) "$T/pattern3m"
P3=$(sha256sum <"$T/pattern3m" | cut -d' ' -f1)
get_sha() { curl -s --max-time 60 -H "Authorization: Bearer $ALICE_TOKEN" "$@" | sha256sum | cut -d' ' -f1; }
check_eq "$(get_sha "$URL$S/big?bytes=$((3 * 1024 * 1024 + 17))")" "$P3" "a Content-Length body comes through whole"
check_eq "$(get_sha "$URL$S/chunked?bytes=$((3 * 1024 * 1024 + 17))&chunk=777")" "$P3" \
	"a chunked body comes through whole (decoded, re-chunked)"
check_eq "$(get_sha "$URL$S/close?bytes=$((3 * 1024 * 1024 + 17))")" "$P3" "a body delimited by close comes through whole"
check_eq "$(get_sha --http1.0 "$URL$S/chunked?bytes=$((3 * 1024 * 1024 + 17))&chunk=65536")" "$P3" \
	"... and to an HTTP/1.0 client"
api GET "$S/chunked?bytes=100&chunk=7" -o /dev/null
check_header Transfer-Encoding chunked "an answer of unknown length goes chunked"
api HEAD "$S/big?bytes=12345" -I
check_status 200 "HEAD passes"
check_header Content-Length '^12345$' "... with the backend's Content-Length"
api POST "$S/upload" -H 'Content-Type: application/octet-stream' --data-binary "@$T/pattern3m"
check_jq --arg s "$P3" --argjson n $((3 * 1024 * 1024 + 17)) '.body_len == $n and .body_sha256 == $s' \
	"a 3 MB upload reaches the backend whole"
api POST "$S/upload" -H 'Transfer-Encoding: chunked' --data-binary "@$T/pattern3m"
check_jq --arg s "$P3" '.body_sha256 == $s and (.headers | map(.[0] | ascii_downcase) | index("transfer-encoding"))' \
	"a chunked upload reaches the backend whole, chunked"
api POST "$S/upload" -H 'Expect: 100-continue' --data-binary "@$T/pattern3m"
check_jq --arg s "$P3" '.body_sha256 == $s' "an upload with Expect: 100-continue works"

start=$(date +%s%N)
api POST "$S/early" -H 'Content-Type: application/octet-stream' --data-binary "@$T/pattern3m" \
	--data-binary "@$T/pattern3m" --data-binary "@$T/pattern3m"
ms=$((($(date +%s%N) - start) / 1000000))
check_status 413 "a backend that answers before it has read the body: its answer comes through"
check "... at once, not when it gives up ($ms ms)" test "$ms" -lt 5000

# 200 MB each way; the daemon's RSS must not grow with it.
KPID=$SERVER_PID
rss() { awk '/^VmRSS/ { print $2 }' "/proc/$KPID/status"; }
RSS0=$(rss)
MB200=$((200 * 1024 * 1024))
got=$(curl -s --max-time 120 -H "Authorization: Bearer $ALICE_TOKEN" "$URL$S/big?bytes=$MB200" | wc -c)
check_eq "$got" "$MB200" "a 200 MB download comes through"
RSS1=$(rss)
up=$(head -c $MB200 /dev/zero | curl -s --max-time 120 -H "Authorization: Bearer $ALICE_TOKEN" \
	-H 'Content-Type: application/octet-stream' -T - -X POST "$URL$S/upload" | jq -r .body_len)
check_eq "$up" "$MB200" "a 200 MB streamed upload comes through"
RSS2=$(rss)
check "the daemon's RSS stays flat: $RSS0 -> $RSS1 -> $RSS2 KiB (< 40 MiB more)" \
	test $((RSS1 - RSS0)) -lt 40960 -a $((RSS2 - RSS0)) -lt 40960

# ---- odd backends ---------------------------------------------------------------------------
api GET "$S/garbage"
check_error 502 bad_gateway "a backend answering something that is not HTTP -> 502"
api GET "$S/hangup"
check_error 502 bad_gateway "a backend closing without an answer -> 502"
api GET "$S/bighead?kb=100"
check_error 502 bad_gateway "a response head over 64 KiB -> 502"
api GET "$S/bighead?kb=20"
check_status 200 "a head of 20 KiB passes"
api GET "$S/status?code=418"
check_status 418 "the backend's status passes (418)"
api GET "$S/nosuch"
check_status 404 "... and its 404"
api GET "$S/setcookie"
check_eq "$(grep -ci '^set-cookie: kaon_session' "$HDRS")" 0 "a backend's Set-Cookie of kaon_session is dropped"
check_header Set-Cookie '^x=1' "... its other cookies pass"
api GET "$S/slow?ms=300"
check_status 200 "a slow answer comes (the request parks meanwhile)"
# Many slow requests at once hold no worker thread: they all finish in
# about the time of one.
start=$(date +%s%N)
pids=()
for i in $(seq 1 12); do
	curl -s -o /dev/null -H "Authorization: Bearer $ALICE_TOKEN" "$URL$S/slow?ms=1000" &
	pids+=($!)
done
wait "${pids[@]}"
ms=$((($(date +%s%N) - start) / 1000000))
check "12 requests waiting 1 s each on the backend finish together ($ms ms)" test "$ms" -lt 3000

# ---- WebSocket --------------------------------------------------------------------------------
WSURL=ws://127.0.0.1:$PORT$S/ws
out=$("$WSC" -t 10 -H "Authorization: Bearer $ALICE_TOKEN" "$WSURL" expect:backend-hello \
	send:ping-1 expect:ping-1 'send:\x00\xff binary' 'expect:\x00\xff binary' close 2>"$T/ws.err")
check_eq "$?" 0 "WebSocket through the proxy: the backend's first frame, then echoes ($(head -c 200 "$T/ws.err"))"
big=$(head -c 60000 /dev/zero | tr '\0' 'q')
"$WSC" -t 10 -H "Authorization: Bearer $ALICE_TOKEN" "$WSURL" "send:$big" "expect:$big" close >/dev/null 2>"$T/ws.err"
check_eq "$?" 0 "a 60 KB WebSocket message comes back whole"
"$WSC" -t 10 -H "Authorization: Bearer $BOB_TOKEN" "$WSURL" close >"$T/ws.out" 2>&1
check_eq "$(head -n 1 "$T/ws.out")" "HTTP 403" "another user's WebSocket -> 403"
"$WSC" -t 10 -H "Cookie: kaon_session=$KAON_COOKIE" -H 'Origin: http://evil.example' "$WSURL" close >"$T/ws.out" 2>&1
check_eq "$(head -n 1 "$T/ws.out")" "HTTP 403" "a cookie WebSocket from another origin -> 403"
"$WSC" -t 10 -H "Cookie: kaon_session=$KAON_COOKIE" -H "Origin: $URL" "$WSURL" expect:backend-hello \
	send:c1 expect:c1 close >/dev/null 2>"$T/ws.err"
check_eq "$?" 0 "a cookie WebSocket from kaon's own origin works"
# Several open at once; the sessions monitor sees them.
pids=()
for i in 1 2 3; do
	"$WSC" -t 20 -H "Authorization: Bearer $ALICE_TOKEN" "$WSURL" expect:backend-hello sleep:3000 close \
		>/dev/null 2>&1 &
	pids+=($!)
done
sleep 1.5
stats=$(curl -s -H "Authorization: Bearer $ALICE_TOKEN" "$URL$S/stats")
check_jq_str() { jq -e "$1" <<<"$2" >/dev/null 2>&1; }
check "the backend holds 3 WebSockets" check_jq_str '.websockets == 3' "$stats"
wait "${pids[@]}"
sleep 0.5
stats=$(curl -s -H "Authorization: Bearer $ALICE_TOKEN" "$URL$S/stats")
check "... and none once the clients closed (both sides closed)" check_jq_str '.websockets == 0' "$stats"
check "the daemon logged no error" bash -c "! grep -E 'ERROR|AddressSanitizer|runtime error' '$SERVER_LOG'"

# ---- a restart with requests parked and WebSockets open ------------------------------------
pids=()
for i in 1 2 3; do
	curl -s -o /dev/null -H "Authorization: Bearer $ALICE_TOKEN" "$URL$S/slow?ms=8000" &
	pids+=($!)
done
curl -s -o /dev/null -H "Authorization: Bearer $ALICE_TOKEN" "$URL$S/chunked?bytes=$MB200&chunk=65536" &
pids+=($!)
for i in 1 2; do
	"$WSC" -t 20 -H "Authorization: Bearer $ALICE_TOKEN" "$WSURL" expect:backend-hello sleep:10000 \
		>/dev/null 2>&1 &
	pids+=($!)
done
sleep 1
restart_server --config "$T/kaon.ini" || { fail "the daemon starts again"; finish; }
wait "${pids[@]}" 2>/dev/null
use_token "$ALICE_TOKEN"
api GET "$S/echo"
check_status 200 "after a restart the session is reached again (its route is in the store)"
finish
