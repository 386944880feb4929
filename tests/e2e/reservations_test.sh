#!/usr/bin/env bash
# reservations_test — GPU reservations (docs/reservations.md) through the
# API and the CLI on a node with 4 fake GPUs: booking and the exact GPUs
# it gets, every refusal of the group booking policy (GPUs, length, how
# far ahead, how many at once, a group that may not book), malformed and
# impossible requests, a collision answered 409 with the nearest windows
# (after and before the asked start), concurrent bookings of the same
# GPUs (one wins), changes and cancellation, others' notes hidden, the
# approval flow (pending -> approved / rejected) with notifications and
# non-admins refused, a running job's GPUs counted as busy until its wall
# time, and the CLI verbs (reserve, reservations, unreserve, reservation
# approve/reject).
. "$(dirname "$0")/lib.sh"

cat >"$T/kaon.ini" <<'EOF'
[node]
fake_gpus = 4
oversubscribe = 2
EOF
start_server --config "$T/kaon.ini" || { fail "server starts"; finish; }
ADMIN=$(admin_token) || { fail "admin token"; finish; }
ALICE=alice$RUN_ID BOB=bob$RUN_ID CARL=carl$RUN_ID DORA=dora$RUN_ID TIGHT=tight$RUN_ID

# iso SECONDS_FROM_NOW — an RFC 3339 UTC time.
iso() { date -u -d "@$(($(date +%s) + $1))" +%Y-%m-%dT%H:%M:%SZ; }
# epoch RFC3339 — Unix seconds.
epoch() { date -u -d "$1" +%s; }
# book TOKEN JSON — POST /api/v1/reservations as TOKEN; RID gets the id.
book() {
	use_token "$1"
	api POST /api/v1/reservations "$2"
	RID=$(jq -r '.id // empty' <<<"$BODY" 2>/dev/null)
}
# refused TOKEN JSON STATUS CODE DESC [TEXT] — the booking is refused so,
# and the message contains TEXT.
refused() {
	book "$1" "$2"
	check_error "$3" "$4" "$5"
	if [ $# -ge 6 ]; then
		check_jq --arg t "$6" '.error.message | contains($t)' "... the message says '$6'"
	fi
}

# ---- users, groups and the booking policy in the group API -----------------------------------
use_token "$ADMIN"
api GET /api/v1/groups/students
check_schema Group . "GET /groups/students is a Group with the booking policy"
check_jq '.resv_max_gpus == 1 and .resv_max_s == 28800 and .resv_max_ahead_s == 1209600
	and .resv_max_active == 1 and .resv_approval == true' \
	"students: 1 GPU, 8 h, 14 days ahead, 1 at once, approval (schema v4 defaults)"
api GET /api/v1/groups/researchers
check_jq '.resv_max_gpus == 8 and .resv_max_s == 604800 and .resv_max_ahead_s == 7776000
	and .resv_max_active == 4 and .resv_approval == false' \
	"researchers: 8 GPUs, 7 days, 90 days ahead, 4 at once, no approval"
api POST /api/v1/groups "{\"name\":\"$TIGHT\",\"resv_max_gpus\":2,\"resv_max_s\":3600,\"resv_max_ahead_s\":86400,\"resv_max_active\":1}"
check_status 201 "a group with booking limits is created"
check_jq '.resv_max_gpus == 2 and .resv_approval == false' "... and shows them"
api POST /api/v1/groups "{\"name\":\"open$RUN_ID\"}"
check_jq '.resv_max_gpus == null and .resv_max_s == null and .resv_max_ahead_s == null
	and .resv_max_active == null and .resv_approval == false' "a new group books without limits by default"
api PATCH "/api/v1/groups/$TIGHT" '{"resv_max_gpus":-1}'
check_error 422 invalid "a negative booking limit -> 422"
api PATCH "/api/v1/groups/$TIGHT" '{"resv_approval":"yes"}'
check_error 422 invalid "resv_approval must be a boolean -> 422"
api PATCH "/api/v1/groups/$TIGHT" '{"resv_max_active":null}'
check_jq '.resv_max_active == null and .resv_max_gpus == 2' "PATCH sets one booking limit to null, keeps the others"
api PATCH "/api/v1/groups/$TIGHT" '{"resv_max_active":1}'

for u in "$ALICE:researchers" "$BOB:students" "$CARL:guests" "$DORA:$TIGHT"; do
	api POST /api/v1/users "{\"username\":\"${u%%:*}\",\"password\":\"pw-${u%%:*}\",\"groups\":[\"${u#*:}\"]}"
	check_status 201 "user ${u%%:*} in ${u#*:}"
done
ALICE_T=$(new_token "$ALICE" "pw-$ALICE") || fail "token for alice"
BOB_T=$(new_token "$BOB" "pw-$BOB") || fail "token for bob"
CARL_T=$(new_token "$CARL" "pw-$CARL") || fail "token for carl"
DORA_T=$(new_token "$DORA" "pw-$DORA") || fail "token for dora"

use_token "$ADMIN"
api GET /api/v1/nodes
NODE=$(jq -r '.nodes[0].name' <<<"$BODY")
NCPUS=$(jq -r '.nodes[0].cpus' <<<"$BODY")
MEM=$(jq -r '.nodes[0].mem_mb' <<<"$BODY")

# ---- a booking -------------------------------------------------------------------------------
book "$ALICE_T" "{\"gpus\":2,\"start\":\"$(iso 3600)\",\"duration_s\":7200,\"note\":\"deadline\"}"
check_status 201 "alice books 2 GPUs in an hour for 2 h -> 201"
check_schema Reservation . "... the answer is a Reservation"
R1=$RID
check_jq --arg u "$ALICE" --arg n "$NODE" '.user == $u and .group == "researchers" and .node == $n
	and .gpus == 2 and .gpu_indices == [0,1] and .state == "approved" and .phase == "upcoming"
	and .note == "deadline" and .mine == true and .use.jobs == 0 and .use.reserved_gpu_seconds == 14400' \
	"... approved, GPUs 0 and 1, upcoming, her note"
check_jq --argjson c "$((NCPUS * 2 * 2 / 4))" --argjson m "$((MEM * 2 / 4))" '.cpus == $c and .mem_mb == $m' \
	"... with the node's CPUs (× oversubscribe) and memory in proportion: half"
R1_START=$(jq -r .start <<<"$BODY") R1_END=$(jq -r .end <<<"$BODY")
check_eq "$(($(epoch "$R1_END") - $(epoch "$R1_START")))" 7200 "... lasting duration_s"

book "$ALICE_T" "{\"gpus\":2,\"start\":\"$R1_START\",\"end\":\"$R1_END\"}"
check_status 201 "a second booking of 2 GPUs at the same time fits -> 201"
check_jq '.gpu_indices == [2,3]' "... on GPUs 2 and 3"
R2=$RID
book "$ALICE_T" "{\"gpus\":1,\"start\":$(($(epoch "$R1_START") + 600)),\"duration_s\":600}"
check_error 409 conflict "a third inside the same window -> 409 conflict"
check_schema ReservationConflict . "... the answer is a ReservationConflict"
check_jq --arg s "$R1_START" --arg e "$R1_END" '.error.windows | length == 3 and .[0].end == $s
	and (.[0].gpu_indices | length) == 1 and any(.[]; .start == $e)' \
	"... the nearest windows: ending where they begin (10 min before the asked start), and from their end"
use_token "$ALICE_T"
api POST "/api/v1/reservations/$R2/cancel"
check_status 200 "alice cancels the second -> 200"
check_jq '.state == "cancelled" and .phase == null' "... it is cancelled"
api POST "/api/v1/reservations/$R2/cancel"
check_error 409 conflict "cancelling it again -> 409"

# 4 GPUs from 3 h to 5 h from now, then ask 4 GPUs 4 h..6 h: the nearest
# windows are after it (5 h), before it (ending at 3 h) and now.
book "$ALICE_T" "{\"gpus\":4,\"start\":\"$(iso 10800)\",\"duration_s\":7200}"
check_status 201 "alice books all 4 GPUs from 3 h to 5 h -> 201"
R3=$RID R3_START=$(jq -r .start <<<"$BODY") R3_END=$(jq -r .end <<<"$BODY")
use_token "$ALICE_T"
api POST "/api/v1/reservations/$R1/cancel"
book "$ALICE_T" "{\"gpus\":4,\"start\":$(($(epoch "$R3_START") + 3600)),\"duration_s\":7200}"
check_error 409 conflict "4 GPUs from 4 h to 6 h -> 409"
check_jq --arg s "$R3_START" --arg e "$R3_END" '.error.windows | length == 3
	and .[0].start == $e and .[1].end == $s and .[0].gpu_indices == [0,1,2,3]' \
	"... windows: right after it, then one ending where it begins (before the asked start)"
check_jq '.error.windows[2].start < .error.windows[1].start' "... then the earliest, now"

# ---- malformed and impossible requests ------------------------------------------------------
use_token "$ALICE_T"
api POST /api/v1/reservations '{"gpus":1,'
check_error 400 malformed_json "malformed JSON -> 400"
refused "$ALICE_T" "{\"gpus\":1,\"start\":\"$(iso -3600)\",\"duration_s\":600}" 422 invalid \
	"a start an hour ago -> 422" "past"
refused "$ALICE_T" "{\"gpus\":1,\"start\":\"$(iso 7200)\",\"end\":\"$(iso 3600)\"}" 422 invalid \
	"an end before the start -> 422" "after the start"
refused "$ALICE_T" "{\"gpus\":1,\"start\":\"$(iso 3600)\",\"end\":\"$(iso 7200)\",\"duration_s\":60}" 422 invalid \
	"both end and duration_s -> 422" "not both"
refused "$ALICE_T" "{\"gpus\":1,\"start\":\"$(iso 3600)\"}" 422 invalid "neither end nor duration_s -> 422"
refused "$ALICE_T" '{"gpus":1,"start":"tomorrow","duration_s":60}' 422 invalid "a start that is not RFC 3339 -> 422" "RFC 3339"
refused "$ALICE_T" '{"gpus":1,"start":"2026-02-30T10:00:00Z","duration_s":60}' 422 invalid "February 30th -> 422"
refused "$ALICE_T" "{\"gpus\":5,\"start\":\"$(iso 3600)\",\"duration_s\":600}" 422 invalid \
	"5 GPUs on a node with 4 -> 422" "has 4 GPUs"
refused "$ALICE_T" "{\"gpus\":1,\"start\":\"$(iso 3600)\",\"duration_s\":600,\"gpu_model\":\"h100\"}" 422 invalid \
	"a GPU model the node lacks -> 422" "h100"
refused "$ALICE_T" "{\"gpus\":1,\"start\":\"$(iso 3600)\",\"duration_s\":600,\"node\":\"nosuch\"}" 422 invalid \
	"an unknown node -> 422" "nosuch"
refused "$ALICE_T" "{\"gpus\":1,\"start\":\"$(iso 3600)\",\"duration_s\":600,\"colour\":1}" 422 invalid "an unknown field -> 422"
refused "$ALICE_T" "{\"gpus\":0,\"start\":\"$(iso 3600)\",\"duration_s\":600}" 422 invalid "0 GPUs -> 422"
refused "$ALICE_T" "{\"gpus\":1,\"start\":\"$(iso 3600)\",\"duration_s\":600,\"user\":\"$BOB\"}" 403 forbidden \
	"a non-admin booking for someone else -> 403"
book "$ALICE_T" "{\"gpus\":1,\"start\":\"$(iso -30)\",\"duration_s\":600,\"gpu_model\":\"fake\"}"
check_status 201 "a start 30 s ago is taken as now; model 'fake' matches 'Fake GPU' -> 201"
check_jq '.phase == "active" and .gpu_model == "fake"' "... it is active"
check_jq --argjson now "$(date +%s)" '(.start | fromdateiso8601) >= $now - 5' "... starting now"
R4=$RID
use_token "$ALICE_T"
api PATCH "/api/v1/reservations/$R4" "{\"start\":\"$(iso 600)\"}"
check_error 422 invalid "an active reservation's start cannot move -> 422"
api PATCH "/api/v1/reservations/$R4" '{"duration_s":1200}'
check_status 200 "... its end can: 200"
check_jq '((.end | fromdateiso8601) - (.start | fromdateiso8601)) == 1200' "... 20 minutes now"
api POST "/api/v1/reservations/$R4/cancel"

# ---- the group booking policy -----------------------------------------------------------------
refused "$CARL_T" "{\"gpus\":1,\"start\":\"$(iso 3600)\",\"duration_s\":600}" 422 limit \
	"guests may not book -> 422 limit" "group guests may not book GPUs (resv_max_gpus 0)"
refused "$DORA_T" "{\"gpus\":3,\"start\":\"$(iso 3600)\",\"duration_s\":600}" 422 limit \
	"3 GPUs over the group's 2 -> 422 limit" "group $TIGHT books at most 2 GPUs per reservation (resv_max_gpus 2)"
refused "$DORA_T" "{\"gpus\":1,\"start\":\"$(iso 3600)\",\"duration_s\":7200}" 422 limit \
	"2 h over the group's 1 h -> 422 limit" "group $TIGHT books at most 1h per reservation (resv_max_s 3600)"
refused "$DORA_T" "{\"gpus\":1,\"start\":\"$(iso 172800)\",\"duration_s\":600}" 422 limit \
	"2 days ahead over the group's 1 day -> 422 limit" "at most 1d ahead (resv_max_ahead_s 86400)"
book "$DORA_T" "{\"gpus\":2,\"start\":\"$(iso 600)\",\"duration_s\":3600}"
check_status 201 "within every limit -> 201"
check_jq '.state == "approved"' "... approved at once (no approval in the group)"
DR=$RID
refused "$DORA_T" "{\"gpus\":1,\"start\":\"$(iso 7200)\",\"duration_s\":600}" 422 limit \
	"a second one at once over resv_max_active 1 -> 422 limit" "(resv_max_active 1)"
use_token "$DORA_T"
api PATCH "/api/v1/reservations/$DR" '{"duration_s":7200}'
check_error 422 limit "a change beyond the group's length -> 422 limit"
api PATCH "/api/v1/reservations/$DR" '{"gpus":1,"note":"smaller"}'
check_status 200 "a change within the limits -> 200"
check_jq '.gpus == 1 and .note == "smaller" and .state == "approved"' "... changed, still approved"
api POST "/api/v1/reservations/$DR/cancel"
book "$ADMIN" "{\"gpus\":4,\"start\":\"$(iso 172800)\",\"duration_s\":7200,\"user\":\"$DORA\"}"
check_status 201 "an admin books for dora beyond her group's limits -> 201"
check_jq --arg u "$DORA" '.user == $u and .state == "approved" and .mine == false' "... in her name, approved"
ADMIN_R=$RID

# ---- the approval flow and notifications --------------------------------------------------
book "$BOB_T" "{\"gpus\":1,\"start\":\"$(iso 86400)\",\"duration_s\":3600,\"note\":\"bob's secret\"}"
check_status 201 "bob (students) books 1 GPU -> 201"
check_jq '.state == "pending" and .reviewed_by == null' "... pending: his group needs approval"
B1=$RID
use_token "$BOB_T"
api POST "/api/v1/reservations/$B1/approve" '{}'
check_error 403 forbidden "bob cannot approve his own -> 403"
api POST "/api/v1/reservations/$B1/reject"
check_error 403 forbidden "... nor reject it -> 403"
use_token "$ALICE_T"
api GET "/api/v1/reservations/$B1"
check_jq '.note == null and .mine == false and .user != null' "alice sees bob's reservation but not his note"
use_token "$ADMIN"
api GET "/api/v1/reservations/$B1"
check_jq '.note == "bob'"'"'s secret"' "an admin sees the note"
api POST "/api/v1/reservations/$B1/approve" '{"note":"enjoy"}'
check_status 200 "the admin approves -> 200"
check_jq '.state == "approved" and .reviewed_by == "admin" and .review_note == "enjoy" and .reviewed_at != null' \
	"... approved, by admin, with the note"
api POST "/api/v1/reservations/$B1/approve"
check_error 409 conflict "approving it again -> 409"
use_token "$BOB_T"
api GET /api/v1/notifications
check_schema NotificationList . "GET /notifications is a NotificationList"
check_jq --arg l "/calendar?r=$B1" '.unread == 1 and .notifications[0].kind == "reservation_approved"
	and .notifications[0].link == $l and (.notifications[0].text | contains("enjoy"))
	and .notifications[0].read == false' "bob has an unread reservation_approved with the note and a link"
NID=$(jq -r '.notifications[0].id' <<<"$BODY")
use_token "$ALICE_T"
api GET /api/v1/notifications
check_jq '.unread == 0 and (.notifications | length) == 0' "alice has none of bob's notifications"
api POST /api/v1/notifications/read "{\"ids\":[$NID]}"
check_status 204 "alice marking bob's notification read -> 204"
use_token "$BOB_T"
api GET /api/v1/notifications
check_jq '.unread == 1' "... it stays unread for bob"
api POST /api/v1/notifications/read "{\"ids\":[$NID]}"
check_status 204 "bob marks it read -> 204"
api GET /api/v1/notifications
check_jq '.unread == 0 and .notifications[0].read == true' "... read"
api POST /api/v1/notifications/read '{"ids":["x"]}'
check_error 422 invalid "ids that are not ids -> 422"
api GET '/api/v1/notifications?limit=0'
check_error 400 invalid "limit=0 -> 400"

api PATCH "/api/v1/reservations/$B1" '{"duration_s":1800}'
check_status 200 "bob shortens his approved reservation -> 200"
check_jq '.state == "pending" and .reviewed_by == null' "... pending again: a new time needs a new approval"
api PATCH "/api/v1/reservations/$B1" '{"note":"only the note"}'
check_jq '.state == "pending"' "a note-only change is just saved"
use_token "$ALICE_T"
api PATCH "/api/v1/reservations/$B1" '{"note":"alice was here"}'
check_error 403 forbidden "alice cannot change bob's reservation -> 403"
api POST "/api/v1/reservations/$B1/cancel"
check_error 403 forbidden "... nor cancel it -> 403"
use_token "$ADMIN"
api POST "/api/v1/reservations/$B1/reject" '{"note":"the deadline moved"}'
check_status 200 "the admin rejects it -> 200"
check_jq '.state == "rejected" and .review_note == "the deadline moved"' "... rejected with the note"
use_token "$BOB_T"
api GET /api/v1/notifications
check_jq '.unread == 1 and .notifications[0].kind == "reservation_rejected"
	and (.notifications[0].text | contains("the deadline moved"))' "bob is told it was rejected, and why"
api POST /api/v1/notifications/read '{}'
api GET /api/v1/notifications
check_jq '.unread == 0' "{} marks all read"
book "$BOB_T" "{\"gpus\":1,\"start\":\"$(iso 7200)\",\"duration_s\":1800}"
check_status 201 "a rejected one no longer counts against resv_max_active -> 201"
B2=$RID

# ---- the calendar -------------------------------------------------------------------------------
use_token "$BOB_T"
api GET /api/v1/reservations
check_schema ReservationList . "GET /reservations is a ReservationList"
check_jq --argjson a "$R3" --argjson b "$B2" '[.reservations[].id] | index($a) != null and index($b) != null' \
	"everyone's live reservations are on the calendar"
check_jq --argjson r "$R2" '[.reservations[].id] | index($r) == null' "... cancelled ones are not, by default"
check_jq '[.reservations[] | select(.mine | not) | .note] | all(. == null)' "... others' notes are null"
check_jq '[.reservations[].start] == ([.reservations[].start] | sort)' "... ordered by start"
api GET '/api/v1/reservations?mine=1'
check_jq --argjson b "$B2" '[.reservations[].id] == [$b]' "?mine=1: only bob's live one"
api GET '/api/v1/reservations?mine=1&state=rejected'
check_jq --argjson b "$B1" '[.reservations[].id] == [$b]' "?state=rejected: his rejected one"
api GET "/api/v1/reservations?from=$(iso 100000)&to=$(iso 200000)"
check_jq --argjson r "$ADMIN_R" '[.reservations[].id] == [$r]' "?from&to: only what overlaps the window"
api GET '/api/v1/reservations?state=bogus'
check_error 400 invalid "an unknown state -> 400"
api GET '/api/v1/reservations?from=yesterday'
check_error 400 invalid "a bad from -> 400"
api GET '/api/v1/reservations/999999'
check_error 404 not_found "an unknown reservation -> 404"

# ---- concurrent bookings of the same GPUs: exactly one wins --------------------------------------
S=$(iso 500000)
pids=()
for i in 1 2 3 4; do
	curl "${CURL_OPTS[@]}" -o /dev/null -w '%{http_code}\n' -H "Authorization: Bearer $ALICE_T" \
		-H 'Content-Type: application/json' --data-binary "{\"gpus\":4,\"start\":\"$S\",\"duration_s\":3600}" \
		"$URL/api/v1/reservations" >"$T/race.$i" &
	pids+=($!)
done
wait "${pids[@]}" # not a bare wait: the daemon is a child of this shell too
check_eq "$(cat "$T"/race.* | sort | tr '\n' ' ')" "201 409 409 409 " "4 concurrent bookings of all GPUs: one 201, three 409"

# ---- a running job's GPUs are busy until its wall time ----------------------------------------------
use_token "$ADMIN"
for id in $(curl "${CURL_OPTS[@]}" -H "Authorization: Bearer $ADMIN" "$URL/api/v1/reservations?from=$(iso -100)&to=$(iso 2000000)" |
	jq -r '.reservations[] | select(.state == "pending" or .state == "approved") | .id'); do
	api POST "/api/v1/reservations/$id/cancel"
done
use_token "$ALICE_T"
submit '{"command":["sleep","60"],"resources":{"gpus":4,"walltime_s":3600}}' || fail "submit a 4-GPU job"
if job_wait "$JOB" running 20; then
	JSTART=$(jq -r .start_time <<<"$BODY")
	book "$ALICE_T" "{\"gpus\":1,\"start\":\"$(iso 0)\",\"duration_s\":600}"
	check_error 409 conflict "while a job holds every GPU, booking now -> 409"
	check_jq --argjson e "$(($(epoch "$JSTART") + 3600))" '(.error.windows[0].start | fromdateiso8601) == $e' \
		"... the nearest window starts at the end of the job's wall time"
	book "$ALICE_T" "{\"gpus\":1,\"start\":$(($(epoch "$JSTART") + 3600)),\"duration_s\":600}"
	check_status 201 "... booking from then on -> 201"
	use_token "$ALICE_T"
	api POST "/api/v1/reservations/$RID/cancel"
else
	fail "the 4-GPU job runs"
	last_request
fi
cancel_live_jobs 2>/dev/null

# ---- the CLI ---------------------------------------------------------------------------------
export KAON_URL=$URL KAON_TOKEN=$ALICE_T TZ=UTC
kcli reserve --gpus 2 --from "+1d" --for 1h30m --note "cli booking"
cli_ok "kaon reserve --gpus 2 --from +1d --for 1h30m"
check "... says what it booked" grep -qE '^Booked reservation [0-9]+: 2 GPUs \(0,1\) on .*, approved$' <<<"$OUT"
C1=$(sed -nE 's/^Booked reservation ([0-9]+):.*/\1/p' <<<"$OUT")
kcli reserve --gpus 4 --from "$(date -u -d @$(($(date +%s) + 86400 + 1800)) '+%Y-%m-%d %H:%M')" --until +1h --json
check_eq "$RC" 1 "kaon reserve into a taken window exits 1"
check "... one 'kaon: ...' error line" test "$(grep -c '' <<<"$ERR")" = 1 -a "${ERR:0:5}" = "kaon:"
check "... and prints the free windows with the command that books each" \
	grep -qE "^  .* on .* \(GPUs 0,1,2,3\): kaon reserve --gpus 4 --from '[0-9-]+ [0-9:]+' --for 1h$" <<<"$OUT"
kcli reserve --gpus 1 --from "tomorrow 9:00" --until "today 8:00"
cli_usage "--until before --from -> usage error"
kcli reserve --gpus 1 --from "someday" --for 1h
cli_usage "an unreadable --from -> usage error"
check "... naming what it reads" grep -q "tomorrow" <<<"$ERR"
kcli reserve --gpus 1 --from now
cli_usage "neither --for nor --until -> usage error"
kcli reserve --gpus 1 --from "$(date -u -d @$(($(date +%s) + 5 * 86400)) '+%a') 10:00" --for 30m --json
cli_ok "kaon reserve --from 'WEEKDAY 10:00' --json"
out_jq '.state == "approved" and (.start | endswith("T10:00:00Z"))' "... at 10:00 (TZ=UTC) of that weekday"
C2=$(jq -r .id <<<"$OUT")
kcli reservations
cli_ok "kaon reservations"
check "... lists her booking with its note" grep -qE "^$C1 +$ALICE +2 \(0,1\) .*approved +upcoming +cli booking" <<<"$OUT"
KAON_TOKEN=$BOB_T kcli reservations --all --json
out_jq --argjson c "$C1" '[.reservations[] | select(.id == $c) | .note] == [null]' \
	"kaon reservations --all (bob): alice's booking without its note"
kcli unreserve "$C1" "$C2"
cli_ok "kaon unreserve ID ID"
check "... says so" grep -qE "^Cancelled reservation $C1: .*cancelled$" <<<"$OUT"
kcli unreserve "$C1"
cli_fails "kaon unreserve of a cancelled one fails"
kcli unreserve abc
cli_usage "kaon unreserve abc -> usage error"

KAON_TOKEN=$BOB_T kcli reserve --gpus 1 --from +2d --for 1h
check "bob's CLI booking is pending an approval" grep -q "pending (an admin must approve it" <<<"$OUT"
BR=$(sed -nE 's/^Booked reservation ([0-9]+):.*/\1/p' <<<"$OUT")
KAON_TOKEN=$BOB_T kcli reservation approve "$BR"
cli_fails "bob cannot approve with the CLI"
KAON_TOKEN=$ADMIN kcli reservation approve "$BR" --note "ok from cli"
cli_ok "kaon reservation approve ID --note (admin)"
check "... approved" grep -qE "^Approved reservation $BR: .*approved$" <<<"$OUT"
KAON_TOKEN=$ADMIN kcli reservation reject "$BR"
cli_fails "rejecting an approved one fails"
use_token "$BOB_T"
api GET /api/v1/notifications
check_jq '.notifications[0].kind == "reservation_approved" and (.notifications[0].text | contains("ok from cli"))' \
	"bob is notified with the admin's note"
KAON_TOKEN=$BOB_T kcli unreserve "$BR"
KAON_TOKEN=$ADMIN kcli admin groups update "$TIGHT" --resv-max-gpus 3 --resv-max-length 2h --resv-max-ahead 7d --resv-max-active none --resv-approval yes
cli_ok "kaon admin groups update --resv-* flags"
KAON_TOKEN=$ADMIN kcli admin groups show "$TIGHT" --json
out_jq '.resv_max_gpus == 3 and .resv_max_s == 7200 and .resv_max_ahead_s == 604800
	and .resv_max_active == null and .resv_approval == true' "... set the group's booking policy"
KAON_TOKEN=$ADMIN kcli admin groups show "$TIGHT"
check "... kaon admin groups show prints it" grep -qE '^resv-max-length: +2h' <<<"$OUT"
check "... and the approval" grep -qE '^resv-approval: +yes' <<<"$OUT"
KAON_TOKEN=$ADMIN kcli admin groups update "$TIGHT" --resv-approval maybe
cli_usage "--resv-approval maybe -> usage error"
kcli reservation
check "kaon reservation without a command -> exit 2 listing approve and reject" \
	test "$RC" = 2 -a "${ERR:0:5}" = "kaon:" -a -n "$(grep 'kaon reservation reject' <<<"$ERR")"
unset KAON_URL KAON_TOKEN TZ

stop_server
finish
