#!/usr/bin/env bash
# restart_jobs_test — the daemon can die (kill -9) and come back on the same
# data directory without losing a job: jobs that were running go on under
# their supervisors; those that ended while it was down are recorded with
# their real exit status and end time; those still running are picked up
# again; the pending ones start after the restart; every job ends with its
# true status and its full output.
#
# 20 jobs run and 20 wait: each job takes one CPU, the node is
# oversubscribed ([node] oversubscribe) so that 20 fit on any machine, and
# the owner's group may run 20 at once, so the next 20 wait behind them.
. "$(dirname "$0")/lib.sh"

printf '[sched]\ngrace_s = 1\n' >"$T/kaon.ini"
start_server --config "$T/kaon.ini" || { fail "server starts"; finish; }
ADMIN=$(admin_token) || { fail "admin token"; finish; }
ADMIN_TOKEN=$ADMIN
use_token "$ADMIN"
api GET /api/v1/nodes
CPUS=$(jq -r '.nodes[0].cpus' <<<"$BODY")
R=20 P=20
OVER=$(((R + CPUS - 1) / CPUS))
stop_server
printf '[sched]\ngrace_s = 1\n[node]\noversubscribe = %d\n' "$OVER" >"$T/kaon.ini"
start_server --config "$T/kaon.ini" || { fail "server starts with oversubscribe = $OVER"; finish; }
use_token "$ADMIN"
api GET /api/v1/nodes
check_jq --argjson o "$OVER" '.nodes[0].oversubscribe == $o' "the node lets $OVER jobs share a CPU ($CPUS CPUs)"
api GET /api/v1/me
GROUP=$(jq -r '.groups[0]' <<<"$BODY")
api PATCH "/api/v1/groups/$GROUP" '{"max_jobs":20,"max_cpus":null}'
check_status 200 "the admin's group $GROUP may run $R jobs at once"

# Running jobs: the even ones end while the daemon is down, the first of
# them with exit 7; the odd ones are still running when it comes back.
# Each waits for its go file, so the test decides when they end.
declare -A WANT_STATE WANT_EXIT WANT_LOG
run_ids=() short_ids=() long_ids=()
for ((k = 0; k < R; k++)); do
	if ((k % 2 == 0)); then go=$T/go-short e=$((k == 0 ? 7 : 0)); else go=$T/go-long e=0; fi
	submit "{\"name\":\"run$k\",\"command\":[\"sh\",\"-c\",\"echo start-\$KAON_JOB_ID; while [ ! -e $go ]; do sleep 0.1; done; echo done-\$KAON_JOB_ID; exit $e\"],
		\"resources\":{\"cpus\":1,\"mem_mb\":64}}"
	check_status 201 "submit running job $k"
	run_ids+=("$JOB")
	if ((k % 2 == 0)); then short_ids+=("$JOB"); else long_ids+=("$JOB"); fi
	WANT_STATE[$JOB]=$([ $e = 0 ] && echo completed || echo failed) WANT_EXIT[$JOB]=$e
	WANT_LOG[$JOB]="start-$JOB
done-$JOB"
done
for id in "${run_ids[@]}"; do
	job_wait "$id" running 10 && job_log_wait "$id" "^start-$id\$" 10 ||
		fail "job $id is running and has printed its first line"
done
pend_ids=()
for ((k = 0; k < P; k++)); do
	submit "{\"name\":\"pend$k\",\"command\":[\"sh\",\"-c\",\"echo start-\$KAON_JOB_ID; sleep 0.1; echo done-\$KAON_JOB_ID\"],
		\"resources\":{\"cpus\":1,\"mem_mb\":64}}"
	pend_ids+=("$JOB")
	WANT_STATE[$JOB]=completed WANT_EXIT[$JOB]=0 WANT_LOG[$JOB]="start-$JOB
done-$JOB"
done
api GET '/api/v1/jobs?state=running&limit=1000'
check_jq --argjson r "$R" '.jobs | length == $r' "$R jobs run"
api GET '/api/v1/jobs?state=pending&limit=1000'
check_jq --argjson p "$P" '.jobs | length == $p' "$P jobs wait behind them"

# ---- kill -9 ----------------------------------------------------------------------------
ok=true
for id in "${run_ids[@]}"; do [ -e "$DATA/jobs/$id/status" ] && ok=false; done
check_eq "$ok" true "no running job has ended yet (else this test proves less: make them longer)"
# (bash reports the killed job on its stderr: keep that out of the output)
exec 3>&2 2>/dev/null
kill -KILL "$SERVER_PID"
wait "$SERVER_PID"
exec 2>&3 3>&-
SERVER_PID=
killed_at=$(date -u +%Y-%m-%dT%H:%M:%SZ)
check "the daemon is gone" eval '! curl -s --max-time 2 "$URL/api/v1/me" >/dev/null'
# While it is down, the short jobs finish under their supervisors.
touch "$T/go-short"
ok=true
for id in "${short_ids[@]}"; do
	for ((i = 0; i < 100; i++)); do
		[ -s "$DATA/jobs/$id/status" ] && break
		sleep 0.1
	done
	[ -s "$DATA/jobs/$id/status" ] || ok=false
done
check_eq "$ok" true "with the daemon down, the short jobs end and their supervisors write their status"
short_out=$(cat "$DATA/jobs/${short_ids[0]}/stdout" 2>/dev/null)
check_eq "$short_out" "${WANT_LOG[${short_ids[0]}]}" "... and their output"
for id in "${long_ids[@]}"; do
	check "long job $id has not ended yet" test ! -e "$DATA/jobs/$id/status"
done
sleep 1.1 # so an end time recorded at the restart would differ from the real one
restarted_at=$(date -u +%Y-%m-%dT%H:%M:%SZ)

# ---- restart ----------------------------------------------------------------------------
start_server --config "$T/kaon.ini" || { fail "server starts again on the same data"; finish; }
use_token "$ADMIN"
for id in "${short_ids[@]}"; do
	check_job_ends "$id" "${WANT_STATE[$id]}" "job $id, ended while the daemon was down, is ${WANT_STATE[$id]}" 10
	check_jq --argjson e "${WANT_EXIT[$id]}" '.exit_code == $e and .signal == null' "... with exit_code ${WANT_EXIT[$id]}"
	check_jq --arg k "$killed_at" --arg r "$restarted_at" '.end_time >= $k and .end_time < $r' \
		"... and its real end time (after the kill, before the restart)"
done
api GET '/api/v1/jobs?state=running&limit=1000'
long_json=$(printf '%s\n' "${long_ids[@]}" | jq -s .)
check_jq --argjson l "$long_json" '[.jobs[].id] as $r | $l - $r == []' \
	"after the restart the ${#long_ids[@]} long jobs are running again"
touch "$T/go-long"
for id in "${long_ids[@]}" "${pend_ids[@]}"; do
	job_wait "$id" "completed,failed,cancelled,timeout,oom,lost" 60
done
api GET '/api/v1/jobs?limit=1000'
check_jq '[.jobs[] | select(.state == "lost")] | length == 0' "no job is lost"
check_jq '[.jobs[] | select(.state == "pending" or .state == "running")] | length == 0' "every job has ended"
bad=
for id in "${run_ids[@]}" "${pend_ids[@]}"; do
	got=$(jq -r --argjson id "$id" '.jobs[] | select(.id == $id) | "\(.state) \(.exit_code)"' <<<"$BODY")
	[ "$got" = "${WANT_STATE[$id]} ${WANT_EXIT[$id]}" ] || bad="$bad $id:$got"
	[ "$(job_log "$id")" = "${WANT_LOG[$id]}" ] || bad="$bad $id:log"
done
check_eq "$bad" "" "every job ended with its true state, exit code and full output"
for id in "${long_ids[@]}"; do
	api GET "/api/v1/jobs/$id"
	check_jq --arg r "$restarted_at" '.start_time < $r and .end_time >= $r' \
		"long job $id started before the kill and ended after the restart"
done
api GET "/api/v1/jobs/${pend_ids[0]}"
check_jq --arg r "$restarted_at" '.start_time >= $r' "the waiting jobs started after the restart"

stop_server
finish
