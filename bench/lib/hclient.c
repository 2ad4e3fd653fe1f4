// An exact HTTP/1.1 load client for the benchmarks: one thread, epoll, keep-alive connections,
// one request in flight per connection (closed loop), each request timed with CLOCK_MONOTONIC
// from its write() to the last byte of its response. It costs a few µs of CPU per request, so
// what it reports is the server's latency, not a load generator's own event-loop delay.
// Built on demand by bench/lib/hclient.mjs (gcc -O2).
//
//   hclient loop  HOST PORT CONNS DURATION_S WARMUP_S REQUEST_FILE
//   hclient spike HOST PORT CONNS TIMEOUT_MS REQUEST_FILE
//
// loop: opens CONNS connections, waits until all are connected, warms up, then records for
// DURATION_S. spike: starts CONNS connects at the same instant, sends one request on each as
// soon as it connects, and reports time to connect and to the first response byte (from the
// connect() call); a connection without a complete response within TIMEOUT_MS is a timeout.
// Output: one JSON object on stdout.
#define _GNU_SOURCE
#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/epoll.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#define BUF 65536

typedef struct {
  int fd;
  int connected;
  int done;
  double t_start;    /* connect() (spike) or write() of the current request */
  double t_connected;
  double t_first;
  size_t have;
  char buf[BUF];
} conn_t;

static double now_ms(void) {
  struct timespec ts;
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return ts.tv_sec * 1e3 + ts.tv_nsec / 1e6;
}

static int cmp(const void *a, const void *b) {
  double x = *(const double *)a, y = *(const double *)b;
  return x < y ? -1 : x > y;
}
static double pct(double *v, long n, double p) {
  if (n == 0) return 0;
  long r = (long)(p / 100.0 * n + 0.999999);
  if (r < 1) r = 1;
  if (r > n) r = n;
  return v[r - 1];
}

static char *req;
static size_t req_len;
static struct sockaddr_in addr;
static int ep;

/* 0 = incomplete, -1 = malformed, else total length of the response in buf; *status set. */
static long complete(conn_t *c, int *status) {
  char *end = memmem(c->buf, c->have, "\r\n\r\n", 4);
  if (!end) return 0;
  size_t head = (size_t)(end - c->buf) + 4;
  if (c->have < 12) return 0;
  *status = atoi(c->buf + 9);
  long len = -1;
  int chunked = 0;
  for (char *p = c->buf; p < end;) {
    char *nl = memmem(p, (size_t)(end - p) + 2, "\r\n", 2);
    if (!nl) break;
    if (strncasecmp(p, "content-length:", 15) == 0) len = atol(p + 15);
    if (strncasecmp(p, "transfer-encoding:", 18) == 0 && strcasestr(p, "chunked") && strcasestr(p, "chunked") < nl) chunked = 1;
    p = nl + 2;
  }
  if (chunked) {
    char *z = memmem(c->buf + head, c->have - head, "0\r\n\r\n", 5);
    if (!z) return 0;
    return (long)(z - c->buf) + 5;
  }
  if (len < 0) len = 0;
  if (c->have < head + (size_t)len) return 0;
  return (long)(head + len);
}

static int open_conn(conn_t *c) {
  c->fd = socket(AF_INET, SOCK_STREAM | SOCK_NONBLOCK, 0);
  if (c->fd < 0) return -1;
  int one = 1;
  setsockopt(c->fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
  c->t_start = now_ms();
  if (connect(c->fd, (struct sockaddr *)&addr, sizeof addr) < 0 && errno != EINPROGRESS) return -1;
  struct epoll_event ev = {.events = EPOLLIN | EPOLLOUT, .data.ptr = c};
  epoll_ctl(ep, EPOLL_CTL_ADD, c->fd, &ev);
  return 0;
}

static int send_req(conn_t *c) {
  size_t off = 0;
  while (off < req_len) {
    ssize_t w = write(c->fd, req + off, req_len - off);
    if (w < 0) {
      if (errno == EAGAIN) continue; /* requests are small: the socket buffer takes them */
      return -1;
    }
    off += (size_t)w;
  }
  return 0;
}

int main(int argc, char **argv) {
  if (argc < 7) {
    fprintf(stderr, "usage: hclient loop HOST PORT CONNS DURATION_S WARMUP_S REQ | spike HOST PORT CONNS TIMEOUT_MS REQ\n");
    return 2;
  }
  int spike = strcmp(argv[1], "spike") == 0;
  int nconn = atoi(argv[4]);
  const char *file = argv[spike ? 6 : 7];
  double duration = spike ? 0 : atof(argv[5]) * 1e3, warmup = spike ? 0 : atof(argv[6]) * 1e3;
  double timeout = spike ? atof(argv[5]) : 60000;
  FILE *f = fopen(file, "rb");
  if (!f) { perror(file); return 2; }
  fseek(f, 0, SEEK_END);
  req_len = (size_t)ftell(f);
  fseek(f, 0, SEEK_SET);
  req = malloc(req_len);
  if (fread(req, 1, req_len, f) != req_len) return 2;
  fclose(f);
  struct rlimit rl = {65536, 65536};
  setrlimit(RLIMIT_NOFILE, &rl);
  addr.sin_family = AF_INET;
  addr.sin_port = htons((uint16_t)atoi(argv[3]));
  inet_pton(AF_INET, argv[2], &addr.sin_addr);
  ep = epoll_create1(0);
  conn_t *conns = calloc((size_t)nconn, sizeof(conn_t));
  long cap = 1 << 20, n = 0, errors = 0, non2xx = 0, connected = 0, finished = 0, conn_errors = 0;
  double *lat = malloc(sizeof(double) * (size_t)cap);
  double *tconn = malloc(sizeof(double) * (size_t)nconn);
  double *tfirst = malloc(sizeof(double) * (size_t)nconn);
  long nfirst = 0;
  double t0 = now_ms();
  for (int i = 0; i < nconn; i++)
    if (open_conn(&conns[i]) < 0) { conn_errors++; conns[i].done = 1; finished++; }
  double connected_at = 0, rec_start = 0, rec_end = 0;
  struct rusage ru0 = {0};
  int recording = 0;
  struct epoll_event evs[512];
  for (;;) {
    double t = now_ms();
    if (spike) {
      if (finished >= nconn || t - t0 > timeout) break;
    } else if (connected_at > 0) {
      if (!recording && t >= connected_at + warmup) { recording = 1; rec_start = t; getrusage(RUSAGE_SELF, &ru0); }
      if (recording && t >= rec_start + duration) { rec_end = t; break; }
    } else if (t - t0 > timeout) break;
    int k = epoll_wait(ep, evs, 512, 10);
    for (int e = 0; e < k; e++) {
      conn_t *c = evs[e].data.ptr;
      if (c->done) continue;
      if (!c->connected) {
        int err = 0;
        socklen_t l = sizeof err;
        getsockopt(c->fd, SOL_SOCKET, SO_ERROR, &err, &l);
        if (err || (evs[e].events & (EPOLLERR | EPOLLHUP))) {
          conn_errors++; c->done = 1; finished++; close(c->fd); continue;
        }
        if (!(evs[e].events & EPOLLOUT)) continue;
        c->connected = 1;
        c->t_connected = now_ms();
        tconn[connected++] = c->t_connected - c->t_start;
        struct epoll_event ev = {.events = EPOLLIN, .data.ptr = c};
        epoll_ctl(ep, EPOLL_CTL_MOD, c->fd, &ev);
        if (!spike && connected == nconn) connected_at = now_ms();
        if (!spike) c->t_start = now_ms();
        if (send_req(c) < 0) { errors++; c->done = 1; finished++; close(c->fd); }
        continue;
      }
      for (;;) {
        ssize_t r = read(c->fd, c->buf + c->have, BUF - c->have);
        if (r < 0 && errno == EAGAIN) break;
        if (r <= 0) { errors++; c->done = 1; finished++; close(c->fd); break; }
        if (c->have == 0 && c->t_first == 0) {
          c->t_first = now_ms();
          if (spike) tfirst[nfirst++] = c->t_first - c->t_start;
        }
        c->have += (size_t)r;
        int status = 0;
        long len = complete(c, &status);
        if (len == 0) { if (c->have == BUF) { errors++; c->done = 1; finished++; close(c->fd); break; } continue; }
        double t1 = now_ms();
        if (status < 200 || status >= 300) non2xx++;
        if (spike) { c->done = 1; finished++; close(c->fd); break; }
        if (recording && n < cap) lat[n++] = t1 - c->t_start;
        c->have = 0;
        c->t_first = 0;
        c->t_start = now_ms();
        if (send_req(c) < 0) { errors++; c->done = 1; finished++; close(c->fd); }
        break;
      }
    }
  }
  struct rusage ru;
  getrusage(RUSAGE_SELF, &ru);
#define MS(tv) ((tv).tv_sec * 1e3 + (tv).tv_usec / 1e3)
  double cpu_ms = MS(ru.ru_utime) + MS(ru.ru_stime) - MS(ru0.ru_utime) - MS(ru0.ru_stime);
  if (spike) {
    long timeouts = nconn - finished;
    qsort(tconn, (size_t)connected, sizeof(double), cmp);
    qsort(tfirst, (size_t)nfirst, sizeof(double), cmp);
    printf("{\"mode\":\"spike\",\"clients\":%d,\"connected\":%ld,\"answered\":%ld,\"timeouts\":%ld,\"connect_errors\":%ld,\"errors\":%ld,\"non2xx\":%ld,"
           "\"connect_ms\":{\"p50\":%.3f,\"p99\":%.3f,\"max\":%.3f},\"ttfb_ms\":{\"p50\":%.3f,\"p90\":%.3f,\"p99\":%.3f,\"max\":%.3f},\"elapsed_ms\":%.1f}\n",
           nconn, connected, nfirst, timeouts, conn_errors, errors, non2xx, pct(tconn, connected, 50), pct(tconn, connected, 99),
           connected ? tconn[connected - 1] : 0, pct(tfirst, nfirst, 50), pct(tfirst, nfirst, 90), pct(tfirst, nfirst, 99),
           nfirst ? tfirst[nfirst - 1] : 0, now_ms() - t0);
    return 0;
  }
  if (!recording) {
    printf("{\"mode\":\"loop\",\"error\":\"only %ld of %d connections opened\"}\n", connected, nconn);
    return 1;
  }
  qsort(lat, (size_t)n, sizeof(double), cmp);
  double secs = (rec_end - rec_start) / 1e3;
  printf("{\"mode\":\"loop\",\"connections\":%d,\"requests\":%ld,\"rps\":%.1f,\"p50\":%.4f,\"p90\":%.4f,\"p99\":%.4f,\"max\":%.3f,"
         "\"errors\":%ld,\"non2xx\":%ld,\"connect_errors\":%ld,\"connect_ms\":%.1f,\"client_cpu_us_per_req\":%.2f}\n",
         nconn, n, n / secs, pct(lat, n, 50), pct(lat, n, 90), pct(lat, n, 99), n ? lat[n - 1] : 0, errors, non2xx, conn_errors,
         connected_at - t0, n ? cpu_ms * 1e3 / n : 0);
  return 0;
}
