#!/usr/bin/env bash
# modelpool_test — the warm predict pool (server/modelpool.c) through
# POST /api/v1/models/NAME/predict, with a fake worker program
# (model_worker_fake.py, via [models] worker_program) and a model row
# written straight into the store: a cold start runs a job of kind
# 'worker' as the model's owner in the model's folder; concurrent
# predictions spread over two workers and never more than workers.max; a
# full queue answers 429 with Retry-After; a worker killed mid-request
# gives 502 and a new one serves; a timeout gives 504 and the worker is
# replaced; a client that leaves abandons its work; a binary answer comes
# from the worker's file, which is removed; idle workers shrink to
# workers.min; a restarted daemon adopts the running workers; a GPU
# model's worker waits in the queue while the GPUs are taken and then
# sees exactly the GPU the scheduler gave its job.
. "$(dirname "$0")/lib.sh"

PY=/usr/bin/python3
[ -x "$PY" ] || { fail "$PY is missing (apt-get install -y python3)"; finish; }

# sql STATEMENT — against the daemon's store (WAL: fine while it runs).
sql() {
	"$PY" -c 'import sqlite3, sys
db = sqlite3.connect(sys.argv[1], timeout=10)
for row in db.execute(sys.argv[2]):
    print("|".join(str(c) for c in row))
db.commit()' "$DATA/kaon.db" "$1"
}

# The worker program and the model's folder must be reachable by the
# model's owner (its own Unix account when the daemon runs as root).
cp "$ROOT/tests/e2e/model_worker_fake.py" "$T/fake-worker"
chmod 0755 "$T/fake-worker"
MODEL_DIR=$T/models/fake/1.0.0
mkdir -p "$MODEL_DIR"
chmod -R 0755 "$T/models"
MANIFEST='{"name":"fake","version":"1.0.0","title":"Fake","runtime":{"type":"exec","command":["./serve"]},
 "resources":{"predict":{"cpus":1,"mem_mb":64,"gpus":0}},"workers":{"min":0,"max":2,"idle_s":4}}'
printf '%s\n' "$MANIFEST" >"$MODEL_DIR/kaon-model.json"

cat >"$T/kaon.ini" <<INI
[server]
threads = 32
[node]
oversubscribe = 16
fake_gpus = 2
[models]
worker_program = $T/fake-worker
predict_timeout_s = 8
worker_start_timeout_s = 20
INI

start_server --config "$T/kaon.ini" || { fail "server starts"; finish; }
ADMIN=$(admin_token) || { fail "admin token"; finish; }
ALICE=alice$RUN_ID
use_token "$ADMIN"
api POST /api/v1/users "{\"username\":\"$ALICE\",\"password\":\"$ALICE-password\",\"groups\":[\"researchers\"]}"
check_status 201 "create $ALICE"
BOB=bob$RUN_ID
api POST /api/v1/users "{\"username\":\"$BOB\",\"password\":\"$BOB-password\",\"groups\":[\"researchers\"]}"
check_status 201 "create $BOB"
BOB_TOKEN=$(new_token "$BOB" "$BOB-password") || fail "token for $BOB"

# The model, as registration would leave it, written while the daemon is
# down; alice owns it, so its workers run as alice.
stop_server
ALICE_ID=$(sql "SELECT id FROM users WHERE username = '$ALICE'")
sql "INSERT INTO models (name, version, title, summary, keywords, manifest, describe, dir, owner_id,
	owner, created_at, updated_at) VALUES ('fake', '1.0.0', 'Fake', '', '[]',
	'$(jq -c . <<<"$MANIFEST")', '{}', '$MODEL_DIR', $ALICE_ID, '$ALICE', strftime('%s','now'),
	strftime('%s','now'))"
sql "INSERT INTO models (name, version, title, manifest, describe, dir, owner_id, owner,
	predict_enabled, created_at, updated_at) VALUES ('off', '1', 'Off', '{}', '{}', '$MODEL_DIR',
	$ALICE_ID, '$ALICE', 0, 0, 0)"
GPU_MANIFEST='{"name":"gpu","version":"1","title":"GPU","runtime":{"type":"exec","command":["./serve"]},
 "resources":{"predict":{"cpus":1,"mem_mb":64,"gpus":1}},"workers":{"min":0,"max":1,"idle_s":60}}'
sql "INSERT INTO models (name, version, title, manifest, describe, dir, owner_id, owner,
	created_at, updated_at) VALUES ('gpu', '1', 'GPU', '$(jq -c . <<<"$GPU_MANIFEST")', '{}',
	'$MODEL_DIR', $ALICE_ID, '$ALICE', 0, 0)"
start_server --config "$T/kaon.ini" || { fail "server restarts"; finish; }

predict() { # predict MODEL JSON [CURL_ARGS...]
	local m=$1 j=$2
	shift 2
	api POST "/api/v1/models/$m/predict" "$j" "$@"
}
workers() { sql "SELECT count(*) FROM jobs WHERE kind = 'worker' AND state IN ('pending','running')"; }
running_workers() { sql "SELECT id FROM jobs WHERE kind = 'worker' AND state = 'running' ORDER BY id"; }

# ---- refusals before any worker ------------------------------------------------
use_token "$BOB_TOKEN"
predict nosuch '{"args":{}}'
check_error 404 not_found "an unknown model is 404"
predict off '{"args":{}}'
check_error 402 disabled "a model with predict disabled is 402"
predict fake '{"args":[]}'
check_error 422 invalid "args must be an object"
use_nobody
predict fake '{"args":{}}'
check_status 401 "anonymous predict is refused"
use_token "$BOB_TOKEN"

# ---- a cold start ----------------------------------------------------------------
check_eq "$(workers)" 0 "no worker before the first prediction"
predict fake '{"args":{"x":1,"s":"h\u00e9"}}'
check_status 200 "the first prediction is answered (cold start)"
check_header Content-Type '^application/json' "a JSON answer is application/json"
check_jq '.status == "OK" and .predictions.args == {"x":1,"s":"hé"}' "the arguments reach the worker"
check_jq --arg d "$MODEL_DIR" '.predictions.cwd == $d' "the worker runs in the model's folder"
FIRST_PID=$(jq -r .predictions.pid <<<"$BODY")
FIRST_JOB=$(jq -r .predictions.job <<<"$BODY")
check_eq "$(sql "SELECT kind || ' ' || user_id || ' ' || cpus || ' ' || mem_mb FROM jobs WHERE id = $FIRST_JOB")" \
	"worker $ALICE_ID 1 64" "the worker is a job of kind worker, owned by the model's owner, with its predict resources"
predict fake '{"args":{"x":2}}'
check_jq --arg p "$FIRST_PID" '.predictions.pid == ($p | tonumber)' "the next prediction reuses the warm worker"
check_eq "$(workers)" 1 "one worker for sequential predictions"

# ---- concurrency: two workers at most ----------------------------------------------
CURLS=()
for i in 1 2 3 4; do
	curl "${CURL_OPTS[@]}" "${AUTH[@]}" -H 'Content-Type: application/json' \
		--data-binary '{"args":{"sleep":1}}' "$URL/api/v1/models/fake/predict" >"$T/conc.$i" &
	CURLS+=($!)
done
wait "${CURLS[@]}" # not a bare wait: the daemon is a child too
PIDS=$(cat "$T"/conc.* | jq -r .predictions.pid | sort -u | wc -l)
check_eq "$(cat "$T"/conc.* | jq -r .status | sort | uniq -c | awk '{print $1 $2}')" "4OK" \
	"four concurrent predictions are answered"
check_eq "$PIDS" 2 "concurrent predictions spread over two workers"
check_eq "$(workers)" 2 "the pool grew to workers.max and no further"

# ---- a full queue: 429 with Retry-After -----------------------------------------------
# 2 workers busy + 8 waiting fill it; more are refused at once. The
# workers hold every request until the gate file appears, so nothing
# leaves the pool while the 13 arrive, however slowly they come: exactly
# 3 are refused, and only then is the gate opened.
GATE=$T/gate
rm -f "$GATE"
CURLS=()
for i in $(seq 1 13); do
	curl "${CURL_OPTS[@]}" "${AUTH[@]}" -H 'Content-Type: application/json' -D "$T/full.$i.h" \
		-o "$T/full.$i.b" -w '%{http_code}' --data-binary "{\"args\":{\"gate\":\"$GATE\"}}" \
		"$URL/api/v1/models/fake/predict" >"$T/full.$i.s" &
	CURLS+=($!)
done
for i in $(seq 1 60); do
	[ "$(cat "$T"/full.*.s 2>/dev/null | grep -c .)" -ge 3 ] && break
	sleep 0.1
done
# Waiting predictions hold no http thread: other requests are answered
# meanwhile (each thread serves many connections; one blocked on a model
# would stall those that land on it).
OTHERS=()
for i in $(seq 1 20); do
	curl --silent --max-time 3 -o /dev/null -w '%{http_code}\n' "${AUTH[@]}" \
		"$URL/api/v1/models" >"$T/other.$i" &
	OTHERS+=($!)
done
wait "${OTHERS[@]}"
check_eq "$(cat "$T"/other.* | sort | uniq -c | awk '{print $1 "x" $2}')" "20x200" \
	"while 10 predictions wait, 20 other requests are answered at once"
touch "$GATE"
wait "${CURLS[@]}"
N429=$(grep -l '^429$' "$T"/full.*.s | wc -l)
N200=$(grep -l '^200$' "$T"/full.*.s | wc -l)
check "13 at once: 10 are served (2 workers, 8 queued), 3 get 429 ($N200 served, $N429 refused)" \
	test "$N429" = 3 -a "$N200" = 10
F=$(grep -l '^429$' "$T"/full.*.s | head -n 1)
F=${F%.s}
check "a 429 carries Retry-After" grep -qiE '^retry-after: [0-9]+' "$F.h"
check "a 429 is a too_many_requests error" jq -e '.error.code == "too_many_requests"' "$F.b" >/dev/null

# ---- a GPU model's worker is placed by the scheduler like any job ---------------------
# Both GPUs taken by bob's job: the worker waits in the queue for one.
api POST /api/v1/jobs '{"command":["sleep","120"],"resources":{"cpus":1,"mem_mb":64,"gpus":2,"walltime_s":300}}'
check_status 201 "bob takes both GPUs with a job"
HOG=$(jq -r .id <<<"$BODY")
for ((i = 0; i < 50; i++)); do
	[ "$(sql "SELECT state FROM jobs WHERE id = $HOG")" = running ] && break
	sleep 0.1
done
curl "${CURL_OPTS[@]}" "${AUTH[@]}" --max-time 2 -H 'Content-Type: application/json' \
	--data-binary '{"args":{}}' "$URL/api/v1/models/gpu/predict" >/dev/null 2>&1
GPU_WORKER=$(sql "SELECT id FROM jobs WHERE kind = 'worker' AND name = 'gpu' ORDER BY id DESC LIMIT 1")
check_eq "$(sql "SELECT state || ' ' || gpus || ' ' || reason FROM jobs WHERE id = $GPU_WORKER")" \
	"pending 1 resources" "while the GPUs are taken, the GPU model's worker job waits for one (reason resources)"
api POST "/api/v1/jobs/$HOG/cancel"
check_status 200 "bob's job ends"
predict gpu '{"args":{}}'
check_status 200 "then the prediction is served"
check_jq --arg j "$GPU_WORKER" '.predictions.job == $j and (.predictions.gpus | test("^[01]$"))' \
	"... by that worker, which sees exactly one GPU in CUDA_VISIBLE_DEVICES"
check_eq "$(sql "SELECT alloc_gpus FROM jobs WHERE id = $GPU_WORKER")" "$(jq -r .predictions.gpus <<<"$BODY")" \
	"... the GPU the scheduler gave its job"
use_token "$ADMIN"
api POST "/api/v1/jobs/$GPU_WORKER/cancel"
check_status 200 "an admin cancels the GPU worker (the pool forgets it)"
for ((i = 0; i < 50; i++)); do
	[ "$(sql "SELECT state FROM jobs WHERE id = $GPU_WORKER")" = cancelled ] && break
	sleep 0.1
done
use_token "$BOB_TOKEN"

# ---- a worker dies mid-request: 502, then a new one serves -------------------------
BEFORE=" $(running_workers | tr '\n' ' ')"
predict fake '{"args":{"crash":true}}'
check_error 502 worker_failed "a worker that dies mid-request gives 502"
check_jq '.error.message | test("worker job [0-9]+")' "the 502 names the worker job"
# Two at once need two workers: the one left and a new one.
CURLS=()
for i in 1 2; do
	curl "${CURL_OPTS[@]}" "${AUTH[@]}" -H 'Content-Type: application/json' \
		--data-binary '{"args":{"sleep":0.5}}' "$URL/api/v1/models/fake/predict" >"$T/after.$i" &
	CURLS+=($!)
done
wait "${CURLS[@]}"
check_eq "$(cat "$T"/after.* | jq -r .status | tr '\n' ' ')" "OK OK " "after the crash, predictions are served again"
NEW=0
for j in $(cat "$T"/after.* | jq -r .predictions.job); do
	[[ $BEFORE == *" $j "* ]] || NEW=$j
done
check_ne "$NEW" 0 "a new worker replaces the dead one"
check_eq "$(workers)" 2 "two workers again"

# ---- a timeout: 504, the worker recycled -------------------------------------------------
predict fake '{"args":{"sleep":10}}'
check_error 504 timeout "a prediction over predict_timeout_s gives 504"
TIMED_OUT=$(sql "SELECT count(*) FROM jobs WHERE kind = 'worker' AND state = 'cancelled'")
check_ne "$TIMED_OUT" 0 "the worker that timed out is cancelled"
predict fake '{"args":{"x":4}}'
check_status 200 "after a timeout, predictions are served"

# ---- a client that goes away: its worker is recycled ------------------------------------
CANCELLED=$(sql "SELECT count(*) FROM jobs WHERE kind = 'worker' AND state = 'cancelled'")
curl "${CURL_OPTS[@]}" "${AUTH[@]}" --max-time 1 -H 'Content-Type: application/json' \
	--data-binary '{"args":{"sleep":3}}' "$URL/api/v1/models/fake/predict" >/dev/null 2>&1
for i in $(seq 1 30); do
	[ "$(sql "SELECT count(*) FROM jobs WHERE kind = 'worker' AND state = 'cancelled'")" -gt "$CANCELLED" ] && break
	sleep 0.1
done
check "a client that leaves abandons its prediction (worker cancelled at once)" \
	test "$(sql "SELECT count(*) FROM jobs WHERE kind = 'worker' AND state = 'cancelled'")" -gt "$CANCELLED"
check "the log says the client went away" grep -q "its client went away" "$SERVER_LOG"

# ---- binary answers ------------------------------------------------------------------------
: >"$HDRS"
curl "${CURL_OPTS[@]}" "${AUTH[@]}" -D "$HDRS" -o "$T/answer.png" -H 'Content-Type: application/json' \
	--data-binary '{"args":{"size":5000},"accept":"image/png"}' "$URL/api/v1/models/fake/predict"
check_header Content-Type '^image/png$' "a binary answer has the worker's content type"
check_eq "$(stat -c %s "$T/answer.png")" 5000 "a binary answer is the worker's file"
check_eq "$(head -c 4 "$T/answer.png" | od -An -c | tr -d ' ')" '211PNG' "... byte for byte"
check_eq "$(find /tmp -maxdepth 2 -path '/tmp/fake-worker-*' -name '*.png' 2>/dev/null | wc -l)" 0 \
	"the worker's answer file is removed"
predict fake '{"args":{"status":415}}'
check_error 415 unsupported_media_type "the worker's own refusal passes with its status"

# ---- restart: running workers are adopted ------------------------------------------------
predict fake '{"args":{}}'
ADOPT_PID=$(jq -r .predictions.pid <<<"$BODY")
ADOPT_JOB=$(jq -r .predictions.job <<<"$BODY")
LIVE_BEFORE=$(workers)
restart_server --config "$T/kaon.ini" || { fail "server restarts"; finish; }
check "the restarted daemon adopts worker job $ADOPT_JOB" grep -q "adopted worker job $ADOPT_JOB" "$SERVER_LOG"
use_token "$BOB_TOKEN"
predict fake '{"args":{}}'
check_status 200 "a prediction after the restart"
check_jq --arg j "$ADOPT_JOB" '.predictions.job == $j' "... is served by an adopted worker, still warm"
check_eq "$(workers)" "$LIVE_BEFORE" "no new worker was started for it"

# ---- idle shrink ---------------------------------------------------------------------------
for i in $(seq 1 100); do
	[ "$(workers)" = 0 ] && break
	sleep 0.1
done
check_eq "$(workers)" 0 "idle workers are cancelled after workers.idle_s (min 0)"
check "the log says they were idle" grep -q "cancelled (idle)" "$SERVER_LOG"

cancel_live_jobs
stop_server
finish
