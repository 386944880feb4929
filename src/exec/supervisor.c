/*
 * supervisor — one job's keeper, from exec to exit status (see supervisor.h).
 *
 * supervisor_plan_new/free run in the daemon. Everything else runs in the
 * forked supervisor, where only async-signal-safe calls are allowed: the
 * status JSON is built with a fixed buffer and spawn_fmt_i64, time comes
 * from clock_gettime, waiting is sigtimedwait on a blocked mask, and
 * prctl goes through syscall(2) (the sanitizers intercept prctl and lock).
 */
#include "exec/supervisor.h"

#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "exec/cgroup.h"
#include "exec/executor.h"
#include "lib/log.h"
#include "lib/xalloc.h"

/* How long leftovers of an ended job may take to die before the
 * supervisor gives up on them and writes the status anyway. */
enum { SUPERVISOR_KILL_MAX_MS = 5000, SUPERVISOR_REKILL_MS = 200 };

struct supervisor_plan *supervisor_plan_new(const struct exec_job *job, const char *absdir,
					    const struct spawn_plan *sp,
					    const struct cgroup_job *cg)
{
	struct supervisor_plan *p = xcalloc(1, sizeof *p);
	p->job_id = job->job_id;
	p->walltime_s = job->walltime_s > 0 ? job->walltime_s : 0;
	p->grace_s = job->grace_s > 0 ? job->grace_s : 0;
	p->dir = xstrdup(absdir);
	p->supervisor_path = xasprintf("%s/supervisor", absdir);
	p->supervisor_tmp = xasprintf("%s/.supervisor.tmp", absdir);
	p->status_path = xasprintf("%s/status", absdir);
	p->status_tmp = xasprintf("%s/.status.tmp", absdir);
	p->walltime_path = xasprintf("%s/walltime", absdir);
	p->spawn = sp;
	p->cgroup = cg;
	if (job->notify_socket && job->notify_socket[0]) {
		size_t len = strlen(job->notify_socket);
		if (len < sizeof p->notify_addr.sun_path) {
			p->notify = true;
			p->notify_addr.sun_family = AF_UNIX;
			memcpy(p->notify_addr.sun_path, job->notify_socket, len + 1);
			p->notify_len =
				(socklen_t)(offsetof(struct sockaddr_un, sun_path) + len + 1);
		} else {
			log_warn("job %lld: notify socket path too long, not notifying: %s",
				 (long long)job->job_id, job->notify_socket);
		}
	}
	int n = snprintf(p->notify_msg, sizeof p->notify_msg, "ended %lld\n",
			 (long long)job->job_id);
	p->notify_msg_len = n > 0 ? (size_t)n : 0;
	return p;
}

void supervisor_plan_free(struct supervisor_plan *p)
{
	if (!p)
		return;
	free(p->dir);
	free(p->supervisor_path);
	free(p->supervisor_tmp);
	free(p->status_path);
	free(p->status_tmp);
	free(p->walltime_path);
	free(p);
}

/* ---- in the supervisor: async-signal-safe only -------------------------- */

/* A bounded string builder over a caller's buffer. */
struct supervisor_buf {
	char *p;
	size_t len, cap;
};

static void supervisor_put(struct supervisor_buf *b, const char *s)
{
	size_t n = strlen(s);
	if (b->len + n < b->cap) {
		memcpy(b->p + b->len, s, n + 1);
		b->len += n;
	}
}

static void supervisor_put_i64(struct supervisor_buf *b, int64_t v)
{
	char num[24];
	spawn_fmt_i64(num, v);
	supervisor_put(b, num);
}

struct supervisor_end {
	int wstatus;
	bool exited_known; /* false: wait4 failed, no exit status */
	bool oom, timeout, cancelled;
	int64_t start_time, end_time;
	int64_t cpu_usec;
	int64_t max_rss_kb;
};

static int64_t supervisor_wallclock(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_REALTIME, &ts);
	return (int64_t)ts.tv_sec;
}

static size_t supervisor_status_json(const struct supervisor_end *e, char *buf, size_t cap)
{
	struct supervisor_buf b = { buf, 0, cap };
	buf[0] = '\0';
	bool exited = e->exited_known && WIFEXITED(e->wstatus);
	bool signaled = e->exited_known && WIFSIGNALED(e->wstatus);
	supervisor_put(&b, "{\"exit_code\":");
	if (exited)
		supervisor_put_i64(&b, WEXITSTATUS(e->wstatus));
	else
		supervisor_put(&b, "null");
	supervisor_put(&b, ",\"signal\":");
	if (signaled)
		supervisor_put_i64(&b, WTERMSIG(e->wstatus));
	else
		supervisor_put(&b, "null");
	supervisor_put(&b, ",\"oom\":");
	supervisor_put(&b, e->oom ? "true" : "false");
	supervisor_put(&b, ",\"timeout\":");
	supervisor_put(&b, e->timeout ? "true" : "false");
	supervisor_put(&b, ",\"cancelled\":");
	supervisor_put(&b, e->cancelled ? "true" : "false");
	supervisor_put(&b, ",\"start_time\":");
	supervisor_put_i64(&b, e->start_time);
	supervisor_put(&b, ",\"end_time\":");
	supervisor_put_i64(&b, e->end_time);
	supervisor_put(&b, ",\"cpu_seconds\":");
	supervisor_put_i64(&b, e->cpu_usec / 1000000);
	char frac[8] = ".000";
	int64_t ms = (e->cpu_usec % 1000000) / 1000;
	frac[1] = (char)('0' + ms / 100);
	frac[2] = (char)('0' + ms / 10 % 10);
	frac[3] = (char)('0' + ms % 10);
	supervisor_put(&b, frac);
	supervisor_put(&b, ",\"max_rss_kb\":");
	supervisor_put_i64(&b, e->max_rss_kb);
	supervisor_put(&b, "}\n");
	return b.len;
}

static void supervisor_notify(const struct supervisor_plan *p)
{
	if (!p->notify)
		return;
	int s = socket(AF_UNIX, SOCK_DGRAM | SOCK_CLOEXEC, 0);
	if (s < 0)
		return;
	(void)sendto(s, p->notify_msg, p->notify_msg_len, MSG_DONTWAIT | MSG_NOSIGNAL,
		     (const struct sockaddr *)&p->notify_addr, p->notify_len);
	close(s);
}

static void supervisor_report(int fd, const struct supervisor_report *r)
{
	if (fd < 0)
		return;
	ssize_t n;
	do
		n = write(fd, r, sizeof *r);
	while (n < 0 && errno == EINTR);
	close(fd);
}

/* The daemon's handlers make no sense here, and an ignored SIGCHLD would
 * let the kernel reap the job before wait4 sees its status. */
static void supervisor_signals(void)
{
	spawn_signals_default();
}

/* Close every inherited fd (the daemon's listening sockets and database
 * must not stay open in a process that outlives it) except reportfd, and
 * put /dev/null on 0, 1 and 2. Returns reportfd, moved above 2. */
static int supervisor_fds(int reportfd)
{
	if (reportfd < 3) {
		int fd = fcntl(reportfd, F_DUPFD_CLOEXEC, 3);
		close(reportfd);
		reportfd = fd;
	}
	int lo = reportfd < 0 ? 3 : reportfd;
	if ((lo > 3 && close_range(3, (unsigned)lo - 1, 0) < 0) ||
	    close_range((unsigned)lo + 1, ~0U, 0) < 0) {
		struct rlimit rl;
		int max = 65536;
		if (getrlimit(RLIMIT_NOFILE, &rl) == 0 && rl.rlim_cur != RLIM_INFINITY &&
		    rl.rlim_cur < (rlim_t)max)
			max = (int)rl.rlim_cur;
		for (int fd = 3; fd < max; fd++)
			if (fd != reportfd)
				close(fd);
	}
	int null = open("/dev/null", O_RDWR | O_CLOEXEC);
	if (null >= 0) {
		for (int fd = 0; fd < 3; fd++)
			if (fd != null)
				dup2(null, fd);
		if (null > 2)
			close(null);
	}
	return reportfd;
}

/* DIR/supervisor: "PID STARTTIME JOBPID\n", written once the job runs. */
static int supervisor_write_pidfile(const struct supervisor_plan *p, pid_t child)
{
	int64_t starttime;
	int rc = spawn_proc_starttime(0, &starttime, NULL);
	if (rc < 0)
		return rc;
	char line[64];
	struct supervisor_buf b = { line, 0, sizeof line };
	supervisor_put_i64(&b, getpid());
	supervisor_put(&b, " ");
	supervisor_put_i64(&b, starttime);
	supervisor_put(&b, " ");
	supervisor_put_i64(&b, child);
	supervisor_put(&b, "\n");
	return spawn_file_replace(p->supervisor_tmp, p->supervisor_path, line, b.len);
}

/* DIR/walltime (see executor.h): the new wall time in seconds, 0 for
 * none; -1 when the file is absent, not a regular file owned by this
 * process's uid (the job user owns the directory and may plant anything
 * there), or not "SECONDS\n" within range. O_NONBLOCK: a planted FIFO must
 * not hang the supervisor. */
static int64_t supervisor_read_walltime(const struct supervisor_plan *p)
{
	int fd = open(p->walltime_path, O_RDONLY | O_NOFOLLOW | O_NONBLOCK | O_CLOEXEC);
	if (fd < 0)
		return -1;
	struct stat st;
	char buf[32];
	ssize_t n = -1;
	if (fstat(fd, &st) == 0 && S_ISREG(st.st_mode) && st.st_uid == geteuid()) {
		do
			n = read(fd, buf, sizeof buf - 1);
		while (n < 0 && errno == EINTR);
	}
	close(fd);
	if (n <= 0)
		return -1;
	buf[n] = '\0';
	int64_t v;
	const char *end = spawn_parse_i64(buf, &v);
	if (!end || *end != '\n' || end[1] != '\0' || v < 0 || v > EXEC_WALLTIME_MAX_S)
		return -1;
	return v;
}

/* Signal every process of the job: its cgroup when it has one, else its
 * process group (the job child made itself a session and group leader). */
static void supervisor_signal(const struct supervisor_plan *p, pid_t child, int sig)
{
	if (p->cgroup && cgroup_job_signal(p->cgroup, sig) >= 0)
		return;
	(void)kill(-child, sig);
}

/* Kill what the job's main process left behind. */
static void supervisor_kill_rest(const struct supervisor_plan *p, pid_t child)
{
	if (p->cgroup && p->cgroup->kill != CGROUP_KILL_NONE) {
		(void)cgroup_job_kill_all(p->cgroup, SUPERVISOR_KILL_MAX_MS);
		return;
	}
	/* The group id cannot be reused while the group has members. */
	int64_t deadline = spawn_now_ms() + SUPERVISOR_KILL_MAX_MS;
	while (kill(-child, SIGKILL) == 0 && spawn_now_ms() < deadline)
		spawn_sleep_ms(5);
}

/* Write the status, notify, remove the (empty) groups; never returns. The
 * removal comes last because nobody waits for it: rmdir of a v1 memory
 * group is the slowest step here, and a group left behind by a killed
 * supervisor is swept at the daemon's next start. */
static _Noreturn void supervisor_finish(const struct supervisor_plan *p, struct supervisor_end *e)
{
	char json[512];
	size_t len = supervisor_status_json(e, json, sizeof json);
	/* Not fsync'd: the daemon's commit of the end to the store is the
	 * durable record; a power loss in the moment between this write and
	 * that commit records the job as lost. An fsync here cost every job
	 * a disk flush. */
	int rc = spawn_file_replace(p->status_tmp, p->status_path, json, len);
	supervisor_notify(p);
	if (p->cgroup)
		cgroup_job_remove(p->cgroup);
	_exit(rc < 0 ? 1 : 0);
}

/* The job could not start: status exit 127, like a shell's "not found". */
static _Noreturn void supervisor_fail(const struct supervisor_plan *p, int reportfd,
				      const struct spawn_failure *f, pid_t child,
				      int64_t start_time)
{
	struct supervisor_end e = { 0 };
	e.exited_known = true;
	e.wstatus = W_EXITCODE(127, 0);
	e.start_time = start_time;
	if (child > 0) {
		struct rusage ru;
		while (wait4(child, NULL, 0, &ru) < 0 && errno == EINTR)
			;
	}
	if (p->cgroup) {
		(void)cgroup_job_kill_all(p->cgroup, SUPERVISOR_KILL_MAX_MS);
		cgroup_job_remove(p->cgroup);
	}
	e.end_time = supervisor_wallclock();
	char json[512];
	size_t len = supervisor_status_json(&e, json, sizeof json);
	(void)spawn_file_replace(p->status_tmp, p->status_path, json, len);
	struct supervisor_report r = { .ok = 0, .failure = *f };
	supervisor_report(reportfd, &r);
	supervisor_notify(p);
	_exit(1);
}

_Noreturn void supervisor_run(const struct supervisor_plan *p, int reportfd)
{
	(void)setsid();
	supervisor_signals();
	reportfd = supervisor_fds(reportfd);
	/* Name and working directory identify a supervisor of DIR to
	 * exec_local_cancel, which must not trust DIR/supervisor alone: the
	 * job user may be able to write it. */
	(void)syscall(SYS_prctl, PR_SET_NAME, SUPERVISOR_COMM, 0, 0, 0);

	int64_t start_time = supervisor_wallclock();
	if (chdir(p->dir) < 0) {
		struct spawn_failure f = { SPAWN_STAGE_SUPERVISOR, errno };
		supervisor_fail(p, reportfd, &f, -1, start_time);
	}

	pid_t child;
	struct spawn_failure f;
	int64_t t0 = spawn_now_ms();
	if (spawn_run(p->spawn, &child, &f) < 0)
		supervisor_fail(p, reportfd, &f, child, start_time);
	/* Before the report: once the daemon hears "started", cancel and
	 * status find this supervisor through the file. */
	int rc = supervisor_write_pidfile(p, child);
	if (rc < 0) {
		supervisor_signal(p, child, SIGKILL);
		(void)kill(child, SIGKILL);
		f = (struct spawn_failure){ SPAWN_STAGE_SUPERVISOR, -rc };
		supervisor_fail(p, reportfd, &f, child, start_time);
	}

	/* A cancel that came before DIR/supervisor existed could not signal
	 * us and left a mark instead (exec_local_cancel); SIGUSR1 is blocked
	 * here, so the loop below takes it as that cancel. */
	if (access("cancel", F_OK) == 0)
		(void)kill(getpid(), SIGUSR1);

	struct supervisor_report ok = { .ok = 1 };
	supervisor_report(reportfd, &ok);

	struct supervisor_end e = { 0 };
	e.start_time = start_time;
	struct rusage ru;
	memset(&ru, 0, sizeof ru);
	sigset_t set;
	sigemptyset(&set);
	sigaddset(&set, SIGCHLD);
	sigaddset(&set, SIGUSR1);
	sigaddset(&set, SIGUSR2);
	int64_t wall_deadline = p->walltime_s > 0 ? t0 + p->walltime_s * 1000 : -1;
	int64_t kill_at = -1; /* when SIGKILL is next due, once ending */
	bool ending = false;

	for (;;) {
		pid_t r = wait4(child, &e.wstatus, WNOHANG, &ru);
		if (r == child) {
			e.exited_known = true;
			break;
		}
		if (r < 0 && errno != EINTR)
			break; /* cannot happen: the child is ours */
		int64_t now = spawn_now_ms();
		bool term = false;
		if (!ending && wall_deadline >= 0 && now >= wall_deadline) {
			e.timeout = true;
			term = true;
		}
		if (ending && now >= kill_at) {
			supervisor_signal(p, child, SIGKILL);
			kill_at = now + SUPERVISOR_REKILL_MS;
		}
		siginfo_t si;
		if (!term) {
			int64_t next = ending ? kill_at : wall_deadline;
			struct timespec ts, *tsp = NULL;
			if (next >= 0) {
				int64_t d = next > now ? next - now : 0;
				ts.tv_sec = (time_t)(d / 1000);
				ts.tv_nsec = (long)(d % 1000) * 1000000L;
				tsp = &ts;
			}
			int sig = sigtimedwait(&set, &si, tsp);
			if (sig == SIGUSR1 && !ending) {
				e.cancelled = true;
				term = true;
			} else if (sig == SIGUSR2 && !ending) {
				/* The next turn of the loop ends the job when the
				 * new deadline has already passed. */
				int64_t w = supervisor_read_walltime(p);
				if (w >= 0)
					wall_deadline = w > 0 ? t0 + w * 1000 : -1;
			}
		}
		if (term) {
			ending = true;
			supervisor_signal(p, child, SIGTERM);
			kill_at = spawn_now_ms() + (int64_t)p->grace_s * 1000;
		}
	}

	e.end_time = supervisor_wallclock();
	supervisor_kill_rest(p, child);
	e.cpu_usec = (int64_t)ru.ru_utime.tv_sec * 1000000 + ru.ru_utime.tv_usec +
		     (int64_t)ru.ru_stime.tv_sec * 1000000 + ru.ru_stime.tv_usec;
	e.max_rss_kb = ru.ru_maxrss;
	if (p->cgroup) {
		struct cgroup_usage u;
		cgroup_job_usage(p->cgroup, &u);
		if (u.have_cpu)
			e.cpu_usec = u.cpu_usec;
		if (u.have_peak)
			e.max_rss_kb = u.peak_bytes / 1024;
		bool killed = e.exited_known && WIFSIGNALED(e.wstatus) &&
			      WTERMSIG(e.wstatus) == SIGKILL;
		e.oom = u.oom_kills > 0 || (u.oom_kills < 0 && u.failcnt > 0 && killed);
	}
	supervisor_finish(p, &e);
}
