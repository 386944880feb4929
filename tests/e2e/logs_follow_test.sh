#!/usr/bin/env bash
# logs_follow_test — GET /jobs/ID/log?follow=1 as Server-Sent Events: `log`
# events whose ids are increasing byte offsets, a reconnect with
# Last-Event-ID that misses nothing and repeats nothing, and a last `end`
# event with the job's state and exit code; the text of all events is the
# log file, byte for byte (UTF-8 included).
. "$(dirname "$0")/lib.sh"

start_server || { fail "server starts"; finish; }
ADMIN=$(admin_token) || { fail "admin token"; finish; }
ADMIN_TOKEN=$ADMIN
use_token "$ADMIN"

# follow ID FILE [CURL_ARGS...] — GET the log with follow=1 into FILE (and
# its headers into FILE.h) until the server ends it or --max-time.
follow() {
	local id=$1 file=$2
	shift 2
	curl -sN --max-time 20 -D "$file.h" ${AUTH[@]+"${AUTH[@]}"} "$@" \
		"$URL/api/v1/jobs/$id/log?follow=1" >"$file"
}

# events FILE — the complete events in an SSE stream, one JSON object a
# line: {"id": "..." | null, "event": "...", "data": {...}}. An event cut
# short (no blank line after it) is left out; comments are skipped.
events() {
	awk '
		{ sub(/\r$/, "") }
		/^:/ { next }
		/^id:/ { id = $0; sub(/^id: ?/, "", id); has_id = 1; next }
		/^event:/ { ev = $0; sub(/^event: ?/, "", ev); next }
		/^data:/ { d = $0; sub(/^data: ?/, "", d); data = data d; next }
		/^$/ {
			if (ev != "" || data != "")
				printf "{\"id\":%s,\"event\":\"%s\",\"data\":%s}\n",
					has_id ? "\"" id "\"" : "null", ev, data == "" ? "null" : data
			id = ""; has_id = 0; ev = ""; data = ""
		}' "$1"
}

# check_chain FROM EVENTS_FILE DESC — the log events, starting at byte FROM,
# have ids equal to their data.offset, each the previous plus the UTF-8
# length of its text.
check_chain() {
	local bad
	bad=$(jq -s -c --argjson from "$1" '
		[.[] | select(.event == "log")] as $l
		| reduce $l[] as $e ({at: $from, bad: []};
			(.at + ($e.data.text | utf8bytelength)) as $next
			| if ($e.id | tonumber) == $next and $e.data.offset == $next then .at = $next
			  else .bad += [{expected: $next, id: $e.id, offset: $e.data.offset}] | .at = ($e.id | tonumber) end)
		| .bad' "$2")
	check_eq "$bad" "[]" "$3"
}

# ---- a job that writes for ~3 s, followed with a reconnect in the middle -------------------
submit '{"command":["bash","-c","for i in $(seq 1 30); do echo \"line $i: ünïcødé €\"; sleep 0.1; done; echo tail-$KAON_JOB_ID"]}'
J=$JOB
job_wait "$J" running 10
job_log_wait "$J" 'line 1:' 5
follow "$J" "$T/f1" --max-time 1.2
rc=$?
check_eq "$rc" 28 "the first connection is still open when curl gives up after 1.2 s"
check "... it is text/event-stream" grep -qi '^content-type: text/event-stream' "$T/f1.h"
events "$T/f1" >"$T/e1"
check "... it got log events" test "$(grep -c '"event":"log"' "$T/e1")" -ge 1
check "... and no end event (the job still runs)" eval '! grep -q "\"event\":\"end\"" "$T/e1"'
check_chain 0 "$T/e1" "... ids are increasing byte offsets, the same as data.offset"
last=$(tail -n 1 "$T/e1" | jq -r .id)
check "... the last id is a byte offset > 0" test "${last:-0}" -gt 0

follow "$J" "$T/f2" -H "Last-Event-ID: $last"
check_eq "$?" 0 "reconnecting with Last-Event-ID: $last: the server ends the stream"
events "$T/f2" >"$T/e2"
check_chain "$last" "$T/e2" "... the events go on from byte $last with increasing ids"
check_eq "$(tail -n 1 "$T/e2" | jq -r .event)" end "... the last event is end"
check_eq "$(grep -c '"event":"end"' "$T/e2")" 1 "... and there is one end event"
BODY=$(tail -n 1 "$T/e2" | jq -c .data) LAST_REQ="GET /api/v1/jobs/$J/log?follow=1 (the end event's data)" STATUS=200
check_schema JobLogEnd . "... its data is {state, exit_code}"
check_jq '.state == "completed" and .exit_code == 0' "... completed, exit code 0"
BODY=$(grep -h '"event":"log"' "$T/e1" "$T/e2" | jq -s -c 'map(.data)') LAST_REQ="GET /api/v1/jobs/$J/log?follow=1 (the log events' data)"
check_schema JobLogChunk '.[]' "the log events' data are {offset, text}"
cat "$T/e1" "$T/e2" | jq -j 'select(.event == "log") | .data.text' >"$T/streamed"
job_log "$J" >"$T/plain"
check "the text of both connections is the log file, nothing missed or repeated" cmp -s "$T/streamed" "$T/plain"
check_eq "$(grep -c '^line' "$T/plain")" 30 "... which has all 30 lines"
check "... and the last one" grep -qx "tail-$J" "$T/plain"

# ---- an ended job: everything, then end ---------------------------------------------------
follow "$J" "$T/f3"
events "$T/f3" >"$T/e3"
jq -j 'select(.event == "log") | .data.text' "$T/e3" >"$T/streamed3"
check "following an ended job sends its whole log" cmp -s "$T/streamed3" "$T/plain"
check_eq "$(tail -n 1 "$T/e3" | jq -r .event)" end "... then end"
size=$(wc -c <"$T/plain")
follow "$J" "$T/f4" -H "Last-Event-ID: $size"
events "$T/f4" >"$T/e4"
check_eq "$(jq -r .event "$T/e4" | tr '\n' ' ')" "end " "Last-Event-ID at the end: only the end event"
# Resume at a line start (offsets count raw bytes; a line start is never
# inside a multibyte character).
half=$(LC_ALL=C head -n 10 "$T/plain" | wc -c)
curl -sN --max-time 20 ${AUTH[@]+"${AUTH[@]}"} "$URL/api/v1/jobs/$J/log?follow=1&offset=$half" >"$T/f5"
events "$T/f5" >"$T/e5"
check_chain "$half" "$T/e5" "follow=1&offset=$half starts at byte $half"
jq -j 'select(.event == "log") | .data.text' "$T/e5" >"$T/streamed5"
check "... and sends the rest of the log" cmp -s "$T/streamed5" <(tail -c +"$((half + 1))" "$T/plain")

# ---- a failing job with no output ---------------------------------------------------------------
submit '{"command":["sh","-c","exit 4"]}'
follow "$JOB" "$T/f6"
events "$T/f6" >"$T/e6"
check_eq "$(jq -c '[.event, (.data | {state, exit_code})]' "$T/e6" | tr '\n' ' ')" '["end",{"state":"failed","exit_code":4}] ' \
	"a job without output: one end event, failed, exit code 4"

# ---- a held job: the stream waits, then follows it once released ------------------------------
submit '{"command":["sh","-c","echo after-release"],"hold":true}'
HJ=$JOB
follow "$HJ" "$T/f7" &
fpid=$!
sleep 0.7
check "the stream of a pending job stays open" kill -0 "$fpid"
api POST "/api/v1/jobs/$HJ/release"
check_status 200 "release the job"
wait "$fpid"
check_eq "$?" 0 "... the stream ends by itself"
events "$T/f7" >"$T/e7"
check_eq "$(jq -r 'select(.event == "log") | .data.text' "$T/e7")" after-release "... after the job's output"
check_eq "$(tail -n 1 "$T/e7" | jq -c '[.event, (.data | {state, exit_code})]')" '["end",{"state":"completed","exit_code":0}]' \
	"... and the end event"

# ---- refusals -----------------------------------------------------------------------------------
api GET "/api/v1/jobs/$J/log?follow=1" -H 'Last-Event-ID: x'
check_error 422 invalid "Last-Event-ID: x -> 422"
api GET /api/v1/jobs/99999999/log?follow=1
check_error 404 not_found "following an unknown job -> 404"

cancel_live_jobs
stop_server
finish
