#!/usr/bin/env bash
# modelseed_test — `kaon server --seed-models DIR` ([models] seed_dir;
# `make run` gives the repository's models/): on a first start each model
# folder in DIR is registered, owned by the first admin, while the server
# already answers; a folder that fails is logged and skipped; on a later
# start nothing is seeded again (a model an admin removed stays removed).
. "$(dirname "$0")/lib.sh"

SEED=$T/seed
mkdir -p "$SEED"
cp -r "$ROOT/models/digits" "$SEED/digits"
mkdir -p "$SEED/broken" "$SEED/not-a-model"
printf '{"name":"broken","version":"1","title":"Broken","runtime":{"type":"python","module":"nosuch_module"}}\n' \
	>"$SEED/broken/kaon-model.json"
chmod -R a+rX "$T"

start_server --seed-models "$SEED" || { fail "server starts"; finish; }
ADMIN=$(admin_token) || { fail "admin token"; finish; }
use_token "$ADMIN"
api GET /api/v1/me
check_status 200 "the server answers while it seeds"
for ((i = 0; i < 300; i++)); do
	grep -q "not registered" "$SERVER_LOG" && grep -q "registered digits" "$SERVER_LOG" && break
	sleep 0.1
done
api GET /api/v1/models
check_status 200 "list the catalog"
check_jq '[.models[].name] == ["digits"]' "the shipped model is registered; the broken one is not"
api GET /api/v1/models/digits
check_jq '.owner == "admin" and .version == "1.0.0" and (.public | not)' \
	"... owned by the first admin, anonymous use not opened"
check "the broken folder is logged" grep -q "seeding: $SEED/broken not registered: the model's worker could not load it" "$SERVER_LOG"
check "... with Python's reason" grep -q "No module named 'nosuch_module'" "$SERVER_LOG"
check "a folder without kaon-model.json is passed over" bash -c "! grep -q not-a-model '$SERVER_LOG'"

api DELETE /api/v1/models/digits
check_status 204 "an admin removes it"
restart_server --seed-models "$SEED" || { fail "server restarts"; finish; }
sleep 1
use_token "$ADMIN"
api GET /api/v1/models
check_jq '.models == []' "a later start seeds nothing: the removed model stays removed"

cancel_live_jobs
stop_server
finish
