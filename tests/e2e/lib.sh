# shellcheck shell=bash
# tests/e2e/lib.sh — helpers sourced by every tests/e2e/*_test.sh.
#
# Each test file gets a fresh temporary directory ($T) with its own data
# directory ($DATA), starts the real daemon on a free loopback port, talks
# to it with curl (and the CLI), and stops it by PID on exit. Assertions
# count passes and failures; `finish` prints the file's tally as its last
# line, which tests/e2e/run-all adds up:
#
#   # NAME: N passed, N failed, N skipped
#
# Environment: KAON (the binary, default build/debug/kaon), KAON_E2E_KEEP=1
# keeps the temporary directory for a post-mortem, KAON_E2E_VERBOSE=1
# prints every passing check too.
#
# When the tests run as root the daemon is in multi-user mode and creates a
# real Unix account for every kaon user. Their homes live under $T, so the
# exit trap removes exactly the accounts whose home is under $T and no
# other.

# As root the daemon creates Unix accounts (the first-start admin is always
# "admin"): two test runs at once on one machine, say from two checkouts,
# would map their users onto each other's accounts and delete them under
# each other. One machine-wide lock serialises the test files that start a
# daemon; the wait is at most one file's run.
if [ -z "${KAON_TESTS_LOCKED:-}" ] && command -v flock >/dev/null; then
	export KAON_TESTS_LOCKED=1
	exec flock -o /tmp/kaon-tests.lock bash "$0" "$@"
fi

set -u
set -o pipefail

E2E_DIR=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
ROOT=$(cd "$E2E_DIR/../.." && pwd)
KAON=${KAON:-$ROOT/build/debug/kaon}
case $KAON in /*) ;; *) KAON=$PWD/$KAON ;; esac
export KAON

TEST_NAME=$(basename "$0" .sh)
PASSED=0 FAILED=0 SKIPPED=0

for tool in curl jq; do
	if ! command -v "$tool" >/dev/null; then
		echo "$TEST_NAME: '$tool' is missing (apt-get install -y $tool)" >&2
		echo "# $TEST_NAME: 0 passed, 1 failed, 0 skipped"
		exit 1
	fi
done
if [ ! -x "$KAON" ]; then
	echo "$TEST_NAME: $KAON is not built (make build/debug/kaon)" >&2
	echo "# $TEST_NAME: 0 passed, 1 failed, 0 skipped"
	exit 1
fi

T=$(mktemp -d "${TMPDIR:-/tmp}/kaon-e2e-$TEST_NAME.XXXXXX")
# In multi-user mode the daemon (root) creates homes under $DATA/home that
# their owners must be able to reach.
chmod 0711 "$T"
DATA=$T/data
# A short random tag for names that must not clash with anything outside
# this run (Unix accounts in multi-user mode): lower case, starts with a
# letter when appended to one.
RUN_ID=$(head -c 1024 /dev/urandom | tr -dc 'a-z0-9' | head -c 6)
SERVER_PID=
SERVER_LOG=
SERVER_STARTS=0
URL=
PORT=
STATUS=
BODY=
LAST_REQ=
CSRF=
HDRS=$T/headers
AUTH=()
CURL_OPTS=(--silent --show-error --max-time 20)

# ---- reporting ------------------------------------------------------------

pass() {
	PASSED=$((PASSED + 1))
	[ "${KAON_E2E_VERBOSE:-0}" = 1 ] && echo "ok   $TEST_NAME: $*"
	return 0
}

fail() {
	FAILED=$((FAILED + 1))
	echo "FAIL $TEST_NAME: $*"
	return 1
}

# skip REASON — count one skipped check (or group of checks) and say why.
skip() {
	SKIPPED=$((SKIPPED + 1))
	echo "skip $TEST_NAME: $*"
}

# Describe the last request for a failure message.
last_request() {
	printf '    %s -> %s %s\n' "$LAST_REQ" "$STATUS" "$(printf %s "$BODY" | head -c 400)"
}

# ---- the kaon command line ----------------------------------------------------
# kcli ARGS... — run the CLI (stdin passes through); sets RC, OUT, ERR.
kcli() {
	LAST_CLI="kaon $*"
	"$KAON" "$@" >"$T/cli.out" 2>"$T/cli.err"
	RC=$?
	OUT=$(cat "$T/cli.out")
	ERR=$(cat "$T/cli.err")
}
# cli_ok DESC — the last CLI call exited 0.
cli_ok() {
	if [ "$RC" = 0 ]; then
		pass "$1"
	else
		fail "$1: '$LAST_CLI' exited $RC"
		printf '    stdout: %s\n    stderr: %s\n' "$(head -c 300 <<<"$OUT")" "$(head -c 300 <<<"$ERR")"
	fi
}
# cli_fails DESC — exited non-zero with exactly one line "kaon: ..." on
# stderr.
cli_fails() {
	local lines
	lines=$(printf '%s' "$ERR" | grep -c '')
	if [ "$RC" != 0 ] && [ "$lines" = 1 ] && [[ $ERR == kaon:* ]]; then
		pass "$1"
	else
		fail "$1: '$LAST_CLI' exited $RC with $lines line(s) on stderr, expected non-zero and one 'kaon: ...' line"
		printf '    stderr: %s\n' "$(head -c 400 <<<"$ERR")"
	fi
}
# out_jq [JQ_ARGS...] FILTER DESC — like check_jq, on the CLI's stdout.
out_jq() {
	local saved=$BODY
	BODY=$OUT
	LAST_REQ=$LAST_CLI STATUS=$RC
	check_jq "$@"
	BODY=$saved
}
# cli_usage DESC — a usage error: exit 2, its first line "kaon: ...", then
# the verb's usage.
cli_usage() {
	if [ "$RC" = 2 ] && [[ $(head -n 1 <<<"$ERR") == kaon:* ]] && grep -q '^usage: kaon' <<<"$ERR"; then
		pass "$1"
	else
		fail "$1: '$LAST_CLI' exited $RC, expected 2 with 'kaon: ...' and the usage on stderr"
		printf '    stderr: %s\n' "$(head -c 400 <<<"$ERR")"
	fi
}

finish() {
	echo "# $TEST_NAME: $PASSED passed, $FAILED failed, $SKIPPED skipped"
	[ "$FAILED" -eq 0 ]
	exit $?
}

# ---- assertions -------------------------------------------------------------

# check DESC CMD... — passes when CMD exits 0.
check() {
	local desc=$1
	shift
	if "$@"; then pass "$desc"; else fail "$desc"; fi
}

# check_eq ACTUAL EXPECTED DESC
check_eq() {
	if [ "$1" = "$2" ]; then
		pass "$3"
	else
		fail "$3: expected '$2', got '$1'"
	fi
}

# check_ne ACTUAL UNEXPECTED DESC
check_ne() {
	if [ "$1" != "$2" ]; then
		pass "$3"
	else
		fail "$3: did not expect '$2'"
	fi
}

# check_status CODE DESC — the status of the last api call.
check_status() {
	if [ "$STATUS" = "$1" ]; then
		pass "$2"
	else
		fail "$2: expected status $1"
		last_request
	fi
}

# check_error STATUS CODE DESC — an error answer {"error":{"code":CODE,...}}
# with a non-empty message.
check_error() {
	local code
	code=$(jq -r '.error.code // empty' <<<"$BODY" 2>/dev/null)
	if [ "$STATUS" = "$1" ] && [ "$code" = "$2" ] &&
		jq -e '.error.message | type == "string" and length > 0' <<<"$BODY" >/dev/null 2>&1; then
		pass "$3"
	else
		fail "$3: expected $1 $2"
		last_request
	fi
}

# check_jq [JQ_ARGS...] FILTER DESC — FILTER, applied to the last body, is
# true (JQ_ARGS such as --arg NAME VALUE come first).
check_jq() {
	local desc=${*: -1} filter=${*: -2:1}
	local args=("${@:1:$#-2}")
	if jq -e ${args[@]+"${args[@]}"} "$filter" <<<"$BODY" >/dev/null 2>&1; then
		pass "$desc"
	else
		fail "$desc: jq '$filter' is not true"
		last_request
	fi
}

# check_header NAME REGEX DESC — a header of the last answer matches
# (extended regex, case-sensitive on the value).
check_header() {
	local v
	v=$(header "$1")
	if [[ $v =~ $2 ]]; then
		pass "$3"
	else
		fail "$3: header $1 is '$v', expected /$2/"
	fi
}

# ---- HTTP -------------------------------------------------------------------

# header NAME — the value of NAME in the last answer (first one, no CR).
header() {
	awk -v n="$(tr '[:upper:]' '[:lower:]' <<<"$1")" '
		{ sub(/\r$/, "") }
		{ i = index($0, ":"); if (i && tolower(substr($0, 1, i - 1)) == n) {
			v = substr($0, i + 1); sub(/^[ \t]+/, "", v); print v; exit } }' "$HDRS"
}

# use_token TOKEN — later api calls send it as a Bearer token.
use_token() { AUTH=(-H "Authorization: Bearer $1"); }
# use_cookie JAR [CSRF] — later api calls send the session cookie (and
# the CSRF header when given).
use_cookie() {
	AUTH=(-b "$1")
	[ $# -ge 2 ] && AUTH+=(-H "X-CSRF-Token: $2")
	return 0
}
use_nobody() { AUTH=(); }

# api METHOD PATH [JSON] [CURL_ARGS...] — one request with the current
# credentials. JSON (when given, even empty) goes as the body with
# Content-Type: application/json. Sets STATUS, BODY and the headers file.
api() {
	local method=$1 path=$2
	shift 2
	local data=()
	if [ $# -gt 0 ] && [ "${1:0:1}" != "-" ]; then
		data=(-H 'Content-Type: application/json' --data-binary "$1")
		shift
	fi
	LAST_REQ="$method $path"
	: >"$HDRS"
	BODY=$(curl "${CURL_OPTS[@]}" -X "$method" -D "$HDRS" -w '\n%{http_code}' \
		${AUTH[@]+"${AUTH[@]}"} ${data[@]+"${data[@]}"} "$@" "$URL$path")
	local rc=$?
	STATUS=${BODY##*$'\n'}
	BODY=${BODY%$'\n'*}
	if [ $rc -ne 0 ]; then
		STATUS=000
		server_died_check
	fi
	return 0
}

# server_died_check — after a failed request: when the daemon we started
# has died, say so once with the end of its log, and end the file (in the
# main shell) rather than fail every later check one by one.
server_died_check() {
	[ -n "$SERVER_PID" ] && ! kill -0 "$SERVER_PID" 2>/dev/null || return 0
	fail "the daemon (pid $SERVER_PID) died; the end of $SERVER_LOG:"
	grep -m1 -A12 -E 'ERROR: (AddressSanitizer|LeakSanitizer)|runtime error:' "$SERVER_LOG" |
		sed 's/^/    /'
	tail -n 5 "$SERVER_LOG" | sed 's/^/    /'
	wait "$SERVER_PID" 2>/dev/null
	SERVER_PID=
	[ "$BASH_SUBSHELL" -eq 0 ] && finish
	return 0
}

# login USER PASSWORD JAR — POST /api/v1/login storing the cookie in JAR;
# sets CSRF from the answer. Leaves STATUS/BODY of the login.
login() {
	local saved=(${AUTH[@]+"${AUTH[@]}"})
	AUTH=()
	api POST /api/v1/login "$(jq -cn --arg u "$1" --arg p "$2" '{username:$u,password:$p}')" -c "$3"
	AUTH=(${saved[@]+"${saved[@]}"})
	CSRF=$(jq -r '.csrf_token // empty' <<<"$BODY" 2>/dev/null)
}

# new_token USER PASSWORD [NAME] — log in, create an API token, print it.
new_token() {
	local jar=$T/jar.$RANDOM
	login "$1" "$2" "$jar"
	[ "$STATUS" = 200 ] || { echo "new_token: login as $1 failed: $STATUS $BODY" >&2; return 1; }
	local saved=(${AUTH[@]+"${AUTH[@]}"})
	use_cookie "$jar" "$CSRF"
	api POST /api/v1/tokens "$(jq -cn --arg n "${3:-e2e}" '{name:$n}')"
	AUTH=(${saved[@]+"${saved[@]}"})
	rm -f "$jar"
	[ "$STATUS" = 201 ] || { echo "new_token: token for $1 failed: $STATUS $BODY" >&2; return 1; }
	jq -r .token <<<"$BODY"
}

# admin_token — the first-start admin's API token (cached in ADMIN_TOKEN).
admin_password() { head -n 1 "$DATA/initial-admin-password"; }
admin_token() {
	if [ -z "${ADMIN_TOKEN:-}" ]; then
		ADMIN_TOKEN=$(new_token admin "$(admin_password)" e2e-admin) || return 1
	fi
	printf '%s\n' "$ADMIN_TOKEN"
}

# ---- schemas -------------------------------------------------------------------

# check_schema SCHEMA FILTER DESC — every value FILTER picks from the last
# body is valid against components.schemas.SCHEMA of src/api/openapi.json,
# recursively: objects have every required property and none the schema
# lacks, values have the schema's type (integer, number, string, boolean,
# array, object), enums hold, null only where the schema says nullable,
# oneOf matches one. ($refs to components.schemas are followed.)
check_schema() {
	local schema=$1 filter=$2 desc=$3 bad
	bad=$(jq -c --slurpfile doc "$ROOT/src/api/openapi.json" --arg s "$schema" '
		def res($x): if ($x | type) == "object" and $x["$ref"] then
			$doc[0].components.schemas[$x["$ref"] | ltrimstr("#/components/schemas/")] else $x end;
		def errs($s0; $v; $p):
			res($s0) as $s
			| if $v == null then (if ($s.nullable // false) then empty else "\($p): null" end)
			elif $s.oneOf then
				(if any($s.oneOf[]; [errs(.; $v; $p)] | length == 0) then empty
				 else "\($p): matches none of its oneOf" end)
			elif $s.type == "object" then
				if ($v | type) != "object" then "\($p): not an object"
				else
					((($s.required // []) - ($v | keys))[] | "\($p).\(.): missing"),
					(if $s.properties then (($v | keys) - ($s.properties | keys))[]
						| "\($p).\(.): not in the schema" else empty end),
					($v | to_entries[] | . as $e
						| ($s.properties[$e.key] // $s.additionalProperties // null) as $ps
						| select(($ps | type) == "object")
						| errs($ps; $e.value; "\($p).\($e.key)"))
				end
			elif $s.type == "array" then
				if ($v | type) != "array" then "\($p): not an array"
				else ($v | to_entries[] | . as $e | errs($s.items; $e.value; "\($p)[\($e.key)]")) end
			elif $s.type == "integer" then
				(if ($v | type) == "number" and ($v | floor) == $v then empty else "\($p): not an integer" end)
			elif $s.type == "number" then
				(if ($v | type) == "number" then empty else "\($p): not a number" end)
			elif $s.type == "boolean" then
				(if ($v | type) == "boolean" then empty else "\($p): not a boolean" end)
			elif $s.type == "string" then
				(if ($v | type) != "string" then "\($p): not a string"
				 elif $s.enum and ([$s.enum[] | select(. == $v)] | length) == 0 then "\($p): \($v | tojson) not in its enum"
				 else empty end)
			else empty end;
		if $doc[0].components.schemas[$s] == null then ["no schema \($s)"]
		else [ '"$filter"' | errs({"$ref": "#/components/schemas/\($s)"}; .; "") ] end' <<<"$BODY" 2>&1)
	if [ "$bad" = "[]" ]; then
		pass "$desc"
	else
		fail "$desc: not a valid $schema: $(head -c 600 <<<"$bad")"
		last_request
	fi
}

# ---- jobs ---------------------------------------------------------------------

# submit JSON — POST /api/v1/jobs with the current credentials; sets JOB to
# the new job's id (an array: its array_id, and JOBS to its job ids), and
# STATUS/BODY. Returns non-zero unless the answer is 201.
submit() {
	JOB= JOBS=
	api POST /api/v1/jobs "$1"
	[ "$STATUS" = 201 ] || return 1
	JOB=$(jq -r '.id // .array_id' <<<"$BODY")
	JOBS=$(jq -r '(.job_ids // [.id]) | map(tostring) | join(" ")' <<<"$BODY")
	return 0
}

# job_wait ID STATES [SECONDS] — poll GET /api/v1/jobs/ID until its state is
# one of STATES (comma-separated), for SECONDS at most (default 20). Leaves
# the job in BODY; non-zero on timeout.
job_wait() {
	local id=$1 states=",$2," limit=${3:-20} state i
	for ((i = 0; i < limit * 10; i++)); do
		api GET "/api/v1/jobs/$id"
		state=$(jq -r '.state // empty' <<<"$BODY" 2>/dev/null)
		[[ -n $state && $states == *",$state,"* ]] && return 0
		sleep 0.1
	done
	return 1
}

# job_until ID FILTER [SECONDS] — poll GET /api/v1/jobs/ID until the jq
# FILTER is true of it (default 10 s). Leaves the job in BODY; non-zero on
# timeout.
job_until() {
	local i
	for ((i = 0; i < ${3:-10} * 10; i++)); do
		api GET "/api/v1/jobs/$1"
		jq -e "$2" <<<"$BODY" >/dev/null 2>&1 && return 0
		sleep 0.1
	done
	return 1
}

# check_job_ends ID STATES DESC [SECONDS] — a check that job ID reaches one
# of STATES (job_wait), printing the job when it does not.
check_job_ends() {
	if job_wait "$1" "$2" "${4:-20}"; then
		pass "$3"
	else
		fail "$3: job $1 is not $2 after ${4:-20} s"
		last_request
	fi
}

# job_log ID [STREAM] — print the job's whole stdout (or STREAM).
job_log() {
	curl "${CURL_OPTS[@]}" ${AUTH[@]+"${AUTH[@]}"} "$URL/api/v1/jobs/$1/log?stream=${2:-stdout}"
}

# job_log_wait ID REGEX [SECONDS] — wait until the job's stdout matches
# REGEX (grep -E); non-zero on timeout.
job_log_wait() {
	local i
	for ((i = 0; i < ${3:-10} * 10; i++)); do
		job_log "$1" | grep -qE -- "$2" && return 0
		sleep 0.1
	done
	return 1
}

# cancel_live_jobs — as the admin, cancel every pending or running job and
# wait (5 s at most) until none is left, so no job outlives its test (a
# job's supervisor outlives the daemon by design).
cancel_live_jobs() {
	[ -n "$URL" ] && [ -n "$SERVER_PID" ] || return 0
	local saved=(${AUTH[@]+"${AUTH[@]}"}) ids i
	use_token "$(admin_token)" || return 1
	for ((i = 0; i < 50; i++)); do
		api GET '/api/v1/jobs?user=all&state=pending,running&limit=1000'
		ids=$(jq -r '.jobs[]?.id' <<<"$BODY" 2>/dev/null)
		[ -z "$ids" ] && break
		if [ "$i" = 0 ]; then
			for id in $ids; do api POST "/api/v1/jobs/$id/cancel"; done
		fi
		sleep 0.1
	done
	AUTH=(${saved[@]+"${saved[@]}"})
}

# ---- the daemon ---------------------------------------------------------------

# start_server [ARGS...] — start `kaon server` on a free loopback port with
# $DATA (plus ARGS) and wait until it listens; sets SERVER_PID, PORT, URL,
# SERVER_LOG. Returns non-zero (after printing the log) when it does not
# come up within 10 s.
start_server() {
	SERVER_STARTS=$((SERVER_STARTS + 1))
	SERVER_LOG=$T/server.$SERVER_STARTS.log
	"$KAON" server --listen 127.0.0.1:0 --data "$DATA" "$@" >"$SERVER_LOG" 2>&1 &
	SERVER_PID=$!
	local i line
	for ((i = 0; i < 200; i++)); do
		line=$(grep -m1 -oE 'listening on https?://127\.0\.0\.1:[0-9]+/' "$SERVER_LOG" 2>/dev/null)
		if [ -n "$line" ]; then
			PORT=${line##*:}
			PORT=${PORT%/}
			URL=${line#listening on }
			URL=${URL%/}
			return 0
		fi
		if ! kill -0 "$SERVER_PID" 2>/dev/null; then
			wait "$SERVER_PID"
			echo "$TEST_NAME: kaon server exited with status $? before listening:" >&2
			sed 's/^/    /' "$SERVER_LOG" >&2
			SERVER_PID=
			return 1
		fi
		sleep 0.05
	done
	echo "$TEST_NAME: kaon server did not listen within 10 s:" >&2
	sed 's/^/    /' "$SERVER_LOG" >&2
	return 1
}

# stop_server — SIGTERM, wait up to 10 s (then SIGKILL). Checks that the
# daemon exited with status 0 and that the sanitizers reported nothing.
stop_server() {
	[ -n "$SERVER_PID" ] || return 0
	local pid=$SERVER_PID rc i
	SERVER_PID=
	kill -TERM "$pid" 2>/dev/null
	for ((i = 0; i < 200; i++)); do
		kill -0 "$pid" 2>/dev/null || break
		sleep 0.05
	done
	if kill -0 "$pid" 2>/dev/null; then
		kill -KILL "$pid" 2>/dev/null
		wait "$pid" 2>/dev/null
		fail "server (pid $pid) did not stop within 10 s of SIGTERM"
		return 1
	fi
	wait "$pid"
	rc=$?
	check_eq "$rc" 0 "server exits with status 0 on SIGTERM"
	if grep -qE 'ERROR: (AddressSanitizer|LeakSanitizer)|runtime error:' "$SERVER_LOG"; then
		fail "sanitizer report in $SERVER_LOG:"
		grep -m5 -A20 -E 'ERROR: (AddressSanitizer|LeakSanitizer)|runtime error:' "$SERVER_LOG" |
			head -40 | sed 's/^/    /'
	fi
}

# restart_server [ARGS...] — stop, then start again on the same $DATA.
restart_server() {
	stop_server
	start_server "$@"
}

# ---- cleanup --------------------------------------------------------------------

# Unix accounts (multi-user mode) whose home is under $T: made by this run.
e2e_unix_accounts() {
	getent passwd | awk -F: -v t="$T/" 'index($6, t) == 1 { print $1 }'
}

e2e_cleanup() {
	local rc=$? i
	if [ -n "$SERVER_PID" ]; then
		# A test that died half-way may leave jobs running; their
		# supervisors would outlive the daemon.
		[ -d "$DATA/jobs" ] && cancel_live_jobs >/dev/null 2>&1
		kill -TERM "$SERVER_PID" 2>/dev/null
		for ((i = 0; i < 100; i++)); do
			kill -0 "$SERVER_PID" 2>/dev/null || break
			sleep 0.05
		done
		kill -KILL "$SERVER_PID" 2>/dev/null
		wait "$SERVER_PID" 2>/dev/null
	fi
	if [ "$(id -u)" = 0 ]; then
		local u
		for u in $(e2e_unix_accounts); do
			userdel --remove "$u" >/dev/null 2>&1 || userdel "$u" >/dev/null 2>&1
		done
	fi
	if [ "${KAON_E2E_KEEP:-0}" = 1 ] || [ "$rc" -ne 0 ]; then
		echo "$TEST_NAME: kept $T for inspection" >&2
	else
		rm -rf "$T"
	fi
}
trap e2e_cleanup EXIT
trap 'exit 130' INT TERM
