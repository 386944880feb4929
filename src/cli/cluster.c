/*
 * cli/cluster — the machine as a whole, for everyone:
 *
 *   kaon nodes [--json]   CPUs, memory and GPUs of each node, and which
 *                         job holds each GPU (GET /api/v1/nodes)
 *   kaon share [--json]   fair share: each user's and group's share of
 *                         the machine, decayed usage and resulting
 *                         priority factor (GET /api/v1/share)
 */
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli/cli.h"
#include "cli/client.h"
#include "cli/output.h"
#include "lib/xalloc.h"

static const char cluster_nodes_usage[] = "nodes [--json]";
static const char cluster_share_usage[] = "share [--json]";

static int64_t cluster_int(const json_t *obj, const char *key)
{
	return (int64_t)json_integer_value(json_object_get(obj, key));
}

static double cluster_num(const json_t *obj, const char *key)
{
	return json_number_value(json_object_get(obj, key));
}

/* One GET printed as JSON or through print(). */
static int cluster_get(int argc, char **argv, const char *usage, const char *path,
		       void (*print)(const json_t *ans))
{
	bool as_json = false;
	int rc = output_args(argc, argv, usage, 0, &as_json);
	if (rc >= 0)
		return rc;
	json_t *ans = NULL;
	char *cause = NULL;
	if (client_call_once("GET", path, NULL, &ans, &cause) < 0)
		return output_fail_cause(cause);
	if (as_json)
		output_json(ans);
	else
		print(ans);
	json_decref(ans);
	return 0;
}

/* ---- nodes -------------------------------------------------------------- */

/* GPU memory to a tenth of a gigabyte ("79.6G" for 81559M): vendors' odd
 * sizes read better rounded, and nothing is typed back from this column. */
static const char *cluster_gpu_mem(int64_t mb, char *buf)
{
	if (mb < 1024)
		return output_size_mb(mb, buf);
	snprintf(buf, OUTPUT_UNIT_LEN, "%.1f", (double)mb / 1024);
	size_t n = strlen(buf);
	if (n > 2 && strcmp(buf + n - 2, ".0") == 0)
		buf[n - 2] = '\0';
	snprintf(buf + strlen(buf), OUTPUT_UNIT_LEN - strlen(buf), "G");
	return buf;
}

static void cluster_nodes_print(const json_t *ans)
{
	static const char *const node_headers[] = {"NODE", "CPUS", "MEMORY", "GPUS", "JOBS"};
	static const char *const gpu_headers[] = {"NODE", "GPU", "MODEL", "MEMORY", "JOB"};
	struct output_table *nodes = output_table_new(node_headers, 5);
	struct output_table *gpus = output_table_new(gpu_headers, 5);
	size_t ngpus = 0, i;
	json_t *node;
	json_array_foreach(json_object_get(ans, "nodes"), i, node)
	{
		char b1[OUTPUT_UNIT_LEN], b2[OUTPUT_UNIT_LEN];
		json_t *list = json_object_get(node, "gpus");
		size_t used = 0, k;
		json_t *gpu;
		json_array_foreach(list, k, gpu)
		{
			json_t *job = json_object_get(gpu, "job");
			used += json_is_integer(job);
			output_table_add(gpus, output_str(node, "name"));
			output_table_addf(gpus, "%lld", (long long)cluster_int(gpu, "index"));
			output_table_add(gpus, output_str(gpu, "model"));
			output_table_add(gpus, cluster_gpu_mem(cluster_int(gpu, "mem_mb"), b1));
			if (json_is_integer(job))
				output_table_addf(gpus, "%lld", (long long)json_integer_value(job));
			else
				output_table_add(gpus, "free");
			ngpus++;
		}
		output_table_add(nodes, output_str(node, "name"));
		long long over = cluster_int(node, "oversubscribe");
		if (over > 1)
			output_table_addf(nodes, "%lld/%lld used (x%lld)",
					  (long long)cluster_int(node, "cpus_used"),
					  (long long)cluster_int(node, "cpus"), over);
		else
			output_table_addf(nodes, "%lld/%lld used",
					  (long long)cluster_int(node, "cpus_used"),
					  (long long)cluster_int(node, "cpus"));
		output_table_addf(nodes, "%s/%s used",
				  output_size_mb(cluster_int(node, "mem_used_mb"), b1),
				  output_size_mb(cluster_int(node, "mem_mb"), b2));
		if (json_array_size(list) > 0)
			output_table_addf(nodes, "%zu/%zu used", used, json_array_size(list));
		else
			output_table_add(nodes, "none");
		output_table_addf(nodes, "%lld running",
				  (long long)cluster_int(node, "running_jobs"));
	}
	output_table_print(nodes, stdout);
	if (ngpus > 0) {
		fputc('\n', stdout);
		output_table_print(gpus, stdout);
	} else {
		output_table_free(gpus);
		printf("\nNo GPUs.\n");
	}
}

int cli_nodes(int argc, char **argv)
{
	return cluster_get(argc, argv, cluster_nodes_usage, "/api/v1/nodes", cluster_nodes_print);
}

/* ---- share -------------------------------------------------------------- */

/* Usage is in billing-seconds (a CPU-second is 1, a GPU-second 10 by
 * default) and grows large: "812", "12.3k", "4.56M". */
static const char *cluster_amount(double v, char *buf)
{
	static const char *const units[] = {"", "k", "M", "G", "T", "P"};
	size_t u = 0;
	while (v >= 1000 && u + 1 < sizeof units / sizeof units[0]) {
		v /= 1000;
		u++;
	}
	snprintf(buf, OUTPUT_UNIT_LEN,
		 u == 0	   ? "%.0f%s"
		 : v < 10  ? "%.2f%s"
		 : v < 100 ? "%.1f%s"
			   : "%.0f%s",
		 v, units[u]);
	return buf;
}

static void cluster_share_print(const json_t *ans)
{
	static const char *const user_headers[] = {"USER",  "GROUP",	  "SHARE",
						   "USAGE", "USAGE NORM", "FACTOR"};
	static const char *const group_headers[] = {"GROUP", "WEIGHT", "SHARE", "USAGE"};
	char buf[OUTPUT_UNIT_LEN];
	json_t *hl = json_object_get(ans, "half_life_s");
	if (json_is_integer(hl) && json_integer_value(hl) > 0)
		printf("Usage decays with a half-life of %s.\n\n",
		       output_duration(json_integer_value(hl), buf));
	else if (json_is_integer(hl))
		printf("Usage does not decay.\n\n");
	struct output_table *t = output_table_new(user_headers, 6);
	size_t i;
	json_t *row;
	json_array_foreach(json_object_get(ans, "users"), i, row)
	{
		output_table_add(t, output_str(row, "user"));
		output_table_add(t, output_str(row, "group"));
		output_table_addf(t, "%.3f", cluster_num(row, "share"));
		output_table_add(t, cluster_amount(cluster_num(row, "usage"), buf));
		output_table_addf(t, "%.3f", cluster_num(row, "usage_norm"));
		output_table_addf(t, "%.3f", cluster_num(row, "factor"));
	}
	output_table_print(t, stdout);
	fputc('\n', stdout);
	t = output_table_new(group_headers, 4);
	json_array_foreach(json_object_get(ans, "groups"), i, row)
	{
		output_table_add(t, output_str(row, "group"));
		output_table_addf(t, "%g", cluster_num(row, "weight"));
		output_table_addf(t, "%.3f", cluster_num(row, "share"));
		output_table_add(t, cluster_amount(cluster_num(row, "usage"), buf));
	}
	output_table_print(t, stdout);
}

int cli_share(int argc, char **argv)
{
	return cluster_get(argc, argv, cluster_share_usage, "/api/v1/share", cluster_share_print);
}
