#!/usr/bin/env bash
# tls_test — with --tls-cert and --tls-key the daemon speaks HTTPS only,
# and the session cookie is Secure.
. "$(dirname "$0")/lib.sh"

if ! command -v openssl >/dev/null; then
	fail "openssl is missing (apt-get install -y openssl)"
	finish
fi
# A throw-away self-signed certificate for 127.0.0.1 and localhost.
if ! openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:prime256v1 -nodes -days 2 \
	-subj /CN=localhost -addext "subjectAltName=IP:127.0.0.1,DNS:localhost" \
	-keyout "$T/key.pem" -out "$T/cert.pem" >"$T/openssl.log" 2>&1; then
	fail "openssl makes a self-signed certificate"
	sed 's/^/    /' "$T/openssl.log"
	finish
fi

start_server --tls-cert "$T/cert.pem" --tls-key "$T/key.pem" || { fail "server starts with TLS"; finish; }
check "the log says https://" grep -q "listening on https://127.0.0.1:$PORT/" "$SERVER_LOG"
check_eq "${URL%%://*}" https "the server URL is https"
CURL_OPTS+=(--cacert "$T/cert.pem")

api GET /api/v1/openapi.json
check_status 200 "curl --cacert reaches the server over TLS"
curl --silent --max-time 10 -o /dev/null "$URL/api/v1/openapi.json"
check_eq "$?" 60 "without --cacert curl refuses the self-signed certificate"
code=$(curl --silent --max-time 10 -o /dev/null -w '%{http_code}' "http://127.0.0.1:$PORT/api/v1/openapi.json")
check_ne "$code" 200 "plain HTTP on the TLS port gets no answer"
localhost_code=$(curl --silent --max-time 10 --cacert "$T/cert.pem" -o /dev/null -w '%{http_code}' \
	"https://localhost:$PORT/api/v1/openapi.json" --resolve "localhost:$PORT:127.0.0.1")
check_eq "$localhost_code" 200 "the certificate is valid for localhost too"

login admin "$(admin_password)" "$T/admin.jar"
check_status 200 "login over TLS"
check_header Set-Cookie '; *Secure(;|$)' "the session cookie is Secure under TLS"
check_header Set-Cookie '; *HttpOnly(;|$)' "... and HttpOnly"
check_header Set-Cookie '; *SameSite=Lax(;|$)' "... and SameSite=Lax"
use_cookie "$T/admin.jar" "$CSRF"
api GET /api/v1/me
check_status 200 "the Secure cookie works over HTTPS"
check_jq '.auth == "cookie"' "... as a cookie session"
api POST /api/v1/tokens '{"name":"over-tls"}'
check_status 201 "a token is made over HTTPS"
TOKEN=$(jq -r .token <<<"$BODY")
api POST /api/v1/logout
check_status 204 "logout over TLS"
check_header Set-Cookie 'Max-Age=0.*Secure|Secure.*Max-Age=0' "the clearing cookie is Secure too"
use_token "$TOKEN"
api GET /api/v1/me
check_status 200 "a Bearer token works over HTTPS"

# The CLI verifies the certificate: against KAON_CA_FILE for a self-signed one.
export HOME=$T/clihome
mkdir -p "$HOME"
unset XDG_CONFIG_HOME KAON_CA_FILE
KAON_URL=$URL KAON_TOKEN=$TOKEN "$KAON" whoami >"$T/cli.out" 2>"$T/cli.err"
rc=$?
check "the CLI refuses the self-signed certificate without KAON_CA_FILE" test "$rc" = 1
check_eq "$(grep -c '' "$T/cli.err")" 1 "... with one line on stderr"
KAON_URL=$URL KAON_TOKEN=$TOKEN KAON_CA_FILE=$T/cert.pem "$KAON" whoami --json >"$T/cli.out" 2>"$T/cli.err"
check_eq "$?" 0 "with KAON_CA_FILE the CLI talks HTTPS"
check_eq "$(jq -r .username "$T/cli.out" 2>/dev/null)" admin "... kaon whoami --json says admin"

stop_server

# A key that does not exist stops the server at start, with a message.
"$KAON" server --listen 127.0.0.1:0 --data "$DATA" --tls-cert "$T/cert.pem" \
	--tls-key "$T/nosuch.pem" >"$T/badtls.log" 2>&1 &
pid=$!
for ((i = 0; i < 100; i++)); do kill -0 "$pid" 2>/dev/null || break; sleep 0.05; done
if kill -0 "$pid" 2>/dev/null; then
	kill -TERM "$pid"
	wait "$pid"
	fail "the server refuses to start with a missing TLS key"
else
	wait "$pid"
	check_ne "$?" 0 "the server refuses to start with a missing TLS key"
fi
check "... and says why" grep -qiE 'tls|key|certificate' "$T/badtls.log"
finish
