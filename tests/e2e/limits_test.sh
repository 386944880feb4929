#!/usr/bin/env bash
# limits_test — what a job runs as and what it may use. As root (multi-user
# mode): a job runs as its owner's Unix account, never root, and a job over
# its memory limit ends as oom while the daemon lives on. Not as root: a job
# runs as the daemon's own account, and the rest is skipped.
. "$(dirname "$0")/lib.sh"

printf '[sched]\ngrace_s = 1\n' >"$T/kaon.ini"
start_server --config "$T/kaon.ini" || { fail "server starts"; finish; }
ADMIN=$(admin_token) || { fail "admin token"; finish; }
ADMIN_TOKEN=$ADMIN
use_token "$ADMIN"
ID_CMD='["sh","-c","echo \"$(id -u) $(id -g) $(id -un) $HOME $USER\"; pwd"]'

if [ "$(id -u)" != 0 ]; then
	submit "{\"command\":$ID_CMD}"
	check_job_ends "$JOB" completed "not root: a job completes"
	check_eq "$(job_log "$JOB" | head -n 1 | cut -d' ' -f1)" "$(id -u)" \
		"... as the daemon's own uid (single-account mode)"
	skip "running jobs as their owners and memory limits need root (running as uid $(id -u))"
	cancel_live_jobs
	stop_server
	finish
fi

# ---- a job runs as its owner ------------------------------------------------------------
U=lim$RUN_ID
api POST /api/v1/users "{\"username\":\"$U\",\"password\":\"limits-password\",\"groups\":[\"students\"]}"
check_status 201 "create $U (a Unix account of its own)"
u_uid=$(jq -r .uid <<<"$BODY") u_gid=$(jq -r .gid <<<"$BODY") u_home=$(jq -r .home <<<"$BODY")
u_unix=$(jq -r .unix_user <<<"$BODY")
U_TOKEN=$(new_token "$U" limits-password) || fail "token for $U"
use_token "$U_TOKEN"
submit "{\"command\":$ID_CMD}"
check_status 201 "$U submits a job"
check_job_ends "$JOB" completed "... it completes"
check_eq "$(job_log "$JOB")" "$u_uid $u_gid $u_unix $u_home $u_unix
$u_home" "... as $U's uid and gid, with its HOME and USER, in its home"
check "... its output files belong to $U" \
	test "$(stat -c %u "$DATA/jobs/$JOB/stdout" 2>/dev/null)" = "$u_uid"

use_token "$ADMIN"
api GET /api/v1/me
a_uid=$(jq -r .uid <<<"$BODY")
submit "{\"command\":$ID_CMD}"
check_job_ends "$JOB" completed "the admin's job completes"
a_job_uid=$(job_log "$JOB" | head -n 1 | cut -d' ' -f1)
check_eq "$a_job_uid" "$a_uid" "... as the admin's Unix account"
check_ne "$a_job_uid" 0 "... never as root"

# ---- memory ------------------------------------------------------------------------
# The hog grows a shell variable to 256 MiB against a 64 MiB limit.
HOG='["bash","-c","echo hog-start; x=$(head -c 268435456 /dev/zero | tr \"\\0\" x); echo hog-survived ${#x}"]'
submit "{\"command\":$HOG,\"resources\":{\"mem_mb\":64}}"
check_status 201 "submit a 256 MiB memory hog with mem_mb 64"
HOGJOB=$JOB
check_job_ends "$HOGJOB" "oom,failed,completed,cancelled,timeout,lost" "... it ends" 30
check_jq '.state == "oom"' "... as oom"
check_eq "$(job_log "$HOGJOB")" hog-start "... it ran, and did not get its 256 MiB"
check "the daemon lives on" kill -0 "$SERVER_PID"
api GET /api/v1/me
check_status 200 "... and answers"
submit '{"command":["bash","-c","x=$(head -c 8388608 /dev/zero | tr \"\\0\" x); echo ok ${#x}"],"resources":{"mem_mb":64}}'
check_job_ends "$JOB" completed "a job using 8 MiB of its 64 completes"
check_eq "$(job_log "$JOB")" "ok 8388608" "... with its output"

cancel_live_jobs
stop_server
finish
