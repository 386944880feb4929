#!/usr/bin/env bash
# gpus_test — four fake GPUs: jobs that run at the same time get disjoint
# GPUs and see exactly theirs in CUDA_VISIBLE_DEVICES and KAON_GPUS; all
# four get used; one more waits with reason resources; GET /nodes shows
# which job holds each GPU; GET /share answers.
#
# Every job needs a CPU, so four jobs run at once only with four CPUs. On
# a smaller machine the four GPUs go to fewer, bigger jobs (2 CPUs: two
# jobs of 2 GPUs) — the checks are the same.
. "$(dirname "$0")/lib.sh"

printf '[node]\nfake_gpus = 4\n[sched]\ngrace_s = 1\n' >"$T/kaon.ini"
start_server --config "$T/kaon.ini" || { fail "server starts"; finish; }
ADMIN=$(admin_token) || { fail "admin token"; finish; }
ADMIN_TOKEN=$ADMIN
use_token "$ADMIN"

api GET /api/v1/nodes
check_status 200 "GET /nodes -> 200"
check_schema NodeList . "... answered as a NodeList"
check_jq '.nodes | length == 1' "... one node"
check_jq '.nodes[0].gpus | length == 4 and ([.[].index] == [0,1,2,3])' "... with 4 GPUs, indexes 0-3"
check_jq '.nodes[0].gpus | all(.model == "Fake GPU" and (.uuid | startswith("GPU-fake-")) and .mem_mb == 16384 and .job == null)' \
	"... fake ones: model, uuid, 16384 MiB, free"
check_jq '.nodes[0].gpus | map(.uuid) | unique | length == 4' "... with distinct UUIDs"
check_jq '.nodes[0].cpus_used == 0 and .nodes[0].mem_used_mb == 0' "... nothing used"
CPUS=$(jq -r '.nodes[0].cpus' <<<"$BODY")

api POST /api/v1/jobs '{"command":["true"],"resources":{"gpus":5}}'
check_error 422 invalid "5 GPUs of 4 -> 422"
check_jq '.error.message | contains("4")' "... the message says the machine has 4"

if [ "$CPUS" -ge 4 ]; then K=4; elif [ "$CPUS" -ge 2 ]; then K=2; else K=1; fi
G=$((4 / K))
[ "$K" -lt 4 ] && echo "gpus_test: $CPUS CPUs: $K jobs of $G GPUs instead of 4 jobs of 1"
ids=()
for ((k = 0; k < K; k++)); do
	submit "{\"name\":\"g$k\",\"command\":[\"sh\",\"-c\",\"echo \\\"cuda=\$CUDA_VISIBLE_DEVICES kaon=\$KAON_GPUS\\\"; sleep 60\"],
		\"resources\":{\"gpus\":$G,\"cpus\":1,\"mem_mb\":64}}"
	check_status 201 "submit job $k with $G GPU(s)"
	ids+=("$JOB")
done
for id in "${ids[@]}"; do
	check_job_ends "$id" running "job $id runs" 10
	job_log_wait "$id" '^cuda=' 10
done
submit '{"name":"fifth","command":["sh","-c","echo \"cuda=$CUDA_VISIBLE_DEVICES\"; sleep 60"],"resources":{"gpus":1,"cpus":1,"mem_mb":64}}'
FIFTH=$JOB
job_until "$FIFTH" '.state != "pending" or .reason != null' 5
check_jq '.state == "pending" and .reason == "resources"' "one more 1-GPU job waits with reason resources"
check_jq '.allocated == null' "... with no allocation"

# What each job saw, what the API says it holds, what /nodes says.
seen=() union=
for id in "${ids[@]}"; do
	line=$(job_log "$id" | head -n 1)
	cuda=${line#cuda=}
	cuda=${cuda%% *}
	kaon=${line##*kaon=}
	api GET "/api/v1/jobs/$id"
	alloc=$(jq -r '.allocated.gpus | map(tostring) | join(",")' <<<"$BODY")
	check_eq "$cuda" "$alloc" "job $id: CUDA_VISIBLE_DEVICES is its allocation ($alloc)"
	check_eq "$kaon" "$alloc" "job $id: KAON_GPUS is its allocation"
	check_eq "$(tr ',' '\n' <<<"$alloc" | grep -c .)" "$G" "job $id holds $G GPU(s)"
	union="$union${union:+,}$alloc"
	seen+=("$id:$alloc")
done
check_eq "$(tr ',' '\n' <<<"$union" | sort -n | tr '\n' ' ')" "0 1 2 3 " \
	"the jobs' GPUs are disjoint and all 4 are used"

api GET /api/v1/nodes
check_schema NodeList . "GET /nodes while they run is a NodeList"
for s in "${seen[@]}"; do
	id=${s%%:*} alloc=${s#*:}
	check_jq --argjson id "$id" --arg a "$alloc" \
		'[.nodes[0].gpus[] | select(.job == $id) | .index | tostring] | join(",") == $a' \
		"/nodes shows job $id holding GPU(s) $alloc"
done
check_jq --argjson k "$K" '.nodes[0].cpus_used == $k and .nodes[0].mem_used_mb == 64 * $k' \
	"... and the CPUs and memory the running jobs use"

api GET /api/v1/share
check_status 200 "GET /share -> 200"
check_schema Share . "... answered as a Share"
check_jq '.users | any(.user == "admin" and .group == "researchers")' "... the admin is in it"
check_jq '.groups | any(.group == "researchers" and .weight > 0)' "... and its group"

# The first job ends: the waiting one gets a GPU it freed.
api POST "/api/v1/jobs/${ids[0]}/cancel"
check_status 200 "cancel job ${ids[0]}"
freed=${seen[0]#*:}
check_job_ends "$FIFTH" running "the waiting job starts once GPUs are free" 10
fifth_gpu=$(jq -r '.allocated.gpus | map(tostring) | join(",")' <<<"$BODY")
check "... on a GPU job ${ids[0]} held ($fifth_gpu of $freed)" eval '[[ ,$freed, == *,$fifth_gpu,* ]]'
job_log_wait "$FIFTH" '^cuda=' 10
check_eq "$(job_log "$FIFTH")" "cuda=$fifth_gpu" "... and sees it in CUDA_VISIBLE_DEVICES"
api GET /api/v1/nodes
check_jq --argjson id "$FIFTH" --argjson g "$fifth_gpu" '.nodes[0].gpus[] | select(.index == $g) | .job == $id' \
	"/nodes shows the new holder"

cancel_live_jobs
api GET /api/v1/nodes
check_jq '(.nodes[0].gpus | all(.job == null)) and .nodes[0].cpus_used == 0' \
	"once every job ended, /nodes shows every GPU free"

stop_server
finish
