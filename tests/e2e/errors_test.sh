#!/usr/bin/env bash
# errors_test — every error status of the API, in the documented shape
# {"error":{"code","message"}}, and no failed write changes the store.
. "$(dirname "$0")/lib.sh"

start_server || { fail "server starts"; finish; }
ADMIN=$(admin_token) || { fail "admin token"; finish; }
EVE=eve$RUN_ID

# The store as the API shows it: users, groups and the admin's tokens
# (without last_used_at, which reading with a token may update).
snapshot() {
	local saved=(${AUTH[@]+"${AUTH[@]}"}) s b=$BODY st=$STATUS h=$LAST_REQ
	use_token "$ADMIN"
	api GET /api/v1/users && s=$BODY
	api GET /api/v1/groups && s=$s$'\n'$BODY
	api GET /api/v1/tokens && s=$s$'\n'$(jq -c 'del(.tokens[].last_used_at)' <<<"$BODY")
	AUTH=(${saved[@]+"${saved[@]}"})
	BODY=$b STATUS=$st LAST_REQ=$h
	printf '%s\n' "$s"
}
# check_unchanged DESC — the store is as it was at the last baseline.
check_unchanged() {
	local now
	now=$(snapshot)
	if [ "$now" = "$BASELINE" ]; then
		pass "store unchanged after $1"
	else
		fail "store changed after $1"
		diff <(echo "$BASELINE") <(echo "$now") | head -10 | cut -c1-300 | sed 's/^/    /'
		# One wrong write is one failure, not one for every later check.
		BASELINE=$now
	fi
}

use_token "$ADMIN"
api POST /api/v1/users "{\"username\":\"$EVE\",\"password\":\"eve-password\",\"groups\":[\"guests\"]}"
check_status 201 "create the non-admin $EVE"
EVE_TOKEN=$(new_token "$EVE" eve-password) || fail "token for $EVE"
BASELINE=$(snapshot)
check "the baseline snapshot has users and groups" grep -q '"groups":\[{' <<<"$BASELINE"

# ---- 400 ---------------------------------------------------------------------
use_token "$ADMIN"
api POST /api/v1/users '{"username": "x'
check_error 400 malformed_json "truncated JSON -> 400 malformed_json"
api POST /api/v1/users '["username"]'
check_error 400 malformed_json "a JSON array, not an object -> 400"
api POST /api/v1/users ''
check_error 400 malformed_json "an empty body -> 400"
api POST /api/v1/groups '{"name":"a","name":"b"}'
check_error 400 malformed_json "duplicate keys -> 400"
api POST /api/v1/users $'{"username":"\xff\xfe"}'
check_error 400 malformed_json "invalid UTF-8 -> 400"
check_unchanged "400s"

# ---- 401 ---------------------------------------------------------------------
use_nobody
api GET /api/v1/users
check_error 401 unauthorized "GET /users without credentials -> 401"
check_header WWW-Authenticate '^Bearer' "401 carries WWW-Authenticate: Bearer"
api POST /api/v1/users "{\"username\":\"anon$RUN_ID\"}"
check_error 401 unauthorized "POST /users without credentials -> 401"
api POST /api/v1/tokens '{"name":"x"}' -H "Authorization: Basic YWRtaW46eA=="
check_error 401 unauthorized "a non-Bearer Authorization header -> 401"
check_unchanged "401s"

# ---- 403 ---------------------------------------------------------------------
use_token "$EVE_TOKEN"
api POST /api/v1/groups "{\"name\":\"evil$RUN_ID\"}"
check_error 403 forbidden "non-admin POST /groups -> 403 forbidden"
api PATCH /api/v1/users/admin '{"password":"taken-over!"}'
check_error 403 forbidden "non-admin PATCH /users/admin -> 403"
api DELETE /api/v1/groups/guests
check_error 403 forbidden "non-admin DELETE /groups/guests -> 403"
login admin "$(admin_password)" "$T/admin.jar"
use_cookie "$T/admin.jar"
api POST /api/v1/groups "{\"name\":\"csrf$RUN_ID\"}"
check_error 403 csrf "cookie POST without X-CSRF-Token -> 403 csrf"
api DELETE "/api/v1/users/$EVE"
check_error 403 csrf "cookie DELETE without X-CSRF-Token -> 403 csrf"
check_unchanged "403s"

# ---- 404 ---------------------------------------------------------------------
use_token "$ADMIN"
api GET /api/v1/nosuch
check_error 404 not_found "unknown API route -> 404"
api GET /api/v1/users/nosuch/extra
check_error 404 not_found "a route with an extra segment -> 404"
api GET "/api/v1/users/nosuch$RUN_ID"
check_error 404 not_found "unknown user -> 404"
api GET "/api/v1/groups/nosuch$RUN_ID"
check_error 404 not_found "unknown group -> 404"
api DELETE "/api/v1/users/nosuch$RUN_ID"
check_error 404 not_found "DELETE unknown user -> 404"
api PATCH "/api/v1/groups/nosuch$RUN_ID" '{"max_gpus":1}'
check_error 404 not_found "PATCH unknown group -> 404"
api DELETE /api/v1/tokens/999999
check_error 404 not_found "DELETE unknown token -> 404"
check_unchanged "404s"

# ---- 405 ---------------------------------------------------------------------
api DELETE /api/v1/me
check_error 405 method_not_allowed "DELETE /me -> 405"
check_header Allow '^GET$' "405 on /me: Allow: GET"
api PUT /api/v1/users '{"username":"x"}'
check_error 405 method_not_allowed "PUT /users -> 405"
allow=$(header Allow)
check "405 on /users: Allow lists GET and POST" \
	eval '[[ $allow =~ GET ]] && [[ $allow =~ POST ]] && ! [[ $allow =~ DELETE ]]'
api POST /api/v1/users/admin '{}'
check_error 405 method_not_allowed "POST /users/{name} -> 405"
allow=$(header Allow)
check "405 on /users/{name}: Allow lists GET, PATCH and DELETE" \
	eval '[[ $allow =~ GET ]] && [[ $allow =~ PATCH ]] && [[ $allow =~ DELETE ]]'
api GET /api/v1/login
check_error 405 method_not_allowed "GET /login -> 405"
check_header Allow '^POST$' "405 on /login: Allow: POST"
check_unchanged "405s"

# ---- 409 ---------------------------------------------------------------------
api POST /api/v1/users "{\"username\":\"$EVE\",\"password\":\"another-password\"}"
check_error 409 conflict "creating an existing user -> 409"
api POST /api/v1/groups '{"name":"guests"}'
check_error 409 conflict "creating an existing group -> 409"
api DELETE /api/v1/groups/guests
check_error 409 conflict "deleting a group with members -> 409"
api DELETE /api/v1/users/admin
check_error 409 conflict "deleting yourself -> 409"
check_unchanged "409s"

# ---- 415 ---------------------------------------------------------------------
api POST /api/v1/groups -H 'Content-Type: text/plain' --data-binary "{\"name\":\"plain$RUN_ID\"}"
check_error 415 unsupported_media_type "text/plain body -> 415"
api POST /api/v1/groups -H 'Content-Type: application/x-www-form-urlencoded' --data-binary "name=form$RUN_ID"
check_error 415 unsupported_media_type "form-encoded body -> 415"
api POST /api/v1/groups -H 'Content-Type: application/json5' --data-binary "{\"name\":\"json5$RUN_ID\"}"
check_error 415 unsupported_media_type "application/json5 (not application/json) -> 415"
api POST /api/v1/groups "{\"name\":\"json$RUN_ID\"}" -H 'Content-Type: application/json; charset=utf-8'
check_status 201 "application/json with a charset is accepted"
api DELETE "/api/v1/groups/json$RUN_ID"
check_status 204 "... (and deleted again)"
check_unchanged "415s"

# ---- 422 ---------------------------------------------------------------------
# check_invalid PATH METHOD BODY FIELD DESC — 422 invalid naming FIELD.
check_invalid() {
	api "$2" "$1" "$3"
	check_error 422 invalid "$5 -> 422"
	check_jq --arg f "$4" '.error.message | contains($f)' "$5: the message names '$4'"
}
check_invalid /api/v1/users POST "{\"username\":\"u$RUN_ID\",\"colour\":\"blue\"}" colour \
	"unknown field on POST /users"
check_invalid /api/v1/users POST '{"username":42}' username "wrong type (number for username)"
check_invalid /api/v1/users POST "{\"username\":\"u$RUN_ID\",\"admin\":\"yes\"}" admin \
	"wrong type (string for admin)"
check_invalid /api/v1/users POST "{\"username\":\"u$RUN_ID\",\"groups\":\"students\"}" groups \
	"wrong type (string for groups)"
check_invalid /api/v1/users POST '{"display_name":"No Name"}' username "missing username"
check_invalid /api/v1/users POST "{\"username\":\"u$RUN_ID\",\"password\":\"$(printf 'x%.0s' {1..1025})\"}" \
	password "password over 1024 characters"
check_invalid /api/v1/groups POST '{"description":"no name"}' name "missing group name"
check_invalid /api/v1/groups POST "{\"name\":\"g$RUN_ID\",\"max_gpus\":-1}" max_gpus \
	"negative limit (out of range)"
check_invalid /api/v1/groups POST "{\"name\":\"g$RUN_ID\",\"max_cpus\":1.5}" max_cpus \
	"fractional limit (wrong type)"
check_invalid /api/v1/groups POST "{\"name\":\"g$RUN_ID\",\"fairshare_weight\":0}" fairshare_weight \
	"fairshare_weight 0 (out of range)"
check_invalid /api/v1/groups/students PATCH '{"max_jobs":"ten"}' max_jobs "PATCH with a string limit"
check_invalid /api/v1/groups/students PATCH '{"builtin":false}' builtin "PATCH a read-only field"
check_invalid "/api/v1/users/$EVE" PATCH '{"disabled":1}' disabled "PATCH user with a number for disabled"
check_invalid "/api/v1/users/$EVE" PATCH '{"uid":0}' uid "PATCH user's uid (unknown field)"
check_invalid /api/v1/tokens POST '{"name":"t","expires_in_s":30}' expires_in_s "expires_in_s 30 (out of range)"
check_invalid /api/v1/tokens POST '{"name":"t","scope":"all"}' scope "unknown field on POST /tokens"
check_invalid /api/v1/tokens POST '{}' name "missing token name"
use_nobody
check_invalid /api/v1/login POST '{"username":"admin","password":"x","remember":true}' remember \
	"unknown field on POST /login"
check_unchanged "422s"

# ---- error shape -------------------------------------------------------------
use_token "$ADMIN"
api GET "/api/v1/users/nosuch$RUN_ID"
check_jq '(keys == ["error"]) and (.error | keys == ["code","message"])' \
	"an error is exactly {\"error\":{\"code\",\"message\"}}"
check_header Content-Type '^application/json' "errors are application/json"

# ---- 413: a server with max_body_kib = 1 ----------------------------------------
printf '[server]\nmax_body_kib = 1\n' >"$T/small.ini"
restart_server --config "$T/small.ini" || { fail "server starts with --config"; finish; }
use_token "$ADMIN"
BASELINE=$(snapshot)
pad=$(printf 'x%.0s' {1..2000})
api POST /api/v1/groups "{\"name\":\"big$RUN_ID\",\"description\":\"$pad\"}"
check_error 413 too_large "a 2 KiB body over max_body_kib = 1 -> 413"
# Just under the limit: a login with a 900-character password is read and
# refused as a login (401), not as a body (413).
use_nobody
api POST /api/v1/login "{\"username\":\"nosuch$RUN_ID\",\"password\":\"$(printf 'x%.0s' {1..900})\"}"
check_error 401 invalid_credentials "a 0.9 KiB body under the limit is read (401, not 413)"
use_token "$ADMIN"
printf '{"name":"chunk%s","description":"%s"}' "$RUN_ID" "$pad" >"$T/big.json"
api POST /api/v1/groups -H 'Content-Type: application/json' -H 'Transfer-Encoding: chunked' \
	--data-binary "@$T/big.json"
check_error 413 too_large "a chunked body over the limit (no Content-Length) -> 413"
check_unchanged "413s"
api GET /api/v1/me
check_status 200 "the server still answers after the 413s"

stop_server
finish
