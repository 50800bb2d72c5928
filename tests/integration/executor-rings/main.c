/* SPDX-License-Identifier: proprietary */
/*
 * Executor rings across processes. This process creates a named segment and
 * serves it with the engine on its pinned thread (stories260K); a driver
 * process (fork + exec) attaches, submits requests on two workers' rings and
 * checks what streams back against generations it runs itself. Bounded in
 * time; the segment is unlinked and the child reaped on every path.
 *
 * usage: test_executor_rings DRIVER MODEL.gguf
 */
#include <errno.h>
#include <sched.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "engine.h"
#include "ring.h"

#define DEADLINE_S 90

int main(int argc, char **argv)
{
	struct ex_engine_opts o;
	struct ex_engine *e = NULL;
	struct ex_seg seg;
	char name[64], err[512];
	cpu_set_t set;
	int status = 0, rc = 1;
	pid_t pid;
	time_t t0;

	if (argc != 3) {
		fprintf(stderr, "usage: %s DRIVER MODEL.gguf\n", argv[0]);
		return 2;
	}
	if (access(argv[2], R_OK) != 0) {
		fprintf(stderr, "FAIL: test model %s is missing: %s\n", argv[2], strerror(errno));
		return 1;
	}
	snprintf(name, sizeof(name), "/ts-ex-it-%d", (int)getpid());
	if (ex_seg_create(&seg, name, 2, 8192, 4096, err, sizeof(err)) < 0) {
		fprintf(stderr, "FAIL: segment: %s\n", err);
		return 1;
	}
	ex_engine_opts_default(&o);
	o.model_path = argv[2];
	o.max_batch = 4;
	o.queue_len = 4;
	o.max_ctx = 128;
	o.prefill_chunk = 16;
	o.step_tokens = 64;
	/* Pin the engine loop to the first core this process may use. */
	if (sched_getaffinity(0, sizeof(set), &set) == 0) {
		for (int c = 0; c < CPU_SETSIZE; c++) {
			if (CPU_ISSET(c, &set)) {
				o.cpus[0] = c;
				o.n_cpus = 1;
				break;
			}
		}
	}
	e = ex_engine_create(&o, err, sizeof(err));
	if (e == NULL) {
		fprintf(stderr, "FAIL: engine: %s\n", err);
		goto close_seg;
	}
	if (ex_engine_attach_seg(e, &seg) < 0 || ex_engine_start(e) < 0) {
		fprintf(stderr, "FAIL: cannot start the engine on the segment\n");
		goto destroy;
	}
	pid = fork();
	if (pid < 0) {
		perror("fork");
		goto stop;
	}
	if (pid == 0) {
		execl(argv[1], argv[1], name, argv[2], (char *)NULL);
		perror("exec driver");
		_exit(127);
	}
	t0 = time(NULL);
	for (;;) {
		pid_t w = waitpid(pid, &status, WNOHANG);

		if (w == pid)
			break;
		if (w < 0 && errno != EINTR) {
			perror("waitpid");
			goto stop;
		}
		if (time(NULL) - t0 > DEADLINE_S) {
			fprintf(stderr, "FAIL: driver still running after %d s, killing it\n",
				DEADLINE_S);
			kill(pid, SIGKILL);
			waitpid(pid, &status, 0);
			goto stop;
		}
		nanosleep(&(struct timespec){.tv_nsec = 20000000}, NULL);
	}
	if (WIFEXITED(status) && WEXITSTATUS(status) == 0) {
		rc = 0;
	} else {
		fprintf(stderr, "FAIL: driver %s %d\n", WIFEXITED(status) ? "exited" : "killed by",
			WIFEXITED(status) ? WEXITSTATUS(status) : WTERMSIG(status));
	}
	/* Every engine counter by its export name, on one line. */
	fprintf(stderr, "engine:");
	for (uint32_t i = 0; ex_engine_counter_name(i) != NULL; i++) {
		uint64_t v = 0;

		ex_engine_counter(e, i, &v);
		fprintf(stderr, " %s %llu", ex_engine_counter_name(i), (unsigned long long)v);
	}
	fprintf(stderr, "\n");
stop:
	ex_engine_stop(e);
destroy:
	ex_engine_destroy(e);
close_seg:
	ex_seg_close(&seg);
	/* No leftovers: the name must be gone. */
	if (ex_seg_attach(&seg, name, err, sizeof(err)) != -ENOENT) {
		fprintf(stderr, "FAIL: segment %s still exists after close\n", name);
		ex_seg_close(&seg);
		ex_seg_unlink(name);
		rc = 1;
	}
	if (rc == 0)
		fprintf(stderr, "PASS\n");
	return rc;
}
