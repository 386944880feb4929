/* Unit tests of exec/pty.c: a shell on a PTY, its identity, and how
 * failures are reported. As root the shell runs as 'nobody'. */
#include <errno.h>
#include <poll.h>
#include <pwd.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include "../harness.h"
#include "exec/pty.h"

/* A plan for /bin/sh as nobody (root) or as ourselves. */
static struct pty_plan *pty_test_plan(uid_t *expect_uid)
{
	struct pty_user u = {NULL, getuid(), getgid(), "/"};
	if (geteuid() == 0) {
		struct passwd *pw = getpwnam("nobody");
		if (!pw)
			SKIP("no 'nobody' account to run the shell as");
		u = (struct pty_user){"nobody", pw->pw_uid, pw->pw_gid, "/"};
	}
	*expect_uid = u.uid;
	char *const env[] = {"KAON_TEST=1", NULL};
	struct pty_plan *p = NULL;
	char *cause = NULL;
	if (pty_plan_new(&u, env, &p, &cause) < 0)
		harness_fail(__FILE__, __LINE__, "pty_plan_new: %s", cause);
	/* nobody's login shell is nologin: run sh instead. */
	free(p->shell);
	free(p->argv0);
	p->shell = strdup("/bin/sh");
	p->argv0 = strdup("-sh");
	return p;
}

/* Read from the master until the output holds want (5 s at most). */
static int pty_test_expect(int master, const char *want, char *buf, size_t cap)
{
	size_t len = 0;
	buf[0] = '\0';
	for (int i = 0; i < 100; i++) {
		struct pollfd p = {master, POLLIN, 0};
		if (poll(&p, 1, 50) > 0) {
			ssize_t n = read(master, buf + len, cap - 1 - len);
			if (n > 0) {
				len += (size_t)n;
				buf[len] = '\0';
			}
		}
		if (strstr(buf, want))
			return 0;
	}
	return -1;
}

TEST(pty_shell_runs_with_a_controlling_terminal_as_the_user)
{
	uid_t uid;
	struct pty_plan *p = pty_test_plan(&uid);
	int master = -1;
	pid_t pid = -1;
	char *cause = NULL;
	if (pty_spawn(p, 100, 30, &master, &pid, &cause) < 0)
		harness_fail(__FILE__, __LINE__, "pty_spawn: %s", cause);
	const char *cmd = "echo U$(id -u)U S$(stty size)S T$TERM$KAON_TEST; tty\n";
	CHECK(write(master, cmd, strlen(cmd)) == (ssize_t)strlen(cmd));
	char buf[4096], want[64];
	snprintf(want, sizeof want, "U%uU", (unsigned)uid);
	if (pty_test_expect(master, want, buf, sizeof buf) < 0)
		harness_fail(__FILE__, __LINE__, "no %s in: %s", want, buf);
	CHECK(pty_test_expect(master, "/dev/pts/", buf + strlen(buf), sizeof buf - strlen(buf)) ==
		  0 ||
	      strstr(buf, "/dev/pts/"));
	CHECK(strstr(buf, "S30 100S") != NULL);
	CHECK(strstr(buf, "Txterm-256color1") != NULL);
	/* A resize reaches the terminal. */
	CHECK_INT(pty_resize(master, 120, 40), 0);
	const char *cmd2 = "echo R$(stty size)R\n";
	CHECK(write(master, cmd2, strlen(cmd2)) == (ssize_t)strlen(cmd2));
	CHECK_INT(pty_test_expect(master, "R40 120R", buf, sizeof buf), 0);
	/* The shell leads its own session: a hang-up ends it. */
	pty_signal_session(pid, SIGHUP);
	close(master);
	int status;
	CHECK_INT(waitpid(pid, &status, 0), pid);
	pty_plan_free(p);
}

TEST(pty_reports_a_shell_that_cannot_run)
{
	uid_t uid;
	struct pty_plan *p = pty_test_plan(&uid);
	free(p->shell);
	p->shell = strdup("/nonexistent/shell");
	int master = -1;
	pid_t pid = -1;
	char *cause = NULL;
	CHECK_INT(pty_spawn(p, 80, 24, &master, &pid, &cause), -ENOENT);
	CHECK(cause && strstr(cause, "/nonexistent/shell"));
	free(cause);
	cause = NULL;
	free(p->home);
	p->home = strdup("/nonexistent/home");
	free(p->shell);
	p->shell = strdup("/bin/sh");
	CHECK_INT(pty_spawn(p, 80, 24, &master, &pid, &cause), -ENOENT);
	CHECK(cause && strstr(cause, "home"));
	free(cause);
	pty_plan_free(p);
}

TEST(pty_refuses_root)
{
	if (geteuid() != 0)
		SKIP("needs root (multi-user mode)");
	struct pty_user u = {"root", 0, 0, "/root"};
	struct pty_plan *p = NULL;
	char *cause = NULL;
	CHECK_INT(pty_plan_new(&u, NULL, &p, &cause), -EPERM);
	CHECK(p == NULL && cause && strstr(cause, "root"));
	free(cause);
}
