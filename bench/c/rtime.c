/* rtime: run a command and report its wall time, user and sys CPU time and
 * peak RSS (of the command and every descendant it waited for).
 *
 *   rtime OUTFILE CMD [ARGS...]      writes "wall user sys maxrss_kib status"
 *
 * bench/run measures through this small program rather than from Python:
 * Linux carries a process's peak RSS across exec(), so a command forked
 * straight from the Python runner would report Python's ~10 MiB as its own. */
#define _GNU_SOURCE
#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

static double now(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

static double tv(struct timeval t)
{
	return (double)t.tv_sec + (double)t.tv_usec / 1e6;
}

int main(int argc, char **argv)
{
	if (argc < 3) {
		fprintf(stderr, "usage: rtime OUTFILE CMD [ARGS...]\n");
		return 2;
	}
	FILE *out = fopen(argv[1], "w");
	if (out == NULL) {
		fprintf(stderr, "rtime: %s: %s\n", argv[1], strerror(errno));
		return 2;
	}
	double t0 = now();
	pid_t pid = fork();
	if (pid < 0) {
		fprintf(stderr, "rtime: fork: %s\n", strerror(errno));
		return 2;
	}
	if (pid == 0) {
		fclose(out);
		execvp(argv[2], argv + 2);
		fprintf(stderr, "rtime: %s: %s\n", argv[2], strerror(errno));
		_exit(127);
	}
	int status;
	struct rusage ru;
	if (wait4(pid, &status, 0, &ru) < 0) {
		fprintf(stderr, "rtime: wait4: %s\n", strerror(errno));
		return 2;
	}
	double wall = now() - t0;
	int rc = WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status);
	fprintf(out, "%.6f %.6f %.6f %ld %d\n", wall, tv(ru.ru_utime), tv(ru.ru_stime), ru.ru_maxrss, rc);
	fclose(out);
	return rc;
}
