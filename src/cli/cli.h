/*
 * cli — the verbs of the `kaon` binary. Each takes the arguments after
 * the verb (argv[0] is the verb) and returns the process exit status:
 * 0 on success, 1 on failure after one line "kaon: ..." on stderr, 2 on
 * a usage error.
 *
 * Every verb but `server` and `admin --data` is a client of the REST API
 * (client.h): KAON_URL and KAON_TOKEN from the environment override
 * ~/.config/kaon/config.
 */
#ifndef KAON_CLI_CLI_H
#define KAON_CLI_CLI_H

int cli_server(int argc, char **argv);  /* server.c */
int cli_login(int argc, char **argv);   /* login.c */
int cli_logout(int argc, char **argv);  /* login.c */
int cli_whoami(int argc, char **argv);  /* whoami.c */
int cli_tokens(int argc, char **argv);  /* tokens.c */
int cli_admin(int argc, char **argv);   /* admin.c: API verbs; --data: admin_offline.c */
int cli_admin_offline(int argc, char **argv);
int cli_submit(int argc, char **argv);  /* submit.c */
int cli_jobs(int argc, char **argv);    /* jobs.c */
int cli_show(int argc, char **argv);    /* jobs.c */
int cli_queue(int argc, char **argv);   /* jobs.c */
int cli_why(int argc, char **argv);     /* jobs.c */
int cli_models(int argc, char **argv);  /* models.c */
int cli_cancel(int argc, char **argv);  /* jobs.c */
int cli_hold(int argc, char **argv);    /* jobs.c */
int cli_release(int argc, char **argv); /* jobs.c */
int cli_logs(int argc, char **argv);    /* logs.c */
int cli_nodes(int argc, char **argv);   /* cluster.c */
int cli_share(int argc, char **argv);   /* cluster.c */
int cli_profiles(int argc, char **argv); /* sessions.c */
int cli_sessions(int argc, char **argv); /* sessions.c */
int cli_open(int argc, char **argv);     /* sessions.c */
int cli_stop(int argc, char **argv);     /* sessions.c */
int cli_extend(int argc, char **argv);   /* sessions.c */
int cli_reserve(int argc, char **argv);      /* reservations.c */
int cli_reservations(int argc, char **argv); /* reservations.c */
int cli_unreserve(int argc, char **argv);    /* reservations.c */
int cli_reservation(int argc, char **argv);  /* reservations.c: approve|reject */

#endif
