/* cnet-hello: the tutorial's little web server, so the recipes run offline.
 *
 *   cnet-hello [-q] [PORT]     (PORT defaults to 8080; -q: no log line)
 *
 * Listens on every address (IPv6 and IPv4) and answers each HTTP request with
 * "hello! the time right now is <time>". Each connection is served by a child process of its
 * own with a short deadline, so a silent or slow client delays nobody else. */
#define _GNU_SOURCE
#include <errno.h>
#include <netinet/in.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#define FIRST_BYTE_MS 5000 /* how long a new connection may stay silent */
#define QUIET_MS 300       /* after some bytes, this much silence ends the request */

static void log_line(const char *msg) {
  char stamp[32];
  time_t now = time(NULL);
  struct tm tm;
  localtime_r(&now, &tm);
  strftime(stamp, sizeof stamp, "%Y/%m/%d %H:%M:%S", &tm);
  fprintf(stderr, "%s %s\n", stamp, msg);
}

static int listen_on(int port) {
  int fd = socket(AF_INET6, SOCK_STREAM | SOCK_CLOEXEC, 0);
  int one = 1, zero = 0;
  if (fd >= 0) {
    struct sockaddr_in6 a6 = {.sin6_family = AF_INET6, .sin6_port = htons((uint16_t)port),
                              .sin6_addr = IN6ADDR_ANY_INIT};
    setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof one);
    setsockopt(fd, IPPROTO_IPV6, IPV6_V6ONLY, &zero, sizeof zero);
    if (bind(fd, (struct sockaddr *)&a6, sizeof a6) == 0 && listen(fd, 64) == 0) return fd;
    close(fd);
  }
  /* IPv6 may be disabled: IPv4 alone then. */
  fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
  if (fd < 0) return -1;
  struct sockaddr_in a4 = {.sin_family = AF_INET, .sin_port = htons((uint16_t)port),
                           .sin_addr = {htonl(INADDR_ANY)}};
  setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof one);
  if (bind(fd, (struct sockaddr *)&a4, sizeof a4) == 0 && listen(fd, 64) == 0) return fd;
  int saved = errno;
  close(fd);
  errno = saved;
  return -1;
}

/* Reads the request until its blank line, a pause, end of input or a full buffer.
 * Returns the number of bytes read (0: the client sent nothing). */
static size_t read_request(int fd, char *buf, size_t size) {
  size_t got = 0;
  while (got < size - 1) {
    struct pollfd p = {.fd = fd, .events = POLLIN};
    int r = poll(&p, 1, got == 0 ? FIRST_BYTE_MS : QUIET_MS);
    if (r < 0 && errno == EINTR) continue;
    if (r <= 0) break;
    ssize_t n = read(fd, buf + got, size - 1 - got);
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) break;
    got += (size_t)n;
    buf[got] = '\0';
    if (strstr(buf, "\r\n\r\n") != NULL || strstr(buf, "\n\n") != NULL) break;
  }
  return got;
}

static void write_all(int fd, const char *p, size_t len) {
  while (len > 0) {
    ssize_t n = write(fd, p, len);
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) return;
    p += n;
    len -= (size_t)n;
  }
}

static void answer(int fd) {
  char req[8192];
  if (read_request(fd, req, sizeof req) == 0) return;
  struct timespec ts;
  clock_gettime(CLOCK_REALTIME, &ts);
  struct tm tm;
  localtime_r(&ts.tv_sec, &tm);
  char date[64], zone[32], body[160], head[256];
  strftime(date, sizeof date, "%Y-%m-%d %H:%M:%S", &tm);
  strftime(zone, sizeof zone, "%z %Z", &tm);
  int blen = snprintf(body, sizeof body, "hello! the time right now is %s.%09ld %s\n", date,
                      ts.tv_nsec, zone);
  int hlen = snprintf(head, sizeof head,
                      "HTTP/1.1 200 OK\r\nContent-Type: text/plain; charset=utf-8\r\n"
                      "Content-Length: %d\r\nConnection: close\r\n\r\n",
                      blen);
  write_all(fd, head, (size_t)hlen);
  write_all(fd, body, (size_t)blen);
}

int main(int argc, char **argv) {
  int quiet = 0, port = 8080;
  for (int i = 1; i < argc; i++) {
    if (strcmp(argv[i], "-q") == 0) {
      quiet = 1;
      continue;
    }
    char *end;
    long p = strtol(argv[i], &end, 10);
    if (*argv[i] == '\0' || *end != '\0' || p < 1 || p > 65535) {
      fprintf(stderr, "usage: %s [-q] [PORT]   (PORT 1..65535, default 8080)\n", argv[0]);
      return 2;
    }
    port = (int)p;
  }
  signal(SIGPIPE, SIG_IGN);
  signal(SIGCHLD, SIG_IGN); /* children are reaped by the kernel */
  if (!quiet) log_line("booting up server...");
  int lfd = listen_on(port);
  if (lfd < 0) {
    fprintf(stderr, "%s: cannot listen on port %d: %s\n", argv[0], port, strerror(errno));
    return 1;
  }
  for (;;) {
    int fd = accept4(lfd, NULL, NULL, SOCK_CLOEXEC);
    if (fd < 0) {
      if (errno == EINTR || errno == ECONNABORTED || errno == EMFILE || errno == ENFILE ||
          errno == ENOBUFS || errno == ENOMEM) {
        poll(NULL, 0, 10); /* out of descriptors or memory: let it ease */
        continue;
      }
      fprintf(stderr, "%s: accept: %s\n", argv[0], strerror(errno));
      return 1;
    }
    pid_t child = fork();
    if (child == 0) {
      close(lfd);
      answer(fd);
      shutdown(fd, SHUT_WR);
      _exit(0);
    }
    if (child < 0) { /* no process to spare: serve it ourselves */
      answer(fd);
      shutdown(fd, SHUT_WR);
    }
    close(fd);
  }
}
