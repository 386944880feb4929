#!/usr/bin/env bash
# sessions_test — interactive sessions (docs/sessions.md) with a real
# Jupyter Notebook (Debian's python3-notebook): profiles (built-in, from
# the config file, from the admin API, their checks and who sees them);
# a session started through the API becomes ready, its backend listens on
# a socket only its owner can open and refuses requests without the
# session's secret, and with it runs 1+1 over the kernel WebSocket; the
# group's max_sessions, unique names, lifetimes and extension within and
# beyond policy; the queue position of a pending session; options
# ({folder}); a service that never answers; idle culling that keeps a
# session whose kernel is busy; a kill -9 of the daemon keeps a ready
# session ready and usable; the CLI verbs.
. "$(dirname "$0")/lib.sh"

PY=/usr/bin/python3
KERNEL="$PY $E2E_DIR/jupyter_kernel.py"
if [ ! -x /usr/bin/jupyter-notebook ] || ! $PY -c 'import websocket' 2>/dev/null; then
	skip "needs /usr/bin/jupyter-notebook and python3-websocket (scripts/install-deps)"
	finish
fi

# A profile in the config file: Jupyter culled after 5 s idle, checked
# every second; sessions whose service never answers fail after 20 s.
# Sessions share CPUs (oversubscribe) so that a small machine runs them
# all at once; the one fake GPU is what makes a session queue.
cat >"$T/kaon.ini" <<'EOF'
[node]
fake_gpus = 1
oversubscribe = 16
[sched]
grace_s = 1
[sessions]
check_s = 1
start_timeout_s = 20
[profile cfg-nb]
title = Notebook culled quickly
kind = jupyter
command = ["jupyter-notebook", "--no-browser", "--NotebookApp.sock={socket}", "--NotebookApp.base_url={base_url}", "--NotebookApp.notebook_dir={home}", "--NotebookApp.allow_remote_access=True"]
env = {"JUPYTER_TOKEN": "{secret}"}
requires = jupyter-notebook
cpus = 1
mem_mb = 512
lifetime_s = 600
max_lifetime_s = 900
idle_timeout_s = 5
position = 5
EOF
start_server --config "$T/kaon.ini" || { fail "server starts"; finish; }
ADMIN=$(admin_token) || { fail "admin token"; finish; }
ALICE=alice$RUN_ID BOB=bob$RUN_ID CAROL=carol$RUN_ID DAVE=dave$RUN_ID SG=sg$RUN_ID OUT=out$RUN_ID

# wait_session ID STATES [SECONDS] — poll GET /api/v1/sessions/ID until its
# state is one of STATES (comma-separated); BODY holds it.
wait_session() {
	local i state
	for ((i = 0; i < ${3:-60} * 5; i++)); do
		api GET "/api/v1/sessions/$1"
		state=$(jq -r '.state // empty' <<<"$BODY" 2>/dev/null)
		[[ ",$2," == *",$state,"* ]] && return 0
		sleep 0.2
	done
	return 1
}
# check_session_state ID STATES DESC [SECONDS]
check_session_state() {
	if wait_session "$1" "$2" "${4:-60}"; then pass "$3"; else
		fail "$3: session $1 is not $2"
		last_request
	fi
}
# backend_env ID NAME — a variable of the session's main process (the
# job's, from its supervisor file: "PID STARTTIME JOBPID").
backend_env() {
	local pid
	pid=$(awk '{print $3}' "$DATA/jobs/$1/supervisor" 2>/dev/null)
	tr '\0' '\n' <"/proc/$pid/environ" 2>/dev/null | sed -n "s/^$2=//p"
}
backend_cmdline() {
	local pid
	pid=$(awk '{print $3}' "$DATA/jobs/$1/supervisor" 2>/dev/null)
	tr '\0' ' ' <"/proc/$pid/cmdline" 2>/dev/null
}

# ---- accounts: a group with a session limit and a short wall time ----------------
use_token "$ADMIN"
api POST /api/v1/groups "{\"name\":\"$SG\",\"max_sessions\":2,\"max_walltime_s\":3600,\"max_cpus\":4}"
check_status 201 "create group $SG (max_sessions 2, max_walltime_s 3600)"
api POST /api/v1/groups "{\"name\":\"$OUT\"}"
api POST /api/v1/users "{\"username\":\"$ALICE\",\"password\":\"alice-password\",\"groups\":[\"$SG\"]}"
check_status 201 "create $ALICE in $SG"
api POST /api/v1/users "{\"username\":\"$BOB\",\"password\":\"bob-password\",\"groups\":[\"students\"]}"
api POST /api/v1/users "{\"username\":\"$CAROL\",\"password\":\"carol-password\",\"groups\":[\"$OUT\"]}"
check_status 201 "create $CAROL in $OUT"
# Sessions are never the first-start admin's: its Unix account "admin"
# may be another checkout's on a shared machine.
api POST /api/v1/users "{\"username\":\"$DAVE\",\"password\":\"dave-password\",\"groups\":[\"researchers\"]}"
ALICE_TOKEN=$(new_token "$ALICE" alice-password) || fail "token for $ALICE"
BOB_TOKEN=$(new_token "$BOB" bob-password) || fail "token for $BOB"
CAROL_TOKEN=$(new_token "$CAROL" carol-password) || fail "token for $CAROL"
DAVE_TOKEN=$(new_token "$DAVE" dave-password) || fail "token for $DAVE"

# ---- profiles -------------------------------------------------------------------
use_token "$ADMIN"
api GET /api/v1/profiles
check_status 200 "GET /api/v1/profiles -> 200"
check_schema ProfileList . "... a ProfileList"
check_jq '[.profiles[].name] | index("jupyter-cpu") and index("jupyter-gpu") and index("shell") and index("cfg-nb")' \
	"built-in jupyter-cpu, jupyter-gpu (a fake GPU), shell and the config's cfg-nb are offered"
check_jq '(.profiles[] | select(.name == "jupyter-cpu")) | .kind == "jupyter" and .options == []
	and .resources.gpus == 0 and .max_lifetime_s == 86400 and .idle_timeout_s == 3600
	and (has("command") | not)' "jupyter-cpu: jupyter, no options, 24 h at most, 1 h idle; no command shown"
check_jq '.profiles[0].name == "cfg-nb"' "profiles come by position (cfg-nb has 5)"
if PATH=/usr/local/bin:/usr/bin:/bin command -v tensorboard >/dev/null; then
	check_jq '[.profiles[].name] | index("tensorboard")' "tensorboard is offered (it is installed)"
else
	check_jq '[.profiles[].name] | index("tensorboard") | not' "tensorboard is hidden (not installed)"
fi
api GET '/api/v1/profiles?all=1'
check_schema ProfileList . "?all=1 (admin): a ProfileList"
check_jq '(.profiles[] | select(.name == "cfg-nb")) | .source == "config" and .requires == "jupyter-notebook"
	and .env == {"JUPYTER_TOKEN":"{secret}"} and .command[0] == "jupyter-notebook" and .available' \
	"... with details: cfg-nb from the config, command and env with placeholders"
check_jq '(.profiles[] | select(.name == "tensorboard")) | .source == "builtin" and (.options == ["folder"])' \
	"... tensorboard is listed for admins, with its folder option"
use_token "$ALICE_TOKEN"
api GET '/api/v1/profiles?all=1'
check_error 403 forbidden "?all=1 as a user -> 403"
api POST /api/v1/profiles '{"name":"x","kind":"web","command":["true"]}'
check_error 403 forbidden "POST /api/v1/profiles as a user -> 403"
api GET /api/v1/profiles
check_jq '(.profiles[] | select(.name == "jupyter-cpu")) | .lifetime_s == 3600 and .max_lifetime_s == 3600' \
	"$ALICE sees jupyter-cpu's lifetimes cut to $SG's max_walltime_s"

use_token "$ADMIN"
bad_profile() {
	api POST /api/v1/profiles "$1"
	check_error 422 invalid "$2"
	check_jq --arg w "$3" '.error.message | contains($w)' "... the message names $3"
}
bad_profile '{"name":"Bad_Name","kind":"web","command":["x"]}' "name Bad_Name -> 422" "name"
bad_profile '{"name":"p1","kind":"web","command":[]}' "an empty command -> 422" "command"
bad_profile '{"name":"p1","kind":"web","command":"sleep 1"}' "a command that is a string -> 422" "command"
bad_profile '{"name":"p1","kind":"web","command":["x",1]}' "a command with a number -> 422" "command"
bad_profile '{"name":"p1","kind":"web","command":["x","--s={sock}"]}' "an unknown placeholder -> 422" "{sock}"
bad_profile '{"name":"p1","kind":"web","command":["x","{socket"]}' "a lone brace -> 422" "brace"
bad_profile '{"name":"p1","kind":"web","command":["x"],"env":{"KAON_SESSION_SECRET":"x"}}' \
	"an env name kaon sets -> 422" "KAON_SESSION_SECRET"
bad_profile '{"name":"p1","kind":"nope","command":["x"]}' "kind nope -> 422" "kind"
bad_profile '{"name":"p1","kind":"web","command":["x"],"groups":["nosuch'"$RUN_ID"'"]}' \
	"a group that does not exist -> 422" "nosuch"
bad_profile '{"name":"p1","kind":"web","command":["x"],"lifetime_s":7200,"max_lifetime_s":3600}' \
	"max_lifetime_s under lifetime_s -> 422" "max_lifetime_s"
bad_profile '{"name":"p1","kind":"web","command":["x"],"resources":{"cpus":0}}' "0 CPUs -> 422" "resources"
bad_profile '{"name":"p1","kind":"web","command":["x"],"nope":1}' "an unknown field -> 422" "nope"
bad_profile '{"name":"p1","kind":"web","command":["x {socket}","{port}"]}' "{socket} and {port} -> 422" "not both"

api POST /api/v1/profiles "{\"name\":\"nb-students\",\"title\":\"For students\",\"kind\":\"jupyter\",
	\"command\":[\"jupyter-notebook\",\"--NotebookApp.sock={socket}\",\"--NotebookApp.base_url={base_url}\"],
	\"env\":{\"JUPYTER_TOKEN\":\"{secret}\"},\"groups\":[\"students\"],\"resources\":{\"cpus\":1,\"mem_mb\":512}}"
check_status 201 "POST a profile for students only -> 201"
check_schema Profile . "... a Profile"
check_jq '.source == "api" and .groups == ["students"] and .lifetime_s == 28800 and .max_lifetime_s == 86400
	and .idle_timeout_s == 3600 and .position == 100' "... source api, defaults filled in"
api POST /api/v1/profiles '{"name":"nb-students","kind":"web","command":["x"]}'
check_error 409 conflict "POST the same name again -> 409"
api PUT /api/v1/profiles/nb-students "{\"title\":\"Students' notebook\",\"kind\":\"jupyter\",
	\"command\":[\"jupyter-notebook\",\"--NotebookApp.sock={socket}\",\"--NotebookApp.base_url={base_url}\"],
	\"env\":{\"JUPYTER_TOKEN\":\"{secret}\"},\"groups\":[\"students\"],\"resources\":{\"cpus\":1,\"mem_mb\":512}}"
check_status 200 "PUT replaces it -> 200"
check_jq '.title == "Students'"'"' notebook"' "... with the new title"
api PUT /api/v1/profiles/nb-students '{"name":"other","kind":"web","command":["x"]}'
check_error 422 invalid "PUT with another name in the body -> 422"
api PUT /api/v1/profiles/cfg-nb '{"kind":"web","command":["x"]}'
check_error 409 conflict "PUT a profile from the config file -> 409"
api DELETE /api/v1/profiles/cfg-nb
check_error 409 conflict "DELETE a profile from the config file -> 409"
api DELETE /api/v1/profiles/jupyter-cpu
check_error 409 conflict "DELETE a built-in profile -> 409"
api PUT /api/v1/profiles/tmp-web '{"kind":"web","command":["sleep","300","{socket}"]}'
check_status 201 "PUT a new name creates it -> 201"
api DELETE /api/v1/profiles/tmp-web
check_status 204 "DELETE it -> 204"
api DELETE /api/v1/profiles/tmp-web
check_error 404 not_found "DELETE it again -> 404"

use_token "$BOB_TOKEN"
api GET /api/v1/profiles
check_jq '[.profiles[].name] | index("nb-students") and index("jupyter-cpu")' \
	"$BOB (students) is offered nb-students and jupyter-cpu"
use_token "$CAROL_TOKEN"
api GET /api/v1/profiles
check_jq '[.profiles[].name] | (index("nb-students") | not) and index("jupyter-cpu")' \
	"$CAROL ($OUT) is not offered nb-students"
api POST /api/v1/sessions '{"profile":"nb-students"}'
check_error 403 forbidden "$CAROL starting nb-students -> 403"
api POST /api/v1/sessions '{"profile":"nosuch"}'
check_error 404 not_found "an unknown profile -> 404"

# ---- a {port} profile whose session expires: started now, looked at last ----------------
use_token "$ADMIN"
api POST /api/v1/profiles '{"name":"port-web","kind":"web","requires":"/usr/bin/python3",
	"command":["/usr/bin/python3","-m","http.server","--bind","127.0.0.1","{port}"],
	"lifetime_s":60,"max_lifetime_s":60,"idle_timeout_s":0}'
check_status 201 "a profile listening on {port} (python's http.server), 60 s, never idle"
use_token "$DAVE_TOKEN"
api POST /api/v1/sessions '{"profile":"port-web"}'
check_status 201 "$DAVE starts it"
PW=$(jq -r .id <<<"$BODY")
check_session_state "$PW" ready "... it becomes ready (any answer under 500 on its port)" 30
PW_PORT=$(backend_env "$PW" KAON_SESSION_PORT)
check "... its service has KAON_SESSION_PORT and no socket" \
	test "${PW_PORT:-0}" -gt 0 -a -z "$(backend_env "$PW" KAON_SESSION_SOCKET)"
check_eq "$(backend_cmdline "$PW")" "/usr/bin/python3 -m http.server --bind 127.0.0.1 $PW_PORT " \
	"... and {port} in its argv"

# ---- a Jupyter session: ready, its socket, its secret, a kernel ------------------------
use_token "$ALICE_TOKEN"
api POST /api/v1/sessions '{"profile":"jupyter-cpu","name":"nb1","lifetime_s":600}'
check_status 201 "$ALICE starts jupyter-cpu as nb1 -> 201"
check_schema Session . "... a Session"
NB1=$(jq -r .id <<<"$BODY")
check_jq --arg u "/s/$NB1/tree" '.name == "nb1" and .profile == "jupyter-cpu" and .kind == "jupyter"
	and (.state == "pending" or .state == "starting") and .ready == false and .url == $u
	and .lifetime_s == 600 and .max_lifetime_s == 3600 and .end_reason == null' \
	"... pending or starting, url /s/ID/tree, lifetime 600 s, extensible to the group's 3600 s"
check_session_state "$NB1" ready "... becomes ready (Jupyter answers)"
check_schema Session . "... still a Session"
check_jq '.ready == true and (.ready_at | type == "string") and (.expires_at | type == "string")
	and .queue_position == null' "... ready, with ready_at and expires_at"
api GET "/api/v1/jobs/$NB1"
check_jq '.kind == "session" and .resources.walltime_s == 600 and .resources.cpus == 2' \
	"its job has kind session, the profile's resources and the lifetime as wall time"
api GET /api/v1/jobs
check_jq '[.jobs[].kind] | all(. == "batch" or . == "session")' "every job in the list has a kind"

SOCK=$DATA/jobs/$NB1/kaon.sock
check "the backend listens on DATA/jobs/ID/kaon.sock" test -S "$SOCK"
if [ "$(id -u)" = 0 ]; then
	check_eq "$(stat -c '%U %a' "$DATA/jobs/$NB1")" "$ALICE 700" "... in a 0700 directory of $ALICE's"
fi
SECRET=$(backend_env "$NB1" KAON_SESSION_SECRET)
check_eq "${#SECRET}" 43 "the backend has a 32-byte secret (KAON_SESSION_SECRET, base64url)"
check_eq "$(backend_env "$NB1" JUPYTER_TOKEN)" "$SECRET" "... and the same as JUPYTER_TOKEN"
check_eq "$(backend_env "$NB1" KAON_BASE_URL)" "/s/$NB1/" "... KAON_BASE_URL is /s/ID/"
check_eq "$(backend_env "$NB1" KAON_SESSION_SOCKET)" "$SOCK" "... KAON_SESSION_SOCKET names its socket"
check_ne "$(backend_cmdline "$NB1" | grep -c -- "$SECRET")" 1 "... and the secret is not in its argv"
code=$(curl -s -o /dev/null -w '%{http_code}' --unix-socket "$SOCK" "http://localhost/s/$NB1/api/kernels")
check_eq "$code" 403 "a direct request to the backend without the secret -> 403"
code=$(curl -s -o /dev/null -w '%{http_code}' --unix-socket "$SOCK" -H "Authorization: token wrong$RUN_ID" \
	"http://localhost/s/$NB1/api/kernels")
check_eq "$code" 403 "... with a wrong secret -> 403"
code=$(curl -s -o /dev/null -w '%{http_code}' --unix-socket "$SOCK" -H "Authorization: token $SECRET" \
	-H 'Host: kaon.example.org' "http://localhost/s/$NB1/api/status")
check_eq "$code" 200 "... with the secret (and a Host a proxy keeps) -> 200"
out=$($KERNEL "unix:$SOCK" "/s/$NB1/" -H "Authorization: token $SECRET" run '1+1' 2>&1)
check_eq "$out" 2 "a kernel created with the REST API runs 1+1 over its WebSocket: 2"

# The same through kaon's proxy, as its owner: REST to create the kernel,
# then 1+1 over the kernel's WebSocket relayed by kaon.
out=$($KERNEL "$URL" "/s/$NB1/" -H "Authorization: Bearer $ALICE_TOKEN" run '1+1' 2>&1)
check_eq "$out" 2 "through kaon's proxy /s/ID/: a kernel runs 1+1 over the WebSocket: 2"
code=$(curl -s -o /dev/null -w '%{http_code}' -H "Authorization: Bearer $BOB_TOKEN" "$URL/s/$NB1/api/kernels")
check_eq "$code" 403 "another user on the same URL -> 403"
code=$(curl -s -o /dev/null -w '%{http_code}' -H "Authorization: Bearer $BOB_TOKEN" \
	-H 'Connection: Upgrade' -H 'Upgrade: websocket' -H 'Sec-WebSocket-Version: 13' \
	-H 'Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==' "$URL/s/$NB1/api/kernels/x/channels")
check_eq "$code" 403 "... and for a WebSocket -> 403"
code=$(curl -s -o /dev/null -w '%{http_code}' "$URL/s/$NB1/api/kernels")
check_eq "$code" 401 "no credentials -> 401"

# ---- limits: names, max_sessions, lifetimes -------------------------------------------
api POST /api/v1/sessions '{"profile":"jupyter-cpu","name":"nb1"}'
check_error 409 conflict "another live session named nb1 -> 409"
api POST /api/v1/sessions '{"profile":"jupyter-cpu","name":"Nb 1"}'
check_error 422 invalid "a name with a space and a capital -> 422"
api POST /api/v1/sessions '{"profile":"jupyter-cpu","lifetime_s":90000}'
check_error 422 invalid "a lifetime over the profile's max_lifetime_s -> 422"
check_jq '.error.message | contains("max_lifetime_s")' "... naming max_lifetime_s"
api POST /api/v1/sessions '{"profile":"jupyter-cpu","lifetime_s":7200}'
check_error 422 invalid "a lifetime over the group's max_walltime_s -> 422"
check_jq '.error.message | contains("max_walltime_s")' "... naming max_walltime_s"
api POST /api/v1/sessions '{"profile":"jupyter-cpu","options":{"folder":"x"}}'
check_error 422 invalid "an option the profile does not take -> 422"
api POST /api/v1/sessions '{"profile":"jupyter-gpu"}'
check_status 201 "a second session (jupyter-gpu, default name) -> 201"
GPU1=$(jq -r .id <<<"$BODY")
check_jq '.name == "jupyter-gpu" and .resources.gpus == 1' "... named after its profile, with 1 GPU"
api POST /api/v1/sessions '{"profile":"jupyter-cpu","name":"nb3"}'
check_error 422 invalid "a third live session -> 422 (max_sessions 2)"
check_jq '.error.message | contains("max_sessions")' "... naming max_sessions"

# A pending session: the only GPU is taken, so another GPU session queues.
use_token "$DAVE_TOKEN"
api POST /api/v1/sessions '{"profile":"jupyter-gpu","name":"gpu-wait"}'
check_status 201 "$DAVE asks for the GPU too -> 201"
GPU2=$(jq -r .id <<<"$BODY")
sleep 1.5
api GET "/api/v1/sessions/$GPU2"
check_jq '.state == "pending" and .queue_position == 1 and .reason == "resources"
	and (.reason_text | type == "string") and .expires_at == null' \
	"... pending: queue_position 1, waiting for resources"
check_schema Session . "... a Session"

use_token "$ALICE_TOKEN"
api POST "/api/v1/sessions/$GPU1/stop"
check_status 200 "$ALICE stops her GPU session -> 200"
check_jq '.state == "ending" or .state == "cancelled"' "... it is ending"
check_session_state "$GPU1" cancelled "... and ends cancelled" 20
check_jq '.end_reason == "stopped" and (.end_time | type == "string")' "... with end_reason stopped"
api POST "/api/v1/sessions/$GPU1/stop"
check_error 409 conflict "stopping it again -> 409"
use_token "$DAVE_TOKEN"
check_session_state "$GPU2" "starting,ready" "the queued GPU session starts once the GPU is free" 20
use_token "$ADMIN"
api POST "/api/v1/sessions/$GPU2/stop"
check_status 200 "an admin stops it"

# Another user's session.
use_token "$BOB_TOKEN"
api GET "/api/v1/sessions/$NB1"
check_error 403 forbidden "$BOB reading $ALICE's session -> 403"
api POST "/api/v1/sessions/$NB1/stop"
check_error 403 forbidden "$BOB stopping it -> 403"
api GET "/api/v1/sessions?all=1"
check_error 403 forbidden "$BOB listing everyone's -> 403"
use_token "$ADMIN"
api GET "/api/v1/sessions?user=$ALICE"
check_jq --argjson id "$NB1" '[.sessions[].id] | index($id)' "an admin lists $ALICE's sessions"
api GET "/api/v1/sessions/$NB1"
check_status 200 "... and reads one"
api GET "/api/v1/sessions/1000000"
check_error 404 not_found "a session that does not exist -> 404"

# ---- extension ---------------------------------------------------------------------------
use_token "$ALICE_TOKEN"
api GET "/api/v1/sessions/$NB1"
EXP0=$(jq -r .expires_at <<<"$BODY")
api POST "/api/v1/sessions/$NB1/extend" '{"seconds":600}'
check_status 200 "extend nb1 by 600 s (within policy) -> 200"
check_jq '.lifetime_s == 1200' "... lifetime 1200 s"
EXP1=$(jq -r .expires_at <<<"$BODY")
check_eq "$(($(date -d "$EXP1" +%s) - $(date -d "$EXP0" +%s)))" 600 "... expires_at 600 s later"
check_eq "$(tr -d '\n' <"$DATA/jobs/$NB1/walltime" 2>/dev/null)" 1200 "... and its supervisor's wall time is 1200 s"
api GET "/api/v1/jobs/$NB1"
check_jq '.resources.walltime_s == 1200' "... so is its job's"
api POST "/api/v1/sessions/$NB1/extend" '{"seconds":3000}'
check_error 422 invalid "extend beyond the group's max_walltime_s -> 422"
check_jq '.error.message | contains("max_walltime_s") and contains("2400")' \
	"... naming max_walltime_s and what is left (2400 s)"
api POST "/api/v1/sessions/$NB1/extend" '{"seconds":0}'
check_error 422 invalid "extend by 0 s -> 422"

# ---- options: {folder} resolved under the home -------------------------------------------
use_token "$ADMIN"
api POST /api/v1/profiles '{"name":"folder-web","kind":"web","command":["sleep","300"],
	"env":{"LOGDIR":"{folder}","SOCK":"{socket}"},"lifetime_s":120,"max_lifetime_s":120}'
check_status 201 "a profile that takes a folder (and never answers)"
check_jq '.options == ["folder"]' "... its options: folder"
use_token "$ALICE_TOKEN"
api POST "/api/v1/files/runs$RUN_ID" '{"op":"mkdir"}'
check_status 201 "$ALICE makes a folder runs/"
api POST "/api/v1/files/runs$RUN_ID/a.txt" '{"op":"create"}'
api POST /api/v1/sessions '{"profile":"folder-web","options":{"folder":"../../etc"}}'
check_error 422 invalid "folder ../../etc -> 422"
api POST /api/v1/sessions '{"profile":"folder-web","options":{"folder":"nosuch'"$RUN_ID"'"}}'
check_error 404 not_found "a folder that does not exist -> 404"
api POST /api/v1/sessions "{\"profile\":\"folder-web\",\"options\":{\"folder\":\"runs$RUN_ID/a.txt\"}}"
check_error 422 invalid "a file as the folder -> 422"
api POST /api/v1/sessions "{\"profile\":\"folder-web\",\"name\":\"fw\",\"options\":{\"folder\":\"runs$RUN_ID/\"}}"
check_status 201 "folder runs/ -> 201"
FW=$(jq -r .id <<<"$BODY")
check_jq --arg f "runs$RUN_ID/" '.options.folder == $f' "... the option is kept"
api GET /api/v1/me
HOME_A=$(jq -r .home <<<"$BODY")
wait_session "$FW" starting 20
check_eq "$(backend_env "$FW" LOGDIR)" "$HOME_A/runs$RUN_ID" "... {folder} is the folder under the home"
check_session_state "$FW" cancelled "a service that never answers is cancelled after start_timeout_s" 40
check_jq '.end_reason == "failed"' "... with end_reason failed"

# ---- idle culling: a busy kernel keeps its session --------------------------------------
use_token "$DAVE_TOKEN"
api POST /api/v1/sessions '{"profile":"cfg-nb","name":"busy"}'
check_status 201 "two cfg-nb sessions (idle timeout 5 s): busy ..."
BUSY=$(jq -r .id <<<"$BODY")
api POST /api/v1/sessions '{"profile":"cfg-nb","name":"idle"}'
check_status 201 "... and idle"
IDLE=$(jq -r .id <<<"$BODY")
wait_session "$BUSY" ready 60 && wait_session "$IDLE" ready 60
check_eq "$?" 0 "both become ready"
SECRET_B=$(backend_env "$BUSY" KAON_SESSION_SECRET)
out=$($KERNEL "unix:$DATA/jobs/$BUSY/kaon.sock" "/s/$BUSY/" -H "Authorization: token $SECRET_B" \
	busy 'import time; time.sleep(15)' 2>&1)
check_eq "$out" busy "busy: a kernel runs time.sleep(15)"
check_session_state "$IDLE" "ending,cancelled" "idle: stopped after 5 s without activity" 15
check_session_state "$IDLE" cancelled "... it ends cancelled" 15
check_jq '.end_reason == "idle"' "... with end_reason idle"
api GET "/api/v1/sessions/$BUSY"
check_jq '.state == "ready" and .end_reason == null' "busy: still ready while its kernel works"
check_jq '(.last_activity | fromdateiso8601) > (.ready_at | fromdateiso8601)' \
	"... its last_activity moved past ready_at"
check_session_state "$BUSY" "ending,cancelled" "busy: culled once the kernel is idle for 5 s" 30
check_jq '.end_reason == "idle"' "... with end_reason idle"

# ---- the built-in shell profile (kaon session-shell) ---------------------------------------
use_token "$DAVE_TOKEN"
api POST /api/v1/sessions '{"profile":"shell"}'
check_status 201 "$DAVE starts a shell session"
SH=$(jq -r .id <<<"$BODY")
check_session_state "$SH" ready "... it becomes ready (kaon session-shell answers)" 30
check_jq --arg u "/s/$SH/" '.url == $u and .kind == "shell"' "... at /s/ID/"
api POST "/api/v1/sessions/$SH/stop"
check_session_state "$SH" cancelled "... and ends when stopped" 20

# ---- a kill -9 of the daemon keeps a ready session ready and usable ---------------------
use_token "$ALICE_TOKEN"
api GET "/api/v1/sessions/$NB1"
READY_AT=$(jq -r .ready_at <<<"$BODY")
kill -9 "$SERVER_PID"
wait "$SERVER_PID" 2>/dev/null
SERVER_PID=
start_server --config "$T/kaon.ini" || { fail "server starts again after kill -9"; finish; }
api GET "/api/v1/sessions/$NB1"
check_jq --arg r "$READY_AT" '.state == "ready" and .ready_at == $r' "after kill -9 and a start, nb1 is still ready"
out=$($KERNEL "unix:$SOCK" "/s/$NB1/" -H "Authorization: token $SECRET" run '40+2' 2>&1)
check_eq "$out" 42 "... and its backend still runs code: 42"
out=$($KERNEL "$URL" "/s/$NB1/" -H "Authorization: Bearer $ALICE_TOKEN" run '40+2' 2>&1)
check_eq "$out" 42 "... and through the restarted daemon's proxy too: 42"
api POST "/api/v1/sessions/$NB1/extend" '{"seconds":60}'
check_jq '.lifetime_s == 1260' "... and can still be extended"
check_eq "$(tr -d '\n' <"$DATA/jobs/$NB1/walltime" 2>/dev/null)" 1260 "... through its supervisor"

# ---- the CLI ------------------------------------------------------------------------------
export KAON_URL=$URL KAON_TOKEN=$ALICE_TOKEN
kcli profiles
cli_ok "kaon profiles"
check "... lists jupyter-cpu with its limits" grep -qE '^jupyter-cpu +Jupyter Notebook \(CPU\) +2 +4G +0 +1h +1h +1h' <<<"$OUT"
kcli profiles --json
out_jq '.profiles | length > 0' "kaon profiles --json"
kcli sessions
cli_ok "kaon sessions"
check "... shows nb1, ready, with its URL" grep -qE "^$NB1 +nb1 +jupyter-cpu +$ALICE +ready +[0-9hms]+ +$URL/s/$NB1/tree\$" <<<"$OUT"
kcli sessions --ended --json
out_jq --argjson id "$GPU1" '[.sessions[] | select(.id == $id)][0].end_reason == "stopped"' \
	"kaon sessions --ended --json includes the stopped one"
kcli open nb1
cli_ok "kaon open NAME of a live session"
check_eq "$OUT" "$URL/s/$NB1/tree" "... prints its full URL"
kcli open "$NB1" --json
out_jq --argjson id "$NB1" '.id == $id and .ready' "kaon open ID --json"
kcli open jupyter-cpu --name cli1 --lifetime 10m
cli_ok "kaon open jupyter-cpu --name cli1 --lifetime 10m"
CLI1=$(sed -nE 's|.*/s/([0-9]+)/tree$|\1|p' <<<"$OUT")
check "... waits until ready and prints the URL" test -n "$CLI1"
check "... saying what it does on stderr" grep -q "started from profile jupyter-cpu" <<<"$ERR"
kcli open jupyter-cpu --name cli2
cli_fails "kaon open over max_sessions fails"
check "... naming the limit" grep -q max_sessions <<<"$ERR"
kcli extend cli1 5m
cli_ok "kaon extend cli1 5m"
check "... says the new lifetime" grep -q "lifetime 15m" <<<"$OUT"
kcli extend cli1 30d
cli_fails "kaon extend beyond policy fails"
kcli extend cli1 soon
cli_usage "kaon extend with a bad duration is a usage error"
kcli stop cli1 nosuch
cli_fails "kaon stop cli1 nosuch: stops cli1, fails on nosuch"
check "... cli1 is stopping" grep -q "Stopping session $CLI1 (cli1)" <<<"$OUT"
check_session_state "$CLI1" cancelled "... and ends" 20
kcli open nosuch-profile
cli_fails "kaon open of an unknown profile fails"

# kaon open of a session that has to queue: the GPU is $DAVE's.
use_token "$DAVE_TOKEN"
api POST /api/v1/sessions '{"profile":"jupyter-gpu","name":"hold"}'
HOLD=$(jq -r .id <<<"$BODY")
wait_session "$HOLD" "starting,ready" 20
timeout 90 "$KAON" open jupyter-gpu --name queued >"$T/open.out" 2>"$T/open.err" &
OPEN_PID=$!
sleep 2
api POST "/api/v1/sessions/$HOLD/stop"
wait "$OPEN_PID"
check_eq "$?" 0 "kaon open of a queued session waits until it is ready"
check "... telling its queue position on stderr" grep -q "queued, position 1" "$T/open.err"
QUEUED=$(sed -nE 's|^.*/s/([0-9]+)/tree$|\1|p' "$T/open.out")
check "... then prints its URL" test -n "$QUEUED"
kcli stop queued --json
out_jq --argjson id "${QUEUED:-0}" '.sessions[0].id == $id' "kaon stop NAME --json"
unset KAON_URL KAON_TOKEN

use_token "$DAVE_TOKEN"
check_session_state "$PW" timeout "the 60 s session ends by its wall time" 90
check_jq '.end_reason == "expired"' "... with end_reason expired"

use_token "$ALICE_TOKEN"
api POST "/api/v1/sessions/$NB1/stop"
check_status 200 "stop nb1"
check_session_state "$NB1" cancelled "... it ends" 20
cancel_live_jobs
stop_server
finish
