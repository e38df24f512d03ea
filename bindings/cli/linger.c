/* The CNI plugin's exit without the kernel's last waits: see host.h.
 *
 * When the last descriptor of an nftables socket closes, the kernel waits for an RCU barrier
 * if objects deleted by any commit are still to be freed (nf_tables' URELEASE handler): 4-10
 * ms at a DEL's exit here, which the runtime waits for, though every change was made and
 * answered before. A detached child keeps a copy of each socket until this process is
 * gone, so that its close is the last one and takes the wait. */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <sys/stat.h>
#include <unistd.h>

#include "host.h"

/* Descriptors above this are not looked at: the plugin opens a handful. */
#define LINGER_MAX_FD 1024

void host_linger_sockets(void) {
  int p[2];
  fflush(stdout);
  fflush(stderr);
  if (pipe2(p, O_CLOEXEC) < 0) return;
  pid_t pid = fork();
  if (pid < 0) {
    close(p[0]);
    close(p[1]);
    return;
  }
  if (pid == 0) {
    /* one fork, unwaited: this process ends right after, and the child goes to init */
    setsid();
    signal(SIGINT, SIG_IGN);
    signal(SIGTERM, SIG_IGN);
    close(p[1]);
    /* nothing but the sockets and the pipe: the runtime reads our stdout to its end, and
     * locks and files must go with this process, not linger */
    int null = open("/dev/null", O_RDWR | O_CLOEXEC);
    for (int fd = 0; fd <= 2; fd++)
      if (null >= 0) dup2(null, fd);
    for (int fd = 3; fd < LINGER_MAX_FD; fd++) {
      struct stat st;
      if (fd != p[0] && fstat(fd, &st) == 0 && !S_ISSOCK(st.st_mode)) close(fd);
    }
    char c;
    while (read(p[0], &c, 1) != 0 && errno == EINTR) {
    }
    _exit(0); /* the sockets' last close, and the kernel's wait, happen here */
  }
  close(p[0]);
  /* p[1] stays open until this process ends: the child's read returns then */
}
