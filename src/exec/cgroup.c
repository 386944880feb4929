/*
 * cgroup — per-job resource groups on cgroup v2, v1 or both (see cgroup.h).
 *
 * The first half (probing, creating a job's groups, applying limits) runs
 * in the daemon and may allocate and log. The second half runs in a
 * supervisor or a job child forked from the multithreaded daemon and only
 * makes system calls on the fixed-size paths of struct cgroup_job.
 */
#include "exec/cgroup.h"

#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <dirent.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "exec/spawn.h"
#include "lib/fsio.h"
#include "lib/log.h"
#include "lib/xalloc.h"

enum {
	CG_MEMORY = 1 << 0,
	CG_CPU = 1 << 1,
	CG_CPUACCT = 1 << 2,
	CG_PIDS = 1 << 3,
	CG_FREEZER = 1 << 4,
};

static const struct {
	const char *name;
	unsigned bit;
} cgroup_ctrls[] = {
	{ "memory", CG_MEMORY }, { "cpu", CG_CPU },		{ "cpuacct", CG_CPUACCT },
	{ "pids", CG_PIDS },	 { "freezer", CG_FREEZER },
};
enum { CGROUP_NCTRLS = sizeof cgroup_ctrls / sizeof cgroup_ctrls[0] };

struct cgroup_hier {
	bool v2;
	unsigned ctrls; /* controllers that limit or account jobs here */
	char jobs[CGROUP_PATH_MAX]; /* the kaon-jobs directory */
};

static struct {
	char instance[32];
	struct cgroup_hier hier[CGROUP_MAX_DIRS];
	int nhier;
	bool v2_kill;     /* cgroup.kill exists (Linux 5.14+) */
	bool v2_freeze;   /* cgroup.freeze exists (Linux 5.2+) */
	bool v1_freezer;  /* the v1 freezer froze and thawed a probe group */
	bool v1_memsw;    /* memory.memsw.* exists (swap accounting) */
} cgroup_sys;

/* ---- probing (daemon side) ---------------------------------------------- */

/* Whether name is in the comma-separated list. */
static bool cgroup_list_has(const char *list, const char *name)
{
	size_t n = strlen(name);
	for (const char *s = list; s && *s;) {
		const char *end = strchr(s, ',');
		size_t len = end ? (size_t)(end - s) : strlen(s);
		if (len == n && strncmp(s, name, n) == 0)
			return true;
		s = end ? end + 1 : NULL;
	}
	return false;
}

/* Undo mountinfo's octal escapes (\040 for a space) in place. */
static void cgroup_unescape(char *s)
{
	char *w = s;
	for (char *r = s; *r; r++) {
		if (r[0] == '\\' && r[1] >= '0' && r[1] <= '3' && r[2] >= '0' && r[2] <= '7' &&
		    r[3] >= '0' && r[3] <= '7') {
			*w++ = (char)((r[1] - '0') * 64 + (r[2] - '0') * 8 + (r[3] - '0'));
			r += 3;
		} else {
			*w++ = *r;
		}
	}
	*w = '\0';
}

/* Split line at spaces into at most max fields; returns how many. */
static int cgroup_split(char *line, char **f, int max)
{
	int n = 0;
	char *s = line;
	while (*s && n < max) {
		while (*s == ' ')
			s++;
		if (!*s)
			break;
		f[n++] = s;
		while (*s && *s != ' ')
			s++;
		if (*s)
			*s++ = '\0';
	}
	return n;
}

/* The mount point and root of the first mount of fstype whose super
 * options name ctrl (any when ctrl is NULL); 0 or -ENOENT. */
static int cgroup_find_mount(const char *mountinfo, const char *fstype, const char *ctrl,
			     char **mnt, char **root)
{
	const char *line = mountinfo;
	while (line && *line) {
		const char *nl = strchr(line, '\n');
		size_t len = nl ? (size_t)(nl - line) : strlen(line);
		char *copy = xstrndup(line, len);
		char *f[32];
		int n = cgroup_split(copy, f, 32);
		int dash = -1;
		for (int i = 6; i < n; i++)
			if (strcmp(f[i], "-") == 0) {
				dash = i;
				break;
			}
		if (dash > 0 && dash + 3 < n && strcmp(f[dash + 1], fstype) == 0 &&
		    (!ctrl || cgroup_list_has(f[dash + 3], ctrl))) {
			cgroup_unescape(f[3]);
			cgroup_unescape(f[4]);
			*root = xstrdup(f[3]);
			*mnt = xstrdup(f[4]);
			free(copy);
			return 0;
		}
		free(copy);
		line = nl ? nl + 1 : NULL;
	}
	return -ENOENT;
}

/* This process's path in the hierarchy whose /proc/self/cgroup entry
 * lists ctrl ("" for the v2 entry "0::PATH"). */
static char *cgroup_self_path(const char *selfcg, const char *ctrl)
{
	const char *line = selfcg;
	while (line && *line) {
		const char *nl = strchr(line, '\n');
		size_t len = nl ? (size_t)(nl - line) : strlen(line);
		char *copy = xstrndup(line, len);
		char *c1 = strchr(copy, ':');
		char *c2 = c1 ? strchr(c1 + 1, ':') : NULL;
		if (c1 && c2) {
			*c1 = *c2 = '\0';
			bool match = ctrl[0] ? cgroup_list_has(c1 + 1, ctrl)
					     : (strcmp(copy, "0") == 0 && !c1[1]);
			if (match) {
				char *path = xstrdup(c2 + 1);
				free(copy);
				return path;
			}
		}
		free(copy);
		line = nl ? nl + 1 : NULL;
	}
	return NULL;
}

/* mount point + (self path relative to the mount's root), or NULL when
 * this process's group is not visible under that mount. */
static char *cgroup_base(const char *mnt, const char *root, const char *self)
{
	size_t rl = strlen(root);
	const char *rel = self;
	if (strcmp(root, "/") != 0) {
		if (strncmp(self, root, rl) != 0 || (self[rl] != '/' && self[rl] != '\0'))
			return NULL;
		rel = self + rl;
	}
	while (*rel == '/')
		rel++;
	return *rel ? xasprintf("%s/%s", mnt, rel) : xstrdup(mnt);
}

static bool cgroup_exists(const char *dir, const char *file)
{
	char path[CGROUP_PATH_MAX + 64];
	return spawn_path_join(path, sizeof path, dir, file) && access(path, F_OK) == 0;
}

static int cgroup_write(const char *dir, const char *file, const char *value)
{
	char path[CGROUP_PATH_MAX + 64];
	if (!spawn_path_join(path, sizeof path, dir, file))
		return -ENAMETOOLONG;
	return spawn_file_write(path, value);
}

/* Bits of the v2 controllers named in DIR/FILE (cgroup.controllers or
 * cgroup.subtree_control). */
static unsigned cgroup_v2_ctrls(const char *dir, const char *file)
{
	char path[CGROUP_PATH_MAX + 64], buf[512];
	if (!spawn_path_join(path, sizeof path, dir, file) ||
	    spawn_file_read(path, buf, sizeof buf) < 0)
		return 0;
	unsigned bits = 0;
	char *f[32];
	for (char *nl = strchr(buf, '\n'); nl; nl = strchr(nl, '\n'))
		*nl = ' ';
	int n = cgroup_split(buf, f, 32);
	for (int i = 0; i < n; i++)
		for (size_t c = 0; c < CGROUP_NCTRLS; c++)
			if (strcmp(f[i], cgroup_ctrls[c].name) == 0)
				bits |= cgroup_ctrls[c].bit;
	/* In v2, "cpu" also accounts: cpu.stat exists in every group anyway. */
	return bits & (CG_MEMORY | CG_CPU | CG_PIDS);
}

/* Enable the controllers in bits for DIR's children; 0 or the first error. */
static int cgroup_v2_enable(const char *dir, unsigned bits)
{
	int first = 0;
	for (size_t c = 0; c < CGROUP_NCTRLS; c++) {
		if (!(bits & cgroup_ctrls[c].bit))
			continue;
		char value[32];
		snprintf(value, sizeof value, "+%s", cgroup_ctrls[c].name);
		int rc = cgroup_write(dir, "cgroup.subtree_control", value);
		if (rc < 0 && !first)
			first = rc;
	}
	return first;
}

/* Whether this process is the only one in DIR. */
static bool cgroup_v2_alone(const char *dir)
{
	char *path = xasprintf("%s/cgroup.procs", dir), *text = NULL;
	int rc = fsio_read_file(path, 1 << 20, &text, NULL);
	free(path);
	if (rc < 0)
		return false;
	bool alone = true;
	const char *s = text;
	while (*s) {
		int64_t pid;
		const char *end = spawn_parse_i64(s, &pid);
		if (!end)
			break;
		if (pid != getpid())
			alone = false;
		s = end;
		while (*s == '\n')
			s++;
	}
	free(text);
	return alone;
}

/* Prepare BASE/kaon-jobs on v2. Controllers can only be enabled for the
 * children of a group that holds no process itself ("no internal
 * processes"), except at the real root: so when the daemon is alone in a
 * non-root group it moves into BASE/kaon-daemon first. When it shares its
 * group with others, jobs still get a group (kill, CPU accounting) but no
 * limits. */
static bool cgroup_v2_setup(const char *mnt, const char *root, const char *selfcg)
{
	char *self = cgroup_self_path(selfcg, "");
	if (!self)
		return false;
	char *base = cgroup_base(mnt, root, self);
	free(self);
	if (!base)
		return false;
	/* A second init (tests) finds the daemon already moved. */
	size_t bl = strlen(base);
	if (bl > 12 && strcmp(base + bl - 12, "/kaon-daemon") == 0)
		base[bl - 12] = '\0';

	unsigned want = cgroup_v2_ctrls(base, "cgroup.controllers");
	unsigned have = cgroup_v2_ctrls(base, "cgroup.subtree_control");
	if (want & ~have) {
		int rc = cgroup_v2_enable(base, want & ~have);
		if (rc == -EBUSY && cgroup_v2_alone(base)) {
			char *leaf = xasprintf("%s/kaon-daemon", base);
			char pid[24];
			spawn_fmt_i64(pid, getpid());
			if ((mkdir(leaf, 0755) == 0 || errno == EEXIST) &&
			    cgroup_write(leaf, "cgroup.procs", pid) == 0) {
				log_info("exec: moved the daemon into %s (cgroup v2 allows controllers "
					 "only for groups without processes)",
					 leaf);
				rc = cgroup_v2_enable(base, want & ~have);
			}
			free(leaf);
		}
		if (rc == -EBUSY)
			log_warn("exec: %s holds other processes, so cgroup v2 controllers cannot be "
				 "enabled for jobs; run kaon in its own cgroup (systemd: Delegate=yes)",
				 base);
		have = cgroup_v2_ctrls(base, "cgroup.subtree_control");
	}

	struct cgroup_hier *h = &cgroup_sys.hier[cgroup_sys.nhier];
	bool ok = spawn_path_join(h->jobs, sizeof h->jobs, base, "kaon-jobs") &&
		  (mkdir(h->jobs, 0755) == 0 || errno == EEXIST);
	if (!ok) {
		log_info("exec: cgroup v2 at %s is not writable (%s)", base, strerror(errno));
		free(base);
		return false;
	}
	free(base);
	(void)cgroup_v2_enable(h->jobs, have & want);
	h->v2 = true;
	h->ctrls = cgroup_v2_ctrls(h->jobs, "cgroup.subtree_control") & want;

	/* Probe a job-like group: that it can be made, and what it offers. */
	char probe[CGROUP_PATH_MAX], name[48];
	snprintf(name, sizeof name, "probe-%ld", (long)getpid());
	if (!spawn_path_join(probe, sizeof probe, h->jobs, name) || mkdir(probe, 0755) < 0) {
		log_info("exec: cannot create groups under %s (%s)", h->jobs, strerror(errno));
		return false;
	}
	cgroup_sys.v2_kill = cgroup_exists(probe, "cgroup.kill");
	cgroup_sys.v2_freeze = cgroup_exists(probe, "cgroup.freeze");
	(void)rmdir(probe);
	cgroup_sys.nhier++;
	return true;
}

/* Prepare <daemon's group>/kaon-jobs in the v1 hierarchy of ctrl. */
static void cgroup_v1_setup(const char *mountinfo, const char *selfcg, const char *ctrl,
			    unsigned bit)
{
	char *mnt = NULL, *root = NULL;
	if (cgroup_find_mount(mountinfo, "cgroup", ctrl, &mnt, &root) < 0)
		return;
	/* Co-mounted controllers (cpu,cpuacct) share one hierarchy. */
	for (int i = 0; i < cgroup_sys.nhier; i++) {
		struct cgroup_hier *o = &cgroup_sys.hier[i];
		size_t ml = strlen(mnt);
		if (!o->v2 && strncmp(o->jobs, mnt, ml) == 0 && o->jobs[ml] == '/') {
			o->ctrls |= bit;
			goto out;
		}
	}
	if (cgroup_sys.nhier == CGROUP_MAX_DIRS)
		goto out;
	char *self = cgroup_self_path(selfcg, ctrl);
	char *base = self ? cgroup_base(mnt, root, self) : NULL;
	free(self);
	if (!base)
		goto out;
	struct cgroup_hier *h = &cgroup_sys.hier[cgroup_sys.nhier];
	char probe[CGROUP_PATH_MAX], name[48];
	snprintf(name, sizeof name, "probe-%ld", (long)getpid());
	if (!spawn_path_join(h->jobs, sizeof h->jobs, base, "kaon-jobs") ||
	    (mkdir(h->jobs, 0755) < 0 && errno != EEXIST) ||
	    !spawn_path_join(probe, sizeof probe, h->jobs, name) || mkdir(probe, 0755) < 0) {
		log_debug("exec: cgroup v1 %s at %s is not writable (%s)", ctrl, base,
			  strerror(errno));
		free(base);
		goto out;
	}
	free(base);
	if (bit == CG_MEMORY)
		cgroup_sys.v1_memsw = cgroup_exists(probe, "memory.memsw.limit_in_bytes");
	if (bit == CG_FREEZER) {
		char state[CGROUP_PATH_MAX + 32], buf[32];
		cgroup_sys.v1_freezer = cgroup_write(probe, "freezer.state", "FROZEN") == 0 &&
					spawn_path_join(state, sizeof state, probe, "freezer.state") &&
					spawn_file_read(state, buf, sizeof buf) > 0 &&
					strncmp(buf, "FROZEN", 6) == 0;
		(void)cgroup_write(probe, "freezer.state", "THAWED");
		if (!cgroup_sys.v1_freezer) {
			log_info("exec: the v1 freezer does not work here; not using it");
			(void)rmdir(probe);
			goto out;
		}
	}
	(void)rmdir(probe);
	h->v2 = false;
	h->ctrls = bit;
	cgroup_sys.nhier++;
out:
	free(mnt);
	free(root);
}

/* Remove the empty groups this instance left behind (a supervisor killed
 * by -9 cannot remove its own); rmdir refuses a group that has processes. */
static void cgroup_sweep(const char *jobs)
{
	char suffix[40];
	int slen = snprintf(suffix, sizeof suffix, "-%s", cgroup_sys.instance);
	DIR *d = opendir(jobs);
	if (!d)
		return;
	int removed = 0;
	struct dirent *e;
	while ((e = readdir(d))) {
		size_t len = strlen(e->d_name);
		if (strncmp(e->d_name, "job-", 4) != 0 || len <= (size_t)slen ||
		    strcmp(e->d_name + len - (size_t)slen, suffix) != 0)
			continue;
		char path[CGROUP_PATH_MAX];
		if (spawn_path_join(path, sizeof path, jobs, e->d_name) && rmdir(path) == 0)
			removed++;
	}
	closedir(d);
	if (removed)
		log_info("exec: removed %d empty job cgroups left in %s", removed, jobs);
}

void cgroup_init(const char *instance)
{
	memset(&cgroup_sys, 0, sizeof cgroup_sys);
	snprintf(cgroup_sys.instance, sizeof cgroup_sys.instance, "%s", instance);
	const char *mode = getenv("KAON_CGROUP");
	if (!mode || !mode[0])
		mode = "auto";
	bool use_v2 = strcmp(mode, "auto") == 0 || strcmp(mode, "v2") == 0;
	bool use_v1 = strcmp(mode, "auto") == 0 || strcmp(mode, "v1") == 0;
	if (!use_v1 && !use_v2 && strcmp(mode, "none") != 0)
		log_warn("exec: KAON_CGROUP=%s is not auto, v2, v1 or none; using none", mode);

	char *mountinfo = NULL, *selfcg = NULL;
	if (fsio_read_file("/proc/self/mountinfo", 1 << 22, &mountinfo, NULL) < 0 ||
	    fsio_read_file("/proc/self/cgroup", 1 << 16, &selfcg, NULL) < 0) {
		log_warn("exec: cannot read /proc/self/mountinfo or /proc/self/cgroup; jobs run "
			 "without cgroups");
		goto out;
	}

	unsigned v2ctrls = 0;
	if (use_v2) {
		char *mnt = NULL, *root = NULL;
		if (cgroup_find_mount(mountinfo, "cgroup2", NULL, &mnt, &root) == 0 &&
		    cgroup_v2_setup(mnt, root, selfcg))
			v2ctrls = cgroup_sys.hier[0].ctrls;
		free(mnt);
		free(root);
	}
	if (use_v1)
		for (size_t c = 0; c < CGROUP_NCTRLS; c++)
			if (!(v2ctrls & cgroup_ctrls[c].bit))
				cgroup_v1_setup(mountinfo, selfcg, cgroup_ctrls[c].name,
						cgroup_ctrls[c].bit);

	unsigned all = 0;
	for (int i = 0; i < cgroup_sys.nhier; i++) {
		struct cgroup_hier *h = &cgroup_sys.hier[i];
		all |= h->ctrls;
		char names[128] = "";
		size_t len = 0;
		for (size_t c = 0; c < CGROUP_NCTRLS; c++)
			if (h->ctrls & cgroup_ctrls[c].bit)
				len += (size_t)snprintf(names + len, sizeof names - len, "%s%s",
							len ? "," : "", cgroup_ctrls[c].name);
		log_info("exec: cgroup %s at %s (%s)%s", h->v2 ? "v2" : "v1", h->jobs,
			 len ? names : "no controllers",
			 h->v2 ? (cgroup_sys.v2_kill ? ", killed with cgroup.kill"
						     : ", killed by listing cgroup.procs")
			       : "");
		cgroup_sweep(h->jobs);
	}
	if (!cgroup_sys.nhier) {
		log_warn("exec: no writable cgroup (KAON_CGROUP=%s%s): jobs run without memory, CPU "
			 "or process limits and are killed through their process group",
			 mode, geteuid() ? ", not root" : "");
		goto out;
	}
	if (!(all & CG_MEMORY))
		log_warn("exec: no memory controller: job memory limits are not enforced");
	if (!(all & CG_CPU))
		log_warn("exec: no cpu controller: job CPU limits are not enforced");
	if (!(all & CG_PIDS))
		log_info("exec: no pids controller: process limits use RLIMIT_NPROC (per user)");
out:
	free(mountinfo);
	free(selfcg);
}

bool cgroup_available(void)
{
	return cgroup_sys.nhier > 0;
}

/* ---- one job's groups (daemon side) ------------------------------------- */

static int cgroup_limit(struct cgroup_job *cg, int idx, unsigned ctrls,
			const struct cgroup_limits *lim, char **cause)
{
	const char *dir = cg->dirs[idx];
	bool v2 = cg->v2[idx];
	char value[64];
	int rc = 0;
	const char *file = "";

	if (ctrls & CG_MEMORY) {
		cg->memory = idx;
		if (lim->mem_mb > 0) {
			int64_t bytes = lim->mem_mb * 1024 * 1024;
			snprintf(value, sizeof value, "%lld", (long long)bytes);
			if (v2) {
				file = "memory.max";
				if ((rc = cgroup_write(dir, file, value)) < 0)
					goto fail;
				/* Without swap the limit is the job's real size;
				 * oom.group ends the whole job, not one process. */
				if (cgroup_exists(dir, "memory.swap.max") &&
				    (rc = cgroup_write(dir, file = "memory.swap.max", "0")) < 0)
					goto fail;
				if (cgroup_exists(dir, "memory.oom.group") &&
				    (rc = cgroup_write(dir, file = "memory.oom.group", "1")) < 0)
					goto fail;
			} else {
				file = "memory.limit_in_bytes";
				if ((rc = cgroup_write(dir, file, value)) < 0)
					goto fail;
				if (cgroup_sys.v1_memsw &&
				    (rc = cgroup_write(dir, file = "memory.memsw.limit_in_bytes",
						       value)) < 0)
					goto fail;
			}
			cg->limits_memory = true;
		}
	}
	if ((ctrls & CG_CPU) && lim->cpus > 0) {
		if (v2) {
			snprintf(value, sizeof value, "%lld 100000", (long long)lim->cpus * 100000);
			if ((rc = cgroup_write(dir, file = "cpu.max", value)) < 0)
				goto fail;
		} else {
			if ((rc = cgroup_write(dir, file = "cpu.cfs_period_us", "100000")) < 0)
				goto fail;
			snprintf(value, sizeof value, "%lld", (long long)lim->cpus * 100000);
			if ((rc = cgroup_write(dir, file = "cpu.cfs_quota_us", value)) < 0)
				goto fail;
		}
		cg->limits_cpu = true;
	}
	if ((ctrls & CG_PIDS) && lim->max_procs > 0) {
		snprintf(value, sizeof value, "%d", lim->max_procs);
		if ((rc = cgroup_write(dir, file = "pids.max", value)) < 0)
			goto fail;
		cg->limits_pids = true;
	}
	if ((ctrls & CG_CPUACCT) || (v2 && cg->cpuacct < 0))
		cg->cpuacct = idx;
	if ((ctrls & CG_FREEZER) && cgroup_sys.v1_freezer)
		cg->freezer = idx;
	return 0;
fail:
	*cause = xasprintf("writing %s/%s: %s", dir, file, strerror(-rc));
	return rc;
}

int cgroup_job_new(int64_t job_id, const struct cgroup_limits *lim, struct cgroup_job **out,
		   char **cause)
{
	*out = NULL;
	if (!cgroup_sys.nhier)
		return 0;
	struct cgroup_job *cg = xcalloc(1, sizeof *cg);
	cg->procs = cg->freezer = cg->memory = cg->cpuacct = -1;
	int v2idx = -1, rc = 0;
	char leaf[80];
	snprintf(leaf, sizeof leaf, "job-%lld-%s", (long long)job_id, cgroup_sys.instance);

	/* Only the hierarchies this job needs: each costs a mkdir, a join and
	 * an rmdir per job. The v2 group (or else the v1 freezer) is needed
	 * to kill; a v1 controller only for a limit the job asks for. */
	bool need[CGROUP_MAX_DIRS] = { false }, have_v2 = false, any = false;
	for (int i = 0; i < cgroup_sys.nhier; i++)
		have_v2 |= cgroup_sys.hier[i].v2;
	for (int i = 0; i < cgroup_sys.nhier; i++) {
		const struct cgroup_hier *h = &cgroup_sys.hier[i];
		unsigned c = h->ctrls;
		need[i] = h->v2 || ((c & CG_MEMORY) && lim->mem_mb > 0) ||
			  ((c & CG_CPU) && lim->cpus > 0) || ((c & CG_PIDS) && lim->max_procs > 0) ||
			  (!have_v2 && (c & (CG_CPUACCT | CG_FREEZER)));
		any |= need[i];
	}
	if (!any)
		need[0] = true; /* something to list the job's processes */

	for (int i = 0; i < cgroup_sys.nhier; i++) {
		const struct cgroup_hier *h = &cgroup_sys.hier[i];
		if (!need[i])
			continue;
		char *dir = cg->dirs[cg->ndirs];
		if (!spawn_path_join(dir, CGROUP_PATH_MAX, h->jobs, leaf)) {
			*cause = xasprintf("cgroup path too long under %s", h->jobs);
			rc = -ENAMETOOLONG;
			goto fail;
		}
		if (mkdir(dir, 0755) < 0) {
			rc = -errno;
			/* A group left by an earlier run of this job id: reuse
			 * it only if it is empty. */
			if (rc != -EEXIST || rmdir(dir) < 0 || mkdir(dir, 0755) < 0) {
				*cause = rc == -EEXIST
						 ? xasprintf("cgroup %s exists and still has processes", dir)
						 : xasprintf("creating cgroup %s: %s", dir, strerror(-rc));
				goto fail;
			}
		}
		int idx = cg->ndirs++;
		cg->v2[idx] = h->v2;
		if (h->v2)
			v2idx = idx;
		if ((rc = cgroup_limit(cg, idx, h->ctrls, lim, cause)) < 0)
			goto fail;
	}

	/* How to kill: v2 (cgroup.kill, else freeze + procs) whenever a v2
	 * group exists, even without controllers; then the v1 freezer; then
	 * any v1 group's process list. */
	if (v2idx >= 0) {
		cg->procs = v2idx;
		if (cgroup_sys.v2_kill) {
			cg->kill = CGROUP_KILL_FILE;
		} else if (cgroup_sys.v2_freeze) {
			cg->kill = CGROUP_KILL_FREEZE_V2;
			cg->freezer = v2idx;
		} else {
			cg->kill = CGROUP_KILL_PROCS;
		}
	} else if (cg->freezer >= 0) {
		cg->procs = cg->freezer;
		cg->kill = CGROUP_KILL_FREEZE_V1;
	} else {
		cg->procs = cg->memory >= 0 ? cg->memory : 0;
		cg->kill = CGROUP_KILL_PROCS;
	}
	if (lim->mem_mb > 0 && !cg->limits_memory)
		log_debug("job %lld: memory limit not enforced (no memory controller)",
			  (long long)job_id);
	*out = cg;
	return 0;
fail:
	for (int i = cg->ndirs - 1; i >= 0; i--)
		(void)rmdir(cg->dirs[i]);
	free(cg);
	return rc < 0 ? rc : -EIO;
}

void cgroup_job_free(struct cgroup_job *cg)
{
	free(cg);
}

bool cgroup_job_limits_pids(const struct cgroup_job *cg)
{
	return cg && cg->limits_pids;
}

/* ---- async-signal-safe from here on ------------------------------------- */

int cgroup_job_join(const struct cgroup_job *cg, pid_t pid)
{
	char num[24], path[CGROUP_PATH_MAX + 32];
	spawn_fmt_i64(num, pid);
	for (int i = 0; i < cg->ndirs; i++) {
		if (!spawn_path_join(path, sizeof path, cg->dirs[i], "cgroup.procs"))
			return -ENAMETOOLONG;
		int rc = spawn_file_write(path, num);
		if (rc < 0)
			return rc;
	}
	return 0;
}

/* kill(pid, sig) for every pid in DIR/cgroup.procs (sig 0: count only);
 * returns how many, or -errno. Streams in small reads: no allocation. */
static int cgroup_procs_each(const char *dir, int sig)
{
	char path[CGROUP_PATH_MAX + 32], buf[4096];
	if (!spawn_path_join(path, sizeof path, dir, "cgroup.procs"))
		return -ENAMETOOLONG;
	int fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return -errno;
	pid_t self = getpid();
	int count = 0;
	int64_t pid = 0;
	bool in = false;
	for (;;) {
		ssize_t n = read(fd, buf, sizeof buf);
		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0) {
			int err = errno;
			close(fd);
			return -err;
		}
		for (ssize_t i = 0; i <= n; i++) {
			if (i < n && buf[i] >= '0' && buf[i] <= '9') {
				pid = pid * 10 + (buf[i] - '0');
				in = true;
				continue;
			}
			if (i == n && n > 0)
				break; /* a number may go on in the next read */
			if (in && pid > 1 && pid != self) {
				count++;
				if (sig)
					(void)kill((pid_t)pid, sig);
			}
			pid = 0;
			in = false;
		}
		if (n == 0)
			break;
	}
	close(fd);
	return count;
}

/* Freeze (or thaw) the job so that no process forks while it is being
 * signalled; waits up to 100 ms for the freeze to settle (a task in
 * uninterruptible sleep may delay it; signalling then goes ahead). */
static void cgroup_freeze(const struct cgroup_job *cg, bool on)
{
	const char *dir = cg->dirs[cg->freezer];
	char path[CGROUP_PATH_MAX + 32], buf[512];
	bool v2 = cg->kill == CGROUP_KILL_FREEZE_V2;
	if (cgroup_write(dir, v2 ? "cgroup.freeze" : "freezer.state",
			 v2 ? (on ? "1" : "0") : (on ? "FROZEN" : "THAWED")) < 0 ||
	    !on)
		return;
	if (!spawn_path_join(path, sizeof path, dir, v2 ? "cgroup.events" : "freezer.state"))
		return;
	for (int i = 0; i < 100; i++) {
		if (spawn_file_read(path, buf, sizeof buf) < 0)
			return;
		int64_t frozen = 0;
		if (v2 ? (spawn_text_key(buf, "frozen", &frozen) && frozen == 1)
		       : strncmp(buf, "FROZEN", 6) == 0)
			return;
		spawn_sleep_ms(1);
	}
}

int cgroup_job_signal(const struct cgroup_job *cg, int sig)
{
	if (cg->kill == CGROUP_KILL_NONE)
		return -ENOENT;
	const char *dir = cg->dirs[cg->procs];
	if (cg->kill == CGROUP_KILL_FILE && sig == SIGKILL) {
		int n = cgroup_procs_each(dir, 0);
		int rc = cgroup_write(dir, "cgroup.kill", "1");
		return rc < 0 ? rc : n;
	}
	bool freeze = cg->kill == CGROUP_KILL_FREEZE_V1 || cg->kill == CGROUP_KILL_FREEZE_V2;
	if (freeze)
		cgroup_freeze(cg, true);
	int n = cgroup_procs_each(dir, sig);
	if (freeze)
		cgroup_freeze(cg, false);
	return n;
}

bool cgroup_job_kill_all(const struct cgroup_job *cg, int max_ms)
{
	if (cg->kill == CGROUP_KILL_NONE)
		return true;
	int64_t deadline = spawn_now_ms() + max_ms;
	int nap = 1;
	for (;;) {
		int n = cgroup_procs_each(cg->dirs[cg->procs], 0);
		if (n <= 0)
			return n == 0;
		(void)cgroup_job_signal(cg, SIGKILL);
		if (spawn_now_ms() >= deadline)
			return false;
		spawn_sleep_ms(nap);
		if (nap < 50)
			nap *= 2;
	}
}

static bool cgroup_read_key(const char *dir, const char *file, const char *key, int64_t *out)
{
	char path[CGROUP_PATH_MAX + 32], buf[2048];
	if (!spawn_path_join(path, sizeof path, dir, file) ||
	    spawn_file_read(path, buf, sizeof buf) < 0)
		return false;
	if (!key)
		return spawn_parse_i64(buf, out) != NULL;
	return spawn_text_key(buf, key, out);
}

void cgroup_job_usage(const struct cgroup_job *cg, struct cgroup_usage *u)
{
	u->have_cpu = u->have_peak = false;
	u->cpu_usec = u->peak_bytes = 0;
	u->oom_kills = u->failcnt = -1;
	int64_t v;
	if (cg->cpuacct >= 0) {
		const char *dir = cg->dirs[cg->cpuacct];
		if (cg->v2[cg->cpuacct]) {
			if (cgroup_read_key(dir, "cpu.stat", "usage_usec", &v))
				u->have_cpu = true, u->cpu_usec = v;
		} else if (cgroup_read_key(dir, "cpuacct.usage", NULL, &v)) {
			u->have_cpu = true, u->cpu_usec = v / 1000;
		}
	}
	if (cg->memory >= 0) {
		const char *dir = cg->dirs[cg->memory];
		if (cg->v2[cg->memory]) {
			if (cgroup_read_key(dir, "memory.peak", NULL, &v))
				u->have_peak = true, u->peak_bytes = v;
			if (cgroup_read_key(dir, "memory.events", "oom_kill", &v))
				u->oom_kills = v;
		} else {
			if (cgroup_read_key(dir, "memory.max_usage_in_bytes", NULL, &v))
				u->have_peak = true, u->peak_bytes = v;
			if (cgroup_read_key(dir, "memory.oom_control", "oom_kill", &v))
				u->oom_kills = v;
			if (cgroup_read_key(dir, "memory.failcnt", NULL, &v))
				u->failcnt = v;
		}
	}
}

void cgroup_job_remove(const struct cgroup_job *cg)
{
	for (int i = cg->ndirs - 1; i >= 0; i--)
		for (int try = 0; try < 100; try++) {
			if (rmdir(cg->dirs[i]) == 0 || errno != EBUSY)
				break;
			spawn_sleep_ms(2);
		}
}
