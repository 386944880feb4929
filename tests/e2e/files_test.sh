#!/usr/bin/env bash
# files_test — the Files API against the real daemon: listing (sorted,
# paginated), PUT uploads, downloads with Range/416/ETag and safe headers,
# resumable uploads (interrupted and resumed, compared by sha256), quota
# 413, 404/409/422, every traversal encoding, symlink escapes, one user
# against another, CSRF on cookie writes, tar archives, datasets,
# HTML/JS in names verbatim. As root: files belong to the user's uid.
. "$(dirname "$0")/lib.sh"

printf '[files]\nquota_mib = 8\nmin_free_mib = 1\n' >"$T/kaon.ini"
start_server --config "$T/kaon.ini" || { fail "server starts"; finish; }
ADMIN=$(admin_token) || { fail "admin token"; finish; }
ALICE=alice$RUN_ID BOB=bob$RUN_ID
use_token "$ADMIN"
for u in "$ALICE" "$BOB"; do
	api POST /api/v1/users "{\"username\":\"$u\",\"password\":\"$u-password\"}"
	check_status 201 "create $u"
done
ALICE_TOKEN=$(new_token "$ALICE" "$ALICE-password") || fail "token for $ALICE"
BOB_TOKEN=$(new_token "$BOB" "$BOB-password") || fail "token for $BOB"
use_token "$ALICE_TOKEN"
api GET /api/v1/me
AHOME=$(jq -r .home <<<"$BODY") AUID=$(jq -r .uid <<<"$BODY")
use_token "$BOB_TOKEN"
api GET /api/v1/me
BHOME=$(jq -r .home <<<"$BODY")

# put FILE PATH [CURL_ARGS] — PUT the bytes of FILE as PATH with the current credentials.
put() {
	local f=$1 p=$2
	shift 2
	api PUT "/api/v1/files/$p" --data-binary "@$f" -H 'Content-Type: application/octet-stream' "$@"
}

# ---- upload, list, download -------------------------------------------------------
use_token "$ALICE_TOKEN"
printf 'hello, files\n' >"$T/hello.txt"
put "$T/hello.txt" hello.txt
check_status 201 "PUT a new file -> 201"
check_schema FileEntry . "... answered as a FileEntry"
check_jq '.name == "hello.txt" and .type == "file" and .size == 13' "... with its name, type and size"
put "$T/hello.txt" hello.txt
check_status 200 "PUT over an existing file -> 200"
check "no temporary file is left next to it" test -z "$(ls -A "$AHOME" | grep '^\.kaon-')"
if [ "$(id -u)" = 0 ]; then
	check_eq "$(stat -c %u "$AHOME/hello.txt")" "$AUID" "as root: the file belongs to the user's uid"
else
	skip "ownership by the user's uid needs root (multi-user mode)"
fi
api POST /api/v1/files/docs '{"op":"mkdir"}'
check_status 201 "mkdir docs -> 201"
api POST /api/v1/files/docs '{"op":"mkdir"}'
check_error 409 conflict "mkdir again -> 409"
for n in b a c; do printf '%s\n' "$n" >"$T/$n.txt"; put "$T/$n.txt" "docs/$n.txt"; done
api GET /api/v1/files/docs
check_status 200 "list docs -> 200"
check_schema FileListing . "... answered as a FileListing"
check_jq '[.entries[].name] == ["a.txt","b.txt","c.txt"] and .next == null and .path == "docs"' \
	"... sorted by name, no next page"
api GET '/api/v1/files/docs?limit=2'
check_jq '[.entries[].name] == ["a.txt","b.txt"] and .next == "b.txt"' "limit=2: the first page and a cursor"
api GET '/api/v1/files/docs?limit=2&after=b.txt'
check_jq '[.entries[].name] == ["c.txt"] and .next == null' "after=b.txt: the rest"
api GET '/api/v1/files/docs?limit=0'
check_error 422 invalid "limit=0 -> 422"
api GET /api/v1/files
check_jq '[.entries[].name] | index("docs") != null and index("hello.txt") != null' "GET /api/v1/files lists the home"

api GET /api/v1/files/hello.txt
check_status 200 "download -> 200"
check_eq "$BODY" $'hello, files\n' "... the same bytes"
check_header Content-Type '^text/plain' "... text/plain by extension"
check_header Accept-Ranges '^bytes$' "... Accept-Ranges: bytes"
check_header Content-Security-Policy 'sandbox' "... Content-Security-Policy: sandbox"
check_header X-Content-Type-Options '^nosniff$' "... nosniff"
check_header Content-Disposition '^inline' "... inline for a previewable type"
ETAG=$(header ETag)
check_ne "$ETAG" "" "... an ETag"
check_header Last-Modified 'GMT$' "... Last-Modified"
api GET /api/v1/files/hello.txt -H "If-None-Match: $ETAG"
check_status 304 "If-None-Match with the ETag -> 304"
api GET '/api/v1/files/hello.txt?download=1'
check_header Content-Disposition '^attachment; filename="hello.txt"; filename\*=UTF-8' "?download=1 -> attachment with filename*"
api GET /api/v1/files/hello.txt -H 'Range: bytes=7-11'
check_status 206 "Range: bytes=7-11 -> 206"
check_eq "$BODY" "files" "... those bytes"
check_header Content-Range '^bytes 7-11/13$' "... Content-Range"
api GET /api/v1/files/hello.txt -H 'Range: bytes=-6'
check_eq "$BODY" $'files\n' "a suffix range -> the last bytes"
api GET /api/v1/files/hello.txt -H 'Range: bytes=100-'
check_status 416 "a range past the end -> 416"
check_header Content-Range '^bytes \*/13$' "... Content-Range: bytes */13"

# ---- conditional writes: If-Match / If-None-Match ------------------------------------
printf 'version one\n' >"$T/v1.txt"
printf 'version two\n' >"$T/v2.txt"
put "$T/v1.txt" cond.txt
check_status 201 "PUT cond.txt -> 201"
PUT_ETAG=$(header ETag)
api GET /api/v1/files/cond.txt
check_eq "$(header ETag)" "$PUT_ETAG" "the ETag a PUT answers is the one a GET then shows"
COND_ETAG=$PUT_ETAG
put "$T/v2.txt" cond.txt -H "If-Match: $COND_ETAG"
check_status 200 "PUT with If-Match: the current ETag -> 200"
NEW_ETAG=$(header ETag)
check_ne "$NEW_ETAG" "$COND_ETAG" "... and answers the file's new ETag"
put "$T/v1.txt" cond.txt -H "If-Match: $COND_ETAG"
check_error 409 conflict "PUT with If-Match: a stale ETag (changed on disk) -> 409 conflict"
check_eq "$(header ETag)" "$NEW_ETAG" "... with the current ETag in the answer"
api GET /api/v1/files/cond.txt
check_eq "$BODY" $'version two\n' "... and the file is left as it was"
put "$T/v1.txt" cond.txt -H "If-Match: \"nope\", $NEW_ETAG"
check_status 200 "If-Match with a list that holds the current ETag -> 200"
NEW_ETAG=$(header ETag)
put "$T/v1.txt" cond.txt -H "If-Match: W/$NEW_ETAG"
check_error 409 conflict "If-Match with a weak ETag never matches -> 409"
put "$T/v1.txt" gone.txt -H "If-Match: $NEW_ETAG"
check_error 409 conflict "If-Match on a file that does not exist -> 409"
put "$T/v1.txt" gone.txt -H 'If-Match: *'
check_error 409 conflict "If-Match: * on a file that does not exist -> 409"
put "$T/v1.txt" cond.txt -H 'If-Match: *'
check_status 200 "If-Match: * on an existing file -> 200"
put "$T/v1.txt" cond.txt -H 'If-None-Match: *'
check_error 409 conflict "If-None-Match: * on an existing file -> 409"
put "$T/v1.txt" fresh.txt -H 'If-None-Match: *'
check_status 201 "If-None-Match: * on a new name -> 201 (create-only)"
check "no temporary file is left after refused conditional writes" test -z "$(ls -A "$AHOME" | grep '^\.kaon-')"
api DELETE /api/v1/files/fresh.txt
api DELETE /api/v1/files/cond.txt

# ---- HTML and scripts ---------------------------------------------------------------
XSS='<img src=x onerror=alert(1)>&"x".html'
XSSENC=$(jq -rn --arg s "$XSS" '$s | @uri')
printf '<script>alert(document.cookie)</script>\n' >"$T/x.html"
put "$T/x.html" "$XSSENC"
check_status 201 "a file named with HTML and JS -> 201"
api GET /api/v1/files
check_jq --arg n "$XSS" '[.entries[].name] | index($n) != null' "... its name comes back verbatim in JSON"
api GET "/api/v1/files/$XSSENC"
check_header Content-Type '^text/html' "an HTML file is served as text/html"
check_header Content-Security-Policy '^sandbox' "... but sandboxed: it cannot script kaon's origin"

# ---- errors ------------------------------------------------------------------------
api GET /api/v1/files/nope.txt
check_error 404 not_found "a missing file -> 404"
api GET /api/v1/files/nope/x.txt
check_error 404 not_found "a missing folder on the way -> 404"
put "$T/hello.txt" nofolder/x.txt
check_error 404 not_found "PUT into a missing folder -> 404"
put "$T/hello.txt" docs
check_error 409 conflict "PUT onto a folder -> 409"
api POST /api/v1/files/docs/a.txt '{"op":"move","to":"docs/b.txt"}'
check_error 409 conflict "move onto an existing file -> 409"
api POST /api/v1/files/docs/a.txt '{"op":"fly"}'
check_error 422 invalid "an unknown op -> 422"
api POST /api/v1/files/docs/a.txt '{"op":"move"}'
check_error 422 invalid "move without 'to' -> 422"
api POST /api/v1/files/docs/a.txt '{"op":"move","to":"../../x"}'
check_error 422 invalid "move to '../../x' -> 422"
api POST /api/v1/files/docs/a.txt '{"op":"move","to":"/tmp/x"}'
check_error 422 invalid "move to an absolute path -> 422"
api POST /api/v1/files/docs '{"op":"copy","to":"docs/inner"}'
check_error 422 invalid "copy a folder into itself -> 422"
put "$T/hello.txt" '.kaon-put-x'
check_error 422 invalid "a name in kaon's reserved prefix -> 422"
api DELETE /api/v1/files/docs
check_error 409 conflict "DELETE a non-empty folder without recursive -> 409"

# ---- traversal, by every encoding -------------------------------------------------------
echo "secret-$RUN_ID" >"$T/outside.txt"
for p in '../../../../etc/passwd' '%2e%2e/%2e%2e/etc/passwd' '%2E%2E%2F%2E%2E%2Fetc%2Fpasswd' \
	'..%2f..%2fetc%2fpasswd' 'docs/..%2F..%2F..%2Fetc' '%2Fetc%2Fpasswd' '/etc/passwd' \
	'hello.txt%00.png' '%00' 'docs/./a.txt' 'docs//a.txt'; do
	api GET "/api/v1/files/$p" --path-as-is
	check_error 422 invalid "GET /api/v1/files/$p -> 422"
done
api PUT '/api/v1/files/..%2F..%2Fescape.txt' --path-as-is --data-binary "@$T/hello.txt"
check_error 422 invalid "PUT with an encoded traversal -> 422"
api DELETE '/api/v1/files/%2e%2e' --path-as-is
check_error 422 invalid "DELETE %2e%2e -> 422"
api GET '/api/v1/files/%252e%252e' --path-as-is
check_error 404 not_found "%252e%252e is decoded once: the literal name '%2e%2e', not found"

# Symbolic links leading out (made on the server, not through the API).
ln -s / "$AHOME/rootlink"
ln -s "$T/outside.txt" "$AHOME/outlink.txt"
api GET /api/v1/files/rootlink/etc/passwd
check_error 403 forbidden "a path through a link to / -> 403"
api GET /api/v1/files/outlink.txt
check_error 403 forbidden "a link to a file outside -> 403"
api GET '/api/v1/files/rootlink?archive=tar'
check_error 403 forbidden "a link as a folder to archive -> 403"
api GET /api/v1/files
check_jq '.entries[] | select(.name == "rootlink") | .type == "link"' "links are listed as links"
api DELETE /api/v1/files/rootlink
check_status 204 "deleting a link removes the link"
check "... and not what it points to" test -d /etc -a -f "$T/outside.txt"

# ---- one user against another -----------------------------------------------------------
use_token "$BOB_TOKEN"
api GET /api/v1/files
check_jq '[.entries[].name] | index("hello.txt") == null' "$BOB does not see $ALICE's files"
api GET "/api/v1/files/../$ALICE/hello.txt" --path-as-is
check_error 422 invalid "$BOB cannot reach $ALICE's home with .."
ln -s "$AHOME" "$BHOME/alice-home"
api GET /api/v1/files/alice-home/hello.txt
check_error 403 forbidden "$BOB cannot read through a link to $ALICE's home"
api PUT /api/v1/files/alice-home/bob.txt --data-binary "@$T/hello.txt"
check_error 403 forbidden "$BOB cannot write through it"
api GET /api/v1/files/alice-home
check_error 403 forbidden "$BOB cannot list through it"
check "nothing of $BOB's landed in $ALICE's home" test ! -e "$AHOME/bob.txt"
rm -f "$BHOME/alice-home"

# ---- CSRF on cookie-authenticated writes ------------------------------------------------
login "$ALICE" "$ALICE-password" "$T/alice.jar"
use_cookie "$T/alice.jar"
put "$T/hello.txt" csrf.txt
check_error 403 csrf "cookie PUT without X-CSRF-Token -> 403"
api POST /api/v1/files/csrfdir '{"op":"mkdir"}'
check_error 403 csrf "cookie POST without X-CSRF-Token -> 403"
api DELETE /api/v1/files/hello.txt
check_error 403 csrf "cookie DELETE without X-CSRF-Token -> 403"
check "... nothing was written or deleted" test ! -e "$AHOME/csrf.txt" -a ! -e "$AHOME/csrfdir" -a -f "$AHOME/hello.txt"
use_cookie "$T/alice.jar" "$CSRF"
put "$T/hello.txt" csrf.txt
check_status 201 "cookie PUT with X-CSRF-Token -> 201"
api GET /api/v1/files/csrf.txt
check_status 200 "cookie GET needs no CSRF token"

# ---- copy, move, delete ---------------------------------------------------------------
use_token "$ALICE_TOKEN"
api POST /api/v1/files/docs '{"op":"copy","to":"docs2"}'
check_status 201 "copy a folder -> 201"
check "... with its files" cmp "$AHOME/docs/a.txt" "$AHOME/docs2/a.txt"
api POST /api/v1/files/docs2/a.txt '{"op":"move","to":"moved.txt"}'
check_status 200 "move a file -> 200"
check_jq '.path == "moved.txt"' "... answered with its new path"
check "... it is there and gone from before" test -f "$AHOME/moved.txt" -a ! -e "$AHOME/docs2/a.txt"
api POST /api/v1/files/empty.txt '{"op":"create"}'
check_status 201 "create an empty file -> 201"
check_jq '.size == 0' "... of size 0"
api DELETE '/api/v1/files/docs2?recursive=1'
check_status 204 "DELETE a folder with ?recursive=1 -> 204"
check "... it is gone" test ! -e "$AHOME/docs2"

# ---- archives --------------------------------------------------------------------------
mkdir -p "$T/deep"
head -c 70000 /dev/urandom >"$T/bin.dat"
put "$T/bin.dat" docs/bin.dat
LONG=$(printf 'n%.0s' $(seq 1 120))
api POST "/api/v1/files/docs/$LONG" '{"op":"mkdir"}'
put "$T/hello.txt" "docs/$LONG/deep.txt"
curl -s -H "Authorization: Bearer $ALICE_TOKEN" -o "$T/docs.tar" "$URL/api/v1/files/docs?archive=tar"
check "the tar archive of docs unpacks with tar" tar -xf "$T/docs.tar" -C "$T/deep"
check "... to the same files" diff -r "$AHOME/docs" "$T/deep/docs"
api GET '/api/v1/files/docs?archive=zip'
check_error 422 invalid "archive=zip -> 422"

# ---- resumable uploads -------------------------------------------------------------------
head -c 3000000 /dev/urandom >"$T/big.bin"
head -c 1000000 "$T/big.bin" >"$T/part1"
tail -c +1000001 "$T/big.bin" >"$T/part2"
api POST /api/v1/uploads '{"path":"docs/big.bin","size":3000000}'
check_status 201 "POST /uploads -> 201"
check_schema Upload . "... answered as an Upload"
UP=$(jq -r .id <<<"$BODY")
check_jq '.offset == 0 and .complete == false' "... at offset 0"
api PUT "/api/v1/uploads/$UP" --data-binary "@$T/part1" -H 'Content-Range: bytes 0-999999/3000000'
check_status 200 "the first chunk -> 200"
check_jq '.offset == 1000000' "... offset 1000000"
# An interrupted chunk: the client goes away half-way through.
head -c 500000 "$T/part2" >"$T/half"
( { printf 'PUT /api/v1/uploads/%s HTTP/1.1\r\nHost: x\r\nAuthorization: Bearer %s\r\n' "$UP" "$ALICE_TOKEN"
    printf 'Content-Range: bytes 1000000-2999999/3000000\r\nContent-Length: 2000000\r\n\r\n'
    cat "$T/half"; sleep 1; } | timeout 5 bash -c "exec 3<>/dev/tcp/127.0.0.1/$PORT; cat >&3; exec 3>&-" ) 2>/dev/null
sleep 0.5
api GET "/api/v1/uploads/$UP"
check_status 200 "GET the upload after an interruption -> 200"
OFF=$(jq -r .offset <<<"$BODY")
check_eq "$OFF" 1500000 "... the offset counts the bytes that came before the cut"
check_header Upload-Offset "^$OFF\$" "... also in Upload-Offset"
check "... nothing under the final name yet" test ! -e "$AHOME/docs/big.bin"
api PUT "/api/v1/uploads/$UP" --data-binary "@$T/part1" -H 'Content-Range: bytes 0-999999/3000000'
check_error 409 offset_mismatch "a chunk at the wrong offset -> 409"
tail -c +$((OFF + 1)) "$T/big.bin" >"$T/rest"
api PUT "/api/v1/uploads/$UP" --data-binary "@$T/rest" -H "Content-Range: bytes $OFF-2999999/3000000"
check_status 201 "the rest -> 201, complete"
check_jq '.complete == true and .offset == 3000000' "... complete at 3000000"
check_eq "$(sha256sum <"$AHOME/docs/big.bin" | cut -d' ' -f1)" "$(sha256sum <"$T/big.bin" | cut -d' ' -f1)" \
	"... the file has the same sha256"
curl -s -H "Authorization: Bearer $ALICE_TOKEN" -o "$T/big.down" "$URL/api/v1/files/docs/big.bin"
check "downloading it gives the same bytes" cmp "$T/big.bin" "$T/big.down"
api GET "/api/v1/uploads/$UP"
check_error 404 not_found "a finished upload is gone -> 404"
api POST /api/v1/uploads '{"path":"docs/big.bin","size":10}'
check_error 409 conflict "an upload onto an existing file without overwrite -> 409"
api POST /api/v1/uploads '{"path":"docs/x.bin","size":10}'
UP2=$(jq -r .id <<<"$BODY")
use_token "$BOB_TOKEN"
api GET "/api/v1/uploads/$UP2"
check_error 404 not_found "$BOB cannot see $ALICE's upload"
use_token "$ALICE_TOKEN"
api PUT "/api/v1/uploads/$UP2" --data-binary "@$T/hello.txt"
check_error 422 invalid "a chunk without Content-Range -> 422"
api DELETE "/api/v1/uploads/$UP2"
check_status 204 "abandon an upload -> 204"

# ---- quota (8 MiB here) ---------------------------------------------------------------
api POST /api/v1/uploads '{"path":"huge.bin","size":100000000}'
check_error 413 quota_exceeded "an upload over the quota -> 413 before any byte"
head -c 9000000 /dev/zero >"$T/nine"
put "$T/nine" nine.bin
check_error 413 quota_exceeded "a PUT over the quota -> 413"
check "... nothing written" test -z "$(ls -A "$AHOME" | grep -E '^(nine.bin|\.kaon-)')"

# ---- datasets -----------------------------------------------------------------------------
mkdir -p "$T/ds/sub" && echo "data-$RUN_ID" >"$T/ds/sub/d.txt" && chmod -R a+rX "$T/ds"
api POST /api/v1/datasets "{\"name\":\"ds$RUN_ID\",\"source\":\"$T/ds\"}"
check_error 403 forbidden "a user cannot register a dataset"
use_token "$ADMIN"
api POST /api/v1/datasets "{\"name\":\"ds$RUN_ID\",\"source\":\"$T/ds\"}"
check_status 201 "an admin registers a dataset -> 201"
use_token "$ALICE_TOKEN"
api GET /api/v1/datasets
check_schema DatasetList . "GET /datasets answers a DatasetList"
check_jq --arg n "ds$RUN_ID" '[.datasets[].name] | index($n) != null' "... with the dataset"
api GET "/api/v1/datasets/ds$RUN_ID/sub/d.txt"
check_eq "$BODY" "data-$RUN_ID"$'\n' "a user reads a dataset file"
api GET "/api/v1/datasets/ds$RUN_ID"
check_jq '.entries[0].name == "sub"' "... and lists its top folder"
api PUT "/api/v1/datasets/ds$RUN_ID/sub/new.txt" --data-binary "@$T/hello.txt"
check_status 405 "datasets are read-only (PUT -> 405)"
api GET "/api/v1/datasets/ds$RUN_ID/%2e%2e/%2e%2e/etc/passwd" --path-as-is
check_error 422 invalid "no traversal out of a dataset"
use_token "$ADMIN"
api DELETE "/api/v1/datasets/ds$RUN_ID"
check_status 204 "unregister the dataset -> 204"
check "... its data stays" test -f "$T/ds/sub/d.txt"

# ---- a home that has gone ------------------------------------------------------------
# (It used to be read after it was freed while answering: a crash.)
use_token "$BOB_TOKEN"
if rm -rf "$BHOME" 2>/dev/null && [ ! -e "$BHOME" ]; then
	api GET /api/v1/files
	check_error 404 not_found "a user whose home is missing -> 404, no crash"
	api GET /api/v1/me
	check_status 200 "... and the server is still up"
else
	skip "cannot remove $BHOME to test a missing home"
fi

stop_server
finish
