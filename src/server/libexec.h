/*
 * server/libexec — helper programs that kaon ships inside its binary and
 * installs for session jobs to run: DATA/libexec/NAME, the {libexec}
 * placeholder of session profiles (docs/sessions-backends.md).
 *
 *   kaon-tensorboard   the TensorBoard session backend (Python 3;
 *                      source src/libexec/kaon-tensorboard.py)
 *   kaon-model-worker  a model's worker: describe, validate, serve (warm
 *                      predict) and train (Python 3; docs/models.md;
 *                      source src/libexec/kaon-model-worker.py)
 *
 * The files are embedded at build time (tools/embed, like the web assets)
 * and written when the daemon starts, so a new kaon binary brings its
 * helpers along. Jobs run them as their users: the directory and files
 * are 0755 and owned by the daemon's account, so no user can change what
 * another user's session runs.
 */
#ifndef KAON_SERVER_LIBEXEC_H
#define KAON_SERVER_LIBEXEC_H

/* Write every helper to DATA/libexec (created 0755 when missing), each
 * atomically (temp file, fsync, rename) and only when its content or mode
 * differs. data_dir should be absolute (config_finish makes it so). 0, or
 * negative with *cause. Blocks on file I/O. */
int libexec_install(const char *data_dir, char **cause);
/* DATA/libexec; the caller frees. */
char *libexec_dir(const char *data_dir);

#endif
