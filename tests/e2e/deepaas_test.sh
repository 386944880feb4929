#!/usr/bin/env bash
# deepaas_test — the DEEPaaS v2 surface exercised with curl as DEEPaaS's
# documentation does: versions (/ with Accept: application/json, /v2/),
# model metadata, swagger.json (paths, parameters, produces, definitions),
# /ui and /api, 308 to the trailing-slash form (query and POST body kept),
# 404 for unknown models and paths, 405, 401 for anonymous callers unless a
# model is public, 402 for disabled predict/train; predict's argument
# parsing (form, multipart, JSON, 400 for bad JSON, 413); trainings as
# jobs: POST (422 from the argument check), GET, list, DELETE, the record
# from result.json, and a training that survives a daemon restart.
#
# The models are rows written with SQL and a `describe` JSON written by
# hand, and trainings run a fake worker program ([models] worker_program),
# so the test depends on neither registration nor the real worker.
. "$(dirname "$0")/lib.sh"

PY=/usr/bin/python3
[ -x "$PY" ] || { fail "$PY is missing (apt-get install -y python3)"; finish; }

# The fake worker: `train DIR --args FILE --out OUTDIR` sleeps for the
# args' "sleep" seconds, then writes result.json as the real one does
# (mode "fail" writes an error result).
WORKER=$T/fake-worker
cat >"$WORKER" <<'EOF'
#!/usr/bin/python3
import json, os, sys, time
op, d = sys.argv[1], sys.argv[2]
a = dict(zip(sys.argv[3::2], sys.argv[4::2]))
if op != "train":
    sys.exit(3)
args = json.load(open(a["--args"]))
out = a["--out"]
open(os.path.join(out, "started"), "w").write(str(os.getuid()))
time.sleep(float(args.get("sleep", 0)))
if args.get("mode") == "slow" and os.path.exists(os.path.join(out, "stop")):
    pass
if args.get("mode") == "fail":
    res = {"status": "error", "message": "the model said no"}
else:
    res = {"status": "done", "output": {"epochs": args.get("epochs"), "cwd": os.getcwd()}}
tmp = os.path.join(out, ".result.json.tmp")
json.dump(res, open(tmp, "w"))
os.rename(tmp, os.path.join(out, "result.json"))
sys.exit(0 if res["status"] == "done" else 1)
EOF
chmod 0755 "$WORKER"

printf '[node]\noversubscribe = 16\n[models]\nworker_program = %s\npredict_max_mb = 1\n' \
	"$WORKER" >"$T/kaon.ini"
start_server --config "$T/kaon.ini" || { fail "server starts"; finish; }
ADMIN=$(admin_token) || { fail "admin token"; finish; }
ALICE=alice$RUN_ID BOB=bob$RUN_ID
use_token "$ADMIN"
for u in "$ALICE" "$BOB"; do
	api POST /api/v1/users "{\"username\":\"$u\",\"password\":\"$u-password\",\"groups\":[\"researchers\"]}"
	check_status 201 "create $u"
done
ALICE_TOKEN=$(new_token "$ALICE" "$ALICE-password") || fail "token for $ALICE"
BOB_TOKEN=$(new_token "$BOB" "$BOB-password") || fail "token for $BOB"

# sql STATEMENT — against the daemon's store (WAL: fine while it runs).
sql() {
	"$PY" -c 'import sqlite3, sys
db = sqlite3.connect(sys.argv[1], timeout=10)
for row in db.execute(sys.argv[2], sys.argv[3:]):
    print("|".join(str(c) for c in row))
db.commit()' "$DATA/kaon.db" "$@"
}

DESCRIBE=$(jq -c . <<'EOF'
{"metadata": {"name": "Demo model", "description": "A model for the tests",
              "author": "kaon tests", "license": "MIT", "version": "1.0.0",
              "author-email": {"kaon tests": "tests@example.org"}},
 "predict_args": [
   {"name": "data", "in": "formData", "required": false, "type": "file",
    "description": "an input file"},
   {"name": "n", "in": "query", "required": true, "type": "integer",
    "minimum": 1, "maximum": 10, "description": "how many"},
   {"name": "accept", "in": "query", "required": false, "type": "string",
    "enum": ["application/json", "image/png", "*/*"], "default": "application/json"}],
 "train_args": [
   {"name": "epochs", "in": "query", "required": false, "type": "integer",
    "default": 1, "minimum": 1},
   {"name": "mode", "in": "query", "required": true, "type": "string",
    "enum": ["fast", "slow", "fail"]},
   {"name": "sleep", "in": "query", "required": false, "type": "number", "default": 0},
   {"name": "tags", "in": "query", "required": false, "type": "array",
    "items": {"type": "string"}, "collectionFormat": "multi"}],
 "accept": ["application/json", "image/png", "*/*"],
 "has_predict": true, "has_train": true, "has_warm": false,
 "response_schema": {"type": "object", "properties": {"labels": {"type": "array"}}}}
EOF
)
MODEL_DIR=$T/models/demo
mkdir -p "$MODEL_DIR" && chmod -R 0755 "$T/models"
# add_model NAME PUBLIC PREDICT_ENABLED TRAIN_ENABLED
add_model() {
	sql "INSERT INTO models (name, version, title, summary, manifest, describe, dir, owner_id,
		owner, public_predict, predict_enabled, train_enabled, created_at, updated_at)
		VALUES (?, '1.0.0', ?, 'a test model', ?, ?, ?, 1, 'admin', ?, ?, ?,
		strftime('%s','now'), strftime('%s','now'))" \
		"$1" "Model $1" \
		'{"name":"x","version":"1.0.0","resources":{"train":{"cpus":1,"mem_mb":64,"walltime_s":600}}}' \
		"$DESCRIBE" "$MODEL_DIR" "$2" "$3" "$4"
}
add_model demo 0 1 1
add_model pub 1 1 1
add_model off 0 0 0

# ---- versions ---------------------------------------------------------------
use_token "$ALICE_TOKEN"
api GET / -H 'Accept: application/json'
check_status 200 "GET / with Accept: application/json -> 200"
check_jq '.versions == [{"version":"stable","id":"v2","links":[{"rel":"self","type":"application/json","href":"/v2/"}]}]' \
	"it lists the v2 version document"
check_jq '.links == [{"rel":"help","type":"text/html","href":"/api"},{"rel":"describedby","type":"application/json","href":"/swagger.json"}]' \
	"with the help and describedby links"
use_nobody
api GET / -H 'Accept: application/json'
check_status 200 "GET / as JSON needs no credentials"
api GET / -H 'Accept: text/html,application/xhtml+xml,application/xml;q=0.9,*/*;q=0.8'
check_status 200 "GET / from a browser -> 200"
check_header Content-Type '^text/html' "a browser gets kaon's web page"
api GET /
check_header Content-Type '^text/html' "curl's */* gets the web page too"
api GET / -H 'Accept: text/html;q=0.5, application/json'
check_header Content-Type '^application/json' "JSON preferred by q -> the versions document"
api POST / -H 'Accept: application/json'
check_status 405 "POST / -> 405"

api GET /v2/
check_status 200 "GET /v2/ -> 200"
check_jq '. == {"version":"stable","id":"v2","links":[{"rel":"self","type":"application/json","href":"/v2/"}]}' \
	"GET /v2/ is the v2 version document"
api GET /v2
check_status 308 "GET /v2 -> 308"
check_header Location '^/v2/$' "to /v2/"
api GET '/v2?x=1&y=2'
check_header Location '^/v2/\?x=1&y=2$' "the redirect keeps the query string"
api GET //v2//
check_status 308 "GET //v2// -> 308 (slashes merged)"
check_header Location '^/v2/$' "to /v2/"
api GET /v2/nosuch/
check_status 404 "GET /v2/nosuch/ -> 404"

# ---- metadata -----------------------------------------------------------------
use_token "$ALICE_TOKEN"
api GET /v2/models/
check_status 200 "GET /v2/models/ -> 200"
check_jq '[.models[].id] == ["demo","off","pub"]' "it lists every model"
check_jq '.models[0] == {"id":"demo","name":"Demo model","links":[{"rel":"self","href":"/v2/models/demo"}],
	"description":"A model for the tests","author":"kaon tests","license":"MIT","version":"1.0.0",
	"author-email":{"kaon tests":"tests@example.org"}}' \
	"a model's metadata is {id,name,links} with describe.metadata laid over it"
for m in POST PUT DELETE; do
	api $m /v2/models/
	check_status 405 "$m /v2/models/ -> 405"
done
api GET /v2/models
check_status 308 "GET /v2/models -> 308"
check_header Location '^/v2/models/$' "to /v2/models/"
api GET /v2/models/demo/
check_status 200 "GET /v2/models/demo/ -> 200"
check_jq '.id == "demo" and .links == [{"rel":"self","href":"/v2/models/demo"}]' "its metadata"
api GET /v2/models/demo
check_status 308 "GET /v2/models/demo -> 308"
check_header Location '^/v2/models/demo/$' "to /v2/models/demo/"
for m in GET PUT POST DELETE; do
	api $m /v2/models/nosuch/
	check_status 404 "$m /v2/models/nosuch/ -> 404"
done
api PUT /v2/models/demo/
check_status 405 "PUT /v2/models/demo/ -> 405"
check_header Allow '^GET$' "Allow: GET"
api GET /v2/models/demo/x/
check_status 404 "an unknown path under a model -> 404"

# Anonymous callers: public models only.
use_nobody
api GET /v2/models/
check_status 200 "GET /v2/models/ anonymously -> 200"
check_jq '[.models[].id] == ["pub"]' "anonymous callers see only the public model"
api GET /v2/models/pub/
check_status 200 "GET /v2/models/pub/ anonymously -> 200"
api GET /v2/models/demo/
check_status 401 "GET /v2/models/demo/ anonymously -> 401"
api GET /v2/models/nosuch/
check_status 401 "an unknown model asked anonymously -> 401 (no hint that it does not exist)"
api GET /v2/models/demo/ -H 'Authorization: Bearer nonsense'
check_status 401 "a bad token -> 401"

# ---- swagger.json, /ui, /api ------------------------------------------------------
use_token "$ALICE_TOKEN"
api GET /swagger.json
check_status 200 "GET /swagger.json -> 200"
check_jq '.swagger == "2.0" and (.info.title | type == "string")' "Swagger 2.0 with a title"
check_jq '.paths | has("/v2/") and has("/v2/models/") and has("/v2/models/demo/")
	and has("/v2/models/demo/predict/") and has("/v2/models/demo/train/")
	and has("/v2/models/demo/train/{uuid}")' "paths carry the /v2 prefix and each model's routes"
check_jq '.paths["/v2/models/demo/predict/"].post.parameters == ('"$DESCRIBE"').predict_args' \
	"predict's parameters are the describe's predict_args"
check_jq '.paths["/v2/models/demo/train/"].post.parameters == ('"$DESCRIBE"').train_args' \
	"train's parameters are the describe's train_args"
check_jq '.paths["/v2/models/demo/predict/"].post.produces == ["application/json","image/png","*/*"]' \
	"predict produces the accept choices"
check_jq '.paths["/v2/models/demo/train/{uuid}"] | has("get") and has("delete")' \
	"a training is GET and DELETE"
check_jq '.definitions | has("ModelMeta") and has("Training") and has("TrainingList")
	and has("Prediction") and has("Failure")' "the definitions DEEPaaS has"
check_jq '.paths["/v2/models/demo/predict/"].post.responses["200"].schema["$ref"]
	| startswith("#/definitions/ModelPredictionResponse")' \
	"a model with a response schema refers to its ModelPredictionResponse"
use_nobody
api GET /swagger.json
check_status 200 "GET /swagger.json anonymously -> 200"
check_jq '(.paths | has("/v2/models/pub/predict/")) and (.paths | has("/v2/models/demo/") | not)' \
	"anonymously it describes the public models only"
check_jq '.definitions.ModelPredictionResponse.properties.labels.type == "array"' \
	"with one model, its schema is definitions.ModelPredictionResponse"
api GET /ui
check_status 302 "GET /ui -> 302"
check_header Location '^/api$' "to /api"
api GET /api
check_status 200 "GET /api -> 200"
check_header Content-Type '^text/html' "an HTML page"
check "the page lists predict" grep -q '/v2/models/pub/predict/' <<<"$BODY"
check "the page links swagger.json" grep -q 'href="/swagger.json"' <<<"$BODY"

# ---- trainings ------------------------------------------------------------------
# train_until UUID STATUS [SECONDS] — poll the record until its status.
train_until() {
	local i
	for ((i = 0; i < ${3:-30} * 10; i++)); do
		api GET "/v2/models/demo/train/$1"
		[ "$(jq -r .status <<<"$BODY" 2>/dev/null)" = "$2" ] && return 0
		sleep 0.1
	done
	return 1
}
use_token "$ALICE_TOKEN"
api POST '/v2/models/demo/train/?mode=fast&epochs=2'
check_status 200 "POST train/ with query arguments -> 200"
check_jq '.uuid | test("^[0-9a-f]{32}$")' "the record has a 32-hex uuid"
check_jq '.date | test("^[0-9]{4}-[0-9]{2}-[0-9]{2} [0-9]{2}:[0-9]{2}:[0-9]{2}\\.[0-9]{6}$")' \
	"and a date as Python prints it"
check_jq '.status == "running" and .args == {"epochs":2,"mode":"fast","sleep":0}' \
	"it is running, with the parsed arguments and their defaults"
T1=$(jq -r .uuid <<<"$BODY")
if train_until "$T1" done; then pass "the training ends done"; else fail "the training ends done: $BODY"; fi
check_jq '.result.output.epochs == 2' "result.output is what train returned"
check_jq ".result.output.cwd == \"$DATA/home/$ALICE/kaon-trainings/demo/$T1\"" \
	"the worker ran in ~/kaon-trainings/MODEL/UUID"
check_jq '(.result.finish_date | test("^[0-9-]{10} [0-9:]{8}\\.[0-9]{6}$"))
	and (.result.duration | test("^[0-9]+:[0-9]{2}:[0-9]{2}\\.[0-9]{6}$"))' \
	"with finish_date and duration as DEEPaaS formats them"
OUTDIR=$DATA/home/$ALICE/kaon-trainings/demo/$T1
if [ "$(id -u)" = 0 ]; then
	check_eq "$(stat -c %U "$OUTDIR/result.json")" "$ALICE" "the training's files belong to the user"
	check_eq "$(cat "$OUTDIR/started")" "$(id -u "$ALICE")" "the worker ran as the user"
fi
check_eq "$(jq -c . "$OUTDIR/args.json")" '{"epochs":2,"mode":"fast","sleep":0}' \
	"the worker got the parsed arguments in args.json"

api POST '/v2/models/demo/train/?epochs=2'
check_status 422 "a missing required argument -> 422"
check_jq '. == {"mode":["Missing data for required field."]}' "{field: [messages]}"
api POST '/v2/models/demo/train/?mode=bogus&epochs=0'
check_status 422 "bad values -> 422"
check_jq '. == {"mode":["Must be one of: fast, slow, fail."],"epochs":["Must be greater than or equal to 1."]}' \
	"each field with marshmallow's message"
api POST '/v2/models/demo/train/?mode=fast&epochs=x'
check_jq '. == {"epochs":["Not a valid integer."]}' "not an integer -> 422 naming the field"
api POST /v2/models/demo/train/ -d mode=fast -d epochs=3 -d tags=a -d tags=b
check_status 200 "a urlencoded form -> 200"
check_jq '.args == {"epochs":3,"mode":"fast","sleep":0,"tags":["a","b"]}' \
	"form values are parsed, repeated names make a list"
api POST '/v2/models/demo/train/?epochs=5' -F mode=fast -F epochs=9
check_status 200 "a multipart form with query arguments -> 200"
check_jq '.args.epochs == 5 and .args.mode == "fast"' "the query wins over the form"
api POST /v2/models/demo/train/ '{"mode":"fast","epochs":4,"sleep":0.5}'
check_status 200 "a JSON body -> 200"
check_jq '.args == {"epochs":4,"mode":"fast","sleep":0.5}' "JSON values are taken as they are"
api POST /v2/models/demo/train/ '{"mode":'
check_status 400 "a JSON body that does not parse -> 400"
check_jq '. == {"json":["Invalid JSON body."]}' "DEEPaaS's message"

api POST '/v2/models/demo/train?mode=fail'
check_status 308 "POST .../train -> 308"
check_header Location '^/v2/models/demo/train/\?mode=fail$' "to train/ with the query"
api POST '/v2/models/demo/train?mode=fail' -L
check_status 200 "a client following the 308 re-sends the POST"
T2=$(jq -r .uuid <<<"$BODY")
if train_until "$T2" error; then pass "a failing training ends error"; else fail "a failing training ends error: $BODY"; fi
check_jq '.message == "the model said no"' "with the model's message"

api GET /v2/models/demo/train/
check_status 200 "GET train/ -> 200"
check_jq 'type == "array" and length == 5 and (map(.uuid) | index("'"$T1"'") != null)' \
	"a bare array of the caller's trainings"
api GET "/v2/models/demo/train/$T1/"
check_status 404 "a training's path with a trailing slash -> 404"
api GET /v2/models/demo/train/0123456789abcdef0123456789abcdef
check_status 404 "an unknown uuid -> 404"
api PUT /v2/models/demo/train/
check_status 405 "PUT train/ -> 405"
api PUT "/v2/models/demo/train/$T1"
check_status 405 "PUT train/UUID -> 405"
api GET /v2/models/nosuch/train/
check_status 404 "trainings of an unknown model -> 404"

use_token "$BOB_TOKEN"
api GET /v2/models/demo/train/
check_jq '. == []' "another user sees none of them"
api GET "/v2/models/demo/train/$T1"
check_status 404 "nor any one of them"
api DELETE "/v2/models/demo/train/$T1"
check_status 404 "nor may delete it"
use_token "$ADMIN"
api GET /v2/models/demo/train/
check_jq 'length == 5' "an admin sees everyone's"

# kaon's own list of a model's trainings: the records plus their jobs (the
# web page follows a training's log through its job).
api GET /api/v1/models/demo/trainings
check_status 200 "an admin lists a model's trainings through /api/v1"
check_jq '.trainings | length == 5' "... everyone's"
use_token "$ALICE_TOKEN"
api GET /api/v1/models/demo/trainings
check_status 200 "a user lists a model's trainings through /api/v1"
check_schema ModelTrainingList . "... a ModelTrainingList"
check_jq '(.trainings | length == 5) and all(.trainings[]; .user == "'"$ALICE"'" and .version == "1.0.0")' \
	"... her five, each with who started it and the model version"
check_jq '.trainings[] | select(.uuid == "'"$T1"'") | .status == "done" and .result.output.epochs == 2' \
	"... each the record DEEPaaS's GET shows"
T1_JOB=$(jq -r '.trainings[] | select(.uuid == "'"$T1"'") | .job_id' <<<"$BODY")
api GET "/api/v1/jobs/$T1_JOB"
check_jq '.kind == "training" and .state == "completed" and .user == "'"$ALICE"'"' \
	"... and the id of the job of kind training that ran it"
api GET /api/v1/models/nosuch/trainings
check_error 404 not_found "the trainings of an unknown model -> 404"
use_token "$BOB_TOKEN"
api GET /api/v1/models/demo/trainings
check_jq '.trainings == []' "another user sees none of them there either"

use_token "$ALICE_TOKEN"
api POST '/v2/models/off/train/?mode=fast'
check_status 402 "POST train/ on a model with training disabled -> 402"
api GET /v2/models/off/train/
check_status 402 "GET train/ there -> 402"
use_nobody
api POST '/v2/models/pub/train/?mode=fast'
check_status 401 "anonymous POST train/ even on a public model -> 401"
api GET /v2/models/pub/train/
check_status 401 "anonymous GET train/ -> 401"
JAR=$T/alice.jar
login "$ALICE" "$ALICE-password" "$JAR"
use_cookie "$JAR"
api POST '/v2/models/demo/train/?mode=fast'
check_status 401 "a cookie without its CSRF header may not start a training"
use_cookie "$JAR" "$CSRF"
api POST '/v2/models/demo/train/?mode=slow&sleep=60'
check_status 200 "with the CSRF header it may"
T3=$(jq -r .uuid <<<"$BODY")
JOB3=$(sql "SELECT job_id FROM trainings WHERE uuid = ?" "$T3")
check_eq "$(sql "SELECT kind || ' ' || username FROM jobs WHERE id = ?" "$JOB3")" "training $ALICE" \
	"a training is a job of kind training, the caller's"
for ((i = 0; i < 100; i++)); do
	[ -e "$DATA/home/$ALICE/kaon-trainings/demo/$T3/started" ] && break
	sleep 0.1
done
use_token "$ALICE_TOKEN"
api DELETE "/v2/models/demo/train/$T3"
check_status 200 "DELETE a running training -> 200"
check_jq '.uuid == "'"$T3"'" and .status == "cancelled"' "the record, cancelled"
for ((i = 0; i < 100; i++)); do
	[ "$(sql "SELECT state FROM jobs WHERE id = ?" "$JOB3")" = cancelled ] && break
	sleep 0.1
done
check_eq "$(sql "SELECT state FROM jobs WHERE id = ?" "$JOB3")" cancelled "its job is cancelled"
api GET "/v2/models/demo/train/$T3"
check_status 404 "a deleted training is gone"
api GET /v2/models/demo/train/
check_jq 'map(.uuid) | index("'"$T3"'") == null' "and out of the list"

# A training survives a daemon restart and completes.
api POST '/v2/models/demo/train/?mode=fast&sleep=3&epochs=7'
check_status 200 "start a training of 3 s"
T4=$(jq -r .uuid <<<"$BODY")
restart_server --config "$T/kaon.ini" || { fail "server restarts"; finish; }
api GET "/v2/models/demo/train/$T4"
check_status 200 "after a restart the training is there"
check_jq '.args.epochs == 7' "with its arguments"
if train_until "$T4" done 30; then pass "and it completes"; else fail "and it completes: $BODY"; fi
check_jq '.result.output.epochs == 7' "with its result"

stop_server
finish
