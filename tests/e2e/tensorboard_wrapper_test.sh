#!/usr/bin/env bash
# tensorboard_wrapper_test — kaon-tensorboard, the TensorBoard session
# backend (src/libexec/kaon-tensorboard.py). The daemon installs it at start
# as DATA/libexec/kaon-tensorboard (0755); it is then run by hand the way a
# session's job runs it, against a stand-in `tensorboard` package
# (tests/e2e/tensorboard-stub: the shape of tensorboard/program.py, with a
# WSGI app that echoes the request) because TensorBoard cannot be installed
# here. What is tested is the wrapper's own part: the unix socket (mode
# 0600), 403 without "Authorization: token SECRET", the secret kept from
# TensorBoard, --path_prefix and 404 outside the session's URL, flags passed
# through or refused, SIGTERM, a missing environment, a missing TensorBoard,
# and finding TensorBoard's Python through the `tensorboard` command.
. "$(dirname "$0")/lib.sh"

PY=/usr/bin/python3
if [ ! -x "$PY" ]; then
	skip "no $PY (Debian's python3) to run the wrapper"
	finish
fi

start_server || { fail "server starts"; finish; }
TB=$DATA/libexec/kaon-tensorboard
check_eq "$(stat -c '%a %u' "$TB" 2>/dev/null)" "755 $(id -u)" "the daemon installs DATA/libexec/kaon-tensorboard, 0755, its own"
check_eq "$(stat -c '%a' "$DATA/libexec" 2>/dev/null)" 755 "... in DATA/libexec, 0755"
check "... the wrapper of the source tree" cmp -s "$TB" "$ROOT/src/libexec/kaon-tensorboard.py"
check "... valid Python 3" "$PY" -c 'import ast, sys; ast.parse(open(sys.argv[1]).read())' "$TB"
printf '# changed\n' >>"$TB"
restart_server || { fail "server restarts"; finish; }
check "a changed wrapper is put back at the next start" cmp -s "$TB" "$ROOT/src/libexec/kaon-tensorboard.py"
stop_server

STUB=$E2E_DIR/tensorboard-stub
LOGS=$T/logs
mkdir -p "$LOGS"
SOCK=$T/tb.sock
SECRET=$(head -c 32 /dev/urandom | base64 | tr -d '/+=\n')
BASE=/s/9/
AUTHZ="Authorization: token $SECRET"

# tb_start NAME [ENV=VALUE...] -- [ARGS...] — run the wrapper in the
# background (TB_PID) with the session's environment and wait for its
# socket.
tb_start() {
	TB_LOG=$T/tb.$1.log
	shift
	local envs=()
	while [ $# -gt 0 ] && [ "$1" != -- ]; do envs+=("$1"); shift; done
	shift
	rm -f "$SOCK"
	env -i PATH=/usr/bin:/bin HOME="$T" PYTHONPATH="$STUB" PYTHONDONTWRITEBYTECODE=1 \
		KAON_SESSION_SECRET="$SECRET" KAON_SESSION_SOCKET="$SOCK" KAON_BASE_URL="$BASE" \
		${envs[@]+"${envs[@]}"} "$TB" "$@" >"$TB_LOG" 2>&1 &
	TB_PID=$!
	local i
	for ((i = 0; i < 200; i++)); do
		[ -S "$SOCK" ] && return 0
		kill -0 "$TB_PID" 2>/dev/null || break
		sleep 0.05
	done
	fail "kaon-tensorboard listens on $SOCK"
	sed 's/^/    /' "$TB_LOG" >&2
	return 1
}
tb_stop() {
	kill -TERM "$TB_PID" 2>/dev/null
	local i
	for ((i = 0; i < 100; i++)); do
		kill -0 "$TB_PID" 2>/dev/null || break
		sleep 0.05
	done
	kill -KILL "$TB_PID" 2>/dev/null
	wait "$TB_PID"
	TB_RC=$?
}
# get PATH [curl args] — HTTP over the socket; STATUS and BODY.
get() {
	local path=$1
	shift
	BODY=$(curl -s --max-time 10 --unix-socket "$SOCK" -o - -w '\n%{http_code}' "$@" "http://kaon$path")
	STATUS=${BODY##*$'\n'}
	BODY=${BODY%$'\n'*}
}

# ---- serving ---------------------------------------------------------------------------
tb_start 1 -- --logdir "$LOGS" --reload_interval 7 || finish
check_eq "$(stat -c '%a %u' "$SOCK")" "600 $(id -u)" "the socket is created mode 0600"
check "... TensorBoard's serving message names the socket" grep -q "serving $BASE on $SOCK" "$TB_LOG"
get "$BASE"
check_eq "$STATUS" 403 "no Authorization -> 403"
check_jq '.error.code == "forbidden"' "... with kaon's JSON error, from the wrapper (not TensorBoard)"
get "$BASE" -H "Authorization: token x$SECRET"
check_eq "$STATUS" 403 "a wrong secret -> 403"
get "$BASE" -H "Authorization: token ${SECRET%?}"
check_eq "$STATUS" 403 "a prefix of the secret -> 403"
get "$BASE" -H "Authorization: Bearer $SECRET"
check_eq "$STATUS" 403 "the secret as a Bearer token -> 403"
get /elsewhere -H "Authorization: token nope"
check_eq "$STATUS" 403 "a path outside the session without the secret -> 403"
get "${BASE}data/runs" -X POST -H "Authorization: token nope" -d 'a=1'
check_eq "$STATUS" 403 "a POST without the secret -> 403"

get "$BASE" -H "$AUTHZ"
check_eq "$STATUS" 200 "GET {base_url} with the secret -> 200 (the readiness probe)"
check_jq '.stub and .path == "/s/9/" and .method == "GET"' "... answered by TensorBoard's WSGI app"
check_jq '.authorization == null' "... which never sees the secret"
check_jq --arg l "$LOGS" '.logdir == $l and .path_prefix == "/s/9"' "... configured with --logdir and --path_prefix"
check_jq '.reload_interval == 7' "... and with the other flags passed through"
check_jq '.remote_addr == "127.0.0.1"' "... REMOTE_ADDR is a local address"
get "${BASE}data/plugin/scalars/tags?run=a" -H "authorization: TOKEN $SECRET"
check_eq "$STATUS" 200 "a deeper path, the scheme in any case -> 200"
check_jq '.path == "/s/9/data/plugin/scalars/tags"' "... the path reaches TensorBoard whole"
get "/s/9" -H "$AUTHZ"
check_eq "$STATUS" 200 "the base without its slash goes to TensorBoard (which redirects it)"
get "${BASE}data/runs" -H "$AUTHZ" -X POST --data-binary @"$TB"
check_eq "$STATUS" 200 "a POST body goes through"
check_jq --argjson n "$(stat -c %s "$TB")" '.body_len == $n' "... whole"
get /s/10/ -H "$AUTHZ"
check_eq "$STATUS" 404 "another session's path -> 404"
check_jq '.error.code == "not_found"' "... from the wrapper"
get /s/9x/ -H "$AUTHZ"
check_eq "$STATUS" 404 "a path that only starts like the base -> 404"

tb_stop
check_eq "$TB_RC" 0 "SIGTERM: it exits 0"
check "... and removes its socket" test ! -e "$SOCK"

# ---- refusals at start ---------------------------------------------------------------------
OUT=$(env -i PATH=/usr/bin:/bin PYTHONPATH="$STUB" "$TB" --logdir "$LOGS" 2>&1)
check_eq "$?" 2 "without the session's environment -> exit 2"
check "... saying what is missing" grep -q KAON_SESSION_SECRET <<<"$OUT"
OUT=$(env -i PATH=/usr/bin:/bin PYTHONPATH="$STUB" KAON_SESSION_SECRET=s KAON_SESSION_SOCKET="$SOCK" \
	KAON_BASE_URL=/s/9 "$TB" --logdir "$LOGS" 2>&1)
check_eq "$?" 2 "a base URL without its trailing slash -> exit 2"
OUT=$(env -i PATH=/usr/bin:/bin PYTHONPATH="$STUB" KAON_SESSION_SECRET=s KAON_SESSION_SOCKET="$SOCK" \
	KAON_BASE_URL="$BASE" "$TB" --logdir "$LOGS" --port 6006 2>&1)
check_eq "$?" 2 "--port (kaon's to choose) -> exit 2"
check "... saying so" grep -q -- "--port is kaon's to set" <<<"$OUT"
OUT=$(env -i PATH=/usr/bin:/bin PYTHONPATH="$STUB" KAON_SESSION_SECRET=s KAON_SESSION_SOCKET="$SOCK" \
	KAON_BASE_URL="$BASE" "$TB" 2>&1)
check_eq "$?" 2 "no --logdir -> exit 2"
OUT=$(env -i PATH=/usr/bin:/bin KAON_SESSION_SECRET=s KAON_SESSION_SOCKET="$SOCK" \
	KAON_BASE_URL="$BASE" "$TB" --logdir "$LOGS" 2>&1)
check_eq "$?" 3 "no TensorBoard anywhere -> exit 3"
check "... saying TensorBoard is not installed" grep -q "TensorBoard is not installed" <<<"$OUT"
check "nothing listens after the refusals" test ! -e "$SOCK"

# ---- TensorBoard in another Python: found through the tensorboard command -------------------
# A "virtual environment" whose python sees the stand-in package, and its
# tensorboard command whose #! line names that python.
mkdir -p "$T/venv/bin"
printf '#!/bin/sh\nPYTHONPATH=%s exec %s "$@"\n' "$STUB" "$PY" >"$T/venv/bin/python"
printf '#!%s\nprint("the real command is not run")\n' "$T/venv/bin/python" >"$T/venv/bin/tensorboard"
chmod 0755 "$T/venv/bin/python" "$T/venv/bin/tensorboard"
rm -f "$SOCK"
env -i PATH="$T/venv/bin:/usr/bin:/bin" HOME="$T" PYTHONDONTWRITEBYTECODE=1 KAON_SESSION_SECRET="$SECRET" \
	KAON_SESSION_SOCKET="$SOCK" KAON_BASE_URL="$BASE" "$PY" "$TB" --logdir "$LOGS" >"$T/tb.venv.log" 2>&1 &
TB_PID=$!
for ((i = 0; i < 200; i++)); do [ -S "$SOCK" ] && break; sleep 0.05; done
get "$BASE" -H "$AUTHZ"
check_eq "$STATUS" 200 "TensorBoard of another Python (a virtualenv's) is found through its command"
check_jq '.stub' "... and serves"
tb_stop
check_eq "$TB_RC" 0 "... and stops on SIGTERM"

finish
