/* cnet-hello: the tutorial's little web server, so the recipes run offline.
 *
 *   cnet-hello [-q] [PORT]     (PORT defaults to 8080; -q: no log line)
 *
 * Listens on every address (IPv6 and IPv4) and answers each HTTP request with
 * "hello! the time right now is <time>". One process, no children (nothing is left behind
 * when it is killed): up to MAX_CLIENTS connections are read at once with poll(), each with
 * a deadline, so a silent or slow client delays nobody else. */
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

#define MAX_CLIENTS 64
#define REQUEST_MAX 8192

struct client {
  int fd; /* -1: free slot */
  size_t got;
  long long deadline; /* ms, CLOCK_MONOTONIC */
  char buf[REQUEST_MAX];
};

static long long now_ms(void) {
  struct timespec ts;
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return (long long)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

static void write_all(int fd, const char *p, size_t len) {
  while (len > 0) {
    ssize_t n = write(fd, p, len);
    if (n < 0 && errno == EINTR) continue;
    if (n < 0 && errno == EAGAIN) { /* a full send buffer on a fresh socket: wait a little */
      struct pollfd w = {.fd = fd, .events = POLLOUT};
      if (poll(&w, 1, 1000) <= 0) return;
      continue;
    }
    if (n <= 0) return;
    p += n;
    len -= (size_t)n;
  }
}

/* Sends the page (when the client sent anything) and closes the connection. */
static void finish(struct client *c) {
  if (c->got > 0) {
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
    write_all(c->fd, head, (size_t)hlen);
    write_all(c->fd, body, (size_t)blen);
    shutdown(c->fd, SHUT_WR);
  }
  close(c->fd);
  c->fd = -1;
}

/* Reads what is there; finishes the request at its blank line, end of input or a full
 * buffer, and otherwise gives the client QUIET_MS more. */
static void on_readable(struct client *c) {
  ssize_t n = read(c->fd, c->buf + c->got, sizeof c->buf - 1 - c->got);
  if (n < 0 && (errno == EINTR || errno == EAGAIN)) return;
  if (n <= 0) {
    finish(c);
    return;
  }
  c->got += (size_t)n;
  c->buf[c->got] = '\0';
  if (strstr(c->buf, "\r\n\r\n") != NULL || strstr(c->buf, "\n\n") != NULL ||
      c->got == sizeof c->buf - 1) {
    finish(c);
    return;
  }
  c->deadline = now_ms() + QUIET_MS;
}

static struct client clients[MAX_CLIENTS];

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
  if (!quiet) log_line("booting up server...");
  int lfd = listen_on(port);
  if (lfd < 0) {
    fprintf(stderr, "%s: cannot listen on port %d: %s\n", argv[0], port, strerror(errno));
    return 1;
  }
  for (int i = 0; i < MAX_CLIENTS; i++) clients[i].fd = -1;
  for (;;) {
    struct pollfd p[MAX_CLIENTS + 1];
    int slot[MAX_CLIENTS + 1];
    int n = 0, nclients = 0;
    long long now = now_ms(), next = -1;
    for (int i = 0; i < MAX_CLIENTS; i++) {
      struct client *c = &clients[i];
      if (c->fd < 0) continue;
      if (c->deadline <= now) { /* silent too long, or quiet after its request */
        finish(c);
        continue;
      }
      if (next < 0 || c->deadline < next) next = c->deadline;
      p[n] = (struct pollfd){.fd = c->fd, .events = POLLIN};
      slot[n++] = i;
      nclients++;
    }
    if (nclients < MAX_CLIENTS) { /* when full, new connections wait in the backlog */
      p[n] = (struct pollfd){.fd = lfd, .events = POLLIN};
      slot[n++] = -1;
    }
    int r = poll(p, (nfds_t)n, next < 0 ? -1 : (int)(next - now));
    if (r < 0) {
      if (errno == EINTR) continue;
      fprintf(stderr, "%s: poll: %s\n", argv[0], strerror(errno));
      return 1;
    }
    for (int k = 0; k < n && r > 0; k++) {
      if (p[k].revents == 0) continue;
      if (slot[k] >= 0) {
        on_readable(&clients[slot[k]]);
        continue;
      }
      int fd = accept4(lfd, NULL, NULL, SOCK_CLOEXEC | SOCK_NONBLOCK);
      if (fd < 0) {
        if (errno == EMFILE || errno == ENFILE || errno == ENOBUFS || errno == ENOMEM)
          poll(NULL, 0, 10); /* out of descriptors or memory: let it ease */
        continue;
      }
      for (int i = 0; i < MAX_CLIENTS; i++) {
        if (clients[i].fd < 0) {
          clients[i].fd = fd;
          clients[i].got = 0;
          clients[i].deadline = now_ms() + FIRST_BYTE_MS;
          break;
        }
      }
    }
  }
}
