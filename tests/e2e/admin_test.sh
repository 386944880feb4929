#!/usr/bin/env bash
# admin_test — users and groups over the API: who may, CRUD, conflicts,
# the built-in groups and their limits.
. "$(dirname "$0")/lib.sh"

start_server || { fail "server starts"; finish; }
ADMIN=$(admin_token) || { fail "admin token"; finish; }
ALICE=alice$RUN_ID BOB=bob$RUN_ID TEAM=team$RUN_ID

# ---- built-in groups ---------------------------------------------------------
use_token "$ADMIN"
api GET /api/v1/groups
check_status 200 "admin lists groups"
for g in researchers students guests; do
	check_jq --arg g "$g" '.groups[] | select(.name == $g) | .builtin == true' \
		"built-in group $g exists"
	check_jq --arg g "$g" '.groups[] | select(.name == $g) |
		([.max_gpus, .max_cpus, .max_mem_mb, .max_walltime_s, .max_jobs, .max_sessions]
		 | all(type == "number" and . >= 0)) and .fairshare_weight > 0' \
		"built-in group $g has limits"
done
check_jq '.groups[] | select(.name == "guests") | .max_gpus == 0' "guests get no GPU"

# ---- users -------------------------------------------------------------------
api POST /api/v1/users "{\"username\":\"$ALICE\",\"password\":\"alice-password\",\"display_name\":\"Alice A.\",\"email\":\"alice@example.org\"}"
check_status 201 "create user $ALICE -> 201"
check_jq --arg u "$ALICE" '.username == $u and .display_name == "Alice A." and .email == "alice@example.org"
	and .admin == false and .disabled == false and .password_set == true
	and (.uid | type == "number") and (.gid | type == "number") and (.home | type == "string")
	and (.unix_user | type == "string") and (.created_at | type == "string")' \
	"the user object has every field"
check_jq '.groups == ["researchers"]' "without groups a user joins the default group"
api POST /api/v1/users "{\"username\":\"$BOB\",\"groups\":[\"students\",\"guests\"]}"
check_status 201 "create user $BOB without a password"
check_jq '.password_set == false and .groups == ["students","guests"]' \
	"no password; groups kept in order (first is primary)"

api POST /api/v1/users "{\"username\":\"$ALICE\",\"password\":\"other-password\"}"
check_error 409 conflict "creating $ALICE again -> 409"
api POST /api/v1/users "{\"username\":\"carol$RUN_ID\",\"groups\":[\"nosuch$RUN_ID\"]}"
check_error 422 invalid "unknown group -> 422"
check_jq --arg g "nosuch$RUN_ID" '.error.message | contains($g)' "the message names the group"
api GET "/api/v1/users/carol$RUN_ID"
check_error 404 not_found "the refused user was not created"
api POST /api/v1/users '{"username":"Bad Name"}'
check_error 422 invalid "invalid username -> 422"
api POST /api/v1/users "{\"username\":\"$(printf 'a%.0s' {1..33})\"}"
check_error 422 invalid "a 33-character username -> 422"
api POST /api/v1/users '{"username":"9lives"}'
check_error 422 invalid "a username starting with a digit -> 422"
api POST /api/v1/users "{\"username\":\"dave$RUN_ID\",\"password\":\"short\"}"
check_error 422 invalid "password under 8 characters -> 422"

api GET /api/v1/users
check_status 200 "list users"
check_jq --arg a "$ALICE" --arg b "$BOB" '[.users[].username] | contains(["admin", $a, $b])' \
	"the list has admin, $ALICE and $BOB"
api GET "/api/v1/users/$ALICE"
check_status 200 "get $ALICE"
check_jq --arg u "$ALICE" '.username == $u' "... the right one"

api PATCH "/api/v1/users/$ALICE" "{\"display_name\":\"Alice B.\",\"groups\":[\"students\"]}"
check_status 200 "patch $ALICE"
check_jq '.display_name == "Alice B." and .groups == ["students"] and .email == "alice@example.org"' \
	"patch changes the given fields only"
api PATCH "/api/v1/users/$ALICE" "{\"groups\":[\"nosuch$RUN_ID\"]}"
check_error 422 invalid "patch with an unknown group -> 422"
api GET "/api/v1/users/$ALICE"
check_jq '.groups == ["students"]' "... and changes nothing"
api PATCH "/api/v1/users/nosuch$RUN_ID" '{"display_name":"x"}'
check_error 404 not_found "patch an unknown user -> 404"

# ---- who may -----------------------------------------------------------------
ALICE_TOKEN=$(new_token "$ALICE" alice-password) || fail "token for $ALICE"
use_token "$ALICE_TOKEN"
api GET /api/v1/users
check_error 403 forbidden "non-admin GET /users -> 403"
api POST /api/v1/users '{"username":"mallory"}'
check_error 403 forbidden "non-admin POST /users -> 403"
api GET "/api/v1/users/$ALICE"
check_error 403 forbidden "non-admin GET /users/self -> 403"
api GET /api/v1/groups
check_error 403 forbidden "non-admin GET /groups -> 403"
api GET /api/v1/me
check_jq '.limits.group == "students" and (.limits | has("max_gpus") and has("max_walltime_s"))
	and (.limits.default_cpus | type == "number")' \
	"a non-admin reads the limits of her primary group in GET /me"
api PATCH /api/v1/groups/students '{"max_gpus":8}'
check_error 403 forbidden "non-admin PATCH /groups/students -> 403"
api DELETE "/api/v1/users/$BOB"
check_error 403 forbidden "non-admin DELETE /users -> 403"

use_token "$ADMIN"
api PATCH "/api/v1/users/$ALICE" '{"admin":true}'
check_status 200 "make $ALICE an admin"
use_token "$ALICE_TOKEN"
api GET /api/v1/users
check_status 200 "$ALICE, now admin, lists users"
use_token "$ADMIN"
api PATCH "/api/v1/users/$ALICE" '{"admin":false}'
check_status 200 "demote $ALICE again"
use_token "$ALICE_TOKEN"
api GET /api/v1/users
check_error 403 forbidden "... and she is refused again"

# ---- an admin cannot lock themself out --------------------------------------------
use_token "$ADMIN"
api PATCH /api/v1/users/admin '{"disabled":true}'
check_error 409 conflict "admin disabling themself -> 409"
api PATCH /api/v1/users/admin '{"admin":false}'
check_error 409 conflict "admin demoting themself -> 409"
api DELETE /api/v1/users/admin
check_error 409 conflict "admin deleting themself -> 409"
api GET /api/v1/me
check_jq '.admin == true' "admin is still an admin"

# ---- password change ---------------------------------------------------------------
api PATCH "/api/v1/users/$BOB" '{"password":"bob-new-password"}'
check_status 200 "set $BOB's password"
check_jq '.password_set == true' "password_set is now true"
use_nobody
login "$BOB" bob-new-password "$T/bob.jar"
check_status 200 "$BOB logs in with the new password"
use_token "$ADMIN"
api PATCH "/api/v1/users/$BOB" '{"password":"bob-newer-password"}'
check_status 200 "set $BOB's password again"
use_cookie "$T/bob.jar"
api GET /api/v1/me
check_error 401 unauthorized "setting the password ended $BOB's browser session"
use_nobody
login "$BOB" bob-new-password "$T/bob.jar"
check_error 401 invalid_credentials "the old password no longer works"
login "$BOB" bob-newer-password "$T/bob.jar"
check_status 200 "the new one does"

# ---- groups ------------------------------------------------------------------------
use_token "$ADMIN"
api POST /api/v1/groups "{\"name\":\"$TEAM\",\"description\":\"a team\",\"max_gpus\":2,\"max_jobs\":null}"
check_status 201 "create group $TEAM -> 201"
check_jq --arg g "$TEAM" '.name == $g and .description == "a team" and .max_gpus == 2 and .max_jobs == null
	and .max_cpus == null and .fairshare_weight == 1 and .builtin == false and .members == 0
	and (.created_at | type == "string")' \
	"the group object: given limits, null for no limit, weight 1 by default"
api POST /api/v1/groups "{\"name\":\"$TEAM\"}"
check_error 409 conflict "creating $TEAM again -> 409"
api POST /api/v1/groups '{"name":"students"}'
check_error 409 conflict "creating a built-in group's name -> 409"
api POST /api/v1/groups '{"name":"Bad Group"}'
check_error 422 invalid "invalid group name -> 422"
api GET "/api/v1/groups/$TEAM"
check_status 200 "get $TEAM"

api PATCH "/api/v1/groups/$TEAM" '{"max_gpus":4,"max_cpus":16,"max_mem_mb":65536,"max_walltime_s":7200,"max_sessions":3,"fairshare_weight":2.5}'
check_status 200 "patch $TEAM's limits"
check_jq '.max_gpus == 4 and .max_cpus == 16 and .max_mem_mb == 65536 and .max_walltime_s == 7200
	and .max_sessions == 3 and .fairshare_weight == 2.5 and .description == "a team"' \
	"the new limits are in the answer, the rest is unchanged"
api PATCH "/api/v1/groups/$TEAM" '{"max_gpus":null}'
check_status 200 "set a limit to null (no limit)"
check_jq '.max_gpus == null and .max_cpus == 16' "max_gpus is now null"
api GET "/api/v1/groups/$TEAM"
check_jq '.max_gpus == null and .max_cpus == 16 and .fairshare_weight == 2.5' "GET shows the stored limits"
api PATCH /api/v1/groups/students '{"max_gpus":2}'
check_status 200 "patch a built-in group's limits"
check_jq '.max_gpus == 2 and .builtin == true' "... it stays built-in"

api PATCH "/api/v1/groups/$TEAM" "{\"name\":\"r$TEAM\"}"
check_status 200 "rename $TEAM (name is a field of POST, so of PATCH)"
check_jq --arg g "r$TEAM" '.name == $g and .max_cpus == 16' "... the answer has the new name and the old limits"
api PATCH "/api/v1/groups/r$TEAM" "{\"name\":\"$TEAM\"}"
check_status 200 "rename it back"
api PATCH "/api/v1/groups/$TEAM" '{"name":"guests"}'
check_error 409 conflict "renaming onto an existing group -> 409"
api PATCH "/api/v1/users/$BOB" "{\"groups\":[\"$TEAM\"]}"
check_status 200 "put $BOB into $TEAM"
api GET "/api/v1/groups/$TEAM"
check_jq '.members == 1' "$TEAM has one member"
api DELETE "/api/v1/groups/$TEAM"
check_error 409 conflict "deleting a group with members -> 409"
api GET "/api/v1/groups/$TEAM"
check_status 200 "... it is still there"
api PATCH "/api/v1/users/$BOB" '{"groups":["guests"]}'
check_status 200 "move $BOB out of $TEAM"
api DELETE "/api/v1/groups/$TEAM"
check_status 204 "delete the empty group -> 204"
api GET "/api/v1/groups/$TEAM"
check_error 404 not_found "the deleted group is gone"
api DELETE "/api/v1/groups/$TEAM"
check_error 404 not_found "deleting it again -> 404"

# ---- deleting users ------------------------------------------------------------------
login "$ALICE" alice-password "$T/alice.jar"
check_status 200 "$ALICE logs in"
use_token "$ADMIN"
api DELETE "/api/v1/users/$ALICE"
check_status 204 "delete $ALICE -> 204"
api GET "/api/v1/users/$ALICE"
check_error 404 not_found "$ALICE is gone"
use_token "$ALICE_TOKEN"
api GET /api/v1/me
check_error 401 unauthorized "a deleted user's token stops working"
use_cookie "$T/alice.jar"
api GET /api/v1/me
check_error 401 unauthorized "... and her browser session too"
use_token "$ADMIN"
api DELETE "/api/v1/users/$ALICE"
check_error 404 not_found "deleting her again -> 404"
api GET /api/v1/users
check_jq --arg a "$ALICE" '[.users[].username] | index($a) == null' "the list no longer has $ALICE"

stop_server
finish
