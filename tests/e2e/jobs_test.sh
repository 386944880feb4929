#!/usr/bin/env bash
# jobs_test — jobs over the API: command and script jobs, their states, exit
# codes, environment and output; every 422 refusal of docs/api.md; arrays
# with a %N throttle; `after` dependencies; hold and release; cancel
# (pending, and running with a daemonized child); wall time; listing with
# pagination and who sees what. Two fake GPUs, grace_s = 1.
. "$(dirname "$0")/lib.sh"

printf '[node]\nfake_gpus = 2\n[sched]\ngrace_s = 1\n' >"$T/kaon.ini"
start_server --config "$T/kaon.ini" || { fail "server starts"; finish; }
ADMIN=$(admin_token) || { fail "admin token"; finish; }
ADMIN_TOKEN=$ADMIN
ALICE=alice$RUN_ID LIM=lim$RUN_ID
MARK=kaon-e2e-$RUN_ID

use_token "$ADMIN"
api GET /api/v1/nodes
NODE_CPUS=$(jq -r '.nodes[0].cpus' <<<"$BODY") NODE_MEM=$(jq -r '.nodes[0].mem_mb' <<<"$BODY")
check "the node has CPUs and memory" test "${NODE_CPUS:-0}" -ge 1 -a "${NODE_MEM:-0}" -ge 256
api GET /api/v1/me
ADMIN_HOME=$(jq -r .home <<<"$BODY")

# ---- a group with limits and job defaults, and a user in it ----------------------
api POST /api/v1/groups "{\"name\":\"$LIM\",\"max_cpus\":1,\"max_mem_mb\":512,\"max_gpus\":1,
	\"max_walltime_s\":60,\"default_mem_mb\":256,\"default_walltime_s\":30}"
check_status 201 "create group $LIM with limits and defaults"
check_schema Group . "... answered as a Group"
check_jq '.default_cpus == 1 and .default_mem_mb == 256 and .default_walltime_s == 30' \
	"... default_cpus defaults to 1, the others are as given"
api PATCH "/api/v1/groups/$LIM" '{"default_cpus":0}'
check_error 422 invalid "default_cpus 0 -> 422"
check_jq '.error.message | contains("default_cpus")' "... the message names default_cpus"
api GET /api/v1/groups/researchers
check_jq '.default_cpus == 1 and .default_mem_mb == 2048 and .default_walltime_s == 3600' \
	"built-in researchers: defaults 1 CPU, 2048 MiB, 3600 s"
api POST /api/v1/users "{\"username\":\"$ALICE\",\"password\":\"alice-password\",\"groups\":[\"$LIM\"]}"
check_status 201 "create $ALICE in $LIM"
ALICE_TOKEN=$(new_token "$ALICE" alice-password) || fail "token for $ALICE"

# ---- a command job: state, exit code, output -----------------------------------------
use_token "$ADMIN"
submit '{"name":"exit3","command":["sh","-c","echo out-$KAON_JOB_ID; echo err-$KAON_JOB_ID >&2; exit 3"]}'
check_status 201 "submit a command job -> 201"
check_schema Job . "... answered as a Job"
A=$JOB
check_jq '.name == "exit3" and .user == "admin" and .group == "researchers"
	and (.state == "pending" or .state == "running") and .script == false
	and .command == ["sh","-c","echo out-$KAON_JOB_ID; echo err-$KAON_JOB_ID >&2; exit 3"]
	and .after == [] and .hold == false and .array_id == null and .array_index == null
	and .exit_code == null and .end_time == null and (.submit_time | type == "string")' \
	"... pending or running, with its command and owner"
check_jq --arg h "$ADMIN_HOME" '.workdir == $h' "... workdir defaults to the owner's home"
check_jq --argjson m "$NODE_MEM" '.resources == {cpus: 1, mem_mb: ([2048, $m] | min), gpus: 0, walltime_s: 3600}' \
	"... resources from the group's defaults (memory at most the machine's)"
check_job_ends "$A" failed "it ends failed"
check_schema Job . "... still a Job"
check_jq '.exit_code == 3 and .signal == null and .reason == null
	and (.start_time | type == "string") and (.end_time | type == "string")' \
	"... with exit_code 3, no signal, start and end times"
check_jq '.allocated.cpus == 1 and .allocated.gpus == [] and (.allocated.node | type == "string")' \
	"... and its allocation: 1 CPU, no GPU, the node"
check_eq "$(job_log "$A")" "out-$A" "stdout has the job's output (KAON_JOB_ID expanded)"
check_eq "$(job_log "$A" stderr)" "err-$A" "stderr has its own"

submit '{"command":["true"]}'
B=$JOB
check_jq '.name == "true"' "a job without a name is named after its program"
check_job_ends "$B" completed "['true'] ends completed"
check_jq '.exit_code == 0 and .signal == null' "... with exit_code 0"

submit '{"command":["/nonexistent/prog'"$RUN_ID"'"]}'
check_status 201 "a job whose program does not exist is accepted"
check_job_ends "$JOB" failed "... and ends failed"

# ---- script jobs --------------------------------------------------------------------
submit '{"script":"echo script-$KAON_JOB_ID\necho bash=${BASH_VERSION:+yes}\npwd\nexit 0\n","workdir":"/tmp"}'
check_status 201 "submit a script without #! -> 201"
S1=$JOB
check_jq '.script == true and .command == null and .name == "script" and .workdir == "/tmp"' \
	"... script true, command null, named 'script', workdir as given"
check_job_ends "$S1" completed "... it completes"
check_eq "$(job_log "$S1")" "script-$S1
bash=yes
/tmp" "... ran under bash, in its workdir"
submit '{"script":"#!/bin/sh\necho sh-script\nexit 5\n"}'
check_job_ends "$JOB" failed "a #!/bin/sh script exiting 5 ends failed"
check_jq '.exit_code == 5' "... with exit_code 5"
check_eq "$(job_log "$JOB")" "sh-script" "... and its output"

# ---- what the job sees -------------------------------------------------------------------
submit '{"command":["sh","-c","echo \"id=$KAON_JOB_ID gpus=$KAON_GPUS cuda=$CUDA_VISIBLE_DEVICES foo=$FOO\""],
	"env":{"FOO":"bar baz"},"resources":{"gpus":1}}'
E1=$JOB
check_job_ends "$E1" completed "a 1-GPU job completes"
gpu=$(jq -r '.allocated.gpus | map(tostring) | join(",")' <<<"$BODY")
check "... it was given one GPU" test -n "$gpu" -a "${gpu//,/}" = "$gpu"
check_eq "$(job_log "$E1")" "id=$E1 gpus=$gpu cuda=$gpu foo=bar baz" \
	"... KAON_JOB_ID, KAON_GPUS and CUDA_VISIBLE_DEVICES are its own, env is passed"
submit '{"command":["sh","-c","echo \"gpus=[$KAON_GPUS] cuda=[${CUDA_VISIBLE_DEVICES-unset}] idx=[${KAON_ARRAY_INDEX-unset}]\""]}'
check_job_ends "$JOB" completed "a job without GPUs completes"
check_eq "$(job_log "$JOB")" "gpus=[] cuda=[] idx=[unset]" \
	"... sees KAON_GPUS and CUDA_VISIBLE_DEVICES set and empty, no KAON_ARRAY_INDEX"

# ---- log reads from an offset ------------------------------------------------------------------
submit '{"command":["printf","0123456789abcdef"]}'
L=$JOB
check_job_ends "$L" completed "a job printing 16 bytes completes"
api GET "/api/v1/jobs/$L/log"
check_status 200 "GET log -> 200"
check_header Content-Type '^text/plain' "... text/plain"
check_eq "$BODY" 0123456789abcdef "... the whole output"
check_header X-Log-Offset '^16$' "... X-Log-Offset 16"
check_header X-Job-State '^completed$' "... X-Job-State completed"
api GET "/api/v1/jobs/$L/log?offset=10"
check_eq "$BODY" abcdef "offset=10 -> the bytes after the tenth"
check_header X-Log-Offset '^16$' "... X-Log-Offset 16"
api GET "/api/v1/jobs/$L/log?offset=16"
check_eq "$STATUS:$BODY" "200:" "offset=16 (the end) -> 200, nothing"
check_header X-Log-Offset '^16$' "... X-Log-Offset stays 16"
api GET "/api/v1/jobs/$L/log?stream=stderr"
check_eq "$STATUS:$BODY" "200:" "stream=stderr of a silent stderr -> 200, nothing"
api GET "/api/v1/jobs/$L/log?offset=-1"
check_error 422 invalid "offset=-1 -> 422"
api GET "/api/v1/jobs/$L/log?offset=abc"
check_error 422 invalid "offset=abc -> 422"
api GET "/api/v1/jobs/$L/log?stream=both"
check_error 422 invalid "stream=both -> 422"
api GET /api/v1/jobs/99999999/log
check_error 404 not_found "log of an unknown job -> 404"

# ---- refusals (422, the message names the limit) ------------------------------------------------
count_jobs() {
	api GET '/api/v1/jobs?user=all&limit=1000'
	jq '.jobs | length' <<<"$BODY"
}
before=$(count_jobs)
use_token "$ALICE_TOKEN"
# refuse DESC JSON WORD — POST /jobs answers 422 invalid, the message contains WORD.
refuse() {
	api POST /api/v1/jobs "$2"
	check_error 422 invalid "$1 -> 422"
	check_jq --arg w "$3" '.error.message | contains($w)' "... the message names '$3'"
}
refuse "more GPUs than the machine" '{"command":["true"],"resources":{"gpus":3}}' "GPUs"
check_jq '.error.message | contains("2")' "... and says it has 2"
refuse "more CPUs than the machine" "{\"command\":[\"true\"],\"resources\":{\"cpus\":$((NODE_CPUS + 1))}}" "CPUs"
check_jq --arg n "$NODE_CPUS" '.error.message | contains($n)' "... and says how many it has"
refuse "more memory than the machine" "{\"command\":[\"true\"],\"resources\":{\"mem_mb\":$((NODE_MEM + 1))}}" "memory"
refuse "more GPUs than the group allows" '{"command":["true"],"resources":{"gpus":2}}' "max_gpus"
if [ "$NODE_CPUS" -ge 2 ]; then
	refuse "more CPUs than the group allows" '{"command":["true"],"resources":{"cpus":2}}' "max_cpus"
else
	skip "a group CPU limit below the machine's needs 2 CPUs (this machine has $NODE_CPUS)"
fi
refuse "more memory than the group allows" '{"command":["true"],"resources":{"mem_mb":1024}}' "max_mem_mb"
refuse "a wall time over the group maximum" '{"command":["true"],"resources":{"walltime_s":61}}' "max_walltime_s"
refuse "an empty command" '{"command":[]}' "command"
refuse "a command with an empty program" '{"command":[""]}' "command"
refuse "both command and script" '{"command":["true"],"script":"true"}' "command"
refuse "neither command nor script" '{"name":"nothing"}' "command"
refuse "an array over 10000 elements" '{"command":["true"],"array":"0-10000"}' "10000"
refuse "a malformed array" '{"command":["true"],"array":"1-x"}' "array"
refuse "after an unknown job" '{"command":["true"],"after":[99999999]}' "99999999"
refuse "a reserved env name (KAON_JOB_ID)" '{"command":["true"],"env":{"KAON_JOB_ID":"1"}}' "KAON_JOB_ID"
refuse "a reserved env name (CUDA_VISIBLE_DEVICES)" '{"command":["true"],"env":{"CUDA_VISIBLE_DEVICES":"0"}}' "CUDA_VISIBLE_DEVICES"
refuse "an unknown field" '{"command":["true"],"gpus":1}' "gpus"
refuse "an unknown resource" '{"command":["true"],"resources":{"disk":1}}' "disk"
use_token "$ADMIN"
check_eq "$(count_jobs)" "$before" "no refused submission made a job"

use_token "$ALICE_TOKEN"
submit '{"command":["true"],"hold":true,"resources":{"gpus":1,"walltime_s":60}}'
check_status 201 "a job at the group's limits is accepted"
check_jq '.resources == {cpus: 1, mem_mb: 256, gpus: 1, walltime_s: 60}' \
	"... missing resources come from the group's defaults (256 MiB)"
api POST "/api/v1/jobs/$JOB/cancel"
check_jq '.state == "cancelled"' "... cancel it"

# ---- arrays --------------------------------------------------------------------------------
use_token "$ADMIN"
submit '{"command":["sh","-c","echo \"$KAON_ARRAY_ID $KAON_ARRAY_INDEX $(date +%s%N)\"; sleep 0.4; date +%s%N"],"array":"0-2%1"}'
check_status 201 "submit an array 0-2%1 -> 201"
check_schema JobArrayCreated . "... answered as {array_id, job_ids}"
ARR=$JOB
read -r -a AJ <<<"$JOBS"
check_eq "${#AJ[@]}" 3 "... three jobs"
check_eq "${AJ[0]}" "$ARR" "... the array_id is its first job's id"
saw_limit=false
for ((i = 0; i < 100; i++)); do
	api GET "/api/v1/jobs?state=pending,running&limit=10"
	if jq -e --argjson a "$ARR" '[.jobs[] | select(.array_id == $a)] |
		(map(select(.state == "running")) | length) == 1 and
		(map(select(.state == "pending")) | length) >= 1 and
		(map(select(.state == "pending")) | all(.reason == "array_limit"))' <<<"$BODY" >/dev/null; then
		saw_limit=true
		break
	fi
	sleep 0.05
done
check_eq "$saw_limit" true "while one element runs, the others wait with reason array_limit"
for id in "${AJ[@]}"; do check_job_ends "$id" completed "array element $id completes"; done
idx=()
spans=
for k in 0 1 2; do
	api GET "/api/v1/jobs/${AJ[$k]}"
	check_jq --argjson a "$ARR" --argjson k "$k" '.array_id == $a and .array_index == $k' \
		"element $k has array_id $ARR and array_index $k"
	out=$(job_log "${AJ[$k]}")
	read -r aid aidx t0 <<<"$(head -n 1 <<<"$out")"
	t1=$(sed -n 2p <<<"$out")
	idx+=("$aid:$aidx")
	spans="$spans$t0 $t1"$'\n'
done
check_eq "${idx[*]}" "$ARR:0 $ARR:1 $ARR:2" "each element sees KAON_ARRAY_ID and its KAON_ARRAY_INDEX"
check "%1: the elements never ran at the same time" \
	awk 'NF == 2 { if (NR > 1 && $1 < prev) bad = 1; prev = $2 } END { exit bad }' \
	<<<"$(sort -n <<<"$spans")"

submit '{"command":["true"],"array":"0-20:2","hold":true}'
check_jq '.job_ids | length == 11' "array 0-20:2 -> 11 jobs"
for id in $JOBS; do api POST "/api/v1/jobs/$id/cancel"; done
api GET "/api/v1/jobs/$(cut -d' ' -f2 <<<"$JOBS")"
check_jq '.array_index == 2 and .state == "cancelled"' "... its second element has index 2 (and is cancelled)"
submit '{"command":["true"],"array":"1,3,5","hold":true}'
check_jq '.job_ids | length == 3' "array 1,3,5 -> 3 jobs"
last=${JOBS##* }
for id in $JOBS; do api POST "/api/v1/jobs/$id/cancel"; done
api GET "/api/v1/jobs/$last"
check_jq '.array_index == 5' "... its last element has index 5"

# ---- after ----------------------------------------------------------------------------------
submit '{"command":["sleep","1"]}'
D1=$JOB
submit "{\"command\":[\"echo\",\"after-ok\"],\"after\":[$D1]}"
D2=$JOB
check_jq --argjson d "$D1" '.after == [$d]' "a job after $D1 lists it in after"
job_until "$D2" '.state != "pending" or .reason == "dependency"' 3
check_jq '.state == "pending" and .reason == "dependency"' "... it waits with reason dependency"
check_job_ends "$D2" completed "... and runs once $D1 completed"
api GET "/api/v1/jobs/$D1"
d1_end=$(jq -r .end_time <<<"$BODY")
api GET "/api/v1/jobs/$D2"
check_jq --arg e "$d1_end" '.start_time >= $e' "... not before $D1 ended"
check_eq "$(job_log "$D2")" after-ok "... with its output"
submit '{"command":["sh","-c","sleep 0.3; exit 1"]}'
F1=$JOB
submit "{\"command\":[\"echo\",\"must-not-run\"],\"after\":[$F1]}"
F2=$JOB
check_job_ends "$F2" cancelled "a job after a failing job is cancelled"
check_jq '.reason == "dependency_failed" and .start_time == null and .exit_code == null' \
	"... with reason dependency_failed, never started"
check_jq '.reason_text | type == "string" and length > 0' "... and a reason_text"
api GET "/api/v1/jobs/$F1"
check_jq '.state == "failed"' "... because $F1 failed"
check_eq "$(job_log "$F2")" "" "... it printed nothing"

# ---- hold and release ---------------------------------------------------------------------
submit '{"command":["echo","released"],"hold":true}'
H=$JOB
check_jq '.hold == true and .state == "pending"' "a job submitted held is pending with hold true"
job_until "$H" '.state != "pending" or .reason == "held"' 3
sleep 1.1
api GET "/api/v1/jobs/$H"
check_jq '.state == "pending" and .reason == "held" and (.reason_text | length > 0)' \
	"... it stays pending, reason held"
api POST "/api/v1/jobs/$H/release"
check_status 200 "release it -> 200"
check_schema Job . "... answered as a Job"
check_jq '.hold == false' "... hold false"
check_job_ends "$H" completed "... it runs and completes"
check_eq "$(job_log "$H")" released "... with its output"
api POST "/api/v1/jobs/$H/hold"
check_error 409 conflict "hold an ended job -> 409"
api POST "/api/v1/jobs/$H/release"
check_error 409 conflict "release an ended job -> 409"
submit '{"command":["sleep","30"]}'
R=$JOB
job_wait "$R" running 10
api POST "/api/v1/jobs/$R/hold"
check_error 409 conflict "hold a running job -> 409"
submit "{\"command\":[\"true\"],\"after\":[$R]}"
P=$JOB
api POST "/api/v1/jobs/$P/hold"
check_status 200 "hold a pending job -> 200"
check_jq '.hold == true and .state == "pending"' "... hold true"
api POST /api/v1/jobs/99999999/hold
check_error 404 not_found "hold an unknown job -> 404"

# ---- cancel ------------------------------------------------------------------------------
api POST "/api/v1/jobs/$P/cancel"
check_status 200 "cancel a pending job -> 200"
check_schema Job . "... answered as a Job"
check_jq '.state == "cancelled" and .start_time == null and (.end_time | type == "string")' \
	"... cancelled at once, never started"
api POST "/api/v1/jobs/$P/cancel"
check_error 409 conflict "cancel it again -> 409"
api POST "/api/v1/jobs/$R/cancel"
check_status 200 "cancel a running sleep -> 200"
check_job_ends "$R" cancelled "... it ends cancelled" 5

# A job that ignores SIGTERM and leaves a daemonized child behind: after
# cancel nothing of it remains.
submit "{\"command\":[\"bash\",\"-c\",\"trap '' TERM; setsid bash -c 'while :; do sleep 0.2; done; : $MARK' </dev/null >/dev/null 2>&1 & echo started; while :; do sleep 0.2; done; : $MARK\"]}"
C=$JOB
check_job_ends "$C" running "a job with a daemonized child runs"
job_log_wait "$C" started 10
check "... both its processes are there (pgrep -f $MARK)" \
	eval '[ "$(pgrep -f -- "$MARK" | wc -l)" -ge 2 ]'
api POST "/api/v1/jobs/$C/cancel"
check_status 200 "cancel it -> 200"
check_job_ends "$C" cancelled "... it ends cancelled (SIGTERM ignored: SIGKILL after grace_s)" 10
check_jq '.end_time != null' "... with an end time"
left=
for ((i = 0; i < 30; i++)); do
	left=$(pgrep -f -- "$MARK")
	[ -z "$left" ] && break
	sleep 0.1
done
check_eq "$left" "" "... and no process of it remains, the daemonized child included"
for pid in $left; do kill -KILL "$pid" 2>/dev/null; done

# ---- wall time -----------------------------------------------------------------------------
submit '{"command":["sleep","30"],"resources":{"walltime_s":1}}'
W=$JOB
check_job_ends "$W" timeout "a sleep 30 with walltime_s 1 ends as timeout" 10
check_jq '.exit_code == null and .signal != null' "... ended by a signal"

# ---- listing: pagination, filters, who sees what --------------------------------------------
use_token "$ALICE_TOKEN"
submit '{"name":"alices","command":["echo","secret-'"$RUN_ID"'"],"hold":true}'
AJOB=$JOB
use_token "$ADMIN"
api GET '/api/v1/jobs?limit=1000'
check_status 200 "GET /jobs -> 200"
check_schema JobList . "... answered as a JobList"
all=$(jq -c '[.jobs[].id]' <<<"$BODY")
check_jq '.next == null and (.jobs | length) > 10' "... all the admin's jobs in one page, next null"
check_jq '[.jobs[].id] == ([.jobs[].id] | sort | reverse)' "... newest first"
check_jq '.jobs | all(.user == "admin")' "... only the caller's own by default"
pages='[]' before= n=0
while [ $n -lt 100 ]; do
	api GET "/api/v1/jobs?limit=3${before:+&before=$before}"
	[ "$STATUS" = 200 ] || break
	pages=$(jq -c --argjson p "$pages" '$p + [.jobs[].id]' <<<"$BODY")
	before=$(jq -r '.next // empty' <<<"$BODY")
	n=$((n + 1))
	[ -z "$before" ] && break
	check_jq '(.jobs | length) == 3' "page $n has 3 jobs and a next"
done
check_eq "$pages" "$all" "paging with limit=3 and before=next gives every job once, in order"
api GET '/api/v1/jobs?limit=2'
check_jq '(.jobs | length) == 2 and .next == .jobs[1].id' "next is the last id of the page"
api GET '/api/v1/jobs?state=failed,timeout&limit=1000'
check_jq '(.jobs | length) >= 2 and (.jobs | all(.state == "failed" or .state == "timeout"))' \
	"state=failed,timeout filters"
for q in limit=0 limit=1001 limit=x before=0 before=x; do
	api GET "/api/v1/jobs?$q"
	check_error 422 invalid "GET /jobs?$q -> 422"
done
api GET "/api/v1/jobs?user=nosuch$RUN_ID"
check_error 404 not_found "GET /jobs?user=unknown -> 404"

api GET '/api/v1/jobs?user=all&limit=1000'
check_jq --argjson a "$AJOB" '.jobs[] | select(.id == $a) | .user != "admin" and .command != null' \
	"an admin sees other users' jobs with user=all, command included"
api GET "/api/v1/jobs?user=$ALICE"
check_jq --argjson a "$AJOB" --arg u "$ALICE" '.jobs[0].id == $a and (.jobs | length) == 2 and all(.jobs[]; .user == $u)' \
	"an admin lists one user's jobs with user=NAME"
use_token "$ALICE_TOKEN"
api GET /api/v1/jobs
check_jq --argjson a "$AJOB" '[.jobs[].id] | index($a) != null' "$ALICE sees her own job"
check_jq '.jobs | all(.user != "admin")' "... and by default not the admin's"
api GET '/api/v1/jobs?user=all&limit=1000'
check_status 200 "a non-admin may list user=all"
check_jq '[.jobs[] | select(.user == "admin")] | length > 10' "... and sees the admin's jobs"
check_jq '[.jobs[] | select(.user == "admin")] | all(.command == null and .workdir == null)' \
	"... without their command or workdir"
check_jq --argjson a "$AJOB" '.jobs[] | select(.id == $a) | .command != null' "... her own with its command"
check_schema JobList . "... still a JobList"
api GET "/api/v1/jobs/$A"
check_status 200 "a non-admin GETs another user's job -> 200"
check_jq '.command == null and .workdir == null and .state == "failed" and .exit_code == 3' \
	"... its state and exit code, no command"
api GET /api/v1/jobs?user=admin
check_jq '(.jobs | length) > 0 and (.jobs | all(.command == null))' "user=admin: the admin's jobs, no command"
api POST "/api/v1/jobs/$A/cancel"
check_error 403 forbidden "a non-admin cancels another user's job -> 403"
api GET "/api/v1/jobs/$A/log"
check_error 403 forbidden "a non-admin reads another user's log -> 403"
api GET /api/v1/jobs/99999999
check_error 404 not_found "GET an unknown job -> 404"
api GET /api/v1/jobs/abc
check_error 404 not_found "GET /jobs/abc -> 404"
use_token "$ADMIN"
api POST "/api/v1/jobs/$AJOB/cancel"
check_status 200 "an admin cancels another user's job -> 200"

cancel_live_jobs
stop_server
finish
