#!/usr/bin/env bash
# deepaas_module_test — an unmodified DEEPaaS-style module
# (tests/e2e/deepaas_style_model: webargs fields, marshmallow validators,
# functions at module level, nothing that knows kaon) registered with
# `kaon models add` and used only through the DEEPaaS v2 API with curl, the
# way DEEPaaS's documentation shows: metadata, predict with a query
# argument, a header and an uploaded file, 422 naming the field, the
# accept argument choosing text/plain or image/png, several predictions at
# once, an exception in predict, and a training run by the real worker as
# a job, listed, its record done, its output file downloadable through
# the files API.
. "$(dirname "$0")/lib.sh"
PY=/usr/bin/python3
"$PY" -c 'import webargs, marshmallow' 2>/dev/null || {
	skip "python3-webargs / python3-marshmallow missing (scripts/install-deps)"
	finish
}

start_server || { fail "server starts"; finish; }
ADMIN=$(admin_token) || { fail "admin token"; finish; }
use_token "$ADMIN"
U=dpuser$RUN_ID
api POST /api/v1/users "{\"username\":\"$U\",\"password\":\"deepaas-password\",\"groups\":[\"researchers\"]}"
check_status 201 "create $U"
TOKEN=$(new_token "$U" deepaas-password) || fail "token for $U"

M=$T/models
mkdir -p "$M"
cp -r "$ROOT/tests/e2e/deepaas_style_model" "$M/deepaas_style_model"
chmod -R a+rX "$T"
export KAON_URL=$URL KAON_TOKEN=$ADMIN
kcli models add "$M/deepaas_style_model"
cli_ok "kaon models add registers the unmodified DEEPaaS-style module"

# dcurl NAME ARGS... — curl as the user; body in $T/NAME.out, status in CODE
dcurl() {
	local n=$1
	shift
	CODE=$(curl "${CURL_OPTS[@]}" -H "Authorization: Bearer $TOKEN" -o "$T/$n.out" \
		-w '%{http_code}' "$@")
	BODY=$(cat "$T/$n.out")
}

# ---- metadata ---------------------------------------------------------------------
dcurl meta -X GET "$URL/v2/models/deepaas-style/" -H 'accept: application/json'
check_eq "$CODE" 200 "curl -X GET /v2/models/deepaas-style/ -> 200"
check_jq '.id == "deepaas-style" and .author == "kaon tests" and .version == "0.0.1"' \
	"... the module's get_metadata()"

# ---- predict ------------------------------------------------------------------------
printf 'some bytes to describe\n' >"$T/input.txt"
chmod a+r "$T/input.txt"
dcurl p1 -X POST "$URL/v2/models/deepaas-style/predict/?demo_int=3&demo_list=4&demo_list=5" \
	-H 'accept: application/json' -F "data=@$T/input.txt;type=text/plain" -F demo_choice=choice1
check_eq "$CODE" 200 "POST predict/ with a query argument, a form field and a file -> 200"
check_jq '.status == "OK" and .predictions.demo_int == 3 and .predictions.demo_list == [4,5] and .predictions.demo_choice == "choice1"' \
	"... the arguments reach predict() converted, as webargs does"
check_jq '.predictions.demo_float == 0.5 and .predictions.demo_bool == true and .predictions.name == "abc"' \
	"... with the defaults filled"
check_jq '.predictions.data == {"name":"data","content_type":"text/plain","original_filename":"input.txt","size":23}' \
	"... the file as an UploadedFile (name, content type, original name, its bytes)"
check_jq '.predictions.warmed' "... warm() ran before"
dcurl p2 -X POST "$URL/v2/models/deepaas-style/predict/" -H 'accept: application/json'
check_eq "$CODE" 422 "a missing required argument -> 422"
check_jq '.demo_int | type == "array" and length > 0' "... {field: [messages]} naming demo_int"
dcurl p3 -X POST "$URL/v2/models/deepaas-style/predict/?demo_int=1&demo_float=2&name=toolong"
check_eq "$CODE" 422 "values out of range -> 422"
check_jq 'has("demo_float") and has("name")' "... naming both fields"
dcurl p4 -X POST "$URL/v2/models/deepaas-style/predict/?demo_int=7" -H 'accept: text/plain'
check_eq "$CODE" 200 "accept: text/plain -> 200"
check_eq "$BODY" "demo_int=7" "... the bytes predict() returned"
"$PY" -c 'import sys; open(sys.argv[1], "wb").write(b"\x89PNG\r\n\x1a\n" + bytes(range(256)) * 40)' "$T/in.png"
chmod a+r "$T/in.png"
dcurl p5 -X POST "$URL/v2/models/deepaas-style/predict/?demo_int=1" -H 'accept: image/png' \
	-F "data=@$T/in.png;type=image/png" -D "$T/p5.h"
check_eq "$CODE" 200 "accept: image/png -> 200"
check "... as image/png" grep -qi '^content-type: image/png' "$T/p5.h"
check "... the file predict() opened, byte for byte" cmp -s "$T/in.png" "$T/p5.out"
dcurl p6 -X POST "$URL/v2/models/deepaas-style/predict/?demo_int=1&crash=true"
check_eq "$CODE" 500 "an exception in predict() -> 500"
check "... with its message" grep -q "crashed on purpose" "$T/p6.out"

CURLS=()
for i in 1 2 3 4 5; do
	curl "${CURL_OPTS[@]}" -H "Authorization: Bearer $TOKEN" -o "$T/conc.$i" \
		-X POST "$URL/v2/models/deepaas-style/predict/?demo_int=$i" &
	CURLS+=($!)
done
wait "${CURLS[@]}"
check_eq "$(jq -rs '[.[].predictions.demo_int] | sort | tostring' "$T"/conc.*)" "[1,2,3,4,5]" \
	"five predictions at once, each with its own answer"

# ---- train --------------------------------------------------------------------------
# The warm predict workers hold CPUs (on a 2-CPU machine, all of them):
# turning predict off drains them, so the training need not queue.
kcli models set deepaas-style --predict off
cli_ok "an admin turns predict off (its warm workers go)"
use_token "$ADMIN"
for ((i = 0; i < 100; i++)); do
	api GET '/api/v1/jobs?user=all&state=pending,running'
	jq -e '[.jobs[] | select(.kind == "worker")] | length == 0' <<<"$BODY" >/dev/null && break
	sleep 0.1
done
check_jq '[.jobs[] | select(.kind == "worker")] | length == 0' "... no worker job is left"
dcurl t1 -X POST "$URL/v2/models/deepaas-style/train/?epochs=2" -H 'accept: application/json'
check_eq "$CODE" 200 "POST train/?epochs=2 -> 200"
UUID=$(jq -r .uuid <<<"$BODY")
check_jq '.status == "running" and .args.epochs == 2' "... a running record with the parsed arguments"
for ((i = 0; i < 600; i++)); do
	dcurl t2 -X GET "$URL/v2/models/deepaas-style/train/$UUID"
	jq -e '.status != "running"' <<<"$BODY" >/dev/null && break
	sleep 0.1
done
check_jq '.status == "done" and .result.output.epochs == 2' "the training is done with what train() returned"
check_jq --arg h "$DATA/home/$U/kaon-trainings/deepaas-style/$UUID" '.result.output.cwd == $h' \
	"... it ran in its output folder in the user's home"
dcurl t3 -X GET "$URL/v2/models/deepaas-style/train/"
check_jq --arg u "$UUID" '[.[].uuid] == [$u]' "GET train/ lists it"
dcurl t4 "$URL/api/v1/files/kaon-trainings/deepaas-style/$UUID/trained.txt"
check_eq "$CODE:$BODY" "200:epochs=2" "its output file is downloadable through the files API"
dcurl t5 -X POST "$URL/v2/models/deepaas-style/train/?epochs=20"
check_eq "$CODE" 422 "train/ with epochs over the module's Range -> 422"
check_jq 'has("epochs")' "... naming epochs"

cancel_live_jobs
stop_server
finish
