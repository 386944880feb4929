#!/usr/bin/env bash
# cli_jobs_test — the job verbs of the `kaon` command line against the real
# daemon, as a user types them: submit (flags, a script with #KAON lines,
# stdin, arrays, hold), show, logs and logs -f, jobs, queue, cancel,
# release, nodes, share; human units in, API fields out; one `kaon: ...`
# line and a non-zero exit for every mistake.
. "$(dirname "$0")/lib.sh"

printf '[sched]\ngrace_s = 1\n[node]\nfake_gpus = 2\n' >"$T/kaon.ini"
start_server --config "$T/kaon.ini" || { fail "server starts"; finish; }
KAON_TOKEN=$(admin_token) || { fail "admin token"; finish; }
export KAON_URL=$URL KAON_TOKEN
export HOME=$T/clihome
mkdir -p "$HOME"
unset XDG_CONFIG_HOME KAON_CA_FILE

# submitted_id — the id in "Submitted job N".
submitted_id() { sed -n 's/^Submitted job \([0-9][0-9]*\)$/\1/p' <<<"$OUT"; }
# cli_wait ID STATES SECS — until `kaon show ID --json` has one of STATES.
cli_wait() {
	local i state=
	for ((i = 0; i < $3 * 10; i++)); do
		state=$("$KAON" show "$1" --json 2>/dev/null | jq -r .state)
		[[ ,$2, == *,$state,* ]] && return 0
		sleep 0.1
	done
	echo "    job $1 is '$state', not $2, after $3 s"
	return 1
}

# ---- submit with flags, show, logs ---------------------------------------------
kcli submit --name hello --cpus 1 --mem 96M --time 2m -- sh -c 'echo "hi $KAON_JOB_ID"; echo oops >&2'
cli_ok "submit --name --cpus --mem 96M --time 2m -- COMMAND"
J1=$(submitted_id)
check "... prints 'Submitted job N'" test -n "$J1"
check "... the job completes" cli_wait "$J1" completed 20
kcli show "$J1" --json
out_jq '.name == "hello" and .resources.cpus == 1 and .resources.mem_mb == 96 and .resources.walltime_s == 120' \
	"show --json: the flags became name and resources (96M = 96 MiB, 2m = 120 s)"
out_jq '.command == ["sh","-c","echo \"hi $KAON_JOB_ID\"; echo oops >&2"] and .exit_code == 0' \
	"... the command as given, exit code 0"
kcli show "$J1"
cli_ok "show ID"
check "... in words: its state, command and resources" \
	eval 'grep -q completed <<<"$OUT" && grep -q "96M" <<<"$OUT" && grep -q "2m" <<<"$OUT"'
kcli logs "$J1"
check_eq "$OUT" "hi $J1" "logs ID prints the job's standard output"
kcli logs --stderr "$J1"
check_eq "$OUT" "oops" "logs --stderr ID prints its standard error"

# ---- a script with #KAON lines -------------------------------------------------
cat >"$T/job.sh" <<'EOF'
#!/bin/sh
# a test job
#KAON --name scripted --mem 80M
#KAON --env "GREETING=hello world"   # quoted, with a comment after
echo "$GREETING from $KAON_JOB_ID"
EOF
kcli submit --time 3m "$T/job.sh"
cli_ok "submit SCRIPT with #KAON lines (and --time on the command line)"
J2=$(submitted_id)
check "... the job completes" cli_wait "$J2" completed 20
kcli show "$J2" --json
out_jq '.name == "scripted" and .resources.mem_mb == 80 and .resources.walltime_s == 180 and .script == true' \
	"... name and memory from the header, the time from the command line"
kcli logs "$J2"
check_eq "$OUT" "hello world from $J2" "... its --env reached the job"
printf '#!/bin/sh\n#KAON --gpus two\necho never\n' >"$T/bad.sh"
kcli submit "$T/bad.sh"
cli_usage "a bad #KAON line is a usage error"
check "... naming the file and line" eval '[[ $ERR == *"bad.sh:2"* ]]'
kcli submit - <<<'#!/bin/sh
echo from-stdin'
cli_ok "submit - reads the script from standard input"
J3=$(submitted_id)
check "... it completes" cli_wait "$J3" completed 20
kcli logs "$J3"
check_eq "$OUT" "from-stdin" "... with its output"

# ---- logs -f follows until the end ---------------------------------------------
kcli submit -- sh -c 'for i in 1 2 3; do echo "line $i"; sleep 0.3; done'
J4=$(submitted_id)
kcli logs -f "$J4"
cli_ok "logs -f ID exits 0 once the job has ended"
check_eq "$OUT" "line 1
line 2
line 3" "... having printed every line"
kcli show "$J4" --json
out_jq '.state == "completed"' "... and the job had ended by then"

# ---- hold, queue, release, cancel ------------------------------------------------
kcli submit --hold --time 5m -- sleep 60
J5=$(submitted_id)
check "submit --hold" test -n "$J5"
kcli queue --json
out_jq --argjson id "$J5" '.jobs | map(select(.id == $id)) | .[0] | .state == "pending" and .reason == "held"' \
	"queue --json lists the held job, pending with reason held"
kcli queue
check "queue in words shows it with its reason" eval 'grep -E "^ *$J5 " <<<"$OUT" | grep -q held'
kcli release "$J5"
check_eq "$OUT" "Released job $J5." "release ID"
check "... it starts" cli_wait "$J5" running 20
kcli jobs --json
out_jq --argjson id "$J5" '.jobs | map(.id) | index($id) != null' "jobs --json lists it"
kcli jobs
check "jobs prints a table with a header" eval 'head -n 1 <<<"$OUT" | grep -q "ID" && grep -qE "^ *$J5 " <<<"$OUT"'
kcli cancel "$J5"
cli_ok "cancel ID (running)"
check "... it says the job gets SIGTERM" eval '[[ $OUT == *"job $J5"* ]]'
check "... it ends cancelled" cli_wait "$J5" cancelled 20
kcli cancel "$J5"
cli_fails "cancel of an ended job fails"

# ---- arrays, GPUs, nodes, share ---------------------------------------------------
kcli submit --array 0-3%2 --gpus 1 -- sh -c 'echo "$KAON_ARRAY_INDEX $CUDA_VISIBLE_DEVICES"'
cli_ok "submit --array 0-3%2 --gpus 1"
A=$(sed -n 's/^Submitted array \([0-9][0-9]*\): jobs \([0-9][0-9]*\)-\([0-9][0-9]*\)$/\1 \2 \3/p' <<<"$OUT")
check "... prints 'Submitted array N: jobs N-M' ($OUT)" test -n "$A"
read -r AID AFIRST ALAST <<<"$A"
check_eq "$((ALAST - AFIRST))" 3 "... four elements"
for ((id = AFIRST; id <= ALAST; id++)); do
	cli_wait "$id" completed 30 || fail "array element $id completes"
done
idx=$(for ((id = AFIRST; id <= ALAST; id++)); do "$KAON" logs "$id" | cut -d' ' -f1; done | sort | tr '\n' ' ')
check_eq "$idx" "0 1 2 3 " "each element saw its KAON_ARRAY_INDEX"
kcli nodes --json
out_jq '.nodes[0].cpus >= 1 and (.nodes[0].gpus | length) == 2' "nodes --json: CPUs and the two GPUs"
kcli nodes
check "nodes in words" eval 'grep -q "Fake GPU" <<<"$OUT"'
kcli share --json
out_jq '[.users[] | select(.user == "admin")] | length == 1' "share --json lists admin's fair share"
kcli share
cli_ok "share in words"

# ---- mistakes ----------------------------------------------------------------------
kcli show 999999
cli_fails "show of an unknown job"
kcli logs 999999
cli_fails "logs of an unknown job"
kcli submit --mem lots -- true
cli_usage "submit --mem lots (not a size)"
check "... saying what a size looks like" eval '[[ $ERR == *"is not a size like 512M"* ]]'
kcli submit --time forever -- true
cli_usage "submit --time forever (not a duration)"
kcli submit --gpus 9 -- true
cli_fails "submit --gpus 9 (more than the node has): the server's 422 in one line"

cancel_live_jobs
stop_server
finish
