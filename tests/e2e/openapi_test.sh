#!/usr/bin/env bash
# openapi_test — the OpenAPI document is served, public, and describes the
# routes the daemon answers.
. "$(dirname "$0")/lib.sh"

start_server || { fail "server starts"; finish; }

use_nobody
api GET /api/v1/openapi.json
check_status 200 "GET /api/v1/openapi.json without credentials -> 200"
check_header Content-Type '^application/json' "it is application/json"
check_jq 'type == "object"' "it is valid JSON (an object)"
check_jq '.openapi | test("^3\\.")' "openapi is 3.x"
check_jq '.info.title | type == "string"' "it has info.title"
check_jq '.paths["/api/v1/login"].post != null' "it includes POST /api/v1/login"
check_jq '.paths["/api/v1/me"].get != null' "it includes GET /api/v1/me"
check_jq '.components.securitySchemes | has("bearer") and has("cookie")' \
	"it declares the bearer and cookie security schemes"
check_eq "$(jq -c . <<<"$BODY")" "$(jq -c . "$ROOT/src/api/openapi.json")" \
	"the served document is src/api/openapi.json"

# Every documented operation is a route: asked anonymously, the daemon
# answers it with anything but 404 (unknown routes are told apart before
# authentication, unknown objects only after) or 405. Concrete values
# stand in for {params}.
bad=
while read -r method path; do
	p=${path//\{id\}/1}
	p=${p//\{name\}/nosuch$RUN_ID}
	p=${p//\{path\}/nosuch$RUN_ID}
	api "$method" "$p" -H 'Content-Type: application/json' --data-binary '{}'
	if [ "$STATUS" = 404 ] || [ "$STATUS" = 405 ] || [ "$STATUS" = 000 ]; then
		bad="$bad $method:$path($STATUS)"
	fi
done < <(jq -r '.paths | to_entries[] | .key as $p | .value | keys[]
	| select(IN("get","post","put","patch","delete")) | "\(ascii_upcase) \($p)"' "$ROOT/src/api/openapi.json")
check_eq "$bad" "" "every documented operation is routed by the daemon"

# The answers have the shape the document gives them: for each object,
# every required property is there and nothing the schema lacks.
DOC=$ROOT/src/api/openapi.json
# check_shape SCHEMA JQ_PATH DESC — the object(s) at JQ_PATH in the last body
# against components.schemas.SCHEMA (required <= keys <= properties).
check_shape() {
	local schema=$1 path=$2 desc=$3 props req bad
	props=$(jq -c --arg s "$schema" '.components.schemas[$s].properties | keys' "$DOC")
	req=$(jq -c --arg s "$schema" '.components.schemas[$s].required // []' "$DOC")
	bad=$(jq -c --argjson p "$props" --argjson r "$req" \
		"[$path] | map({missing: (\$r - keys), extra: (keys - \$p)})
		 | map(select((.missing | length) > 0 or (.extra | length) > 0))" <<<"$BODY" 2>&1)
	if [ "$bad" = "[]" ]; then
		pass "$desc"
	else
		fail "$desc: not like schema $schema: $bad"
		last_request
	fi
}

login admin "$(admin_password)" "$T/admin.jar"
check_shape LoginResponse . "POST /login answers a LoginResponse"
use_cookie "$T/admin.jar" "$CSRF"
api GET /api/v1/me
check_shape Me . "GET /me (cookie) answers a Me"
api POST /api/v1/tokens '{"name":"shape","expires_in_s":3600}'
check_shape TokenCreated . "POST /tokens answers a TokenCreated"
TOKEN=$(jq -r .token <<<"$BODY")
use_token "$TOKEN"
api GET /api/v1/me
check_shape Me . "GET /me (token) answers a Me"
api GET /api/v1/tokens
check_shape TokenList . "GET /tokens answers a TokenList"
check_shape Token '.tokens[]' "... of Tokens"
api POST /api/v1/users "{\"username\":\"shape$RUN_ID\",\"groups\":[\"guests\"]}"
check_shape User . "POST /users answers a User"
api GET /api/v1/users
check_shape UserList . "GET /users answers a UserList"
check_shape User '.users[]' "... of Users"
api POST /api/v1/groups "{\"name\":\"shape$RUN_ID\",\"max_gpus\":1}"
check_shape Group . "POST /groups answers a Group"
api GET /api/v1/groups
check_shape GroupList . "GET /groups answers a GroupList"
check_shape Group '.groups[]' "... of Groups"
api GET /api/v1/groups/nosuch
check_shape Error . "an error answers an Error"
api DELETE "/api/v1/users/shape$RUN_ID"
check_status 204 "clean up the user"

stop_server
finish
