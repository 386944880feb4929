#!/usr/bin/env bash
# cli_test — the `kaon` command line as a client of the daemon (login,
# whoami, tokens, admin users/groups, KAON_URL/KAON_TOKEN, failures), and
# the offline `kaon admin --data DIR` with the server stopped.
. "$(dirname "$0")/lib.sh"

start_server || { fail "server starts"; finish; }
PW=$(admin_password)
# The CLI keeps its config under $HOME: a home of its own for this test.
export HOME=$T/clihome
mkdir -p "$HOME"
unset XDG_CONFIG_HOME KAON_URL KAON_TOKEN KAON_CA_FILE
CONF=$HOME/.config/kaon/config
ALICE=alice$RUN_ID LAB=lab$RUN_ID OFF=off$RUN_ID

# ---- login and whoami --------------------------------------------------------
kcli whoami
check_ne "$RC" 0 "whoami before login fails"
kcli login "$URL" --username admin --password-stdin <<<"$PW"
cli_ok "kaon login URL --username admin --password-stdin"
check "login writes $CONF" test -f "$CONF"
check_eq "$(stat -c %a "$CONF" 2>/dev/null)" 600 "the config file is mode 0600"
check_eq "$(stat -c %a "$(dirname "$CONF")" 2>/dev/null)" 700 "its directory is mode 0700"
check "the config file has the URL" grep -qF "$URL" "$CONF"
check "the config file has a kaon_ token" grep -q 'kaon_' "$CONF"
check "the config file does not have the password" eval '! grep -qF -- "$PW" "$CONF"'
CLI_TOKEN=$(grep -o 'kaon_[A-Za-z0-9_-]*' "$CONF" | head -n 1)
use_token "$CLI_TOKEN"
api GET /api/v1/me
check_jq '.username == "admin" and .auth == "token"' "the stored token is an API token for admin"
api GET /api/v1/tokens
check_jq '[.tokens[] | select(.name | startswith("cli@"))] | length == 1' "it is named cli@HOST"

# Logging in again to the same URL revokes the older token.
kcli login "$URL" --username admin --password-stdin <<<"$PW"
cli_ok "a second kaon login"
OLD_TOKEN=$CLI_TOKEN
CLI_TOKEN=$(grep -o 'kaon_[A-Za-z0-9_-]*' "$CONF" | head -n 1)
check_ne "$CLI_TOKEN" "$OLD_TOKEN" "... stores a new token"
use_token "$OLD_TOKEN"
api GET /api/v1/me
check_error 401 unauthorized "... and the older one is revoked"
use_token "$CLI_TOKEN"
api GET /api/v1/me
check_status 200 "... the new one works"
kcli login "$URL" --username admin --password-stdin <<<"wrong-password"
cli_fails "login with a wrong password fails with one line on stderr"
check "... the server's message" grep -q "wrong username or password" <<<"$ERR"

kcli whoami
cli_ok "whoami"
check "whoami names admin" grep -qw admin <<<"$OUT"
kcli whoami --json
cli_ok "whoami --json"
out_jq '.username == "admin" and .admin == true' "whoami --json is /me as JSON"

kcli tokens list
cli_ok "tokens list"
check "tokens list shows the CLI's token (cli@HOST)" grep -q 'cli@' <<<"$OUT"
check "tokens list does not show the secret" eval '! grep -qF -- "$CLI_TOKEN" <<<"$OUT"'
kcli tokens list --json
cli_ok "tokens list --json"
out_jq '[.. | objects | select(has("prefix")) | .name] | any(startswith("cli@"))' \
	"tokens list --json has the CLI's token"

kcli tokens create ci-token --expires-in 1h
cli_ok "tokens create ci-token --expires-in 1h"
NEW_TOKEN=$OUT
check "it prints the secret alone on stdout" eval '[[ $NEW_TOKEN =~ ^kaon_[A-Za-z0-9_-]+$ ]]'
use_token "$NEW_TOKEN"
api GET /api/v1/tokens
check_status 200 "the new token works"
check_jq '.tokens[] | select(.name == "ci-token") | .expires_at | type == "string"' "... and expires"
new_id=$(jq -r '.tokens[] | select(.name == "ci-token") | .id' <<<"$BODY")
kcli tokens delete "$new_id"
cli_ok "tokens delete ID"
api GET /api/v1/me
check_error 401 unauthorized "... revokes it"
kcli tokens create ci-token --expires-in soon
check_eq "$RC" 2 "a bad --expires-in is a usage error (exit 2)"

# ---- admin users and groups ---------------------------------------------------
kcli admin users create "$ALICE" --group students --password-stdin <<<"alice-password"
cli_ok "admin users create $ALICE --group students --password-stdin"
kcli admin users list --json
cli_ok "admin users list --json"
out_jq --arg u "$ALICE" '[.. | objects | select(.username? == $u)][0] | .groups == ["students"] and .password_set == true' \
	"admin users list --json has $ALICE in students"
kcli admin users list
cli_ok "admin users list"
check "the table lists $ALICE" grep -qw "$ALICE" <<<"$OUT"
kcli admin users create "$ALICE" --password-stdin <<<"alice-password"
cli_fails "creating $ALICE again fails with one line on stderr"

kcli admin groups create "$LAB" --description "the lab" --max-gpus 2
cli_ok "admin groups create $LAB --max-gpus 2"
kcli admin groups list --json
cli_ok "admin groups list --json"
out_jq --arg g "$LAB" '[.. | objects | select(.name? == $g)][0] | .max_gpus == 2 and .description == "the lab"' \
	"admin groups list --json has $LAB with max_gpus 2"
kcli admin groups update "$LAB" --max-gpus none --max-jobs 7
cli_ok "admin groups update $LAB --max-gpus none --max-jobs 7"
kcli admin groups show "$LAB" --json
cli_ok "admin groups show $LAB --json"
out_jq '.max_gpus == null and .max_jobs == 7' "the update is stored (none is no limit)"
kcli admin users update "$ALICE" --group "$LAB"
cli_ok "admin users update $ALICE --group $LAB"
kcli admin groups delete "$LAB"
cli_fails "deleting a group with members fails with one line on stderr"
kcli admin users update "$ALICE" --group students
cli_ok "move $ALICE back to students"
kcli admin groups delete "$LAB"
cli_ok "admin groups delete $LAB"
kcli admin groups show "$LAB"
cli_fails "showing a deleted group fails with one line on stderr"
kcli admin groups create "$LAB" --max-mem 128G --max-walltime 2d --weight 2.5
cli_ok "admin groups create with units (--max-mem 128G --max-walltime 2d --weight 2.5)"
kcli admin groups show "$LAB" --json
out_jq '.max_mem_mb == 131072 and .max_walltime_s == 172800 and .fairshare_weight == 2.5' \
	"... 128G is 131072 MB, 2d is 172800 s"
kcli admin groups delete "$LAB"
cli_ok "... and delete it"
kcli admin users update "$ALICE" --admin --no-admin
check_eq "$RC" 2 "contradicting flags are a usage error (exit 2)"
check "... with a usage: line on stderr" grep -q '^usage: kaon' <<<"$ERR"

# ---- KAON_URL and KAON_TOKEN -----------------------------------------------------
use_token "$CLI_TOKEN"
api POST /api/v1/tokens '{"name":"spare"}'
SPARE=$(jq -r .token <<<"$BODY")
ALICE_TOKEN=$(new_token "$ALICE" alice-password) || fail "token for $ALICE"
KAON_TOKEN=$ALICE_TOKEN kcli whoami --json
cli_ok "KAON_TOKEN overrides the stored token"
out_jq --arg u "$ALICE" '.username == $u' "... whoami says $ALICE"
KAON_URL="http://localhost:$PORT" KAON_TOKEN=$SPARE kcli whoami --json
cli_ok "KAON_URL and KAON_TOKEN override the config file"
out_jq '.username == "admin"' "... whoami says admin"
KAON_URL="http://localhost:$PORT" kcli whoami
cli_fails "KAON_URL naming another server, no KAON_TOKEN: the stored token is not sent"
KAON_URL=http://127.0.0.1:1 kcli whoami
cli_fails "an unreachable KAON_URL fails with one line on stderr"
check "... naming the URL" grep -qF "127.0.0.1:1" <<<"$ERR"
KAON_TOKEN=$ALICE_TOKEN kcli admin users list
cli_fails "a non-admin's admin users list (403) fails with one line on stderr"
check_eq "$OUT" "" "... and prints nothing on stdout"
use_token "$ALICE_TOKEN"
api GET /api/v1/users
check_eq "$ERR" "kaon: $(jq -r .error.message <<<"$BODY")" "... the line is the server's error message"
KAON_TOKEN=kaon_bogus kcli whoami
cli_fails "a bad KAON_TOKEN (401) fails with one line on stderr"
kcli whoami --no-such-flag
check_eq "$RC" 2 "an unknown flag is a usage error (exit 2)"

# ---- logout ----------------------------------------------------------------------
kcli logout
cli_ok "kaon logout"
use_token "$CLI_TOKEN"
api GET /api/v1/me
check_error 401 unauthorized "logout revoked the stored token"
check "logout removed the token from the config file" eval '! grep -qF -- "$CLI_TOKEN" "$CONF"'
kcli whoami
check_ne "$RC" 0 "whoami after logout fails"

# ---- offline admin, server stopped ------------------------------------------------
stop_server
printf 'offline-password\n' >"$T/pw"
kcli admin --data "$DATA" create-user "$OFF" --group students --password-file "$T/pw"
cli_ok "admin --data DIR create-user $OFF --group students --password-file F"
kcli admin --data "$DATA" create-user "$OFF" --password-file "$T/pw"
cli_fails "creating $OFF again offline fails with one line on stderr"
kcli admin --data "$DATA" create-user "x$OFF" --group "nosuch$RUN_ID"
cli_fails "an unknown group offline fails with one line on stderr"
kcli admin --data "$DATA" token "$OFF"
cli_ok "admin --data DIR token $OFF"
OFF_TOKEN=$OUT
check "it prints just a token" eval '[[ $OFF_TOKEN =~ ^kaon_[A-Za-z0-9_-]+$ ]]'
kcli admin --data "$DATA" token "nosuch$RUN_ID"
cli_fails "a token for an unknown user fails with one line on stderr"
kcli admin --data "$DATA" token "$OFF" --name offline-2 --expires-in 3600
cli_ok "admin --data DIR token NAME --name N --expires-in 3600"
OFF_TOKEN2=$OUT

start_server || { fail "server starts again"; finish; }
KAON_URL=$URL KAON_TOKEN=$OFF_TOKEN kcli whoami --json
cli_ok "the offline token works once the server runs"
out_jq --arg u "$OFF" '.username == $u and .groups == ["students"]' "... as $OFF in students"
use_nobody
login "$OFF" offline-password "$T/off.jar"
check_status 200 "$OFF logs in with the password from the file"
use_token "$OFF_TOKEN"
api GET /api/v1/tokens
check_jq '.tokens | length == 2' "the offline tokens are in $OFF's token list"
check_jq '.tokens[] | select(.name == "offline-2") | .expires_at | type == "string"' \
	"... the second with its name and expiry"
use_token "$OFF_TOKEN2"
api GET /api/v1/me
check_status 200 "... and it works"

stop_server
finish
