/*
 * Unit tests of exec/inventory.c: CPUs, memory (with cgroup limits under
 * a fake cgroup mount), fake GPUs, and NVML — missing, and a stub library
 * built here with the system C compiler so that the NVML path runs on
 * machines without a GPU.
 */
#include <errno.h>
#include <fcntl.h>
#include <spawn.h>
#include <stdint.h>
#include <stdlib.h>
#include <sys/wait.h>
#include <unistd.h>

#include "../harness.h"
#include "exec/inventory.h"
#include "lib/fsio.h"

extern char **environ;

/* --- helpers --------------------------------------------------------------- */

/* Discover with stderr captured; returns the log text (caller frees). */
static char *inventory_test_discover(struct inventory *inv, int fake, int cpus_res, int64_t mem_res,
				     int *rc)
{
	char *path = NULL;
	CHECK(asprintf(&path, "%s/log", harness_tmpdir()) > 0);
	int fd = open(path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
	CHECK(fd >= 0);
	int saved = dup(STDERR_FILENO);
	CHECK(saved >= 0);
	CHECK(dup2(fd, STDERR_FILENO) == STDERR_FILENO);
	char *cause = NULL;
	*rc = inventory_discover(inv, fake, cpus_res, mem_res, &cause);
	CHECK(dup2(saved, STDERR_FILENO) == STDERR_FILENO);
	close(saved);
	close(fd);
	if (*rc != 0)
		fprintf(stderr, "    inventory_discover: %s\n", cause ? cause : "(no cause)");
	free(cause);
	char *text = NULL;
	CHECK_INT(fsio_read_file(path, 1 << 20, &text, NULL), 0);
	free(path);
	return text;
}

static void inventory_test_ok(struct inventory *inv, int fake, int cpus_res, int64_t mem_res)
{
	int rc;
	free(inventory_test_discover(inv, fake, cpus_res, mem_res, &rc));
	CHECK_INT(rc, 0);
}

static void inventory_test_write(const char *path, const char *text)
{
	CHECK_INT(fsio_write_atomic(path, text, strlen(text), 0644), 0);
}

/* A fake cgroup mount with nothing in it: no cgroup limit applies. */
static void inventory_test_empty_cgroup_root(void)
{
	char *root = NULL;
	CHECK(asprintf(&root, "%s/nocgroup", harness_tmpdir()) > 0);
	CHECK_INT(fsio_mkdir_p(root, 0700), 0);
	CHECK_INT(setenv("KAON_INVENTORY_CGROUP_ROOT", root, 1), 0);
	free(root);
}

static const char inventory_test_stub_src[] =
    "#include <stdio.h>\n"
    "#include <stdlib.h>\n"
    "struct mem { unsigned long long total, free, used; };\n"
    "static int env(const char *n, int d)\n"
    "{ const char *s = getenv(n); return s ? (int)strtol(s, NULL, 10) : d; }\n"
    "int nvmlInit_v2(void) { return env(\"STUB_NVML_INIT\", 0); }\n"
    "int nvmlShutdown(void) { return 0; }\n"
    "int nvmlDeviceGetCount_v2(unsigned int *c)\n"
    "{ *c = (unsigned int)env(\"STUB_NVML_COUNT\", 2); return 0; }\n"
    "int nvmlDeviceGetHandleByIndex_v2(unsigned int i, void **d)\n"
    "{ if ((int)i == env(\"STUB_NVML_BAD\", -1)) return 15;\n"
    "  *d = (void *)(unsigned long)(i + 1); return 0; }\n"
    "int nvmlDeviceGetName(void *d, char *s, unsigned int n)\n"
    "{ snprintf(s, n, \"Stub GPU %lu\", (unsigned long)d - 1); return 0; }\n"
    "#ifndef NO_UUID\n"
    "int nvmlDeviceGetUUID(void *d, char *s, unsigned int n)\n"
    "{ snprintf(s, n, \"GPU-stub-%lu\", (unsigned long)d - 1); return 0; }\n"
    "#endif\n"
    "int nvmlDeviceGetMemoryInfo(void *d, struct mem *m)\n"
    "{ m->total = (unsigned long long)(unsigned long)d << 30; m->free = m->total;\n"
    "  m->used = 0; return 0; }\n"
    "const char *nvmlErrorString(int r) { return r == 15 ? \"GPU is lost\" : \"stub error\"; }\n"
    "struct sample { unsigned int pid; unsigned long long ts; unsigned int sm, mem, enc, dec; };\n"
    "int nvmlDeviceGetProcessUtilization(void *d, struct sample *s, unsigned int *n,\n"
    "                                    unsigned long long since)\n"
    "{ int pid = env(\"STUB_NVML_BUSY_PID\", 0);\n"
    "  if ((unsigned long)d != 2 || !pid) return 6;\n"
    "  if (!s || *n < 2) { *n = 2; return 7; }\n"
    "  s[0].pid = 4242; s[0].ts = since + 1; s[0].sm = 0; s[0].mem = 5;\n"
    "  s[1].pid = (unsigned int)pid; s[1].ts = since + 2; s[1].sm = 30;\n"
    "  *n = 2; return 0; }\n";

/* Build the stub NVML (with extra cc flag `define`, or NULL) and point
 * KAON_NVML_LIBRARY at it; skips when there is no C compiler. */
static void inventory_test_stub(const char *define)
{
	char *src = NULL, *so = NULL;
	CHECK(asprintf(&src, "%s/nvml_stub.c", harness_tmpdir()) > 0);
	CHECK(asprintf(&so, "%s/libnvml_stub.so", harness_tmpdir()) > 0);
	inventory_test_write(src, inventory_test_stub_src);
	char *argv[] = {"cc", "-shared", "-fPIC", "-o", so, src, (char *)define, NULL};
	pid_t pid;
	/* cc is not under the sanitizers: keep ASan's runtime out of it. */
	unsetenv("LD_PRELOAD");
	if (posix_spawnp(&pid, "cc", NULL, NULL, argv, environ) != 0)
		SKIP("no C compiler (cc) to build a stub NVML library");
	int status;
	CHECK(waitpid(pid, &status, 0) == pid);
	if (!WIFEXITED(status) || WEXITSTATUS(status) != 0)
		SKIP("cc could not build the stub NVML library");
	CHECK_INT(setenv("KAON_NVML_LIBRARY", so, 1), 0);
	free(src);
	free(so);
}

/* --- CPUs and memory -------------------------------------------------------- */

TEST(inventory_discovers_cpus_and_memory)
{
	struct inventory inv;
	int rc;
	char *log = inventory_test_discover(&inv, 0, 0, 0, &rc);
	CHECK_INT(rc, 0);
	CHECK(inv.hostname[0] != '\0');
	CHECK(inv.cpus >= 1);
	long online = sysconf(_SC_NPROCESSORS_CONF);
	CHECK(online < 1 || inv.cpus <= online);
	CHECK(inv.mem_mb > 0);
	CHECK(inv.ngpus >= 0 && inv.ngpus <= INVENTORY_MAX_GPUS);
	for (int i = 0; i < inv.ngpus; i++)
		CHECK_INT(inv.gpus[i].fake, 0);
	/* One summary line naming the node. */
	CHECK(strstr(log, "CPUs") != NULL);
	CHECK(strstr(log, "MiB memory") != NULL);
	CHECK(strstr(log, inv.hostname) != NULL);
	free(log);
}

TEST(inventory_subtracts_reserved_cpus_and_memory)
{
	struct inventory base, inv;
	inventory_test_ok(&base, 0, 0, 0);
	inventory_test_ok(&inv, 0, 1, 100);
	CHECK_INT(inv.cpus, base.cpus > 1 ? base.cpus - 1 : 1);
	if (base.mem_mb > 100 + 256)
		CHECK_INT(inv.mem_mb, base.mem_mb - 100);
	CHECK(inv.mem_mb >= 1);
}

TEST(inventory_reservations_leave_one_cpu_and_some_memory)
{
	struct inventory base, inv;
	inventory_test_ok(&base, 0, 0, 0);
	int rc;
	char *log = inventory_test_discover(&inv, 0, 1000000, INT64_MAX / 2, &rc);
	CHECK_INT(rc, 0);
	CHECK_INT(inv.cpus, 1);
	CHECK(inv.mem_mb >= 1);
	CHECK(inv.mem_mb <= 256);
	CHECK(inv.mem_mb <= base.mem_mb);
	CHECK(strstr(log, "warn") != NULL);
	free(log);

	/* Reserving all CPUs but one, exactly, leaves one without a fuss. */
	inventory_test_ok(&inv, 0, base.cpus - 1, 0);
	CHECK_INT(inv.cpus, 1);
}

TEST(inventory_rejects_negative_settings)
{
	struct inventory inv;
	char *cause = NULL;
	CHECK_INT(inventory_discover(&inv, -1, 0, 0, &cause), -EINVAL);
	CHECK(cause != NULL);
	free(cause);
	cause = NULL;
	CHECK_INT(inventory_discover(&inv, 0, -1, 0, &cause), -EINVAL);
	free(cause);
	cause = NULL;
	CHECK_INT(inventory_discover(&inv, 0, 0, -5, &cause), -EINVAL);
	free(cause);
	CHECK_INT(inventory_discover(&inv, 0, 0, -5, NULL), -EINVAL);
}

TEST(inventory_cgroup_limit_caps_memory)
{
	/* The machine's memory, with no cgroup limit in the way. */
	struct inventory base, inv;
	inventory_test_empty_cgroup_root();
	inventory_test_ok(&base, 0, 0, 0);
	if (base.mem_mb < 1024)
		SKIP("less than 1 GiB of memory: a 512 MiB limit proves nothing");

	char *root = NULL, *path = NULL;
	CHECK(asprintf(&root, "%s/cg", harness_tmpdir()) > 0);
	CHECK_INT(fsio_mkdir_p(root, 0700), 0);
	CHECK_INT(setenv("KAON_INVENTORY_CGROUP_ROOT", root, 1), 0);

	/* "max" and the v1 "no limit" value are no limit. */
	CHECK(asprintf(&path, "%s/memory.max", root) > 0);
	inventory_test_write(path, "max\n");
	free(path);
	CHECK(asprintf(&path, "%s/memory", root) > 0);
	CHECK_INT(fsio_mkdir_p(path, 0700), 0);
	free(path);
	CHECK(asprintf(&path, "%s/memory/memory.limit_in_bytes", root) > 0);
	inventory_test_write(path, "9223372036854771712\n");
	free(path);
	inventory_test_ok(&inv, 0, 0, 0);
	CHECK_INT(inv.mem_mb, base.mem_mb);

	/* Limits at the mount roots bind every cgroup below them (v2 512 MiB,
	 * v1 384 MiB); which apply depends on the hierarchies this process
	 * is in. */
	char *cgroups = NULL;
	CHECK_INT(fsio_read_file("/proc/self/cgroup", 1 << 20, &cgroups, NULL), 0);
	int has_v2 = strncmp(cgroups, "0::", 3) == 0 || strstr(cgroups, "\n0::") != NULL;
	int has_v1 = strstr(cgroups, ":memory:") != NULL || strstr(cgroups, ",memory:") != NULL ||
		     strstr(cgroups, ":memory,") != NULL || strstr(cgroups, ",memory,") != NULL;
	free(cgroups);
	if (!has_v1 && !has_v2)
		SKIP("this process is in no cgroup hierarchy");
	CHECK(asprintf(&path, "%s/memory.max", root) > 0);
	inventory_test_write(path, "536870912\n");
	free(path);
	CHECK(asprintf(&path, "%s/memory/memory.limit_in_bytes", root) > 0);
	inventory_test_write(path, "402653184\n");
	free(path);
	inventory_test_ok(&inv, 0, 0, 0);
	CHECK_INT(inv.mem_mb, has_v1 ? 384 : 512);

	/* Reservations come off the capped amount. */
	inventory_test_ok(&inv, 0, 0, 64);
	CHECK_INT(inv.mem_mb, has_v1 ? 320 : 448);
	free(root);
}

TEST(inventory_cgroup_limit_of_own_cgroup_counts)
{
	/* A limit on the daemon's own cgroup, deeper than the mount root. */
	char *cgroups = NULL;
	CHECK_INT(fsio_read_file("/proc/self/cgroup", 1 << 20, &cgroups, NULL), 0);
	const char *dir = NULL, *file = NULL;
	char *cgpath = NULL;
	for (char *line = cgroups; line && *line;) {
		char *nl = strchr(line, '\n');
		if (nl)
			*nl = '\0';
		char *c1 = strchr(line, ':'), *c2 = c1 ? strchr(c1 + 1, ':') : NULL;
		/* The first hierarchy, v2 or v1 memory, where we are below the root. */
		if (c2 && strcmp(c2 + 1, "/") != 0) {
			if (strncmp(line, "0::", 3) == 0) {
				dir = "", file = "memory.max", cgpath = c2 + 1;
				break;
			}
			if (strncmp(c1 + 1, "memory:", 7) == 0) {
				dir = "/memory", file = "memory.limit_in_bytes", cgpath = c2 + 1;
				break;
			}
		}
		line = nl ? nl + 1 : NULL;
	}
	if (!cgpath)
		SKIP("this process is in the root cgroup of every memory hierarchy");

	struct inventory base, inv;
	inventory_test_empty_cgroup_root();
	inventory_test_ok(&base, 0, 0, 0);
	if (base.mem_mb < 1024)
		SKIP("less than 1 GiB of memory: a 300 MiB limit proves nothing");
	char *leaf = NULL, *path = NULL;
	CHECK(asprintf(&leaf, "%s/cg%s%s", harness_tmpdir(), dir, cgpath) > 0);
	CHECK_INT(fsio_mkdir_p(leaf, 0700), 0);
	CHECK(asprintf(&path, "%s/%s", leaf, file) > 0);
	inventory_test_write(path, "314572800\n");
	free(path);
	free(leaf);
	CHECK(asprintf(&path, "%s/cg", harness_tmpdir()) > 0);
	CHECK_INT(setenv("KAON_INVENTORY_CGROUP_ROOT", path, 1), 0);
	free(path);
	inventory_test_ok(&inv, 0, 0, 0);
	CHECK_INT(inv.mem_mb, 300);
	free(cgroups);
}

/* --- GPUs ------------------------------------------------------------------- */

TEST(inventory_without_nvml_has_no_real_gpus)
{
	struct inventory inv;
	int rc;
	CHECK_INT(setenv("KAON_NVML_LIBRARY", "/nonexistent/libnvidia-ml.so.1", 1), 0);
	char *log = inventory_test_discover(&inv, 0, 0, 0, &rc);
	CHECK_INT(rc, 0);
	CHECK_INT(inv.ngpus, 0);
	CHECK(strstr(log, "info  inventory: no NVML") != NULL);
	CHECK(strstr(log, "0 GPUs") != NULL);
	CHECK(strstr(log, "error") == NULL);
	free(log);

	CHECK_INT(setenv("KAON_NVML_LIBRARY", "none", 1), 0);
	inventory_test_ok(&inv, 0, 0, 0);
	CHECK_INT(inv.ngpus, 0);
}

TEST(inventory_default_nvml_never_fails)
{
	/* Whatever this machine has — no driver here, a GPU in CI — the
	 * default library name gives real GPUs or none, never an error. */
	unsetenv("KAON_NVML_LIBRARY");
	struct inventory inv;
	inventory_test_ok(&inv, 1, 0, 0);
	CHECK(inv.ngpus >= 1);
	for (int i = 0; i < inv.ngpus - 1; i++) {
		CHECK_INT(inv.gpus[i].fake, 0);
		CHECK(inv.gpus[i].model[0] != '\0');
		CHECK(strncmp(inv.gpus[i].uuid, "GPU-", 4) == 0 ||
		      strncmp(inv.gpus[i].uuid, "MIG-", 4) == 0);
		CHECK(inv.gpus[i].mem_mb > 0);
	}
	CHECK_INT(inv.gpus[inv.ngpus - 1].fake, 1);
	CHECK_INT(inv.gpus[inv.ngpus - 1].index, inv.ngpus - 1);
}

TEST(inventory_appends_fake_gpus)
{
	CHECK_INT(setenv("KAON_NVML_LIBRARY", "none", 1), 0);
	struct inventory inv;
	int rc;
	char *log = inventory_test_discover(&inv, 3, 0, 0, &rc);
	CHECK_INT(rc, 0);
	CHECK_INT(inv.ngpus, 3);
	for (int i = 0; i < 3; i++) {
		char uuid[400];
		snprintf(uuid, sizeof uuid, "GPU-fake-%s-%d", inv.hostname, i);
		CHECK_INT(inv.gpus[i].index, i);
		CHECK_STR(inv.gpus[i].model, "Fake GPU");
		CHECK_STR(inv.gpus[i].uuid, uuid);
		CHECK_INT(inv.gpus[i].mem_mb, 16384);
		CHECK_INT(inv.gpus[i].fake, 1);
	}
	CHECK(strstr(log, "3 GPUs: 3 x Fake GPU (16384 MiB)") != NULL);
	free(log);
}

TEST(inventory_caps_fake_gpus)
{
	CHECK_INT(setenv("KAON_NVML_LIBRARY", "none", 1), 0);
	struct inventory inv;
	int rc;
	char *log = inventory_test_discover(&inv, INVENTORY_MAX_GPUS + 36, 0, 0, &rc);
	CHECK_INT(rc, 0);
	CHECK_INT(inv.ngpus, INVENTORY_MAX_GPUS);
	CHECK_INT(inv.gpus[INVENTORY_MAX_GPUS - 1].index, INVENTORY_MAX_GPUS - 1);
	CHECK(strstr(log, "warn  inventory: only 64 of 100 fake GPUs") != NULL);
	free(log);
}

TEST(inventory_nvml_stub_gpus_then_fakes)
{
	inventory_test_stub(NULL);
	CHECK_INT(setenv("STUB_NVML_COUNT", "2", 1), 0);
	struct inventory inv;
	int rc;
	char *log = inventory_test_discover(&inv, 2, 0, 0, &rc);
	CHECK_INT(rc, 0);
	CHECK_INT(inv.ngpus, 4);
	CHECK_INT(inv.gpus[0].index, 0);
	CHECK_STR(inv.gpus[0].model, "Stub GPU 0");
	CHECK_STR(inv.gpus[0].uuid, "GPU-stub-0");
	CHECK_INT(inv.gpus[0].mem_mb, 1024);
	CHECK_INT(inv.gpus[0].fake, 0);
	CHECK_INT(inv.gpus[1].index, 1);
	CHECK_STR(inv.gpus[1].model, "Stub GPU 1");
	CHECK_INT(inv.gpus[1].mem_mb, 2048);
	CHECK_INT(inv.gpus[2].index, 2);
	CHECK_STR(inv.gpus[2].model, "Fake GPU");
	CHECK_INT(inv.gpus[2].fake, 1);
	CHECK_INT(inv.gpus[3].index, 3);
	char uuid[400];
	snprintf(uuid, sizeof uuid, "GPU-fake-%s-1", inv.hostname);
	CHECK_STR(inv.gpus[3].uuid, uuid);
	CHECK(strstr(log, "4 GPUs: 1 x Stub GPU 0 (1024 MiB), 1 x Stub GPU 1 (2048 MiB), "
			  "2 x Fake GPU (16384 MiB)") != NULL);
	free(log);
}

TEST(inventory_nvml_stub_lost_gpu_keeps_indexes)
{
	/* A device NVML cannot open is left out; the others keep NVML's
	 * indexes, and fakes come after all of them. */
	inventory_test_stub(NULL);
	CHECK_INT(setenv("STUB_NVML_COUNT", "3", 1), 0);
	CHECK_INT(setenv("STUB_NVML_BAD", "1", 1), 0);
	struct inventory inv;
	int rc;
	char *log = inventory_test_discover(&inv, 1, 0, 0, &rc);
	CHECK_INT(rc, 0);
	CHECK_INT(inv.ngpus, 3);
	CHECK_INT(inv.gpus[0].index, 0);
	CHECK_INT(inv.gpus[1].index, 2);
	CHECK_STR(inv.gpus[1].model, "Stub GPU 2");
	CHECK_INT(inv.gpus[2].index, 3);
	CHECK_INT(inv.gpus[2].fake, 1);
	CHECK(strstr(log, "GPU is lost") != NULL);
	free(log);
}

TEST(inventory_nvml_stub_caps_gpus)
{
	inventory_test_stub(NULL);
	CHECK_INT(setenv("STUB_NVML_COUNT", "70", 1), 0);
	struct inventory inv;
	int rc;
	char *log = inventory_test_discover(&inv, 2, 0, 0, &rc);
	CHECK_INT(rc, 0);
	CHECK_INT(inv.ngpus, INVENTORY_MAX_GPUS);
	CHECK_INT(inv.gpus[INVENTORY_MAX_GPUS - 1].index, INVENTORY_MAX_GPUS - 1);
	CHECK_INT(inv.gpus[INVENTORY_MAX_GPUS - 1].fake, 0);
	CHECK(strstr(log, "NVML reports 70 GPUs") != NULL);
	free(log);
}

TEST(inventory_nvml_stub_failures_mean_no_gpus)
{
	inventory_test_stub(NULL);
	struct inventory inv;
	int rc;

	/* nvmlInit_v2() fails (NVML_ERROR_DRIVER_NOT_LOADED is 9). */
	CHECK_INT(setenv("STUB_NVML_INIT", "9", 1), 0);
	char *log = inventory_test_discover(&inv, 1, 0, 0, &rc);
	CHECK_INT(rc, 0);
	CHECK_INT(inv.ngpus, 1);
	CHECK_INT(inv.gpus[0].fake, 1);
	CHECK_INT(inv.gpus[0].index, 0);
	CHECK(strstr(log, "info  inventory: nvmlInit_v2() failed: stub error") != NULL);
	free(log);
	unsetenv("STUB_NVML_INIT");

	/* Zero devices. */
	CHECK_INT(setenv("STUB_NVML_COUNT", "0", 1), 0);
	inventory_test_ok(&inv, 0, 0, 0);
	CHECK_INT(inv.ngpus, 0);
}

TEST(inventory_nvml_stub_missing_symbol_means_no_gpus)
{
	inventory_test_stub("-DNO_UUID");
	struct inventory inv;
	int rc;
	char *log = inventory_test_discover(&inv, 0, 0, 0, &rc);
	CHECK_INT(rc, 0);
	CHECK_INT(inv.ngpus, 0);
	CHECK(strstr(log, "has no nvmlDeviceGetUUID") != NULL);
	free(log);
}

/* --- per-process utilisation --------------------------------------------------- */

TEST(inventory_gpu_busy_pids_reads_nvml_samples)
{
	inventory_test_stub(NULL);
	int pids[8];
	/* No samples anywhere: nobody is busy. */
	CHECK_INT(inventory_gpu_busy_pids(1000, pids, 8), 0);
	/* The stub's second GPU reports an idle pid (memory only) and a busy
	 * one; only the one using its compute units counts. */
	CHECK_INT(setenv("STUB_NVML_BUSY_PID", "31337", 1), 0);
	CHECK_INT(inventory_gpu_busy_pids(1000, pids, 8), 1);
	CHECK_INT(pids[0], 31337);
	CHECK_INT(inventory_gpu_busy_pids(1000, pids, 0), 0);
}

TEST(inventory_gpu_busy_pids_without_nvml_is_none)
{
	CHECK_INT(setenv("KAON_NVML_LIBRARY", "none", 1), 0);
	int pids[4];
	CHECK_INT(inventory_gpu_busy_pids(0, pids, 4), 0);
}
