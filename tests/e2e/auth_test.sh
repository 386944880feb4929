#!/usr/bin/env bash
# auth_test — login, cookie sessions with CSRF, logout, failed logins and
# their rate limit, API tokens, disabled accounts.
. "$(dirname "$0")/lib.sh"

start_server || { fail "server starts"; finish; }
PW=$(admin_password)
JAR=$T/admin.jar

# ---- login and the cookie session ---------------------------------------------
login admin "$PW" "$JAR"
check_status 200 "login as admin"
check_jq '.username == "admin" and .admin == true and (.groups | type == "array")' \
	"login answers the account"
check_jq '.csrf_token | type == "string" and length >= 16' "login answers a csrf_token"
check_header Set-Cookie '^kaon_session=[^;]+;' "login sets the kaon_session cookie"
check_header Set-Cookie '; *HttpOnly(;|$)' "session cookie is HttpOnly"
check_header Set-Cookie '; *SameSite=Lax(;|$)' "session cookie is SameSite=Lax"
cookie=$(header Set-Cookie)
check "session cookie is not Secure over plain HTTP" eval '! [[ $cookie =~ [Ss]ecure ]]'
check_header Cache-Control 'no-store' "API answers carry Cache-Control: no-store"
ADMIN_CSRF=$CSRF

use_cookie "$JAR"
api GET /api/v1/me
check_status 200 "GET /me with the cookie"
check_jq '.username == "admin" and .auth == "cookie"' "/me says admin, auth cookie"
check_jq '.csrf_token != null' "/me returns the csrf_token for a cookie session"
check_eq "$(jq -r .csrf_token <<<"$BODY")" "$ADMIN_CSRF" "/me csrf_token is the one login gave"
check_jq 'has("token_id") | not' "/me with the cookie has no token_id"

# State-changing requests with the cookie need the session's CSRF token.
use_cookie "$JAR"
api POST /api/v1/tokens '{"name":"nocsrf"}'
check_error 403 csrf "cookie POST without X-CSRF-Token -> 403 csrf"
use_cookie "$JAR" "not-the-token"
api POST /api/v1/tokens '{"name":"badcsrf"}'
check_error 403 csrf "cookie POST with a wrong X-CSRF-Token -> 403 csrf"
use_cookie "$JAR" "$ADMIN_CSRF"
api POST /api/v1/tokens '{"name":"goodcsrf"}'
check_status 201 "cookie POST with the right X-CSRF-Token -> 201"
use_cookie "$JAR"
api GET /api/v1/tokens
check_jq '[.tokens[].name] | (index("nocsrf") == null and index("badcsrf") == null and index("goodcsrf") != null)' \
	"only the request with the right CSRF token created a token"

# ---- anonymous and bad credentials ---------------------------------------------
use_nobody
api GET /api/v1/me
check_error 401 unauthorized "GET /me without credentials -> 401"
use_token kaon_notarealtoken
api GET /api/v1/me
check_error 401 unauthorized "GET /me with an unknown Bearer token -> 401"
use_nobody
api GET /api/v1/me -b "kaon_session=forged"
check_error 401 unauthorized "GET /me with a forged cookie -> 401"

use_nobody
api POST /api/v1/login '{"username":"admin"}'
check_error 422 invalid "login without a password -> 422"
api POST /api/v1/login '{"username":"admin","password":"wrong-password"}'
check_error 401 invalid_credentials "login with a wrong password -> 401 invalid_credentials"
wrong_msg=$(jq -r .error.message <<<"$BODY")
api POST /api/v1/login "{\"username\":\"nosuch$RUN_ID\",\"password\":\"wrong-password\"}"
check_error 401 invalid_credentials "login as an unknown user -> 401 invalid_credentials"
check_eq "$(jq -r .error.message <<<"$BODY")" "$wrong_msg" \
	"unknown user and wrong password get the same message"

# ---- logout ---------------------------------------------------------------------
login admin "$PW" "$T/second.jar"
check_status 200 "a second login"
use_cookie "$JAR" "$CSRF"
api POST /api/v1/tokens '{"name":"othercsrf"}'
check_error 403 csrf "the CSRF token of another session of the same user -> 403 csrf"
use_cookie "$T/second.jar"
api POST /api/v1/logout
use_cookie "$T/second.jar"
api GET /api/v1/me
check_status 200 "logout without X-CSRF-Token (a forged cross-site request) ends no session"
use_cookie "$T/second.jar" "$CSRF"
api POST /api/v1/logout
check_status 204 "logout -> 204"
check_header Set-Cookie '^kaon_session=;.*Max-Age=0' "logout clears the cookie"
use_cookie "$T/second.jar"
api GET /api/v1/me
check_error 401 unauthorized "the session ended: GET /me with its cookie -> 401"
use_cookie "$JAR"
api GET /api/v1/me
check_status 200 "the other session still works"

# ---- API tokens ----------------------------------------------------------------
use_cookie "$JAR" "$ADMIN_CSRF"
api POST /api/v1/tokens '{"name":"laptop"}'
check_status 201 "create a token -> 201"
TOK=$(jq -r '.token // empty' <<<"$BODY")
TOK_ID=$(jq -r '.id // empty' <<<"$BODY")
check_jq '.token | startswith("kaon_")' "the token starts with kaon_"
check_jq '.name == "laptop" and .expires_at == null and (.created_at | test("^[0-9]{4}-[0-9]{2}-[0-9]{2}T[0-9:]{8}Z$"))' \
	"the token object: name, no expiry, created_at in RFC 3339 UTC"
check_eq "$(jq -r .prefix <<<"$BODY")" "${TOK:0:$(jq -r '.prefix | length' <<<"$BODY")}" \
	"the prefix is the start of the token"
api GET /api/v1/tokens
check_status 200 "list tokens"
check "the secret is not in the list" eval '! grep -qF -- "$TOK" <<<"$BODY"'
check_jq --argjson id "$TOK_ID" '.tokens[] | select(.id == $id) | has("token") | not' \
	"a listed token has no token field"
check_jq --argjson id "$TOK_ID" --arg p "${TOK:0:8}" \
	'.tokens[] | select(.id == $id) | .name == "laptop" and (.prefix | startswith($p))' \
	"the list shows the token's name and prefix"

use_token "$TOK"
api GET /api/v1/me
check_status 200 "Bearer token works on /me"
check_jq '.username == "admin" and .auth == "token" and (has("csrf_token") | not)' \
	"/me with a token: auth token, no csrf_token"
check_jq --argjson id "$TOK_ID" '.token_id == $id' "/me with a token: token_id is the token's id"
api POST /api/v1/tokens '{"name":"from-token","expires_in_s":60}'
check_status 201 "a Bearer POST needs no CSRF token"
check_jq '.expires_at | type == "string"' "expires_in_s sets expires_at"
exp=$(date -u -d "$(jq -r .expires_at <<<"$BODY")" +%s 2>/dev/null || echo 0)
now=$(date -u +%s)
check "expires_at is about 60 s from now" test $((exp - now)) -ge 30 -a $((exp - now)) -le 90
api POST /api/v1/tokens '{"name":"short","expires_in_s":59}'
check_error 422 invalid "expires_in_s below 60 -> 422"
api POST /api/v1/tokens '{"name":"long","expires_in_s":31622401}'
check_error 422 invalid "expires_in_s above 366 days -> 422"
api POST /api/v1/tokens '{"name":""}'
check_error 422 invalid "an empty token name -> 422"
api POST /api/v1/tokens "{\"name\":\"$(printf 'n%.0s' {1..65})\"}"
check_error 422 invalid "a 65-character token name -> 422"
api POST /api/v1/tokens "{\"name\":\"$(printf 'n%.0s' {1..64})\",\"expires_in_s\":31622400}"
check_status 201 "a 64-character name and expires_in_s 31622400 (366 days) are accepted"
api GET /api/v1/tokens
check_jq --argjson id "$TOK_ID" '.tokens[] | select(.id == $id) | .last_used_at | type == "string"' \
	"a used token has last_used_at"

use_cookie "$JAR" "$ADMIN_CSRF"
api DELETE "/api/v1/tokens/$TOK_ID"
check_status 204 "delete the token -> 204"
use_token "$TOK"
api GET /api/v1/me
check_error 401 unauthorized "a deleted token stops working"
use_cookie "$JAR" "$ADMIN_CSRF"
api DELETE "/api/v1/tokens/$TOK_ID"
check_error 404 not_found "deleting it again -> 404"
api DELETE /api/v1/tokens/notanumber
check_error 404 not_found "deleting a malformed token id -> 404"

# ---- other users: tokens are private, disabled accounts stop --------------------
ADMIN_TOKEN=$(admin_token)
use_token "$ADMIN_TOKEN"
BOB=bob$RUN_ID
api POST /api/v1/users "{\"username\":\"$BOB\",\"password\":\"bob-password-1\",\"groups\":[\"students\"]}"
check_status 201 "create user $BOB"
BOB_TOKEN=$(new_token "$BOB" bob-password-1 bob-laptop)
check_ne "$BOB_TOKEN" "" "$BOB can create a token"
use_token "$BOB_TOKEN"
api GET /api/v1/me
check_jq --arg u "$BOB" '.username == $u and .admin == false and .groups == ["students"]' \
	"$BOB's token says who he is"
api GET /api/v1/tokens
bob_tok_id=$(jq -r '.tokens[0].id' <<<"$BODY")
check_jq 'all(.tokens[]; .name == "bob-laptop")' "a user sees only his own tokens"
use_token "$ADMIN_TOKEN"
api DELETE "/api/v1/tokens/$bob_tok_id"
check_error 404 not_found "deleting someone else's token -> 404"
use_token "$BOB_TOKEN"
api GET /api/v1/me
check_status 200 "... and it still works"

login "$BOB" bob-password-1 "$T/bob.jar"
check_status 200 "$BOB logs in"
use_token "$ADMIN_TOKEN"
api PATCH "/api/v1/users/$BOB" '{"disabled":true}'
check_status 200 "disable $BOB"
check_jq '.disabled == true' "the user object says disabled"
use_nobody
login "$BOB" bob-password-1 "$T/bob2.jar"
check_error 403 account_disabled "a disabled user cannot log in (403 account_disabled)"
use_token "$BOB_TOKEN"
api GET /api/v1/me
check_error 403 account_disabled "a disabled user's token -> 403 account_disabled"
use_cookie "$T/bob.jar"
api GET /api/v1/me
check_error 401 unauthorized "disabling ended the user's browser session"
use_token "$ADMIN_TOKEN"
api PATCH "/api/v1/users/$BOB" '{"disabled":false}'
check_status 200 "enable $BOB again"
use_token "$BOB_TOKEN"
api GET /api/v1/me
check_status 200 "the token works again"

# ---- changing your own password ----------------------------------------------------
login "$BOB" bob-password-1 "$T/bob-a.jar"
check_status 200 "$BOB logs in (session A)"
BOB_CSRF_A=$CSRF
login "$BOB" bob-password-1 "$T/bob-b.jar"
check_status 200 "$BOB logs in again (session B)"
use_cookie "$T/bob-a.jar"
api POST /api/v1/me/password '{"current_password":"bob-password-1","new_password":"bob-password-2"}'
check_error 403 csrf "POST /me/password with the cookie but no X-CSRF-Token -> 403 csrf"
use_cookie "$T/bob-a.jar" "$BOB_CSRF_A"
api POST /api/v1/me/password '{"current_password":"not-my-password","new_password":"bob-password-2"}'
check_error 403 wrong_password "a wrong current password -> 403 wrong_password"
api POST /api/v1/me/password '{"current_password":"bob-password-1","new_password":"short"}'
check_error 422 invalid "a new password under 8 characters -> 422"
api POST /api/v1/me/password '{"current_password":"bob-password-1"}'
check_error 422 invalid "no new_password -> 422"
api POST /api/v1/me/password '{"current_password":"bob-password-1","new_password":"bob-password-2"}'
check_status 204 "change the password -> 204"
api GET /api/v1/me
check_status 200 "the session that changed it goes on"
use_cookie "$T/bob-b.jar"
api GET /api/v1/me
check_error 401 unauthorized "every other browser session of the user ended"
use_token "$BOB_TOKEN"
api GET /api/v1/me
check_status 200 "API tokens are not browser sessions: still valid"
use_nobody
login "$BOB" bob-password-1 "$T/bob-c.jar"
check_error 401 invalid_credentials "the old password no longer logs in"
login "$BOB" bob-password-2 "$T/bob-c.jar"
check_status 200 "the new one does"

DAVE=dave$RUN_ID
use_token "$ADMIN_TOKEN"
api POST /api/v1/users "{\"username\":\"$DAVE\",\"password\":\"dave-password\"}"
check_status 201 "create user $DAVE"
DAVE_TOKEN=$(new_token "$DAVE" dave-password) || fail "token for $DAVE"
use_token "$DAVE_TOKEN"
codes=
for i in 1 2 3 4 5; do
	api POST /api/v1/me/password "{\"current_password\":\"guess-$i\",\"new_password\":\"dave-password-2\"}"
	codes="$codes$STATUS "
done
check_eq "$codes" "403 403 403 403 403 " "five wrong current passwords -> 403 each"
api POST /api/v1/me/password '{"current_password":"guess-6","new_password":"dave-password-2"}'
check_error 429 too_many_attempts "the sixth guess -> 429 (they count as failed logins)"
check_header Retry-After '^[1-9][0-9]*$' "... with Retry-After"
use_nobody
login "$DAVE" dave-password "$T/dave.jar"
check_error 429 too_many_attempts "... and $DAVE's login is locked too"

# ---- rate limit on failed logins -------------------------------------------------
CAROL=carol$RUN_ID
use_token "$ADMIN_TOKEN"
api POST /api/v1/users "{\"username\":\"$CAROL\",\"password\":\"carol-password\"}"
check_status 201 "create user $CAROL"
use_nobody
codes=
for i in 1 2 3 4 5; do
	api POST /api/v1/login "{\"username\":\"$CAROL\",\"password\":\"wrong-$i\"}"
	codes="$codes$STATUS "
done
check_eq "$codes" "401 401 401 401 401 " "five failed logins -> 401 each"
api POST /api/v1/login "{\"username\":\"$CAROL\",\"password\":\"wrong-6\"}"
check_error 429 too_many_attempts "the sixth attempt -> 429 too_many_attempts"
check_header Retry-After '^[1-9][0-9]*$' "429 carries Retry-After in seconds"
api POST /api/v1/login "{\"username\":\"$CAROL\",\"password\":\"carol-password\"}"
check_error 429 too_many_attempts "while locked, even the right password -> 429"
login "$BOB" bob-password-2 "$T/bob3.jar"
check_status 200 "the lockout is per user: $BOB can still log in"

# ---- rate limit per client address (a low limit through --config) ------------------
printf '[auth]\nlogin_ip_max_failures = 3\n' >"$T/ip.ini"
restart_server --config "$T/ip.ini" || { fail "server starts with --config"; finish; }
use_nobody
codes=
for i in 1 2 3; do
	api POST /api/v1/login "{\"username\":\"ip$i$RUN_ID\",\"password\":\"wrong-password\"}"
	codes="$codes$STATUS "
done
check_eq "$codes" "401 401 401 " "three failed logins for three unknown users -> 401 each"
login admin "$PW" "$T/ip.jar"
check_error 429 too_many_attempts "then, from the same address, even admin's login -> 429"
check_header Retry-After '^[1-9][0-9]*$' "... with Retry-After"

stop_server
finish
