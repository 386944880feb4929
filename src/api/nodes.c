/*
 * api/nodes — what the machine has and who holds it (GET /api/v1/nodes),
 * and the fair-share standing of every user and group (GET /api/v1/share).
 */
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "api/api.h"
#include "config/config.h"
#include "lib/xalloc.h"
#include "sched/fairshare.h"
#include "sched/policy.h"
#include "server/scheduler.h"
#include "server/server.h"
#include "store/groups.h"
#include "store/jobs.h"
#include "store/users.h"

enum { API_NODES_MAX_RUNNING = 100000 };

static int api_nodes_running(struct http_req *req, struct http_resp *resp, struct store_job **js,
			     size_t *n)
{
	int rc = store_jobs_list(req->store, -1, "running", 0, API_NODES_MAX_RUNNING, js, n);
	if (rc < 0)
		http_resp_errno(resp, rc, "running jobs");
	return rc;
}

void api_nodes(struct http_req *req, struct http_resp *resp)
{
	struct store_job *js;
	size_t n;
	if (api_nodes_running(req, resp, &js, &n) < 0)
		return;
	const struct inventory *inv = &req->srv->inv;
	int64_t holder[INVENTORY_MAX_GPUS] = { 0 };
	int64_t cpus_used = 0, mem_used = 0;
	for (size_t i = 0; i < n; i++) {
		cpus_used += js[i].cpus;
		mem_used += js[i].mem_mb;
		for (const char *p = js[i].alloc_gpus; p && *p;) {
			char *end;
			long g = strtol(p, &end, 10);
			if (end == p)
				break;
			for (int k = 0; k < inv->ngpus; k++)
				if (inv->gpus[k].index == g)
					holder[k] = js[i].id;
			p = *end == ',' ? end + 1 : end;
		}
	}
	json_t *gpus = json_array();
	for (int g = 0; g < inv->ngpus; g++)
		json_array_append_new(
			gpus, json_pack("{s:i,s:s,s:s,s:I,s:b,s:o}", "index", inv->gpus[g].index, "model",
					inv->gpus[g].model, "uuid", inv->gpus[g].uuid, "mem_mb",
					(json_int_t)inv->gpus[g].mem_mb, "fake", inv->gpus[g].fake != 0,
					"job", holder[g] ? json_integer(holder[g]) : json_null()));
	json_t *node = json_pack("{s:s,s:i,s:i,s:I,s:I,s:I,s:i,s:o}", "name", inv->hostname, "cpus",
				 inv->cpus, "oversubscribe", (int)req->srv->cfg->oversubscribe, "mem_mb", (json_int_t)inv->mem_mb, "cpus_used",
				 (json_int_t)cpus_used, "mem_used_mb", (json_int_t)mem_used,
				 "running_jobs", (int)n, "gpus", gpus);
	store_jobs_free(js, n);
	http_resp_json(resp, 200, json_pack("{s:[o]}", "nodes", node));
}

static const char *api_share_group_name(const struct store_group *gs, size_t ng, int64_t id)
{
	for (size_t i = 0; i < ng; i++)
		if (gs[i].id == id)
			return gs[i].name;
	return "";
}

void api_share(struct http_req *req, struct http_resp *resp)
{
	int64_t now = time(NULL);
	struct store_job *js = NULL;
	size_t nj = 0, nu = 0, ng = 0;
	struct sched_user *users = NULL;
	struct store_group *gs = NULL;
	struct store_user *names = NULL;
	size_t nnames = 0;
	if (api_nodes_running(req, resp, &js, &nj) < 0)
		return;
	struct sched_job *running = xcalloc(nj ? nj : 1, sizeof *running);
	for (size_t i = 0; i < nj; i++)
		scheduler_job_to_sched(req->srv, &js[i], &running[i]);
	int rc = scheduler_users(req->srv, req->store, now, running, nj, &users, &nu);
	if (rc == 0)
		rc = store_groups_list(req->store, &gs, &ng);
	if (rc == 0)
		rc = store_users_list(req->store, &names, &nnames);
	if (rc < 0) {
		http_resp_errno(resp, rc, "usage");
		goto out;
	}
	struct sched_group *sg = xcalloc(ng ? ng : 1, sizeof *sg);
	for (size_t i = 0; i < ng; i++)
		sg[i] = (struct sched_group){ .id = gs[i].id, .weight = gs[i].fairshare_weight };
	struct fairshare_row *rows = xcalloc(nu ? nu : 1, sizeof *rows);
	fairshare_compute(users, nu, sg, ng, rows);
	json_t *ju = json_array(), *jg = json_array();
	double *gshare = xcalloc(ng ? ng : 1, sizeof *gshare), *gusage = xcalloc(ng ? ng : 1, sizeof *gusage);
	for (size_t i = 0; i < nu; i++) {
		const char *uname = "";
		for (size_t k = 0; k < nnames; k++)
			if (names[k].id == users[i].id)
				uname = names[k].username;
		json_array_append_new(ju, json_pack("{s:s,s:s,s:f,s:f,s:f,s:f}", "user", uname, "group",
						    api_share_group_name(gs, ng, users[i].group_id),
						    "share", rows[i].share, "usage", users[i].usage,
						    "usage_norm", rows[i].usage_norm, "factor",
						    rows[i].factor));
		for (size_t g = 0; g < ng; g++)
			if (gs[g].id == users[i].group_id) {
				gshare[g] += rows[i].share;
				gusage[g] += users[i].usage;
			}
	}
	for (size_t g = 0; g < ng; g++)
		json_array_append_new(jg, json_pack("{s:s,s:f,s:f,s:f}", "group", gs[g].name, "weight",
						    gs[g].fairshare_weight, "share", gshare[g], "usage",
						    gusage[g]));
	http_resp_json(resp, 200, json_pack("{s:I,s:o,s:o}", "half_life_s",
					    (json_int_t)req->srv->cfg->half_life_s, "users", ju, "groups", jg));
	free(gshare), free(gusage), free(rows), free(sg);
out:
	free(running);
	free(users);
	store_jobs_free(js, nj);
	store_groups_free(gs, ng);
	store_users_free(names, nnames);
}
