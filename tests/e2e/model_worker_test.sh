#!/usr/bin/env bash
# model_worker_test — kaon-model-worker (src/libexec/kaon-model-worker.py),
# which runs catalog models for the daemon: describe, validate, serve (the
# line protocol on a unix socket) and train, for Python modules with
# DEEPaaS's interface and for exec-runtime programs (docs/models.md). The
# daemon installs it as DATA/libexec/kaon-model-worker; the installed copy
# is then run by hand the way the model pool and trainings run it, on the
# two shipped models (models/digits, models/digits-torch) and on the
# fixtures next to this file: deepaas_style_model (an unmodified
# DEEPaaS-style module), class_model (module:Class with a response schema
# and no train) and exec_model (a program speaking the line protocol).
. "$(dirname "$0")/lib.sh"

PY=/usr/bin/python3
if [ ! -x "$PY" ]; then
	skip "no $PY (Debian's python3) to run the worker"
	finish
fi
if ! "$PY" -c 'import marshmallow, webargs' 2>/dev/null; then
	skip "Debian's python3 lacks python3-webargs/python3-marshmallow (scripts/install-deps)"
	finish
fi
HAVE_SKLEARN=1 HAVE_TORCH=1
"$PY" -c 'import sklearn, PIL, numpy' 2>/dev/null || HAVE_SKLEARN=0
"$PY" -c 'import torch, sklearn, PIL' 2>/dev/null || HAVE_TORCH=0

# ---- installed by the daemon ---------------------------------------------------
start_server || { fail "server starts"; finish; }
W=$DATA/libexec/kaon-model-worker
check_eq "$(stat -c '%a %u' "$W" 2>/dev/null)" "755 $(id -u)" "the daemon installs DATA/libexec/kaon-model-worker, 0755, its own"
check "... the worker of the source tree" cmp -s "$W" "$ROOT/src/libexec/kaon-model-worker.py"
stop_server

# The models are copied, as registration copies them, so that nothing the
# test runs writes into the source tree.
M=$T/models
mkdir -p "$M"
cp -r "$ROOT/models/digits" "$ROOT/models/digits-torch" "$M/"
cp -r "$E2E_DIR/deepaas_style_model" "$E2E_DIR/class_model" "$E2E_DIR/exec_model" "$M/"
CLIENT=$E2E_DIR/model_client.py

# worker ARGS... — run the installed worker in a bare environment; sets RC,
# OUT (stdout) and ERR (stderr).
worker() {
	env -i PATH=/usr/bin:/bin HOME="$T" PYTHONDONTWRITEBYTECODE=1 "$W" "$@" >"$T/w.out" 2>"$T/w.err"
	RC=$?
	OUT=$(cat "$T/w.out")
	ERR=$(cat "$T/w.err")
	BODY=$OUT LAST_REQ="kaon-model-worker $*" STATUS=$RC
}
# args_file NAME JSON — write an --args file; prints its path.
args_file() {
	printf '%s\n' "$2" >"$T/$1.json"
	printf '%s' "$T/$1.json"
}

# ---- describe ------------------------------------------------------------------
worker describe "$M/deepaas_style_model"
check_eq "$RC" 0 "describe of a DEEPaaS-style module exits 0"
check_jq '[.predict_args[].name] == ["data","demo_str","demo_int","demo_float","demo_bool","demo_choice","demo_list","name","crash","accept"]' \
	"... predict_args: every field, in the module's order"
check_jq '.predict_args[0] == {"name":"data","in":"formData","required":false,"type":"file","description":"A file to describe."}' \
	"... a file field (type=file, location=form) is a formData file"
check_jq '.predict_args[2] == {"name":"demo_int","in":"query","required":true,"type":"integer","format":"int32","description":"A required integer."}' \
	"... Int(required=True) is a required int32 query parameter"
check_jq '.predict_args[3] | .type == "number" and .format == "float" and .default == 0.5 and .minimum == 0 and .maximum == 1' \
	"... Float with missing= and Range: number/float, default, minimum, maximum"
check_jq '.predict_args[4] | .type == "boolean" and .default == true' "... Bool: boolean with its default"
check_jq '.predict_args[5] | .enum == ["choice1","choice2"] and .default == "choice2"' "... OneOf: enum"
check_jq '.predict_args[6] | .type == "array" and .items == {"type":"integer","format":"int32"} and .collectionFormat == "multi" and .default == [1,2]' \
	"... List(Int): array of integers, collectionFormat multi"
check_jq '.predict_args[7] | .minLength == 1 and .maxLength == 5' "... Length: minLength, maxLength"
check_jq '.predict_args[9] | .in == "header" and .default == "application/json" and .enum == ["application/json","text/plain","image/png","*/*"]' \
	"... accept (location=headers): a header, */* added to its choices, the first choice its default"
check_jq '.accept == ["application/json","text/plain","image/png","*/*"]' "... accept lists the media types and */*"
check_jq '.metadata["author-email"]["kaon tests"] == "tests@example.org" and .metadata.license == "MIT"' \
	"... metadata is get_metadata() as returned"
check_jq '.has_predict and .has_train and .has_warm and .response_schema == null' "... has_predict, has_train, has_warm; no response schema"
check_jq '[.train_args[].name] == ["epochs","fail"] and .train_args[0].default == 1 and .train_args[0].maximum == 10' "... train_args"
check_eq "$(wc -l <"$T/w.out")" 1 "... one line on stdout"

worker describe "$M/class_model"
check_eq "$RC" 0 "describe of a module:Class model exits 0"
check_jq '.has_predict and (.has_train | not) and (.has_warm | not)' "... no train, no warm"
check_jq '.response_schema.type == "object" and .response_schema.properties.score.type == "number" and (.response_schema.required | sort) == ["label","score"]' \
	"... its schema as a Swagger object"
check_jq '.metadata.name == "class-model" and .metadata.title and .metadata.summary' "... without get_metadata: the manifest's fields"

worker describe "$M/exec_model"
check_eq "$RC" 0 "describe of an exec-runtime model exits 0"
check_jq '[.predict_args[].name] == ["text","times","mode","upload","accept"]' "... its manifest's parameters, and an accept parameter from runtime.accept"
check_jq '.predict_args[1] | .type == "integer" and .default == 1 and .minimum == 1 and .maximum == 5' "... integer with default and range"
check_jq '.predict_args[3] | .in == "formData" and .type == "file"' "... a file"
check_jq '.accept == ["application/json","text/plain","*/*"] and .has_train and (.has_warm | not)' "... accept with */*; has_train from train_args"

if [ "$HAVE_SKLEARN" = 1 ]; then
	worker describe "$M/digits"
	check_eq "$RC" 0 "describe of models/digits exits 0"
	check_jq '[.predict_args[] | [.name, .in, .type]] == [["image","formData","file"],["pixels","query","array"],["accept","query","string"]]' \
		"... image (file), pixels (array), accept"
	check_jq '.predict_args[1] | .items.type == "number" and .items.minimum == 0 and .items.maximum == 16 and .minItems == 64 and .maxItems == 64' \
		"... pixels: 64 numbers from 0 to 16"
	check_jq '[.train_args[] | [.name, .default]] == [["C",10.0],["gamma",0.001],["test_size",0.25]]' "... train_args C, gamma, test_size with defaults"
	check_jq '.accept == ["application/json","*/*"] and .metadata.name == "digits" and .has_warm' "... answers JSON; metadata"
else
	skip "python3-sklearn/python3-pil missing: models/digits not run"
fi
if [ "$HAVE_TORCH" = 1 ]; then
	worker describe "$M/digits-torch"
	check_eq "$RC" 0 "describe of models/digits-torch exits 0"
	check_jq '[.predict_args[].name] == ["image","pixels","accept"]' "... image, pixels, accept"
	check_jq '[.train_args[] | [.name, .type, .default]] == [["epochs","integer",10],["lr","number",0.01],["batch_size","integer",64]]' \
		"... train_args epochs, lr, batch_size"
else
	skip "python3-torch missing: models/digits-torch not run"
fi

mkdir -p "$M/broken/pkg"
printf '{"name":"broken","runtime":{"type":"python","module":"pkg.nothere"}}\n' >"$M/broken/kaon-model.json"
worker describe "$M/broken"
check_ne "$RC" 0 "describe of a module that cannot be imported fails"
check "... saying why on stderr" grep -q "cannot load pkg.nothere" <<<"$ERR"
check_eq "$OUT" "" "... and nothing on stdout"
worker describe "$T"
check_ne "$RC" 0 "describe of a folder without kaon-model.json fails"
check "... naming the file" grep -q "kaon-model.json" <<<"$ERR"

# A Python without marshmallow (pyenv's, a bare venv) first in PATH: the
# worker runs itself again with Debian's.
OTHER=$(command -v python3)
if [ -n "$OTHER" ] && [ "$(readlink -f "$OTHER")" != "$(readlink -f "$PY")" ] &&
	! "$OTHER" -c 'import marshmallow' 2>/dev/null; then
	OUT=$(env -i PATH="$(dirname "$OTHER"):/usr/bin:/bin" HOME="$T" "$OTHER" "$W" describe "$M/class_model" 2>"$T/w.err")
	BODY=$OUT
	check_jq '.predict_args[0].name == "mode"' "a python3 without marshmallow: the worker runs again with $PY"
else
	skip "no other python3 without marshmallow in PATH to test the re-exec"
fi

# ---- validate ------------------------------------------------------------------
worker validate "$M/deepaas_style_model" --kind predict --args "$(args_file v1 '{"args":{}}')"
check_eq "$RC" 0 "validate exits 0 on invalid arguments too (the answer says)"
check_jq '. == {"status":422,"content_type":"application/json","json":{"demo_int":["Missing data for required field."]}}' \
	"... a missing required argument: 422 {field: [message]} as webargs says it"
worker validate "$M/deepaas_style_model" --kind predict --args "$(args_file v2 '{"args":{"demo_int":"x","demo_float":"2","demo_choice":"choice3","name":"toolong","demo_list":["1","b"]}}')"
check_jq '.status == 422 and .json.demo_int == ["Not a valid integer."]' "... a wrong type: 422"
check_jq '.json.demo_float[0] | test("greater than or equal to 0")' "... out of Range: 422"
check_jq '.json.demo_choice[0] | test("Must be one of: choice1, choice2")' "... not OneOf: 422"
check_jq '.json.name[0] | test("Length must be between 1 and 5")' "... Length: 422"
check_jq '.json.demo_list["1"] == ["Not a valid integer."]' "... a bad list item: 422 by index"
worker validate "$M/deepaas_style_model" --kind predict --args "$(args_file v3 '{"args":{"demo_int":"7","demo_list":["3","4"],"demo_bool":"false","demo_str":["first","second"],"unknown":"x"}}')"
check_jq '.status == 200 and .json.demo_int == 7 and .json.demo_list == [3,4] and .json.demo_bool == false' "valid strings are converted (int, list of int, bool)"
check_jq '.json.demo_float == 0.5 and .json.demo_choice == "choice2" and .json.name == "abc" and .json.data == null and .json.accept == "application/json"' \
	"... defaults filled, accept's default the first choice"
check_jq '.json.demo_str == "first" and (.json | has("unknown") | not)' "... a repeated key gives its first value; unknown arguments are ignored"
worker validate "$M/deepaas_style_model" --kind predict --args "$(args_file v4 '{"demo_int":3,"demo_list":5,"demo_float":0.25}')"
check_jq '.status == 200 and .json.demo_int == 3 and .json.demo_list == [5] and .json.demo_float == 0.25' "a plain object of JSON values works too (a list field takes one value)"
worker validate "$M/deepaas_style_model" --kind predict --args "$(args_file v5 '{"args":{"demo_int":"1"},"accept":"text/html,image/png;q=0.9,*/*;q=0.1"}')"
check_jq '.json.accept == "image/png"' "a header-located accept is negotiated from the Accept header"
worker validate "$M/deepaas_style_model" --kind predict --args "$(args_file v6 '{"args":{"demo_int":"1"},"accept":"text/html"}')"
check_jq '.status == 422 and (.json.accept[0] | test("Must be one of"))' "... an Accept header matching no choice: 422 on accept"
worker validate "$M/deepaas_style_model" --kind train --args "$(args_file v7 '{"args":{}}')"
check_jq '.status == 200 and .json == {"epochs":1,"fail":false}' "validate --kind train: the training's defaults"
worker validate "$M/deepaas_style_model" --kind train --args "$(args_file v8 '{"args":{"epochs":"11"}}')"
check_jq '.status == 422 and (.json.epochs | length) == 1' "... out of range: 422"
worker validate "$M/exec_model" --kind predict --args "$(args_file v9 '{"args":{"text":"","times":"9"}}')"
check_jq '.status == 422 and .json.text and .json.times' "exec runtime: the manifest's parameters are validated (minLength, maximum)"
worker validate "$M/exec_model" --kind predict --args "$(args_file v10 '{"args":{"text":"hi"}}')"
check_jq '.json == {"text":"hi","times":1,"mode":"echo","accept":"application/json"}' "... and their defaults filled"

# ---- serve: the line protocol ------------------------------------------------------
SOCK=$T/w.sock
# serve_start NAME DIR — run `serve` in the background (SERVE_PID); waits
# for `ready` on stdout.
serve_start() {
	SERVE_LOG=$T/serve.$1.err
	SERVE_OUT=$T/serve.$1.out
	env -i PATH=/usr/bin:/bin HOME="$T" PYTHONDONTWRITEBYTECODE=1 "$W" serve "$2" --socket "$SOCK" \
		>"$SERVE_OUT" 2>"$SERVE_LOG" &
	SERVE_PID=$!
	local i
	for ((i = 0; i < 600; i++)); do
		grep -qx ready "$SERVE_OUT" 2>/dev/null && return 0
		kill -0 "$SERVE_PID" 2>/dev/null || break
		sleep 0.05
	done
	fail "kaon-model-worker serve $2 prints ready"
	sed 's/^/    /' "$SERVE_LOG" >&2
	return 1
}
serve_stop() {
	kill -TERM "$SERVE_PID" 2>/dev/null
	local i
	for ((i = 0; i < 100; i++)); do
		kill -0 "$SERVE_PID" 2>/dev/null || break
		sleep 0.05
	done
	kill -KILL "$SERVE_PID" 2>/dev/null && fail "the worker did not stop within 5 s of SIGTERM"
	wait "$SERVE_PID"
	SERVE_RC=$?
}
# ask — send stdin's request lines over one connection; ANSWERS holds the
# answer lines.
ask() {
	mapfile -t ANSWERS < <("$PY" "$CLIENT" "$SOCK" 2>"$T/client.err")
}
# answer N — BODY = the Nth answer (from 0).
answer() {
	BODY=${ANSWERS[$1]:-}
	LAST_REQ="request $1" STATUS=
}

# A stale socket from a worker that died is replaced.
"$PY" -c 'import socket, sys; s = socket.socket(socket.AF_UNIX); s.bind(sys.argv[1])' "$SOCK"
printf 'hello upload' >"$T/upload.txt"
serve_start deepaas "$M/deepaas_style_model" || finish
check_eq "$(stat -c '%a %u' "$SOCK")" "600 $(id -u)" "serve: the socket (a stale one replaced) is mode 0600, the worker's"
check_eq "$(cat "$SERVE_OUT")" ready "... stdout is exactly 'ready'"
UP='{"path":"'$T/upload.txt'","filename":"notes.txt","content_type":"text/plain"}'
ask <<EOF
{"op":"ping"}
{"op":"predict","args":{"demo_int":"5","demo_list":["7","8"]},"files":{"data":[$UP]},"accept":"*/*"}
{"op":"predict","args":{}}
this is not JSON
{"op":"predict","args":{"demo_int":"1","crash":"true"}}
{"op":"ping"}
{"op":"predict","args":{"demo_int":"42"},"accept":"text/plain"}
{"op":"predict","args":{"demo_int":"1"},"files":{"data":[$UP]},"accept":"image/png"}
{"op":"launch"}
[1,2]
{"op":"predict","args":{"demo_int":"1"},"files":{"data":"nope"}}
EOF
check_eq "${#ANSWERS[@]}" 11 "one answer line for each request line"
answer 0
check_jq '. == {"status":200}' "ping -> 200"
answer 1
check_jq '.status == 200 and .content_type == "application/json" and .json.status == "OK"' "predict -> 200, JSON wrapped as DEEPaaS does ({status: OK, predictions})"
check_jq '.json.predictions | .demo_int == 5 and .demo_list == [7,8] and .demo_float == 0.5 and .accept == "*/*"' "... the module got the parsed arguments"
check_jq '.json.predictions.data == {"name":"data","content_type":"text/plain","original_filename":"notes.txt","size":12}' \
	"... the file as an UploadedFile(name, filename=path, content_type, original_filename)"
check_jq --arg d "$M/deepaas_style_model" '.json.predictions.warmed and .json.predictions.cwd == $d' "... after warm(), in the model's folder"
answer 2
check_jq '. == {"status":422,"content_type":"application/json","json":{"demo_int":["Missing data for required field."]}}' "a missing argument -> 422 {field: [messages]}"
answer 3
check_jq '.status == 400 and (.message | length) > 0' "a line that is not JSON -> 400"
answer 4
check_jq '.status == 500 and .message == "RuntimeError: crashed on purpose"' "an exception inside predict -> 500 with its message"
check "... its traceback in the worker's log" grep -q 'raise RuntimeError("crashed on purpose")' "$SERVE_LOG"
answer 5
check_jq '. == {"status":200}' "... and the worker keeps serving"
answer 6
check_jq '.status == 200 and .content_type == "text/plain" and (.path | startswith("/"))' "accept text/plain: bytes -> a file, answered with its path"
P6=$(jq -r .path <<<"$BODY")
check_eq "$(cat "$P6" 2>/dev/null)" "demo_int=42" "... holding what predict returned"
answer 7
check_jq '.status == 200 and .content_type == "image/png"' "an open binary file for image/png -> a file"
P7=$(jq -r .path <<<"$BODY")
check "... a copy of what the module opened" cmp -s "$P7" "$T/upload.txt"
answer 8
check_jq '.status == 400 and (.message | test("unknown op"))' "an unknown op -> 400"
answer 9
check_jq '.status == 400' "a line that is not an object -> 400"
answer 10
check_jq '.status == 400 and (.message | test("files"))' "a malformed file -> 400"
check "what the module prints goes to the log, not the protocol" grep -q "predict printed this" "$SERVE_LOG"
ask <<<'{"op":"ping"}'
answer 0
check_jq '. == {"status":200}' "a second connection after the first closed is served"
serve_stop
check_eq "$SERVE_RC" 0 "SIGTERM: exit 0"
check "... the socket is removed" test ! -e "$SOCK"
check "... and its temp files" test ! -e "$P6"

serve_start class "$M/class_model" || finish
ask <<'EOF'
{"op":"predict","args":{"mode":"good"}}
{"op":"predict","args":{"mode":"bad"}}
{"op":"predict","args":{"mode":"unimplemented"}}
{"op":"predict","args":{"mode":"other"}}
EOF
answer 0
check_jq '. == {"status":200,"content_type":"application/json","json":{"label":"x","score":0.25}}' "a module with a response schema: its answer as is, unwrapped"
answer 1
check_jq '. == {"status":500,"message":"ERROR validating model response, check server logs."}' "... an answer failing its schema -> 500 as DEEPaaS says it"
check "... the reason in the log" grep -q "fails the module's schema" "$SERVE_LOG"
answer 2
check_jq '.status == 501 and (.message | test("does not implement"))' "NotImplementedError -> 501"
answer 3
check_jq '.status == 422 and .json.mode' "not OneOf -> 422"
serve_stop

# ---- the exec runtime ---------------------------------------------------------------
serve_start exec "$M/exec_model" || finish
ask <<EOF
{"op":"predict","args":{"text":"ab","times":"2"},"files":{"upload":[$UP]}}
{"op":"predict","args":{"times":"2"}}
{"op":"predict","args":{"text":"xy","times":"3","accept":"text/plain"}}
{"op":"predict","args":{"text":"xy","accept":"text/plain","mode":"outside"}}
{"op":"predict","args":{"text":"bye","mode":"exit"}}
{"op":"predict","args":{"text":"again"}}
EOF
answer 0
check_jq '.status == 200 and .json.predictions.echo == "abab"' "exec runtime: a request goes to the program, its answer comes back"
check_jq --arg p "$T/upload.txt" '.json.predictions.upload == {"name":"upload","filename":$p,"content_type":"text/plain","original_filename":"notes.txt"}' \
	"... a file argument as an object (the UploadedFile's fields)"
PID0=$(jq -r .json.predictions.pid <<<"$BODY")
answer 1
check_jq '.status == 422 and .json.text == ["Missing data for required field."]' "... bad arguments -> 422 from the worker, the program never sees them"
answer 2
check_jq '.status == 200 and .content_type == "text/plain"' "... a binary answer: a path in the worker's temp folder"
check_eq "$(cat "$(jq -r .path <<<"$BODY")" 2>/dev/null)" "xyxyxy" "... with the program's content"
answer 3
check_jq '.status == 500 and (.message | test("KAON_WORKER_TMPDIR"))' "... a path outside \$KAON_WORKER_TMPDIR -> 500"
answer 4
check_jq '.status == 500 and (.message | test("ended"))' "the program dying -> 500"
answer 5
check_jq --arg p "$PID0" '.status == 200 and .json.predictions.echo == "again" and (.json.predictions.pid | tostring) != $p' "... and it is started again for the next request"
serve_stop
check_eq "$SERVE_RC" 0 "... SIGTERM: exit 0"

# ---- train --------------------------------------------------------------------------
# train_run NAME DIR ARGS_JSON — run a training in a fresh output folder
# ($OUTD); RESULT is its result.json.
train_run() {
	OUTD=$T/train.$1
	mkdir -p "$OUTD"
	worker train "$2" --args "$(args_file "t.$1" "$3")" --out "$OUTD"
	RESULT=$(cat "$OUTD/result.json" 2>/dev/null)
	BODY=$RESULT
}
train_run ok "$M/deepaas_style_model" '{"args":{"epochs":"3"}}'
check_eq "$RC" 0 "train: exit 0"
check_jq --arg d "$T/train.ok" '. == {"status":"done","output":{"epochs":3,"cwd":$d,"warmed":true}}' \
	"... result.json done with train()'s value; run in the output folder after warm()"
check_eq "$(cat "$OUTD/trained.txt" 2>/dev/null)" "epochs=3" "... what it wrote is in the output folder"
check_eq "$(find "$OUTD" -name '.result.*' | wc -l)" 0 "... no temp file left"
train_run fail "$M/deepaas_style_model" '{"args":{"fail":"true"}}'
check_eq "$RC" 1 "train raising: exit 1"
check_jq '. == {"status":"error","message":"ValueError: training failed on purpose"}' "... result.json error with the message"
train_run bad "$M/deepaas_style_model" '{"args":{"epochs":"zero"}}'
check_eq "$RC" 2 "bad training arguments: exit 2"
check_jq '.status == "error" and .errors.epochs == ["Not a valid integer."]' "... result.json error with {field: [messages]}"
train_run none "$M/class_model" '{}'
check_eq "$RC" 1 "a model without train: exit 1"
check_jq '.status == "error" and (.message | test("Not implemented"))' "... result.json says it is not implemented"
train_run exec "$M/exec_model" '{"steps":"5"}'
check_eq "$RC" 0 "exec runtime: train exits 0"
check_jq --arg d "$T/train.exec" '.status == "done" and .output.steps == 5 and .output.cwd == $d' "... the program trained in the output folder"
check_eq "$(cat "$OUTD/steps.txt" 2>/dev/null)" 5 "... and wrote there"

# ---- the shipped models ---------------------------------------------------------------
# PNG pictures of digits of the data set (dark ink on white, 64x64) with
# their labels: the first of each class not used for training.
DIG=$T/digits
mkdir -p "$DIG"
if [ "$HAVE_SKLEARN" = 1 ]; then
	"$PY" - "$DIG" <<'EOF'
import sys
import numpy as np
from PIL import Image
from sklearn import datasets
d = datasets.load_digits()
seen = set()
for i in range(len(d.images) - 1, 0, -1):
    label = int(d.target[i])
    if label in seen:
        continue
    seen.add(label)
    grey = (255 - d.images[i] * 255 / 16).astype(np.uint8)
    Image.fromarray(grey).resize((64, 64), Image.NEAREST).save("%s/%d.png" % (sys.argv[1], label))
    if label == 3:
        with open("%s/pixels.json" % sys.argv[1], "w") as f:
            f.write(str([float(v) for v in d.data[i]]))
EOF
fi
# predict_digits MODEL — every digit picture, the pixels, and refusals.
predict_digits() {
	local model=$1 n
	{
		for n in 0 1 2 3 4 5 6 7 8 9; do
			printf '{"op":"predict","args":{},"files":{"image":[{"path":"%s/%d.png","filename":"%d.png","content_type":"image/png"}]}}\n' "$DIG" "$n" "$n"
		done
		printf '{"op":"predict","args":{"pixels":%s}}\n' "$(cat "$DIG/pixels.json")"
		printf '{"op":"predict","args":{}}\n'
		printf '{"op":"predict","args":{},"files":{"image":[{"path":"%s","filename":"notes.txt","content_type":"text/plain"}]}}\n' "$T/upload.txt"
		printf '{"op":"predict","args":{"pixels":["1","2"]}}\n'
	} >"$T/digits.requests"
	ask <"$T/digits.requests"
	local right=0
	for n in 0 1 2 3 4 5 6 7 8 9; do
		[ "$(jq -r '.json.predictions.label' <<<"${ANSWERS[$n]:-}")" = "$n" ] && right=$((right + 1))
	done
	check_eq "$right" 10 "$model: a PNG of each digit of the data set -> the right label"
	answer 3
	check_jq '.json.predictions | (.probabilities | length) == 10 and .probability > 0.5 and .probabilities["3"] == .probability' "$model: ... with the probability of each class"
	answer 10
	check_jq '.status == 200 and .json.predictions.label == 3' "$model: 64 pixel values -> the right label"
	answer 11
	check_jq '.status == 400 and (.message | test("either an image"))' "$model: neither image nor pixels -> 400"
	answer 12
	check_jq '.status == 415 and (.message | test("notes.txt"))' "$model: a file that is not an image -> 415"
	answer 13
	check_jq '.status == 422 and .json.pixels' "$model: not 64 pixels -> 422"
}

if [ "$HAVE_SKLEARN" = 1 ]; then
	serve_start digits "$M/digits" && {
		check "digits: without weights it fits itself at start" grep -q "digits: weights: fitted at start" "$SERVE_LOG"
		predict_digits digits
		serve_stop
	}
	train_run digits "$M/digits" '{"args":{"C":"5","gamma":"0.001","test_size":"0.3"}}'
	check_eq "$RC" 0 "digits: train exits 0"
	check_jq '.status == "done" and .output.accuracy > 0.9 and .output.weights == "digits-svc.joblib" and .output.C == 5' "digits: ... accuracy above 0.9"
	check "digits: ... the weights are saved in the output folder" test -s "$OUTD/digits-svc.joblib"
	# A version that ships those weights starts from them.
	cp -r "$M/digits" "$M/digits-v2"
	cp "$OUTD/digits-svc.joblib" "$M/digits-v2/"
	serve_start digits-v2 "$M/digits-v2" && {
		check "digits-v2: a version shipping the trained weights starts from them" grep -q "digits: weights: digits-svc.joblib" "$SERVE_LOG"
		predict_digits digits-v2
		serve_stop
	}
	train_run digits-bad "$M/digits" '{"args":{"test_size":"2"}}'
	check_eq "$RC" 2 "digits: test_size 2 -> exit 2"
	check_jq '.errors.test_size' "digits: ... naming test_size"
fi
if [ "$HAVE_TORCH" = 1 ]; then
	serve_start torch "$M/digits-torch" && {
		check "digits-torch: without weights it trains at start" grep -q "digits-torch: weights: trained at start" "$SERVE_LOG"
		predict_digits digits-torch
		serve_stop
	}
	train_run torch "$M/digits-torch" '{"args":{"epochs":"4","lr":"0.01","batch_size":"32"}}'
	check_eq "$RC" 0 "digits-torch: train exits 0"
	check_jq '.status == "done" and .output.epochs == 4 and .output.accuracy > 0.9 and .output.loss < 0.5 and .output.weights == "digits-torch.pt"' \
		"digits-torch: ... final loss and accuracy"
	check "digits-torch: ... the weights are saved in the output folder" test -s "$OUTD/digits-torch.pt"
	check "digits-torch: ... the log has the loss of each epoch" grep -q "epoch 4/4 loss" "$T/w.err"
	cp -r "$M/digits-torch" "$M/digits-torch-v2"
	cp "$OUTD/digits-torch.pt" "$M/digits-torch-v2/"
	serve_start torch-v2 "$M/digits-torch-v2" && {
		check "digits-torch-v2: a version shipping the trained weights starts from them" grep -q "digits-torch: weights: digits-torch.pt" "$SERVE_LOG"
		predict_digits digits-torch-v2
		serve_stop
	}
fi

finish
