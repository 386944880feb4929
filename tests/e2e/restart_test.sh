#!/usr/bin/env bash
# restart_test — everything the API acknowledged survives a restart of the
# daemon on the same data directory, and the second start is not a first
# start again.
. "$(dirname "$0")/lib.sh"

start_server || { fail "server starts"; finish; }
check "first start writes initial-admin-password" test -s "$DATA/initial-admin-password"
check "initial-admin-password is mode 0600" test "$(stat -c %a "$DATA/initial-admin-password")" = 600
pw_before=$(stat -c '%i %Y %s' "$DATA/initial-admin-password")$(sha256sum <"$DATA/initial-admin-password")
ADMIN=$(admin_token) || { fail "admin token"; finish; }
ALICE=alice$RUN_ID BOB=bob$RUN_ID LAB=lab$RUN_ID

use_token "$ADMIN"
api POST /api/v1/groups "{\"name\":\"$LAB\",\"description\":\"the lab\",\"max_gpus\":3,\"fairshare_weight\":4}"
check_status 201 "create group $LAB"
api PATCH /api/v1/groups/students '{"max_gpus":5,"max_walltime_s":1234}'
check_status 200 "change the students' limits"
api POST /api/v1/users "{\"username\":\"$ALICE\",\"password\":\"alice-password\",\"groups\":[\"$LAB\",\"students\"],\"email\":\"a@example.org\"}"
check_status 201 "create $ALICE"
api POST /api/v1/users "{\"username\":\"$BOB\",\"password\":\"bob-password\"}"
check_status 201 "create $BOB"
api PATCH "/api/v1/users/$BOB" '{"disabled":true}'
check_status 200 "disable $BOB"
ALICE_TOKEN=$(new_token "$ALICE" alice-password keep) || fail "token for $ALICE"
use_token "$ALICE_TOKEN"
api POST /api/v1/tokens '{"name":"revoked"}'
check_status 201 "a second token for $ALICE"
revoked=$(jq -r .token <<<"$BODY") revoked_id=$(jq -r .id <<<"$BODY")
api DELETE "/api/v1/tokens/$revoked_id"
check_status 204 "revoke it"
login "$ALICE" alice-password "$T/alice.jar"
check_status 200 "$ALICE logs in (a browser session)"
ALICE_CSRF=$CSRF

use_token "$ADMIN"
api GET /api/v1/users
users_before=$BODY
api GET /api/v1/groups
groups_before=$BODY
use_token "$ALICE_TOKEN"
api GET /api/v1/tokens
tokens_before=$(jq -c 'del(.tokens[].last_used_at)' <<<"$BODY")

# ---- restart ------------------------------------------------------------------
first_log=$SERVER_LOG
restart_server || { fail "server starts again on the same data"; finish; }
check "the first start said so in its log" grep -q "first start" "$first_log"
check "the second start is not a first start" eval '! grep -q "first start" "$SERVER_LOG"'

pw_after=$(stat -c '%i %Y %s' "$DATA/initial-admin-password")$(sha256sum <"$DATA/initial-admin-password")
check_eq "$pw_after" "$pw_before" "initial-admin-password is not rewritten"

use_token "$ADMIN"
api GET /api/v1/me
check_status 200 "the admin token still works"
api GET /api/v1/users
check_eq "$BODY" "$users_before" "the users are exactly as before"
check_jq '[.users[] | select(.username == "admin")] | length == 1' "there is still one user admin"
check_jq '[.users[] | select(.admin)] | length == 1' "no second admin was created"
check_jq --arg u "$BOB" '.users[] | select(.username == $u) | .disabled == true' "$BOB is still disabled"
api GET /api/v1/groups
check_eq "$BODY" "$groups_before" "the groups are exactly as before"
check_jq '.groups[] | select(.name == "students") | .max_gpus == 5 and .max_walltime_s == 1234' \
	"the students' changed limits survived"
check_jq --arg g "$LAB" '.groups[] | select(.name == $g) | .max_gpus == 3 and .fairshare_weight == 4 and .members == 1' \
	"group $LAB survived with its member"

use_token "$ALICE_TOKEN"
api GET /api/v1/me
check_status 200 "$ALICE's token still works"
check_jq --arg g "$LAB" '.groups == [$g, "students"] and .email == "a@example.org"' "... with her groups in order"
api GET /api/v1/tokens
check_eq "$(jq -c 'del(.tokens[].last_used_at)' <<<"$BODY")" "$tokens_before" "her token list is as before"
use_token "$revoked"
api GET /api/v1/me
check_error 401 unauthorized "the revoked token stays revoked"
use_cookie "$T/alice.jar" "$ALICE_CSRF"
api GET /api/v1/me
check_status 200 "her browser session survived the restart"
api POST /api/v1/logout
check_status 204 "... and its CSRF token still works"

use_nobody
login "$ALICE" alice-password "$T/alice2.jar"
check_status 200 "$ALICE logs in with her password"
login "$BOB" bob-password "$T/bob.jar"
check_error 403 account_disabled "$BOB still cannot log in"
login admin "$(admin_password)" "$T/admin.jar"
check_status 200 "admin logs in with the password from initial-admin-password"

# A write after the restart goes to the same store.
use_token "$ADMIN"
api DELETE "/api/v1/users/$BOB"
check_status 204 "delete $BOB after the restart"
restart_server || { fail "server starts a third time"; finish; }
use_token "$ADMIN"
api GET "/api/v1/users/$BOB"
check_error 404 not_found "$BOB stays deleted after another restart"
api GET /api/v1/users
check_jq '.users | length == 2' "two users remain (admin and $ALICE)"

stop_server
finish
