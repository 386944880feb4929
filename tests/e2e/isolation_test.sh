#!/usr/bin/env bash
# isolation_test — multi-user mode: run as root, the daemon maps every kaon
# user to a Unix account of its own (created with a private home) and
# refuses system accounts. Not as root, it runs in single-account mode and
# the rest is skipped.
. "$(dirname "$0")/lib.sh"

start_server || { fail "server starts"; finish; }

if [ "$(id -u)" != 0 ]; then
	check "not root: the log says single-account mode" grep -q "single-account" "$SERVER_LOG"
	skip "multi-user isolation checks need root (running as uid $(id -u))"
	stop_server
	finish
fi

check "as root: the log says multi-user mode" grep -q "multi-user" "$SERVER_LOG"
ADMIN=$(admin_token) || { fail "admin token"; finish; }
use_token "$ADMIN"

# ---- a new user gets a new Unix account -----------------------------------------
NEW=kaone2e$RUN_ID
check "$NEW does not exist yet" eval '! getent passwd "$NEW" >/dev/null'
api POST /api/v1/users "{\"username\":\"$NEW\",\"password\":\"isolated-pass\",\"groups\":[\"students\"]}"
check_status 201 "create $NEW"
api_uid=$(jq -r .uid <<<"$BODY") api_home=$(jq -r .home <<<"$BODY") api_unix=$(jq -r .unix_user <<<"$BODY")
pw=$(getent passwd "$NEW")
check "getent passwd finds the new Unix account" test -n "$pw"
IFS=: read -r _ _ pw_uid pw_gid _ pw_home _ <<<"$pw"
check_eq "$api_unix" "$NEW" "unix_user defaults to the username"
check_eq "$api_uid" "${pw_uid:-}" "the API's uid is the account's uid"
check_eq "$api_home" "${pw_home:-}" "the API's home is the account's home"
check "its uid is not a system uid (>= 1000)" test "${pw_uid:-0}" -ge 1000
check "the home directory exists" test -d "$api_home"
check_eq "$(stat -c %u "$api_home" 2>/dev/null)" "${pw_uid:-}" "the home is owned by the new uid"
check_eq "$(stat -c %a "$api_home" 2>/dev/null)" 700 "the home is mode 0700"
check "the home is under the data directory's home root" eval '[[ $api_home == "$DATA/home/"* ]]'
check_eq "$(jq -r .gid <<<"$BODY")" "${pw_gid:-}" "the API's gid is the account's primary gid"

# ---- system accounts are refused -----------------------------------------------------
for sys in daemon root; do
	api POST /api/v1/users "{\"username\":\"sys$sys$RUN_ID\",\"unix_user\":\"$sys\"}"
	check_error 422 invalid "mapping to the system account '$sys' -> 422"
	api GET "/api/v1/users/sys$sys$RUN_ID"
	check_error 404 not_found "... and no kaon user '$sys$RUN_ID' was made"
done

# ---- an existing ordinary account is mapped as it is ---------------------------------
EXIST=kaone2ex$RUN_ID
if useradd --create-home --home-dir "$T/home-$EXIST" --user-group "$EXIST" >/dev/null 2>&1; then
	ex_uid=$(id -u "$EXIST")
	api POST /api/v1/users "{\"username\":\"map$RUN_ID\",\"unix_user\":\"$EXIST\"}"
	check_status 201 "mapping to an existing ordinary account"
	check_jq --arg u "$EXIST" --argjson id "$ex_uid" --arg h "$T/home-$EXIST" \
		'.unix_user == $u and .uid == $id and .home == $h' "... uses that account's uid and home"
	userdel --remove "$EXIST" >/dev/null 2>&1
else
	fail "useradd $EXIST (to test mapping an existing account)"
fi

# ---- deleting the kaon user keeps the Unix account -----------------------------------
api DELETE "/api/v1/users/$NEW"
check_status 204 "delete kaon user $NEW"
check "its Unix account stays" eval 'getent passwd "$NEW" >/dev/null' 
check "its home stays" test -d "$api_home"

stop_server
userdel --remove "$NEW" >/dev/null 2>&1
check "userdel -r removed $NEW" eval '! getent passwd "$NEW" >/dev/null'
finish
