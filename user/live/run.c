// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <time.h>
#include <unistd.h>
#include <sys/wait.h>
#include "live/run.h"
#include "lib/clock.h"

/* Set by the signal handlers; the only state a handler may touch. */
static volatile sig_atomic_t stop_signal, hup_signal, usr2_signal;

static void on_signal(int sig)
{
	stop_signal = sig;
}

static void on_hup(int sig)
{
	hup_signal = sig;
}

static void on_usr2(int sig)
{
	usr2_signal = sig;
}

static pid_t start_cmd(char **argv, char *err, size_t errlen)
{
	int pipefd[2];
	pid_t pid;
	int child_errno = 0;

	/* a close-on-exec pipe tells us whether exec worked */
	if (pipe2(pipefd, O_CLOEXEC)) {
		snprintf(err, errlen, "pipe: %s", strerror(errno));
		return -1;
	}
	pid = fork();
	if (pid < 0) {
		snprintf(err, errlen, "fork: %s", strerror(errno));
		close(pipefd[0]);
		close(pipefd[1]);
		return -1;
	}
	if (pid == 0) {
		signal(SIGINT, SIG_DFL);
		signal(SIGTERM, SIG_DFL);
		execvp(argv[0], argv);
		child_errno = errno;
		if (write(pipefd[1], &child_errno, sizeof(child_errno)) < 0)
			_exit(127);
		_exit(127);
	}
	close(pipefd[1]);
	if (read(pipefd[0], &child_errno, sizeof(child_errno)) == sizeof(child_errno)) {
		snprintf(err, errlen, "cannot run %s: %s", argv[0], strerror(child_errno));
		waitpid(pid, NULL, 0);
		close(pipefd[0]);
		return -1;
	}
	close(pipefd[0]);
	return pid;
}

int ia_run(struct ia_session *s, const struct ia_run_opts *o,
	   struct ia_run_result *res, char *err, size_t errlen)
{
	struct sigaction sa = { .sa_handler = on_signal };
	double start = ia_mono_s(), next_status, next_snap;
	pid_t child = -1;
	int ret = 0;

	res->cmd_status = -1;
	res->interrupted = 0;
	stop_signal = 0;
	hup_signal = 0;
	usr2_signal = 0;
	sigaction(SIGINT, &sa, NULL);
	sigaction(SIGTERM, &sa, NULL);
	if (o->hup) {
		struct sigaction sh = { .sa_handler = on_hup };

		sigaction(SIGHUP, &sh, NULL);
	}
	next_status = start + o->status_every;
	next_snap = start + o->snap_every;
	if (o->snap) {
		struct sigaction su = { .sa_handler = on_usr2 };
		sigset_t m;

		sigaction(SIGUSR2, &su, NULL);
		/* a parent may hand SIGUSR2 down blocked */
		sigemptyset(&m);
		sigaddset(&m, SIGUSR2);
		sigprocmask(SIG_UNBLOCK, &m, NULL);
		/* before the command: what it maps is then all in the trace */
		ret = o->snap(o->ctx, IA_SNAP_START);
		if (ret) {
			snprintf(err, errlen, "page-table snapshot: %s", strerror(-ret));
			signal(SIGUSR2, SIG_DFL);
			return ret;
		}
	}

	if (o->cmd) {
		child = start_cmd(o->cmd, err, errlen);
		if (child < 0) {
			if (o->snap)
				signal(SIGUSR2, SIG_DFL);
			return -ECHILD;
		}
	}
	while (!stop_signal) {
		int wst;

		ret = ia_session_poll(s, IA_POLL_MS);
		if (ret < 0) {
			snprintf(err, errlen, "reading events: %s", strerror(-ret));
			break;
		}
		ret = o->tick ? o->tick(o->ctx) : 0;
		if (ret < 0) {
			snprintf(err, errlen, "%s", strerror(-ret));
			break;
		}
		ret = 0;
		/* before the command's exit: a request just before it counts */
		if (o->snap && (usr2_signal || (o->snap_every > 0 && ia_mono_s() >= next_snap))) {
			ret = o->snap(o->ctx, usr2_signal ? IA_SNAP_SIGNAL : IA_SNAP_PERIODIC);
			if (!usr2_signal)
				next_snap += o->snap_every;
			usr2_signal = 0;
			if (ret) {
				snprintf(err, errlen, "page-table snapshot: %s", strerror(-ret));
				break;
			}
		}
		if (child > 0 && waitpid(child, &wst, WNOHANG) == child) {
			res->cmd_status = WIFEXITED(wst) ? WEXITSTATUS(wst) : 128 + WTERMSIG(wst);
			child = -1;
			break;
		}
		if (hup_signal) {
			hup_signal = 0;
			o->hup(o->ctx);
		}
		if (o->duration > 0 && ia_mono_s() - start >= o->duration)
			break;
		if (o->status_every && o->status && ia_mono_s() >= next_status) {
			o->status(o->ctx);
			next_status += o->status_every;
		}
	}
	if (stop_signal)
		res->interrupted = 1;
	if (child > 0) {	/* stopped early: do not leave the command behind */
		int wst;

		kill(child, SIGTERM);
		waitpid(child, &wst, 0);
		res->cmd_status = WIFEXITED(wst) ? WEXITSTATUS(wst) : 128 + WTERMSIG(wst);
	}
	/* drain what the programs emitted before we stopped */
	while (!ret && ia_session_poll(s, 0) > 0)
		;
	if (!ret && o->snap && (ret = o->snap(o->ctx, IA_SNAP_STOP)))
		snprintf(err, errlen, "page-table snapshot: %s", strerror(-ret));
	if (o->snap)
		signal(SIGUSR2, SIG_DFL);
	signal(SIGINT, SIG_DFL);
	signal(SIGTERM, SIG_DFL);
	if (o->hup)
		signal(SIGHUP, SIG_DFL);
	return ret;
}
