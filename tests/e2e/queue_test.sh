#!/usr/bin/env bash
# queue_test — a queue that explains itself, and reservations enforced by
# the scheduler, on a node with 4 fake GPUs:
#  - a pending job says why in words (how many GPUs it waits for, how many
#    are free, which running job frees them and when), its rank among the
#    jobs that compete with it, its estimated start (the blocking job's
#    wall time), and what-if hints; `kaon why` and `kaon queue` say the same;
#  - a reservation's GPUs go to its owner's job automatically, another
#    user's job that would overlap it waits and is told whose reservation
#    holds the GPUs, a short job still runs beside it;
#  - a job may ask for a reservation; asking for one it cannot use is 422;
#  - an unused reservation is released after [sched] reservation_release_s
#    and its owner notified.
. "$(dirname "$0")/lib.sh"

cat >"$T/kaon.ini" <<'EOF'
[node]
fake_gpus = 4
oversubscribe = 4
[sched]
grace_s = 1
reservation_release_s = 4
EOF
start_server --config "$T/kaon.ini" || { fail "server starts"; finish; }
ADMIN=$(admin_token) || { fail "admin token"; finish; }
ALICE=qalice$RUN_ID BOB=qbob$RUN_ID
use_token "$ADMIN"
for u in "$ALICE" "$BOB"; do
	api POST /api/v1/users "{\"username\":\"$u\",\"password\":\"queue-password\",\"groups\":[\"researchers\"]}"
	check_status 201 "create $u"
done
A_TOKEN=$(new_token "$ALICE" queue-password) || fail "token for $ALICE"
B_TOKEN=$(new_token "$BOB" queue-password) || fail "token for $BOB"
job() { # job GPUS WALLTIME [EXTRA JSON]
	printf '{"command":["sleep","300"],"resources":{"gpus":%s,"cpus":1,"mem_mb":64,"walltime_s":%s}%s}' \
		"$1" "$2" "${3:-}"
}
epoch() { date -u -d "$1" +%s; }

# ---- why a job waits --------------------------------------------------------
use_token "$A_TOKEN"
submit "$(job 3 600)" || fail "alice submits a 3-GPU job"
A=$JOB
check_job_ends "$A" running "alice's 3-GPU job runs"
A_START=$(jq -r .start_time <<<"$BODY")

use_token "$B_TOKEN"
submit "$(job 2 3600)" || fail "bob submits a 2-GPU job"
B=$JOB
submit "$(job 2 3600)" || fail "bob submits another 2-GPU job"
C=$JOB
job_until "$B" '.reason == "resources" and .queue_position != null' 10
check_jq '.state == "pending" and .reason == "resources"' "bob's first job waits for resources"
check_jq '.reason_text | startswith("waiting for 2 GPUs (1 free); 3 frees at ")' \
	"... in words: how many GPUs it needs and how many are free"
check_jq --arg a "$A" '.reason_text | endswith("when job \($a) reaches its wall time")' \
	"... and which running job frees them"
check_jq --argjson a "$A" '.waiting_for.job == $a' "... waiting_for names that job"
check_jq '.queue_position == 1' "... it is first in the queue"
check_eq "$(epoch "$(jq -r .estimated_start <<<"$BODY")")" "$(($(epoch "$A_START") + 600))" \
	"... estimated to start when alice's job reaches its wall time"
check_jq '.hints | index("with 1 GPU instead of 2 it would start now") != null' \
	"... hint: with 1 GPU it would start now"
check_schema Job . "... answered as a Job"
job_until "$C" '.queue_position == 2' 10
check_jq '.queue_position == 2' "bob's second job is second"
check_jq --argjson a "$(($(epoch "$A_START") + 600))" \
	'(.estimated_start | fromdateiso8601) == $a' "... and starts then too (4 GPUs free: 2 + 2)"

export KAON_URL=$URL
KAON_TOKEN=$B_TOKEN kcli why "$B"
grep -q "is pending: waiting for 2 GPUs (1 free); 3 frees at" <<<"$OUT" &&
	pass "kaon why: the reason in words" || fail "kaon why: the reason in words: $OUT"
grep -q "^Position: 1 among" <<<"$OUT" && pass "kaon why: the position" || fail "kaon why: position: $OUT"
grep -q "^Expected to start: " <<<"$OUT" && ! grep -q "unknown" <<<"$OUT" &&
	pass "kaon why: the expected start" || fail "kaon why: expected start: $OUT"
grep -q "^Hint: with 1 GPU instead of 2 it would start now." <<<"$OUT" &&
	pass "kaon why: the hint" || fail "kaon why: hint: $OUT"
KAON_TOKEN=$B_TOKEN kcli queue
grep -qE "^$C +[^ ]+ +$BOB +pending +2 " <<<"$OUT" && pass "kaon queue shows positions" ||
	fail "kaon queue shows positions: $OUT"

# A group limit says which limit.
use_token "$ADMIN"
api PATCH "/api/v1/groups/researchers" '{"max_gpus":3}'
check_status 200 "admin sets the researchers' GPU limit to 3"
use_token "$B_TOKEN"
api POST "/api/v1/jobs/$C/hold"
submit "$(job 1 60)" || fail "bob submits a 1-GPU job"
D=$JOB
api POST "/api/v1/jobs/$B/hold"
job_until "$D" '.reason == "group_limit"' 10
check_jq '.reason_text | startswith("group researchers is at its 3-GPU limit (3 in use)")' \
	"a job over the group's limit says which limit"
use_token "$ADMIN"
api PATCH "/api/v1/groups/researchers" '{"max_gpus":8}'
cancel_live_jobs

# ---- reservations in the scheduler -----------------------------------------
use_token "$A_TOKEN"
api POST /api/v1/reservations "{\"gpus\":2,\"start\":$(date +%s),\"duration_s\":3600,\"note\":\"deadline\"}"
check_status 201 "alice books 2 GPUs from now for an hour"
R=$(jq -r .id <<<"$BODY")
R_GPUS=$(jq -c .gpu_indices <<<"$BODY")
R_END=$(jq -r .end <<<"$BODY")

use_token "$B_TOKEN"
submit "$(job 4 600)" || fail "bob submits a 4-GPU job"
E=$JOB
job_until "$E" '.queue_position != null' 10
check_jq '.state == "pending" and .reason == "resources"' "bob's 4-GPU job waits: 2 GPUs are alice's"
check_jq --argjson r "$R" '.waiting_for.reservation == $r' "... waiting_for names the reservation"
check_jq --arg u "$ALICE" '.reason_text | contains("GPUs are reserved for \($u)")' \
	"... and the words name its owner"
check_jq --arg e "$R_END" '.estimated_start == $e' "... it is expected when the reservation ends"
submit "$(job 2 60)" || fail "bob submits a short 2-GPU job"
F=$JOB
check_job_ends "$F" running "bob's 2-GPU job runs beside the reservation"
check_jq --argjson r "$R_GPUS" '(.allocated.gpus - $r) == .allocated.gpus' "... on GPUs outside it"
check_jq '.reservation == null' "... not inside it"

use_token "$A_TOKEN"
submit "$(job 2 600)" || fail "alice submits a 2-GPU job"
G=$JOB
check_job_ends "$G" running "alice's job runs"
check_jq --argjson r "$R" '.reservation == $r' "... inside her reservation, automatically"
check_jq --argjson r "$R_GPUS" '.allocated.gpus == $r' "... on its GPUs"
api GET "/api/v1/reservations/$R"
check_jq '.use.jobs == 1 and .use.first_used_at != null' "the reservation shows it is used"

# Asking for a reservation.
submit "$(job 1 7200 ",\"reservation\":$R")"
check_error 422 invalid "a job longer than what is left of the reservation -> 422"
submit "$(job 3 60 ",\"reservation\":$R")"
check_error 422 invalid "a job bigger than the reservation -> 422"
submit "$(job 1 60 ',"reservation":999999')"
check_error 422 invalid "an unknown reservation -> 422"
use_token "$B_TOKEN"
submit "$(job 1 60 ",\"reservation\":$R")"
check_error 422 invalid "someone else's reservation -> 422"
use_token "$A_TOKEN"
submit "$(job 1 60 ",\"reservation\":$R")" || fail "alice asks for her reservation"
H=$JOB
job_until "$H" '.state != "pending" or .reason != null' 10
check_jq --argjson r "$R" '.reservation == $r' "... the job names it"
check_jq '.state == "pending" and .reason == "resources"' \
	"... and waits: her other job holds the reservation's GPUs"
check_jq --arg g "$G" '.reason_text | startswith("waiting for 1 GPU (0 free); 2 frees at ") and endswith("when job \($g) reaches its wall time")' \
	"... in words, naming that job"
cancel_live_jobs

# ---- release of an unused reservation ---------------------------------------
use_token "$A_TOKEN"
api POST /api/v1/reservations "{\"gpus\":1,\"start\":$(date +%s),\"duration_s\":3600}"
check_status 201 "alice books 1 GPU she will not use"
R2=$(jq -r .id <<<"$BODY")
for ((i = 0; i < 150; i++)); do
	api GET "/api/v1/reservations/$R2"
	[ "$(jq -r .state <<<"$BODY")" = released ] && break
	sleep 0.1
done
check_jq '.state == "released" and (.release_reason | startswith("unused for"))' \
	"unused for [sched] reservation_release_s: released"
api GET "/api/v1/reservations/$R"
check_jq '.state == "approved"' "the used one is kept"
api GET /api/v1/notifications
check_jq --argjson r "$R2" \
	'[.notifications[] | select(.kind == "reservation_released" and .link == "/calendar?r=\($r)")] | length == 1' \
	"alice is notified of the release, with a link to it"
check_jq '.unread >= 1' "... unread"

cancel_live_jobs

# ---- a session's extension stops where a reservation begins -----------------
use_token "$ADMIN"
api POST /api/v1/profiles '{"name":"gpu-web","kind":"web","requires":"/usr/bin/python3",
	"command":["/usr/bin/python3","-m","http.server","--bind","127.0.0.1","{port}"],
	"resources":{"cpus":1,"mem_mb":256,"gpus":1},"lifetime_s":600,"max_lifetime_s":7200,"idle_timeout_s":0}'
check_status 201 "a 1-GPU web profile"
use_token "$A_TOKEN"
api POST /api/v1/sessions '{"profile":"gpu-web"}'
check_status 201 "alice starts a 1-GPU session"
S=$(jq -r .id <<<"$BODY")
check_job_ends "$S" running "... its job runs" 20
S_END=$(($(epoch "$(jq -r .start_time <<<"$BODY")") + 600))
check_jq --argjson r "$R" '.reservation == $r' "... inside her reservation (a session is a job)"
api POST "/api/v1/sessions/$S/extend" '{"seconds":6000}'
check_error 422 invalid "extending it past her reservation's end -> 422"
check_jq --argjson r "$R" '.error.message | contains("runs in reservation \($r)")' "... the message says why"
api POST "/api/v1/reservations/$R/cancel"
check_status 200 "alice cancels her reservation"
use_token "$B_TOKEN"
api POST /api/v1/reservations "{\"gpus\":4,\"start\":$((S_END + 300)),\"duration_s\":3600}"
check_status 201 "bob books every GPU from 5 min after the session's end"
R3=$(jq -r .id <<<"$BODY")
use_token "$A_TOKEN"
api POST "/api/v1/sessions/$S/extend" '{"seconds":3600}'
check_error 409 conflict "extending the session into bob's reservation -> 409"
check_jq --argjson r "$R3" '.error.message | contains("reservation \($r)") and contains("by 300 s at most")' \
	"... the message names the reservation and how far it can go"
api POST "/api/v1/sessions/$S/extend" '{"seconds":300}'
check_status 200 "extending it up to the reservation -> 200"
api POST "/api/v1/sessions/$S/stop"

cancel_live_jobs
finish
