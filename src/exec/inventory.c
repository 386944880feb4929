/*
 * exec/inventory — what this machine offers to jobs (see inventory.h).
 *
 * CPUs are those the daemon may run on (its affinity mask, which a cgroup
 * cpuset also narrows); memory is the smaller of the machine's and the
 * daemon's cgroup limit, since jobs run inside the daemon's cgroup tree and
 * cannot use more. GPUs come from NVML, opened with dlopen so that kaon
 * builds and runs on machines without the NVIDIA driver: there, and
 * wherever NVML fails, the machine has zero real GPUs — an info line, not
 * an error. CUDA_VISIBLE_DEVICES of the daemon is ignored on purpose: the
 * daemon owns every GPU of the machine and hands each job its own.
 *
 * Two environment variables change where things are looked up:
 *   KAON_NVML_LIBRARY            the NVML library to open instead of
 *                                libnvidia-ml.so.1; "none" or empty skips NVML
 *   KAON_INVENTORY_CGROUP_ROOT   the cgroup mount, instead of /sys/fs/cgroup
 *                                (for tests)
 */
#include "exec/inventory.h"

#include <dlfcn.h>
#include <errno.h>
#include <inttypes.h>
#include <pthread.h>
#include <sched.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "lib/fsio.h"
#include "lib/log.h"
#include "lib/xalloc.h"

#define INVENTORY_NVML_DEFAULT	 "libnvidia-ml.so.1"
#define INVENTORY_CGROUP_DEFAULT "/sys/fs/cgroup"

enum {
	/* When the reservation takes all memory, this much (or all there is,
	 * when less) is still offered, so a misconfigured node stays usable. */
	INVENTORY_MIN_MEM_MB = 256,
	INVENTORY_FAKE_MEM_MB = 16384,
	/* /proc and cgroup files read here are a few KiB. */
	INVENTORY_FILE_MAX = 256 * 1024,
};

/* A cgroup limit at or above this is "unlimited" (cgroup v1 writes
 * PAGE_COUNTER_MAX pages, about 2^63 bytes, for no limit). */
static const uint64_t inventory_huge_bytes = (uint64_t)1 << 62;

/* --- small helpers -------------------------------------------------------- */

/* Append to a fixed buffer; output past its end is dropped (log lines). */
__attribute__((format(printf, 4, 5))) static void
inventory_append(char *buf, size_t size, size_t *used, const char *fmt, ...)
{
	if (*used >= size - 1)
		return;
	va_list ap;
	va_start(ap, fmt);
	int n = vsnprintf(buf + *used, size - *used, fmt, ap);
	va_end(ap);
	if (n < 0)
		return;
	*used += (size_t)n;
	if (*used > size - 1)
		*used = size - 1;
}

/* A decimal unsigned number with optional surrounding blanks; *end (when
 * not NULL) gets what follows it instead of requiring the string to end. */
static int inventory_parse_u64(const char *s, uint64_t *out, const char **end)
{
	while (*s == ' ' || *s == '\t')
		s++;
	if (*s < '0' || *s > '9')
		return -EINVAL;
	errno = 0;
	char *e;
	unsigned long long v = strtoull(s, &e, 10);
	if (errno == ERANGE)
		return -ERANGE;
	if (end) {
		*end = e;
	} else {
		while (*e == ' ' || *e == '\t' || *e == '\n')
			e++;
		if (*e != '\0')
			return -EINVAL;
	}
	*out = (uint64_t)v;
	return 0;
}

/* --- CPUs ----------------------------------------------------------------- */

static int inventory_count_cpus(void)
{
	/* The mask grows until the kernel's fits: machines with more than
	 * 1024 CPUs exist, and sched_getaffinity() fails with EINVAL when the
	 * set is smaller than the kernel's. */
	for (int n = 1024; n <= (1 << 22); n *= 2) {
		size_t size = CPU_ALLOC_SIZE(n);
		cpu_set_t *set = xcalloc(1, size);
		if (sched_getaffinity(0, size, set) == 0) {
			int count = CPU_COUNT_S(size, set);
			free(set);
			if (count > 0)
				return count;
			break;
		}
		int err = errno;
		free(set);
		if (err != EINVAL) {
			log_warn("sched_getaffinity() failed while counting CPUs: %s",
				 strerror(err));
			break;
		}
	}
	long online = sysconf(_SC_NPROCESSORS_ONLN);
	log_warn("inventory: using the online CPU count (%ld) instead of the affinity mask",
		 online);
	return online < 1 ? 1 : online > 1000000 ? 1000000 : (int)online;
}

/* --- memory --------------------------------------------------------------- */

/* MemTotal in bytes, or 0 when /proc/meminfo cannot tell. */
static uint64_t inventory_meminfo_total(void)
{
	char *text;
	int rc = fsio_read_file("/proc/meminfo", INVENTORY_FILE_MAX, &text, NULL);
	if (rc < 0) {
		log_warn("reading /proc/meminfo failed: %s", strerror(-rc));
		return 0;
	}
	uint64_t bytes = 0;
	const char *line = text;
	while (line && strncmp(line, "MemTotal:", 9) != 0) {
		line = strchr(line, '\n');
		if (line)
			line++;
	}
	uint64_t kb;
	const char *rest;
	if (line && inventory_parse_u64(line + 9, &kb, &rest) == 0 &&
	    strncmp(rest, " kB", 3) == 0 && kb < UINT64_MAX / 1024)
		bytes = kb * 1024;
	if (bytes == 0)
		log_warn("no usable MemTotal line in /proc/meminfo");
	free(text);
	return bytes;
}

/* One cgroup memory limit file: bytes, or UINT64_MAX for none ("max", a
 * huge value, a missing or unreadable file). */
static uint64_t inventory_cgroup_read_limit(const char *path)
{
	char *text;
	if (fsio_read_file(path, INVENTORY_FILE_MAX, &text, NULL) < 0)
		return UINT64_MAX;
	uint64_t v;
	if (inventory_parse_u64(text, &v, NULL) < 0 || v == 0 || v >= inventory_huge_bytes)
		v = UINT64_MAX;
	else
		log_debug("inventory: cgroup memory limit %" PRIu64 " bytes in %s", v, path);
	free(text);
	return v;
}

/* The tightest limit in file `name` on cgroup `cgpath` and its ancestors,
 * under the hierarchy mounted at `mount`. Ancestors count because a
 * parent's limit binds its children; and without a cgroup namespace a
 * container sees the host's path in /proc/self/cgroup while its
 * /sys/fs/cgroup holds only its own subtree — then only the mount root
 * exists, and it is the container's limit. */
static uint64_t inventory_cgroup_walk(const char *mount, const char *cgpath, const char *name)
{
	uint64_t limit = UINT64_MAX;
	if (cgpath[0] != '/')
		return limit;
	char *dir = xstrdup(cgpath);
	size_t n = strlen(dir);
	while (n > 0 && dir[n - 1] == '/')
		dir[--n] = '\0';
	/* dir is "/a/b", then "/a", then "" (the mount root). */
	for (;;) {
		char *path = xasprintf("%s%s/%s", mount, dir, name);
		uint64_t v = inventory_cgroup_read_limit(path);
		free(path);
		if (v < limit)
			limit = v;
		char *slash = strrchr(dir, '/');
		if (!slash)
			break;
		*slash = '\0';
	}
	free(dir);
	return limit;
}

/* Whether a comma-separated controller list names `want`. */
static int inventory_cgroup_has_controller(const char *list, size_t len, const char *want)
{
	size_t wlen = strlen(want);
	const char *end = list + len;
	while (list < end) {
		const char *comma = memchr(list, ',', (size_t)(end - list));
		size_t n = comma ? (size_t)(comma - list) : (size_t)(end - list);
		if (n == wlen && memcmp(list, want, n) == 0)
			return 1;
		list += n + 1;
	}
	return 0;
}

/* The daemon's cgroup memory limit in bytes (v2 memory.max, v1
 * memory.limit_in_bytes; the smaller where both appear), or UINT64_MAX. */
static uint64_t inventory_cgroup_limit(void)
{
	const char *root = getenv("KAON_INVENTORY_CGROUP_ROOT");
	if (!root || !*root)
		root = INVENTORY_CGROUP_DEFAULT;
	char *text;
	int rc = fsio_read_file("/proc/self/cgroup", INVENTORY_FILE_MAX, &text, NULL);
	if (rc < 0) {
		log_debug("reading /proc/self/cgroup failed: %s", strerror(-rc));
		return UINT64_MAX;
	}
	uint64_t limit = UINT64_MAX;
	char *line = text;
	while (line && *line) {
		char *nl = strchr(line, '\n');
		if (nl)
			*nl = '\0';
		/* hierarchy-ID:controller-list:cgroup-path */
		char *c1 = strchr(line, ':');
		char *c2 = c1 ? strchr(c1 + 1, ':') : NULL;
		if (c2) {
			const char *controllers = c1 + 1;
			size_t clen = (size_t)(c2 - controllers);
			const char *cgpath = c2 + 1;
			uint64_t v = UINT64_MAX;
			if (c1 - line == 1 && line[0] == '0' && clen == 0) {
				v = inventory_cgroup_walk(root, cgpath, "memory.max");
			} else if (inventory_cgroup_has_controller(controllers, clen, "memory")) {
				char *mount = xasprintf("%s/memory", root);
				v = inventory_cgroup_walk(mount, cgpath, "memory.limit_in_bytes");
				free(mount);
			}
			if (v < limit)
				limit = v;
		}
		line = nl ? nl + 1 : NULL;
	}
	free(text);
	return limit;
}

/* Memory for jobs in MiB before reservations; 0 when unknown. */
static int64_t inventory_memory_mb(void)
{
	uint64_t bytes = inventory_meminfo_total();
	if (bytes == 0) {
		long pages = sysconf(_SC_PHYS_PAGES), page = sysconf(_SC_PAGESIZE);
		if (pages > 0 && page > 0)
			bytes = (uint64_t)pages * (uint64_t)page;
	}
	uint64_t limit = inventory_cgroup_limit();
	if (limit != UINT64_MAX && (bytes == 0 || limit < bytes)) {
		log_info("inventory: the daemon's cgroup limits memory to %" PRIu64 " MiB",
			 limit >> 20);
		bytes = limit;
	}
	return (int64_t)(bytes >> 20);
}

/* --- GPUs through NVML ----------------------------------------------------- */

/* The few NVML declarations used here (nvml.h is not needed to build).
 * Every call returns nvmlReturn_t, an int where 0 is NVML_SUCCESS. */
enum { INVENTORY_NVML_SUCCESS = 0 };
struct inventory_nvml_device; /* nvmlDevice_t is a pointer to this */
struct inventory_nvml_memory {
	unsigned long long total, free, used; /* bytes */
};

struct inventory_nvml {
	void *lib;
	int (*init)(void);
	int (*shutdown)(void);
	int (*get_count)(unsigned int *count);
	int (*get_handle)(unsigned int index, struct inventory_nvml_device **device);
	int (*get_name)(struct inventory_nvml_device *device, char *name, unsigned int length);
	int (*get_uuid)(struct inventory_nvml_device *device, char *uuid, unsigned int length);
	int (*get_memory)(struct inventory_nvml_device *device,
			  struct inventory_nvml_memory *memory);
	const char *(*error_string)(int result);
};

static const struct {
	const char *name;
	size_t offset;
} inventory_nvml_symbols[] = {
    {"nvmlInit_v2", offsetof(struct inventory_nvml, init)},
    {"nvmlShutdown", offsetof(struct inventory_nvml, shutdown)},
    {"nvmlDeviceGetCount_v2", offsetof(struct inventory_nvml, get_count)},
    {"nvmlDeviceGetHandleByIndex_v2", offsetof(struct inventory_nvml, get_handle)},
    {"nvmlDeviceGetName", offsetof(struct inventory_nvml, get_name)},
    {"nvmlDeviceGetUUID", offsetof(struct inventory_nvml, get_uuid)},
    {"nvmlDeviceGetMemoryInfo", offsetof(struct inventory_nvml, get_memory)},
    {"nvmlErrorString", offsetof(struct inventory_nvml, error_string)},
};

static const char *inventory_nvml_error(const struct inventory_nvml *nv, int result)
{
	const char *s = nv->error_string ? nv->error_string(result) : NULL;
	return s ? s : "unknown NVML error";
}

/* Open the library and find every symbol; 0, or -1 after an info line. */
static int inventory_nvml_open(struct inventory_nvml *nv, const char *libname)
{
	memset(nv, 0, sizeof *nv);
	nv->lib = dlopen(libname, RTLD_NOW | RTLD_LOCAL);
	if (!nv->lib) {
		const char *err = dlerror();
		log_info("inventory: no NVML (%s), so no real GPUs", err ? err : libname);
		return -1;
	}
	for (size_t i = 0; i < sizeof inventory_nvml_symbols / sizeof inventory_nvml_symbols[0];
	     i++) {
		void *sym = dlsym(nv->lib, inventory_nvml_symbols[i].name);
		if (!sym) {
			log_info("inventory: %s has no %s, so no real GPUs", libname,
				 inventory_nvml_symbols[i].name);
			dlclose(nv->lib);
			nv->lib = NULL;
			return -1;
		}
		/* POSIX lets a dlsym() result be used as a function pointer;
		 * copying its bytes into the typed slot is the form it blesses. */
		memcpy((char *)nv + inventory_nvml_symbols[i].offset, &sym, sizeof sym);
	}
	return 0;
}

/* One device into *gpu; 0, or -1 when it cannot be used. */
static int inventory_nvml_device(struct inventory_nvml *nv, unsigned int i,
				 struct inventory_gpu *gpu)
{
	struct inventory_nvml_device *dev = NULL;
	int r = nv->get_handle(i, &dev);
	if (r != INVENTORY_NVML_SUCCESS) {
		log_warn("nvmlDeviceGetHandleByIndex_v2() failed for GPU %u: %s; it is left out", i,
			 inventory_nvml_error(nv, r));
		return -1;
	}
	memset(gpu, 0, sizeof *gpu);
	gpu->index = (int)i;
	r = nv->get_name(dev, gpu->model, sizeof gpu->model);
	if (r != INVENTORY_NVML_SUCCESS) {
		log_warn("nvmlDeviceGetName() failed for GPU %u: %s", i,
			 inventory_nvml_error(nv, r));
		snprintf(gpu->model, sizeof gpu->model, "unknown GPU");
	}
	gpu->model[sizeof gpu->model - 1] = '\0';
	r = nv->get_uuid(dev, gpu->uuid, sizeof gpu->uuid);
	if (r != INVENTORY_NVML_SUCCESS) {
		log_warn("nvmlDeviceGetUUID() failed for GPU %u: %s", i,
			 inventory_nvml_error(nv, r));
		snprintf(gpu->uuid, sizeof gpu->uuid, "unknown");
	}
	gpu->uuid[sizeof gpu->uuid - 1] = '\0';
	struct inventory_nvml_memory mem = {0, 0, 0};
	r = nv->get_memory(dev, &mem);
	if (r != INVENTORY_NVML_SUCCESS)
		log_warn("nvmlDeviceGetMemoryInfo() failed for GPU %u: %s", i,
			 inventory_nvml_error(nv, r));
	else
		gpu->mem_mb = (int64_t)(mem.total >> 20);
	gpu->fake = 0;
	return 0;
}

/* Real GPUs into out->gpus; returns the index for the GPU after them:
 * NVML's device count, so indexes stay NVML's when a device is left out. */
static int inventory_nvml_discover(struct inventory *out)
{
	const char *libname = getenv("KAON_NVML_LIBRARY");
	if (libname && (!*libname || strcmp(libname, "none") == 0)) {
		log_info("inventory: NVML disabled by KAON_NVML_LIBRARY, so no real GPUs");
		return 0;
	}
	if (!libname)
		libname = INVENTORY_NVML_DEFAULT;

	struct inventory_nvml nv;
	if (inventory_nvml_open(&nv, libname) < 0)
		return 0;
	int next = 0;
	int r = nv.init();
	if (r != INVENTORY_NVML_SUCCESS) {
		log_info("inventory: nvmlInit_v2() failed: %s, so no real GPUs",
			 inventory_nvml_error(&nv, r));
		goto close;
	}
	unsigned int count = 0;
	r = nv.get_count(&count);
	if (r != INVENTORY_NVML_SUCCESS) {
		log_info("inventory: nvmlDeviceGetCount_v2() failed: %s, so no real GPUs",
			 inventory_nvml_error(&nv, r));
		goto shutdown;
	}
	if (count == 0)
		log_info("inventory: NVML found no GPUs");
	if (count > INVENTORY_MAX_GPUS) {
		log_warn("inventory: NVML reports %u GPUs; kaon uses at most %d, the rest are "
			 "left out",
			 count, INVENTORY_MAX_GPUS);
		count = INVENTORY_MAX_GPUS;
	}
	for (unsigned int i = 0; i < count; i++)
		if (inventory_nvml_device(&nv, i, &out->gpus[out->ngpus]) == 0)
			out->ngpus++;
	next = (int)count;
shutdown:
	r = nv.shutdown();
	if (r != INVENTORY_NVML_SUCCESS)
		log_warn("nvmlShutdown() failed: %s", inventory_nvml_error(&nv, r));
close:
	dlclose(nv.lib);
	return next;
}

/* --- per-process utilisation ------------------------------------------------ */

/* nvmlProcessUtilizationSample_t. */
struct inventory_nvml_sample {
	unsigned int pid;
	unsigned long long timestamp; /* microseconds */
	unsigned int sm_util, mem_util, enc_util, dec_util;
};
enum { INVENTORY_NVML_NOT_FOUND = 6, INVENTORY_NVML_INSUFFICIENT_SIZE = 7,
       INVENTORY_BUSY_MAX_SAMPLES = 4096 };

/* NVML kept open for the utilisation queries: discovery opens and closes
 * it once, but these come every few seconds for as long as sessions run. */
static struct {
	pthread_mutex_t lock;
	int state; /* 0: not tried yet, 1: open, -1: unavailable */
	void *lib;
	int (*init)(void);
	int (*get_count)(unsigned int *count);
	int (*get_handle)(unsigned int index, struct inventory_nvml_device **device);
	int (*get_util)(struct inventory_nvml_device *device, struct inventory_nvml_sample *samples,
			unsigned int *count, unsigned long long since_us);
} inventory_busy = { .lock = PTHREAD_MUTEX_INITIALIZER };

static int inventory_busy_open(void)
{
	const char *libname = getenv("KAON_NVML_LIBRARY");
	if (libname && (!*libname || strcmp(libname, "none") == 0))
		return -1;
	inventory_busy.lib = dlopen(libname ? libname : INVENTORY_NVML_DEFAULT, RTLD_NOW | RTLD_LOCAL);
	if (!inventory_busy.lib)
		return -1;
	static const struct {
		const char *name;
		size_t offset;
	} syms[] = {
		{ "nvmlInit_v2", offsetof(__typeof__(inventory_busy), init) },
		{ "nvmlDeviceGetCount_v2", offsetof(__typeof__(inventory_busy), get_count) },
		{ "nvmlDeviceGetHandleByIndex_v2", offsetof(__typeof__(inventory_busy), get_handle) },
		{ "nvmlDeviceGetProcessUtilization", offsetof(__typeof__(inventory_busy), get_util) },
	};
	for (size_t i = 0; i < sizeof syms / sizeof syms[0]; i++) {
		void *sym = dlsym(inventory_busy.lib, syms[i].name);
		if (!sym) {
			log_info("inventory: NVML has no %s: GPU use does not count against idle "
				 "culling",
				 syms[i].name);
			return -1;
		}
		memcpy((char *)&inventory_busy + syms[i].offset, &sym, sizeof sym);
	}
	/* nvmlInit counts references: this one stays for the daemon's life. */
	if (inventory_busy.init() != INVENTORY_NVML_SUCCESS)
		return -1;
	return 0;
}

int inventory_gpu_busy_pids(uint64_t since_us, int *pids, size_t max)
{
	size_t n = 0;
	pthread_mutex_lock(&inventory_busy.lock);
	if (inventory_busy.state == 0)
		inventory_busy.state = inventory_busy_open() == 0 ? 1 : -1;
	unsigned int count = 0;
	if (inventory_busy.state != 1 || inventory_busy.get_count(&count) != INVENTORY_NVML_SUCCESS)
		count = 0;
	struct inventory_nvml_sample *samples = NULL;
	for (unsigned int d = 0; d < count && d < INVENTORY_MAX_GPUS; d++) {
		struct inventory_nvml_device *dev = NULL;
		if (inventory_busy.get_handle(d, &dev) != INVENTORY_NVML_SUCCESS)
			continue;
		/* First the number of samples, then the samples. */
		unsigned int ns = 0;
		int r = inventory_busy.get_util(dev, NULL, &ns, since_us);
		if ((r != INVENTORY_NVML_SUCCESS && r != INVENTORY_NVML_INSUFFICIENT_SIZE) || ns == 0)
			continue; /* NOT_FOUND: no samples since; others: not supported */
		if (ns > INVENTORY_BUSY_MAX_SAMPLES)
			ns = INVENTORY_BUSY_MAX_SAMPLES;
		samples = xrealloc(samples, ns * sizeof *samples);
		memset(samples, 0, ns * sizeof *samples);
		if (inventory_busy.get_util(dev, samples, &ns, since_us) != INVENTORY_NVML_SUCCESS)
			continue;
		for (unsigned int i = 0; i < ns && n < max; i++)
			if (samples[i].sm_util > 0 && samples[i].timestamp >= since_us)
				pids[n++] = (int)samples[i].pid;
	}
	free(samples);
	pthread_mutex_unlock(&inventory_busy.lock);
	return (int)n;
}

/* --- fake GPUs and the summary --------------------------------------------- */

static void inventory_add_fakes(struct inventory *out, int fake_gpus, int next_index)
{
	int room = INVENTORY_MAX_GPUS - out->ngpus;
	if (fake_gpus > room) {
		log_warn("inventory: only %d of %d fake GPUs added: kaon uses at most %d GPUs",
			 room, fake_gpus, INVENTORY_MAX_GPUS);
		fake_gpus = room;
	}
	/* A local copy: the UUID has room for 64 bytes of it, and snprintf()
	 * must not read from the struct it writes into. */
	char host[65];
	size_t hostlen = strnlen(out->hostname, sizeof host - 1);
	memcpy(host, out->hostname, hostlen);
	host[hostlen] = '\0';
	for (int n = 0; n < fake_gpus; n++) {
		struct inventory_gpu *gpu = &out->gpus[out->ngpus++];
		memset(gpu, 0, sizeof *gpu);
		gpu->index = next_index + n;
		snprintf(gpu->model, sizeof gpu->model, "Fake GPU");
		/* Numbered among the fakes, not by index, so a fake keeps its
		 * UUID when real GPUs come or go. */
		snprintf(gpu->uuid, sizeof gpu->uuid, "GPU-fake-%s-%d", host, n);
		gpu->mem_mb = INVENTORY_FAKE_MEM_MB;
		gpu->fake = 1;
	}
}

static void inventory_log(const struct inventory *inv)
{
	char line[1536];
	size_t used = 0;
	inventory_append(line, sizeof line, &used,
			 "inventory: %s: %d CPUs, %" PRId64 " MiB memory, %d GPUs", inv->hostname,
			 inv->cpus, inv->mem_mb, inv->ngpus);
	/* Runs of one model as "N x MODEL": a node has few distinct models. */
	for (int i = 0; i < inv->ngpus;) {
		int j = i + 1;
		while (j < inv->ngpus && inv->gpus[j].fake == inv->gpus[i].fake &&
		       strcmp(inv->gpus[j].model, inv->gpus[i].model) == 0)
			j++;
		inventory_append(line, sizeof line, &used, "%s%d x %s (%" PRId64 " MiB)",
				 i == 0 ? ": " : ", ", j - i, inv->gpus[i].model,
				 inv->gpus[i].mem_mb);
		i = j;
	}
	log_info("%s", line);
	for (int i = 0; i < inv->ngpus; i++)
		log_debug("inventory: GPU %d: %s, %s, %" PRId64 " MiB%s", inv->gpus[i].index,
			  inv->gpus[i].model, inv->gpus[i].uuid, inv->gpus[i].mem_mb,
			  inv->gpus[i].fake ? ", fake" : "");
}

/* --- the entry point ------------------------------------------------------- */

int inventory_discover(struct inventory *out, int fake_gpus, int cpus_reserved,
		       int64_t mem_reserved_mb, char **cause)
{
	memset(out, 0, sizeof *out);
	if (fake_gpus < 0 || cpus_reserved < 0 || mem_reserved_mb < 0) {
		if (cause)
			*cause =
			    xasprintf("negative inventory setting: fake_gpus %d, cpus_reserved "
				      "%d, mem_reserved_mb %" PRId64,
				      fake_gpus, cpus_reserved, mem_reserved_mb);
		return -EINVAL;
	}

	if (gethostname(out->hostname, sizeof out->hostname) < 0) {
		log_warn("gethostname() failed while taking the inventory: %s", strerror(errno));
		snprintf(out->hostname, sizeof out->hostname, "unknown");
	}
	out->hostname[sizeof out->hostname - 1] = '\0';

	int cpus = inventory_count_cpus();
	if (cpus_reserved >= cpus) {
		log_warn("inventory: %d CPUs reserved of %d; 1 is left for jobs", cpus_reserved,
			 cpus);
		out->cpus = 1;
	} else {
		out->cpus = cpus - cpus_reserved;
	}

	int64_t mem_mb = inventory_memory_mb();
	if (mem_mb <= 0) {
		if (cause)
			*cause = xstrdup("cannot tell this machine's memory: /proc/meminfo and "
					 "sysconf() both failed");
		return -ENODATA;
	}
	int64_t floor_mb = mem_mb < INVENTORY_MIN_MEM_MB ? mem_mb : INVENTORY_MIN_MEM_MB;
	if (mem_reserved_mb > mem_mb - floor_mb) {
		log_warn("inventory: %" PRId64 " MiB memory reserved of %" PRId64 "; %" PRId64
			 " MiB is left for jobs",
			 mem_reserved_mb, mem_mb, floor_mb);
		out->mem_mb = floor_mb;
	} else {
		out->mem_mb = mem_mb - mem_reserved_mb;
	}

	int next_index = inventory_nvml_discover(out);
	inventory_add_fakes(out, fake_gpus, next_index);
	inventory_log(out);
	return 0;
}
