#!/usr/bin/env bash
# models_test — the model catalog (docs/models.md) through kaon's API and
# the CLI: registering the shipped models (the folder copied, its worker's
# description recorded), listing and searching, one model's page data and
# thumbnail, the admin's flags, and every refusal: not an admin, a relative
# or missing folder, no manifest, a bad manifest (naming the field), a
# module that does not import (with Python's reason), a symbolic link in
# the folder, the same version twice; a new version becomes current; the
# CLI verbs.
. "$(dirname "$0")/lib.sh"
PY=/usr/bin/python3

# Predictions over 1 MiB are refused (413) before a model sees them.
printf '[models]\npredict_max_mb = 1\n' >"$T/kaon.ini"
start_server --config "$T/kaon.ini" || { fail "server starts"; finish; }
ADMIN=$(admin_token) || { fail "admin token"; finish; }
use_token "$ADMIN"
USER_NAME=muser$RUN_ID
api POST /api/v1/users "{\"username\":\"$USER_NAME\",\"password\":\"models-password\",\"groups\":[\"students\"]}"
check_status 201 "create a user"
U_TOKEN=$(new_token "$USER_NAME" models-password) || fail "token for $USER_NAME"

# Model folders the tests change live under $T (readable by every account,
# as a folder an admin registers would be).
M=$T/models
mkdir -p "$M" && chmod 755 "$T" "$M"
cp -r "$ROOT/models/digits" "$M/digits"
chmod -R a+rX "$M"

api POST /api/v1/models "{\"dir\":\"$M/digits\"}"
check_status 201 "register models/digits -> 201"
check_schema Model . "... answered as a Model"
check_jq '.name == "digits" and .version == "1.0.0" and .owner == "admin"' "... its name, version and owner"
check_jq '.predict_enabled and .train_enabled and (.public | not)' \
	"... predict and train on, anonymous use not allowed until an admin says so"
check_jq '[.predict_args[].name] | index("image") != null' "... its predict arguments, from its worker"
check_jq '.predict_args | all(has("in") and has("name") and has("required"))' \
	"... as Swagger parameter objects"
check_jq '(.train_args | length) > 0 and .metadata.name != null' "... train arguments and metadata"
check_jq '.thumbnail == "/api/v1/models/digits/thumbnail" and .deepaas == "/v2/models/digits/"' \
	"... links to its thumbnail and its DEEPaaS endpoint"
DATA_DIR=$(dirname "$(dirname "$(ls -d "$DATA"/models/digits/1.0.0)")")
check "... copied into DATA/models/digits/1.0.0" test -f "$DATA/models/digits/1.0.0/kaon-model.json"
check "... owned by the daemon, not writable by the model's account" \
	test "$(stat -c %U:%a "$DATA/models/digits/1.0.0/kaon-model.json")" = "$(id -un):644"

api POST /api/v1/models "{\"dir\":\"$M/digits\"}"
check_error 409 conflict "the same version again -> 409"
check_jq '.error.message | contains("version 1.0.0")' "... naming the version"

# ---- reading the catalog, as a user ----------------------------------------
use_token "$U_TOKEN"
api GET /api/v1/models
check_status 200 "a user lists the catalog"
check_schema ModelList . "... a ModelList"
check_jq '[.models[].name] == ["digits"]' "... with the model"
api GET '/api/v1/models?q=DIGIT'
check_jq '.models | length == 1' "search is case-insensitive over names, titles and keywords"
api GET '/api/v1/models?q=nothing-like-this'
check_jq '.models | length == 0' "... and finds nothing when nothing matches"
api GET '/api/v1/models?keyword=vision'
check_jq '.models | length == 1' "a keyword filter"
api GET /api/v1/models/digits
check_status 200 "a user sees one model"
check_jq '.description | contains("support vector")' "... with its description"
api GET /api/v1/models/nosuch
check_error 404 not_found "an unknown model -> 404"
curl "${CURL_OPTS[@]}" -H "Authorization: Bearer $U_TOKEN" -o "$T/thumb" -D "$T/thumb.h" \
	"$URL/api/v1/models/digits/thumbnail"
grep -qi '^content-type: image/svg+xml' "$T/thumb.h" && grep -q '<svg' "$T/thumb" &&
	pass "the thumbnail is served as an SVG image" || fail "the thumbnail is served as an SVG image"
grep -qi "^content-security-policy: default-src 'none'" "$T/thumb.h" &&
	pass "... with a CSP that keeps any script in it from running" || fail "... with a CSP"
api POST /api/v1/models "{\"dir\":\"$M/digits\"}"
check_error 403 forbidden "a user cannot register a model -> 403"
api PATCH /api/v1/models/digits '{"public":true}'
check_error 403 forbidden "... nor change its flags"

# ---- a prediction through the DEEPaaS API, by a real warm worker ---------------
"$PY" - "$T" <<'EOF'
import sys
import numpy as np
from PIL import Image
from sklearn import datasets
d = datasets.load_digits()
grey = (255 - d.images[-1] * 255 / 16).astype(np.uint8)
Image.fromarray(grey).resize((64, 64), Image.NEAREST).save("%s/digit.png" % sys.argv[1])
print(int(d.target[-1]), file=open("%s/digit.label" % sys.argv[1], "w"))
EOF
chmod a+r "$T/digit.png"
LABEL=$(cat "$T/digit.label")
curl "${CURL_OPTS[@]}" -H "Authorization: Bearer $U_TOKEN" -F "image=@$T/digit.png;type=image/png" \
	-o "$T/pred.json" -w '%{http_code}' "$URL/v2/models/digits/predict/" >"$T/pred.code"
BODY=$(cat "$T/pred.json")
check_eq "$(cat "$T/pred.code")" 200 "a user's picture of a $LABEL through POST /v2/models/digits/predict/ -> 200"
check_jq --argjson l "$LABEL" '.status == "OK" and .predictions.label == $l' "... the warm worker says $LABEL"
curl "${CURL_OPTS[@]}" -H "Authorization: Bearer $U_TOKEN" -F "pixels=1" \
	-o "$T/pred.json" -w '%{http_code}' "$URL/v2/models/digits/predict/" >"$T/pred.code"
BODY=$(cat "$T/pred.json")
check_eq "$(cat "$T/pred.code")" 422 "64 pixels expected, 1 given -> 422"
# Six at once: the pool grows to workers.max (2) and every one is right.
CURLS=()
for i in 1 2 3 4 5 6; do
	curl "${CURL_OPTS[@]}" -H "Authorization: Bearer $U_TOKEN" -F "image=@$T/digit.png;type=image/png" \
		-o "$T/conc.$i.json" -w '%{http_code}\n' "$URL/v2/models/digits/predict/" >"$T/conc.$i.code" &
	CURLS+=($!)
done
wait "${CURLS[@]}"
check_eq "$(cat "$T"/conc.*.code | sort | uniq -c | awk '{print $1 "x" $2}')" "6x200" \
	"six concurrent predictions by real workers -> 200"
check_eq "$(jq -s --argjson l "$LABEL" '[.[] | select(.predictions.label == $l)] | length' "$T"/conc.*.json)" 6 \
	"... each says $LABEL"
api GET '/api/v1/jobs?user=all&state=running'
check_jq '[.jobs[] | select(.kind == "worker" and .user == "admin")] | length == 2' \
	"... served by two warm worker jobs (workers.max), the model owner's"
printf 'not a picture\n' >"$T/note.txt"
chmod a+r "$T/note.txt"
curl "${CURL_OPTS[@]}" -H "Authorization: Bearer $U_TOKEN" -F "image=@$T/note.txt;type=text/plain" \
	-o "$T/pred.json" -w '%{http_code}' "$URL/v2/models/digits/predict/" >"$T/pred.code"
check_eq "$(cat "$T/pred.code")" 415 "a file that is not a picture -> 415"
check "... the message names the file" grep -q "note.txt" "$T/pred.json"
head -c $((2 << 20)) /dev/zero >"$T/big.png"
curl "${CURL_OPTS[@]}" -H "Authorization: Bearer $U_TOKEN" -F "image=@$T/big.png;type=image/png" \
	-o "$T/pred.json" -w '%{http_code}' "$URL/v2/models/digits/predict/" >"$T/pred.code"
check_eq "$(cat "$T/pred.code")" 413 "an upload over [models] predict_max_mb -> 413"
check "... saying the limit" grep -q "1 MiB" "$T/pred.json"

# ---- the admin's flags -------------------------------------------------------
use_token "$ADMIN"
api PATCH /api/v1/models/digits '{"public":true,"predict_enabled":false}'
check_status 200 "an admin allows anonymous predict (the manifest allows it) and turns predict off"
check_jq '.public and (.predict_enabled | not) and .train_enabled' "... the flags as set"
api PATCH /api/v1/models/digits '{"colour":"blue"}'
check_error 422 invalid "an unknown field -> 422"

# ---- refusals ------------------------------------------------------------------
refused() { # refused JSON STATUS CODE DESC TEXT
	api POST /api/v1/models "$1"
	check_error "$2" "$3" "$4"
	check_jq --arg t "$5" '.error.message | contains($t)' "... the message says '$5'"
}
refused '{"dir":"models/digits"}' 400 invalid "a relative folder -> 400" "absolute"
refused "{\"dir\":\"$M/nosuch\"}" 400 invalid "a missing folder -> 400" "cannot open"
mkdir -p "$M/empty" && chmod 755 "$M/empty"
refused "{\"dir\":\"$M/empty\"}" 400 invalid "a folder without kaon-model.json -> 400" "no kaon-model.json"
mkdir -p "$M/bad" && printf '{"name":"Bad Name","version":"1","title":"x","runtime":{"type":"python","module":"m"}}' >"$M/bad/kaon-model.json"
chmod -R a+rX "$M/bad"
refused "{\"dir\":\"$M/bad\"}" 422 invalid "a bad manifest -> 422" "field 'name'"
mkdir -p "$M/broken"
printf '{"name":"broken","version":"1","title":"Broken","runtime":{"type":"python","module":"broken_model"}}' \
	>"$M/broken/kaon-model.json"
printf 'raise RuntimeError("the weights file is missing")\n' >"$M/broken/broken_model.py"
chmod -R a+rX "$M/broken"
refused "{\"dir\":\"$M/broken\"}" 422 invalid "a module that does not import -> 422" \
	"the weights file is missing"
check "... and nothing of it is left in the catalog" test ! -e "$DATA/models/broken/1"
api GET /api/v1/models/broken
check_error 404 not_found "... nor in the store"
cp -r "$ROOT/models/digits" "$M/linked"
sed -i 's/"name": "digits"/"name": "linked"/' "$M/linked/kaon-model.json"
ln -s /etc/passwd "$M/linked/passwd"
chmod -R a+rX "$M/linked"
refused "{\"dir\":\"$M/linked\"}" 400 invalid "a folder with a symbolic link -> 400" "symbolic link"
refused "{\"dir\":\"$M/digits\",\"owner\":\"nobody-$RUN_ID\"}" 422 invalid "an unknown owner -> 422" "no user"

# ---- a new version -------------------------------------------------------------
sed -i 's/"version": "1.0.0"/"version": "1.1.0"/' "$M/digits/kaon-model.json"
export KAON_URL=$URL KAON_TOKEN=$ADMIN
kcli models add "$M/digits"
cli_ok "kaon models add registers a new version"
grep -q "Registered model digits version 1.1.0" <<<"$OUT" && pass "... and says so" || fail "... and says so: $OUT"
api GET /api/v1/models/digits
check_jq '.version == "1.1.0"' "the new version is current"
check_jq '.public and (.predict_enabled | not)' "... the admin's flags are kept"
kcli models
cli_ok "kaon models lists"
grep -qE '^digits +1\.1\.0 +Handwritten digit classifier' <<<"$OUT" && pass "... the model" || fail "... the model: $OUT"
kcli models show digits
cli_ok "kaon models show"
grep -q "image (file" <<<"$OUT" && pass "... lists its predict arguments" || fail "... lists its predict arguments: $OUT"
kcli models set digits --predict on
cli_ok "kaon models set --predict on"
kcli models set digits --predict maybe
check_eq "$RC" 2 "... a bad value is a usage error"
# ---- a training's outputs as a new version --------------------------------------
use_token "$U_TOKEN"
api POST '/v2/models/digits/train/?C=5&gamma=0.002&test_size=0.3'
check_status 200 "a user trains digits through POST /v2/models/digits/train/"
UUID=$(jq -r .uuid <<<"$BODY")
for ((i = 0; i < 600; i++)); do
	api GET "/v2/models/digits/train/$UUID"
	jq -e '.status != "running"' <<<"$BODY" >/dev/null && break
	sleep 0.1
done
check_jq '.status == "done" and .result.output.accuracy > 0.9' "... the training is done, accuracy over 0.9"
use_token "$ADMIN"
api POST /api/v1/models "{\"dir\":\"$M/digits\",\"from_training\":\"$UUID\"}"
check_error 422 invalid "a folder and a training at once -> 422"
api POST /api/v1/models '{"from_training":"0123456789abcdef0123456789abcdef"}'
check_error 404 not_found "an unknown training -> 404"
api POST /api/v1/models "{\"from_training\":\"$UUID\",\"version\":\"1.1.0\"}"
check_error 409 conflict "a version that exists -> 409"
api POST /api/v1/models "{\"from_training\":\"$UUID\",\"version\":\"1 1\"}"
check_error 422 invalid "a bad version -> 422"
kcli models add --from-training "$UUID"
cli_ok "kaon models add --from-training registers the training's outputs"
V=1.1.0+${UUID:0:8}
grep -q "Registered model digits version $V" <<<"$OUT" && pass "... as version $V" || fail "... as version $V: $OUT"
check "... its folder holds the trained weights" test -s "$DATA/models/digits/$V/digits-svc.joblib"
check_eq "$(jq -r .version "$DATA/models/digits/$V/kaon-model.json")" "$V" "... and a manifest with the new version"
check "... and the code of the version it trained" test -s "$DATA/models/digits/$V/digits_model/api.py"
curl "${CURL_OPTS[@]}" -H "Authorization: Bearer $U_TOKEN" -F "image=@$T/digit.png;type=image/png" \
	-o "$T/pred.json" -w '%{http_code}' "$URL/v2/models/digits/predict/" >"$T/pred.code"
check_eq "$(cat "$T/pred.code")" 200 "the new version predicts"
check "... the digit $LABEL" jq -e --argjson l "$LABEL" '.predictions.label == $l' "$T/pred.json"
api GET '/api/v1/jobs?user=all&state=running'
WJ=$(jq -r '[.jobs[] | select(.kind == "worker")][0].id' <<<"$BODY")
for ((i = 0; i < 50; i++)); do # the supervisor writes the log a moment later
	api GET "/api/v1/jobs/$WJ/log?stream=stderr"
	grep -q "weights: digits-svc.joblib" <<<"$BODY" && break
	sleep 0.1
done
check "... its worker loaded the trained weights" grep -q "weights: digits-svc.joblib" <<<"$BODY"

kcli models remove digits
cli_ok "kaon models remove"
api GET /api/v1/models/digits
check_error 404 not_found "... the model is gone"
for ((i = 0; i < 100; i++)); do
	api GET '/api/v1/jobs?user=all&state=pending,running'
	jq -e '[.jobs[] | select(.kind == "worker")] | length == 0' <<<"$BODY" >/dev/null && break
	sleep 0.1
done
check_jq '[.jobs[] | select(.kind == "worker")] | length == 0' "... and its warm worker with it"
kcli models add "$M/bad"
cli_fails "kaon models add of a bad folder fails with one line"

finish
