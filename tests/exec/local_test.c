/*
 * Tests of the local executor (exec/local.c, supervisor.c, spawn.c,
 * cgroup.c): real jobs, run through exec_local_start, read back through
 * the job directory. As root every job runs as nobody (the executor
 * refuses root); tests that need root or a cgroup controller skip.
 */
#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <pwd.h>
#include <signal.h>
#include <stdint.h>
#include <stdlib.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "../harness.h"
#include "exec/cgroup.h"
#include "exec/executor.h"
#include "exec/spawn.h"
#include "exec/zygote.h"
#include "lib/fsio.h"
#include "lib/log.h"

static char *exec_test_env[] = { "PATH=/usr/local/bin:/usr/bin:/bin", "LC_ALL=C", NULL };

/* Init the executor with KAON_CGROUP=mode (NULL: auto). */
static void exec_test_init(const char *mode)
{
	if (mode)
		setenv("KAON_CGROUP", mode, 1);
	else
		unsetenv("KAON_CGROUP");
	log_set_level(LOG_WARN);
	char *cause = NULL;
	CHECK_INT(exec_local_init(harness_tmpdir(), &cause), 0);
}

/* A fresh job directory anyone may write (jobs run as nobody under root). */
static char *exec_test_dir(const char *name)
{
	CHECK_INT(chmod(harness_tmpdir(), 0755), 0);
	char *dir = NULL;
	CHECK(asprintf(&dir, "%s/%s", harness_tmpdir(), name) > 0);
	CHECK_INT(mkdir(dir, 0777), 0);
	CHECK_INT(chmod(dir, 0777), 0);
	return dir;
}

static struct exec_job exec_test_job(int64_t id, const char *dir, char *const *argv)
{
	struct exec_job job = {
		.job_id = id,
		.dir = dir,
		.argv = argv,
		.envp = exec_test_env,
		.uid = getuid(),
		.gid = getgid(),
		.grace_s = 1,
	};
	if (geteuid() == 0) {
		struct passwd *pw = getpwnam("nobody");
		if (!pw)
			SKIP("root, but no user nobody to run jobs as");
		job.user = "nobody";
		job.uid = pw->pw_uid;
		job.gid = pw->pw_gid;
	}
	return job;
}

static void exec_test_start(const struct exec_job *job)
{
	char *cause = NULL;
	int rc = exec_local_start(job, &cause);
	if (rc != 0)
		harness_fail(__FILE__, __LINE__, "exec_local_start: %d %s", rc,
			     cause ? cause : "");
}

static void exec_test_wait(const char *dir, struct exec_status *st, int timeout_ms)
{
	for (int waited = 0; waited < timeout_ms; waited += 10) {
		exec_local_reap();
		CHECK_INT(exec_local_status(dir, st), 0);
		if (st->state != EXEC_RUNNING)
			return;
		usleep(10000);
	}
	harness_fail(__FILE__, __LINE__, "job in %s still running after %d ms", dir, timeout_ms);
}

static char *exec_test_read(const char *dir, const char *name)
{
	char *path = NULL, *text = NULL;
	CHECK(asprintf(&path, "%s/%s", dir, name) > 0);
	int rc = fsio_read_file(path, 1 << 20, &text, NULL);
	free(path);
	return rc == 0 ? text : NULL;
}

/* Wait until DIR/name exists and is not empty; its content. */
static char *exec_test_await_file(const char *dir, const char *name, int timeout_ms)
{
	for (int waited = 0; waited < timeout_ms; waited += 10) {
		char *text = exec_test_read(dir, name);
		if (text && text[0])
			return text;
		free(text);
		usleep(10000);
	}
	harness_fail(__FILE__, __LINE__, "%s/%s did not appear", dir, name);
}

static bool exec_test_alive(pid_t pid)
{
	int64_t start;
	bool zombie = false;
	return spawn_proc_starttime(pid, &start, &zombie) == 0 && !zombie;
}

static bool exec_test_has_memory_limit(void)
{
	struct cgroup_limits lim = { .mem_mb = 64 };
	struct cgroup_job *cg = NULL;
	char *cause = NULL;
	if (cgroup_job_new(999999, &lim, &cg, &cause) < 0 || !cg)
		return false;
	bool yes = cg->limits_memory;
	cgroup_job_remove(cg);
	cgroup_job_free(cg);
	return yes;
}

/* The job's main pid: the third field of DIR/supervisor; 0 if absent. */
static int64_t exec_test_job_pid(const char *dir)
{
	char *sup = exec_test_read(dir, "supervisor");
	int64_t spid = 0, start = 0, jpid = 0;
	const char *s = sup ? spawn_parse_i64(sup, &spid) : NULL;
	if (s && *s == ' ')
		s = spawn_parse_i64(s + 1, &start);
	if (s && *s == ' ')
		s = spawn_parse_i64(s + 1, &jpid);
	bool whole = s && *s == '\n';
	free(sup);
	return whole ? jpid : 0;
}

TEST(exec_output_lands_in_files)
{
	exec_test_init(NULL);
	char *dir = exec_test_dir("job");
	char *argv[] = { "sh", "-c", "echo out; echo err >&2", NULL };
	struct exec_job job = exec_test_job(1, dir, argv);
	exec_test_start(&job);
	struct exec_status st;
	exec_test_wait(dir, &st, 5000);
	CHECK_INT(st.state, EXEC_ENDED);
	CHECK_INT(st.exit_code, 0);
	CHECK_INT(st.signal, 0);
	CHECK(!st.oom && !st.timeout && !st.cancelled);
	CHECK(st.start_time > 0 && st.end_time >= st.start_time);
	char *out = exec_test_read(dir, "stdout"), *err = exec_test_read(dir, "stderr");
	CHECK_STR(out, "out\n");
	CHECK_STR(err, "err\n");
	CHECK(exec_test_job_pid(dir) > 1);
	char *status = exec_test_read(dir, "status");
	CHECK(status && strstr(status, "\"exit_code\":0,\"signal\":null,\"oom\":false"));
	free(out), free(err), free(status), free(dir);
}

TEST(exec_exit_codes_and_signals)
{
	exec_test_init(NULL);
	static const struct {
		const char *script;
		int code, sig;
	} cases[] = {
		{ "exit 0", 0, 0 },
		{ "exit 3", 3, 0 },
		{ "kill -9 $$", -1, SIGKILL },
	};
	for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
		char name[16];
		snprintf(name, sizeof name, "job%zu", i);
		char *dir = exec_test_dir(name);
		char *argv[] = { "/bin/sh", "-c", (char *)cases[i].script, NULL };
		struct exec_job job = exec_test_job(10 + (int64_t)i, dir, argv);
		exec_test_start(&job);
		struct exec_status st;
		exec_test_wait(dir, &st, 5000);
		CHECK_INT(st.state, EXEC_ENDED);
		CHECK_INT(st.exit_code, cases[i].code);
		CHECK_INT(st.signal, cases[i].sig);
		free(dir);
	}
}

TEST(exec_start_reports_exec_failure)
{
	exec_test_init(NULL);
	char *dir = exec_test_dir("job");
	char *argv[] = { "kaon-no-such-program", "x", NULL };
	struct exec_job job = exec_test_job(20, dir, argv);
	char *cause = NULL;
	CHECK_INT(exec_local_start(&job, &cause), -ENOENT);
	CHECK_STR(cause, "no such file: kaon-no-such-program");
	struct exec_status st;
	CHECK_INT(exec_local_status(dir, &st), 0); /* written before start returned */
	CHECK_INT(st.state, EXEC_ENDED);
	CHECK_INT(st.exit_code, 127);
	free(cause);
	free(dir);
}

TEST(exec_start_reports_bad_workdir)
{
	exec_test_init(NULL);
	char *dir = exec_test_dir("job");
	char *argv[] = { "true", NULL };
	struct exec_job job = exec_test_job(21, dir, argv);
	job.workdir = "/nonexistent/kaon";
	char *cause = NULL;
	CHECK(exec_local_start(&job, &cause) < 0);
	CHECK(cause && strstr(cause, "bad workdir /nonexistent/kaon"));
	free(cause);
	free(dir);
}

/* The daemon's way: supervisors forked by the zygote, starts batched. */
TEST(exec_start_through_the_zygote)
{
	exec_test_init(NULL);
	char *cause = NULL;
	CHECK_INT(zygote_start(&cause), 0);
	CHECK(zygote_running());
	char *dirs[3];
	struct exec_start *starts[3];
	char *ok_argv[] = { "sh", "-c", "echo zygote-$KAON_TEST; exit 3", NULL };
	char *env[] = { "PATH=/usr/bin:/bin", "KAON_TEST=yes", NULL };
	for (int i = 0; i < 3; i++) {
		dirs[i] = exec_test_dir(i == 0 ? "z0" : i == 1 ? "z1" : "z2");
		struct exec_job job = exec_test_job(90 + i, dirs[i], ok_argv);
		job.envp = env;
		if (i == 2)
			job.workdir = "/nonexistent/kaon";
		CHECK_INT(exec_local_begin(&job, &starts[i], &cause), 0);
	}
	CHECK_INT(exec_local_finish(starts[0], &cause), 0);
	CHECK_INT(exec_local_finish(starts[1], &cause), 0);
	CHECK(exec_local_finish(starts[2], &cause) < 0);
	CHECK(cause && strstr(cause, "bad workdir /nonexistent/kaon"));
	free(cause);
	CHECK(zygote_running()); /* it answered all three: no fallback */
	for (int i = 0; i < 2; i++) {
		struct exec_status st;
		exec_test_wait(dirs[i], &st, 5000);
		CHECK_INT(st.exit_code, 3);
		char *out = exec_test_read(dirs[i], "stdout");
		CHECK_STR(out, "zygote-yes\n");
		free(out);
	}
	zygote_stop();
	CHECK(!zygote_running());
	for (int i = 0; i < 3; i++)
		free(dirs[i]);
}

TEST(exec_output_symlink_is_refused)
{
	exec_test_init(NULL);
	char *dir = exec_test_dir("job"), *link = NULL, *target = NULL;
	CHECK(asprintf(&link, "%s/stdout", dir) > 0);
	CHECK(asprintf(&target, "%s/victim", harness_tmpdir()) > 0);
	CHECK_INT(symlink(target, link), 0);
	char *argv[] = { "echo", "hi", NULL };
	struct exec_job job = exec_test_job(22, dir, argv);
	char *cause = NULL;
	CHECK(exec_local_start(&job, &cause) < 0);
	CHECK(cause && strstr(cause, "stdout"));
	CHECK(access(target, F_OK) < 0);
	free(cause), free(link), free(target), free(dir);
}

TEST(exec_walltime_ends_job_as_timeout)
{
	exec_test_init(NULL);
	char *dir = exec_test_dir("job");
	char *argv[] = { "sleep", "30", NULL };
	struct exec_job job = exec_test_job(30, dir, argv);
	job.walltime_s = 1;
	time_t t0 = time(NULL);
	exec_test_start(&job);
	struct exec_status st;
	exec_test_wait(dir, &st, 5000);
	CHECK(st.timeout && !st.cancelled);
	CHECK_INT(st.signal, SIGTERM);
	CHECK(time(NULL) - t0 <= 3);
	free(dir);
}

TEST(exec_walltime_kills_after_grace)
{
	exec_test_init(NULL);
	char *dir = exec_test_dir("job");
	char *argv[] = { "sh", "-c", "trap '' TERM; sleep 30", NULL };
	struct exec_job job = exec_test_job(31, dir, argv);
	job.walltime_s = 1;
	job.grace_s = 1;
	exec_test_start(&job);
	struct exec_status st;
	exec_test_wait(dir, &st, 6000);
	CHECK(st.timeout);
	CHECK_INT(st.signal, SIGKILL);
	CHECK(st.end_time - st.start_time >= 2);
	free(dir);
}

static int64_t exec_test_now_ms(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

TEST(exec_walltime_extended_while_running)
{
	exec_test_init(NULL);
	char *dir = exec_test_dir("job");
	char *argv[] = { "sleep", "30", NULL };
	struct exec_job job = exec_test_job(32, dir, argv);
	job.walltime_s = 1;
	int64_t t0 = exec_test_now_ms();
	exec_test_start(&job);
	CHECK_INT(exec_local_set_walltime(dir, 3), 0);
	char *text = exec_test_read(dir, "walltime");
	CHECK_STR(text, "3\n");
	struct stat sb;
	char *path = NULL;
	CHECK(asprintf(&path, "%s/walltime", dir) > 0);
	CHECK_INT(stat(path, &sb), 0);
	CHECK_INT(sb.st_mode & 07777, 0644);
	CHECK_INT(sb.st_uid, geteuid());
	/* A second past the wall time it started with, it still runs. */
	usleep(2000 * 1000);
	struct exec_status st;
	CHECK_INT(exec_local_status(dir, &st), 0);
	CHECK_INT(st.state, EXEC_RUNNING);
	exec_test_wait(dir, &st, 5000);
	int64_t ran = exec_test_now_ms() - t0;
	CHECK(st.timeout && !st.cancelled);
	CHECK_INT(st.signal, SIGTERM);
	CHECK(ran >= 2900 && ran < 4500);
	CHECK(st.end_time - st.start_time >= 2 && st.end_time - st.start_time <= 4);
	free(text), free(path), free(dir);
}

TEST(exec_walltime_shortened_ends_early)
{
	exec_test_init(NULL);
	char *dir = exec_test_dir("job");
	char *argv[] = { "sleep", "30", NULL };
	struct exec_job job = exec_test_job(33, dir, argv);
	job.walltime_s = 30;
	int64_t t0 = exec_test_now_ms();
	exec_test_start(&job);
	CHECK_INT(exec_local_set_walltime(dir, 1), 0);
	struct exec_status st;
	exec_test_wait(dir, &st, 5000);
	int64_t ran = exec_test_now_ms() - t0;
	CHECK(st.timeout && !st.cancelled);
	CHECK_INT(st.signal, SIGTERM);
	CHECK(ran >= 900 && ran < 2500);
	free(dir);
}

TEST(exec_walltime_shortened_into_the_past_ends_at_once)
{
	exec_test_init(NULL);
	char *dir = exec_test_dir("job");
	char *argv[] = { "sleep", "30", NULL };
	struct exec_job job = exec_test_job(34, dir, argv);
	job.walltime_s = 30;
	exec_test_start(&job);
	usleep(1300 * 1000);
	int64_t t1 = exec_test_now_ms();
	CHECK_INT(exec_local_set_walltime(dir, 1), 0);
	struct exec_status st;
	exec_test_wait(dir, &st, 5000);
	CHECK(st.timeout && !st.cancelled);
	CHECK(exec_test_now_ms() - t1 < 800);
	free(dir);
}

TEST(exec_walltime_zero_removes_the_limit)
{
	exec_test_init(NULL);
	char *dir = exec_test_dir("job");
	char *argv[] = { "sleep", "30", NULL };
	struct exec_job job = exec_test_job(35, dir, argv);
	job.walltime_s = 1;
	exec_test_start(&job);
	CHECK_INT(exec_local_set_walltime(dir, 0), 0);
	usleep(1800 * 1000);
	struct exec_status st;
	CHECK_INT(exec_local_status(dir, &st), 0);
	CHECK_INT(st.state, EXEC_RUNNING);
	CHECK_INT(exec_local_cancel(dir), 0);
	exec_test_wait(dir, &st, 5000);
	CHECK(st.cancelled && !st.timeout);
	free(dir);
}

/* The job user owns the job directory: a wall time file they plant (or
 * a symlink to one) must not move the deadline, even when the supervisor
 * is signalled for a real change. */
TEST(exec_walltime_ignores_a_planted_file)
{
	exec_test_init(NULL);
	if (geteuid() != 0)
		SKIP("needs root: a file owned by another uid than the supervisor's");
	char *dir = exec_test_dir("job");
	char *argv[] = { "sleep", "30", NULL };
	struct exec_job job = exec_test_job(36, dir, argv);
	job.walltime_s = 30;
	exec_test_start(&job);
	char *path = NULL, *elsewhere = NULL;
	CHECK(asprintf(&path, "%s/walltime", dir) > 0);
	CHECK(asprintf(&elsewhere, "%s/mine", harness_tmpdir()) > 0);
	CHECK_INT(fsio_write_atomic(path, "1\n", 2, 0644), 0);
	CHECK_INT(chown(path, job.uid, job.gid), 0);
	char *sup = exec_test_read(dir, "supervisor");
	int64_t spid = 0;
	CHECK(sup && spawn_parse_i64(sup, &spid) && spid > 1);
	CHECK_INT(kill((pid_t)spid, SIGUSR2), 0);
	/* A symlink to a file the supervisor's uid owns is refused too. */
	CHECK_INT(fsio_write_atomic(elsewhere, "1\n", 2, 0644), 0);
	CHECK_INT(unlink(path), 0);
	CHECK_INT(symlink(elsewhere, path), 0);
	CHECK_INT(kill((pid_t)spid, SIGUSR2), 0);
	usleep(1500 * 1000);
	struct exec_status st;
	CHECK_INT(exec_local_status(dir, &st), 0);
	CHECK_INT(st.state, EXEC_RUNNING);
	CHECK_INT(exec_local_cancel(dir), 0);
	exec_test_wait(dir, &st, 5000);
	CHECK(st.cancelled && !st.timeout);
	free(sup), free(path), free(elsewhere), free(dir);
}

TEST(exec_set_walltime_refuses_bad_values_and_ended_jobs)
{
	exec_test_init(NULL);
	char *dir = exec_test_dir("job");
	CHECK_INT(exec_local_set_walltime(dir, -1), -EINVAL);
	CHECK_INT(exec_local_set_walltime(dir, EXEC_WALLTIME_MAX_S + 1), -EINVAL);
	CHECK_INT(exec_local_set_walltime(dir, 10), -ESRCH);
	char *text = exec_test_read(dir, "walltime");
	CHECK(!text); /* nothing written for a job that does not run */
	char *argv[] = { "true", NULL };
	struct exec_job job = exec_test_job(37, dir, argv);
	exec_test_start(&job);
	struct exec_status st;
	exec_test_wait(dir, &st, 5000);
	int rc = 0;
	for (int i = 0; i < 100 && (rc = exec_local_set_walltime(dir, 10)) == 0; i++)
		usleep(10000);
	CHECK_INT(rc, -ESRCH);
	free(dir);
}

/* A job that leaves a grandchild in a new session (setsid + double fork),
 * then cancel: nothing may survive. */
static void exec_test_cancel_daemonized(const char *mode)
{
	exec_test_init(mode);
	if (!cgroup_available())
		SKIP("no writable cgroup (needs root and cgroupfs)");
	char *dir = exec_test_dir("job");
	char *argv[] = { "sh", "-c",
			 "setsid sh -c 'sleep 1000 & echo $! > gpid' & wait; sleep 1000", NULL };
	struct exec_job job = exec_test_job(40, dir, argv);
	exec_test_start(&job);
	char *gpid_text = exec_test_await_file(dir, "gpid", 3000);
	int64_t gpid = 0;
	CHECK(spawn_parse_i64(gpid_text, &gpid));
	CHECK(exec_test_alive((pid_t)gpid));
	CHECK(getsid((pid_t)gpid) == (pid_t)gpid || getsid((pid_t)gpid) != getsid(0));

	struct exec_status st;
	CHECK_INT(exec_local_status(dir, &st), 0);
	CHECK_INT(st.state, EXEC_RUNNING);
	CHECK_INT(exec_local_cancel(dir), 0);
	exec_test_wait(dir, &st, 5000);
	CHECK_INT(st.state, EXEC_ENDED);
	CHECK(st.cancelled && !st.timeout);
	CHECK_INT(st.signal, SIGTERM);
	for (int i = 0; i < 100 && exec_test_alive((pid_t)gpid); i++)
		usleep(10000);
	CHECK(!exec_test_alive((pid_t)gpid));
	/* The supervisor exits just after writing the status. */
	int rc = 0;
	for (int i = 0; i < 100 && (rc = exec_local_cancel(dir)) == 0; i++)
		usleep(10000);
	CHECK_INT(rc, -ESRCH);
	free(gpid_text);
	free(dir);
}

TEST(exec_cancel_kills_daemonized_grandchild)
{
	exec_test_cancel_daemonized(NULL);
}

TEST(exec_cancel_kills_daemonized_grandchild_v1)
{
	exec_test_cancel_daemonized("v1");
}

TEST(exec_cancel_kills_daemonized_grandchild_v2)
{
	exec_test_cancel_daemonized("v2");
}

TEST(exec_cancel_without_cgroup_uses_process_group)
{
	exec_test_init("none");
	CHECK(!cgroup_available());
	char *dir = exec_test_dir("job");
	char *argv[] = { "sh", "-c", "sleep 30 & sleep 30; wait", NULL };
	struct exec_job job = exec_test_job(41, dir, argv);
	exec_test_start(&job);
	char *sup = exec_test_await_file(dir, "supervisor", 1000);
	int64_t pgid = exec_test_job_pid(dir);
	CHECK(sup && pgid > 1);
	CHECK_INT(exec_local_cancel(dir), 0);
	struct exec_status st;
	exec_test_wait(dir, &st, 5000);
	CHECK(st.cancelled);
	CHECK_INT(st.signal, SIGTERM);
	usleep(50000);
	CHECK(kill(-(pid_t)pgid, 0) < 0 && errno == ESRCH);
	free(sup);
	free(dir);
}

TEST(exec_memory_hog_ends_as_oom)
{
	exec_test_init(NULL);
	if (!exec_test_has_memory_limit())
		SKIP("no memory controller to limit jobs (needs root and a memory cgroup)");
	if (access("/usr/bin/python3", X_OK) < 0)
		SKIP("no /usr/bin/python3");
	char *dir = exec_test_dir("job");
	char *argv[] = { "/usr/bin/python3", "-c", "s = 'x' * (512 << 20); print(len(s))", NULL };
	struct exec_job job = exec_test_job(50, dir, argv);
	job.mem_mb = 64;
	exec_test_start(&job);
	struct exec_status st;
	exec_test_wait(dir, &st, 10000);
	CHECK_INT(st.state, EXEC_ENDED);
	CHECK(st.oom);
	CHECK_INT(st.signal, SIGKILL);
	CHECK(st.max_rss_kb > 0 && st.max_rss_kb <= 64 * 1024 + 64);
	free(dir);
}

TEST(exec_limits_are_written_to_the_job_cgroup)
{
	exec_test_init(NULL);
	if (!cgroup_available())
		SKIP("no writable cgroup (needs root and cgroupfs)");
	char *dir = exec_test_dir("job");
	char *argv[] = { "sh", "-c", "cat /proc/self/cgroup > cgroups; sleep 30", NULL };
	struct exec_job job = exec_test_job(51, dir, argv);
	job.mem_mb = 100;
	job.cpus = 2;
	job.max_procs = 40;
	exec_test_start(&job);
	char *cgroups = exec_test_await_file(dir, "cgroups", 3000);
	/* Each line is ID:CONTROLLERS:PATH; check the files where this box
	 * mounts them (v1 under /sys/fs/cgroup/NAME, v2 at /sys/fs/cgroup or
	 * /sys/fs/cgroup/unified). */
	static const struct {
		const char *ctrl, *file, *want;
	} v1[] = {
		{ "memory", "memory.limit_in_bytes", "104857600\n" },
		{ "cpu", "cpu.cfs_quota_us", "200000\n" },
		{ "pids", "pids.max", "40\n" },
	};
	int checked = 0;
	for (char *line = cgroups; line && *line;) {
		char *nl = strchr(line, '\n');
		if (nl)
			*nl = '\0';
		char *c1 = strchr(line, ':'), *c2 = c1 ? strchr(c1 + 1, ':') : NULL;
		if (c1 && c2 && strstr(c2, "kaon-jobs/job-51-")) {
			*c2 = '\0';
			for (size_t i = 0; i < sizeof v1 / sizeof v1[0]; i++) {
				if (strcmp(c1 + 1, v1[i].ctrl) != 0)
					continue;
				char *path = NULL, *text = NULL;
				CHECK(asprintf(&path, "/sys/fs/cgroup/%s%s/%s", v1[i].ctrl, c2 + 1,
					       v1[i].file) > 0);
				CHECK_INT(fsio_read_file(path, 100, &text, NULL), 0);
				CHECK_STR(text, v1[i].want);
				checked++;
				free(path), free(text);
			}
			if (!c1[1] && strcmp(line, "0") == 0) {
				static const char *const mounts[] = { "/sys/fs/cgroup",
								      "/sys/fs/cgroup/unified" };
				for (size_t m = 0; m < 2; m++) {
					char *path = NULL, *text = NULL;
					CHECK(asprintf(&path, "%s%s/memory.max", mounts[m], c2 + 1) >
					      0);
					if (fsio_read_file(path, 100, &text, NULL) == 0) {
						CHECK_STR(text, "104857600\n");
						checked++;
					}
					free(path), free(text);
				}
			}
		}
		line = nl ? nl + 1 : NULL;
	}
	CHECK_INT(exec_local_cancel(dir), 0);
	struct exec_status st;
	exec_test_wait(dir, &st, 5000);
	CHECK(st.cancelled);
	if (!checked)
		SKIP("no memory/cpu/pids controller files where this test looks");
	free(cgroups);
	free(dir);
}

TEST(exec_runs_as_the_job_user)
{
	if (geteuid() != 0)
		SKIP("needs root to switch users");
	exec_test_init(NULL);
	char *dir = exec_test_dir("job"), *work = NULL;
	CHECK(asprintf(&work, "%s/work", dir) > 0);
	CHECK_INT(mkdir(work, 0700), 0);
	char *argv[] = { "sh", "-c", "id -u; id -g; touch made", NULL };
	struct exec_job job = exec_test_job(60, dir, argv);
	CHECK_INT(chown(work, job.uid, job.gid), 0);
	job.workdir = work;
	exec_test_start(&job);
	struct exec_status st;
	exec_test_wait(dir, &st, 5000);
	CHECK_INT(st.exit_code, 0);
	char *out = exec_test_read(dir, "stdout"), want[64];
	snprintf(want, sizeof want, "%u\n%u\n", (unsigned)job.uid, (unsigned)job.gid);
	CHECK_STR(out, want);
	struct stat sb;
	char *path = NULL;
	CHECK(asprintf(&path, "%s/stdout", dir) > 0);
	CHECK_INT(stat(path, &sb), 0);
	CHECK_INT(sb.st_uid, job.uid);
	CHECK_INT(sb.st_mode & 0777, 0640);
	free(path);
	CHECK(asprintf(&path, "%s/made", work) > 0);
	CHECK_INT(stat(path, &sb), 0);
	CHECK_INT(sb.st_uid, job.uid);
	free(path), free(out), free(work), free(dir);
}

TEST(exec_refuses_to_run_as_root)
{
	if (geteuid() != 0)
		SKIP("needs root (single-account mode runs everything as the daemon's uid)");
	exec_test_init(NULL);
	char *dir = exec_test_dir("job");
	char *argv[] = { "true", NULL };
	struct exec_job job = exec_test_job(61, dir, argv);
	job.uid = 0;
	job.user = "root";
	char *cause = NULL;
	CHECK_INT(exec_local_start(&job, &cause), -EPERM);
	CHECK(cause && strstr(cause, "root"));
	CHECK(access(dir, F_OK) == 0);
	free(cause);
	free(dir);
}

TEST(exec_supervisor_survives_its_parent)
{
	char *dir = exec_test_dir("job");
	pid_t pid = fork();
	CHECK(pid >= 0);
	if (pid == 0) {
		exec_test_init(NULL);
		char *argv[] = { "sh", "-c", "sleep 1; echo done", NULL };
		struct exec_job job = exec_test_job(70, dir, argv);
		char *cause = NULL;
		_exit(exec_local_start(&job, &cause) == 0 ? 0 : 1);
	}
	int ws;
	CHECK_INT(waitpid(pid, &ws, 0), pid);
	CHECK(WIFEXITED(ws) && WEXITSTATUS(ws) == 0);
	char *sup = exec_test_read(dir, "supervisor");
	int64_t spid = 0;
	CHECK(sup && spawn_parse_i64(sup, &spid));
	CHECK(exec_test_alive((pid_t)spid));
	CHECK(getsid((pid_t)spid) == (pid_t)spid); /* its own session */
	struct exec_status st;
	CHECK_INT(exec_local_status(dir, &st), 0);
	CHECK_INT(st.state, EXEC_RUNNING);
	exec_test_wait(dir, &st, 5000);
	CHECK_INT(st.state, EXEC_ENDED);
	CHECK_INT(st.exit_code, 0);
	char *out = exec_test_read(dir, "stdout");
	CHECK_STR(out, "done\n");
	free(out), free(sup), free(dir);
}

TEST(exec_notifies_the_daemon)
{
	exec_test_init(NULL);
	char *dir = exec_test_dir("job"), *sock = NULL;
	CHECK(asprintf(&sock, "%s/notify.sock", harness_tmpdir()) > 0);
	int fd = socket(AF_UNIX, SOCK_DGRAM | SOCK_CLOEXEC, 0);
	struct sockaddr_un addr = { .sun_family = AF_UNIX };
	snprintf(addr.sun_path, sizeof addr.sun_path, "%s", sock);
	CHECK_INT(bind(fd, (struct sockaddr *)&addr, sizeof addr), 0);
	char *argv[] = { "true", NULL };
	struct exec_job job = exec_test_job(812, dir, argv);
	job.notify_socket = sock;
	exec_test_start(&job);
	struct timeval tv = { 5, 0 };
	setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof tv);
	char buf[64] = "";
	ssize_t n = recv(fd, buf, sizeof buf - 1, 0);
	CHECK(n > 0);
	CHECK_STR(buf, "ended 812\n");
	struct exec_status st;
	CHECK_INT(exec_local_status(dir, &st), 0);
	CHECK_INT(st.state, EXEC_ENDED); /* the status is written before the datagram */
	close(fd);
	free(sock), free(dir);
}

TEST(exec_lost_when_the_supervisor_is_killed)
{
	exec_test_init(NULL);
	char *dir = exec_test_dir("job");
	char *argv[] = { "sleep", "30", NULL };
	struct exec_job job = exec_test_job(80, dir, argv);
	exec_test_start(&job);
	char *sup = exec_test_read(dir, "supervisor");
	int64_t spid = 0, jpid = exec_test_job_pid(dir);
	CHECK(sup && spawn_parse_i64(sup, &spid));
	CHECK(jpid > 1);
	CHECK_INT(kill((pid_t)spid, SIGKILL), 0);
	struct exec_status st;
	exec_test_wait(dir, &st, 3000);
	CHECK_INT(st.state, EXEC_LOST);
	/* The job dies with its supervisor (parent-death signal). */
	for (int i = 0; i < 100 && exec_test_alive((pid_t)jpid); i++)
		usleep(10000);
	CHECK(!exec_test_alive((pid_t)jpid));
	exec_test_init(NULL); /* sweeps the empty group left behind */
	free(sup), free(dir);
}

TEST(exec_cancel_before_the_supervisor_is_up)
{
	/* The daemon records a start before the supervisor exists; a cancel
	 * in between finds no supervisor to signal and leaves a mark. */
	exec_test_init(NULL);
	char *dir = exec_test_dir("job");
	CHECK_INT(exec_local_cancel(dir), 0);
	char *argv[] = { "sleep", "30", NULL };
	struct exec_job job = exec_test_job(43, dir, argv);
	exec_test_start(&job);
	struct exec_status st;
	exec_test_wait(dir, &st, 5000);
	CHECK_INT(st.state, EXEC_ENDED);
	CHECK(st.cancelled && !st.timeout);
	CHECK_INT(st.signal, SIGTERM);
	CHECK_INT(exec_local_cancel(dir), -ESRCH); /* ended: nothing to cancel */
	free(dir);
}

TEST(exec_cancel_ignores_a_forged_supervisor_file)
{
	exec_test_init(NULL);
	char *dir = exec_test_dir("job"), *path = NULL, line[64];
	int64_t start;
	CHECK_INT(spawn_proc_starttime(getppid(), &start, NULL), 0);
	snprintf(line, sizeof line, "%ld %lld\n", (long)getppid(), (long long)start);
	CHECK(asprintf(&path, "%s/supervisor", dir) > 0);
	CHECK_INT(fsio_write_atomic(path, line, strlen(line), 0644), 0);
	CHECK_INT(exec_local_cancel(dir), -ESRCH);
	struct exec_status st;
	CHECK_INT(exec_local_status(dir, &st), 0);
	CHECK_INT(st.state, EXEC_LOST);
	free(path), free(dir);
}

TEST(exec_status_of_a_missing_directory_fails)
{
	struct exec_status st;
	CHECK(exec_local_status("/nonexistent/kaon/job", &st) < 0);
	CHECK_INT(exec_local_cancel("/nonexistent/kaon/job"), -ESRCH);
}

static volatile int exec_test_stop;

static void *exec_test_churn(void *arg)
{
	(void)arg;
	while (!exec_test_stop) {
		char *p = malloc(16 + (size_t)rand() % 4096);
		snprintf(p, 16, "%d", rand());
		free(p);
	}
	return NULL;
}

/* The supervisor is a fork of a multithreaded daemon: while other threads
 * hold allocator locks at fork time, it must still run every job to its
 * end (an allocation there would deadlock sooner or later). */
TEST(exec_start_while_other_threads_allocate)
{
	exec_test_init(NULL);
	pthread_t t[4];
	for (int i = 0; i < 4; i++)
		CHECK_INT(pthread_create(&t[i], NULL, exec_test_churn, NULL), 0);
	enum { N = 40 };
	char *dirs[N];
	char *argv[] = { "true", NULL };
	for (int i = 0; i < N; i++) {
		char name[16];
		snprintf(name, sizeof name, "job%d", i);
		dirs[i] = exec_test_dir(name);
		struct exec_job job = exec_test_job(100 + i, dirs[i], argv);
		exec_test_start(&job);
	}
	for (int i = 0; i < N; i++) {
		struct exec_status st;
		exec_test_wait(dirs[i], &st, 5000);
		CHECK_INT(st.state, EXEC_ENDED);
		CHECK_INT(st.exit_code, 0);
		free(dirs[i]);
	}
	exec_test_stop = 1;
	for (int i = 0; i < 4; i++)
		pthread_join(t[i], NULL);
}
