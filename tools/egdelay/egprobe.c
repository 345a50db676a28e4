// egprobe: one-way delay ground truth from kernel software timestamps (docs/testing-delay.md).
//
//   egprobe recv --port P [--bind ADDR] [--count N] [--timeout-ms T]
//   egprobe send --to ADDR --port P [--count N] [--interval-ms I] [--size B] [--tos T]
//
// The sender asks for a software TX timestamp per datagram (SO_TIMESTAMPING, TX_SOFTWARE with
// OPT_ID: the kernel stamps it in the driver's transmit, after the local netfilter hooks) and
// prints `tx SEQ NS`; the receiver gets the software RX timestamp (SO_TIMESTAMPNS: taken when
// the datagram enters the receiving network stack) and prints `rx SEQ NS`. Both are
// CLOCK_REALTIME nanoseconds of the one kernel all namespaces share, so rx − tx of a sequence
// number is the datagram's one-way time between the two devices, whatever user space did before
// or after. IPv4 only. Prints "egprobe: ready port=P" (recv) before the first datagram can arrive.
#define _GNU_SOURCE
#include <arpa/inet.h>
#include <errno.h>
#include <getopt.h>
#include <linux/errqueue.h>
#include <linux/net_tstamp.h>
#include <netinet/in.h>
#include <poll.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

static void die(const char *what) {
  fprintf(stderr, "egprobe: %s: %s\n", what, strerror(errno));
  exit(1);
}

static uint64_t ts_ns(const struct timespec *t) { return (uint64_t)t->tv_sec * 1000000000ull + (uint64_t)t->tv_nsec; }

static uint64_t mono_ns(void) {
  struct timespec t;
  clock_gettime(CLOCK_MONOTONIC, &t);
  return ts_ns(&t);
}

static int do_recv(const char *bind_addr, int port, long count, long timeout_ms) {
  int fd = socket(AF_INET, SOCK_DGRAM, 0);
  if (fd < 0) die("socket");
  int one = 1;
  if (setsockopt(fd, SOL_SOCKET, SO_TIMESTAMPNS, &one, sizeof one) < 0) die("setsockopt(SO_TIMESTAMPNS)");
  struct sockaddr_in a = {.sin_family = AF_INET, .sin_port = htons((uint16_t)port)};
  if (inet_pton(AF_INET, bind_addr, &a.sin_addr) != 1) {
    fprintf(stderr, "egprobe: bad --bind %s\n", bind_addr);
    return 2;
  }
  if (bind(fd, (struct sockaddr *)&a, sizeof a) < 0) die("bind");
  printf("egprobe: ready port=%d\n", port);
  fflush(stdout);
  char buf[2048];
  char ctl[256] __attribute__((aligned(8)));
  for (long got = 0; count <= 0 || got < count;) {
    struct pollfd p = {.fd = fd, .events = POLLIN};
    int r = poll(&p, 1, (int)timeout_ms);
    if (r < 0 && errno == EINTR) continue;
    if (r <= 0) break;
    struct iovec iov = {buf, sizeof buf};
    struct msghdr m = {.msg_iov = &iov, .msg_iovlen = 1, .msg_control = ctl, .msg_controllen = sizeof ctl};
    ssize_t n = recvmsg(fd, &m, 0);
    if (n < 8) continue;
    uint64_t seq;
    memcpy(&seq, buf, 8);
    uint64_t rx = 0;
    for (struct cmsghdr *c = CMSG_FIRSTHDR(&m); c; c = CMSG_NXTHDR(&m, c))
      if (c->cmsg_level == SOL_SOCKET && c->cmsg_type == SCM_TIMESTAMPNS) {
        struct timespec t;
        memcpy(&t, CMSG_DATA(c), sizeof t);
        rx = ts_ns(&t);
      }
    printf("rx %llu %llu\n", (unsigned long long)seq, (unsigned long long)rx);
    fflush(stdout);
    got++;
  }
  return 0;
}

// Reads the TX timestamp of datagram `seq` (OPT_ID counts datagrams from 0) from the error queue.
static uint64_t tx_stamp(int fd, uint32_t seq) {
  uint64_t deadline = mono_ns() + 200000000ull;
  while (mono_ns() < deadline) {
    char ctl[512] __attribute__((aligned(8)));
    char dummy[64];
    struct iovec iov = {dummy, sizeof dummy};
    struct msghdr m = {.msg_iov = &iov, .msg_iovlen = 1, .msg_control = ctl, .msg_controllen = sizeof ctl};
    ssize_t n = recvmsg(fd, &m, MSG_ERRQUEUE | MSG_DONTWAIT);
    if (n < 0) {
      if (errno != EAGAIN && errno != EWOULDBLOCK && errno != EINTR) die("recvmsg(MSG_ERRQUEUE)");
      struct pollfd p = {.fd = fd, .events = 0};
      poll(&p, 1, 5);  // POLLERR wakes us
      continue;
    }
    uint64_t t = 0;
    uint32_t id = UINT32_MAX;
    for (struct cmsghdr *c = CMSG_FIRSTHDR(&m); c; c = CMSG_NXTHDR(&m, c)) {
      if (c->cmsg_level == SOL_SOCKET && c->cmsg_type == SCM_TIMESTAMPING) {
        struct scm_timestamping ts;
        memcpy(&ts, CMSG_DATA(c), sizeof ts);
        t = ts_ns(&ts.ts[0]);
      } else if ((c->cmsg_level == SOL_IP && c->cmsg_type == IP_RECVERR)) {
        struct sock_extended_err e;
        memcpy(&e, CMSG_DATA(c), sizeof e);
        if (e.ee_origin == SO_EE_ORIGIN_TIMESTAMPING) id = e.ee_data;
      }
    }
    if (id == seq && t) return t;
  }
  return 0;
}

static int do_send(const char *to, int port, long count, double interval_ms, long size, int tos) {
  int fd = socket(AF_INET, SOCK_DGRAM, 0);
  if (fd < 0) die("socket");
  unsigned flags = SOF_TIMESTAMPING_TX_SOFTWARE | SOF_TIMESTAMPING_SOFTWARE | SOF_TIMESTAMPING_OPT_ID | SOF_TIMESTAMPING_OPT_TSONLY;
  if (setsockopt(fd, SOL_SOCKET, SO_TIMESTAMPING, &flags, sizeof flags) < 0) die("setsockopt(SO_TIMESTAMPING)");
  if (tos >= 0 && setsockopt(fd, IPPROTO_IP, IP_TOS, &tos, sizeof tos) < 0) die("setsockopt(IP_TOS)");
  struct sockaddr_in a = {.sin_family = AF_INET, .sin_port = htons((uint16_t)port)};
  if (inet_pton(AF_INET, to, &a.sin_addr) != 1) {
    fprintf(stderr, "egprobe: bad --to %s\n", to);
    return 2;
  }
  if (size < 8) size = 8;
  if (size > 1400) size = 1400;
  char buf[1400] = {0};
  struct timespec next;
  clock_gettime(CLOCK_MONOTONIC, &next);
  for (long i = 0; i < count; i++) {
    uint64_t seq = (uint64_t)i;
    memcpy(buf, &seq, 8);
    if (sendto(fd, buf, (size_t)size, 0, (struct sockaddr *)&a, sizeof a) < 0) die("sendto");
    uint64_t t = tx_stamp(fd, (uint32_t)i);
    printf("tx %llu %llu\n", (unsigned long long)seq, (unsigned long long)t);
    fflush(stdout);
    uint64_t step = (uint64_t)(interval_ms * 1e6);
    uint64_t nn = ts_ns(&next) + step;
    next.tv_sec = (time_t)(nn / 1000000000ull);
    next.tv_nsec = (long)(nn % 1000000000ull);
    while (clock_nanosleep(CLOCK_MONOTONIC, TIMER_ABSTIME, &next, NULL) == EINTR) {
    }
  }
  return 0;
}

int main(int argc, char **argv) {
  if (argc < 2) goto usage;
  const char *mode = argv[1];
  const char *addr = NULL;
  int port = -1, tos = -1;
  long count = 0, size = 64, timeout_ms = 10000;
  double interval_ms = 10;
  static const struct option opts[] = {{"port", required_argument, 0, 'p'},   {"bind", required_argument, 0, 'b'},
                                       {"to", required_argument, 0, 't'},     {"count", required_argument, 0, 'c'},
                                       {"interval-ms", required_argument, 0, 'i'}, {"size", required_argument, 0, 's'},
                                       {"timeout-ms", required_argument, 0, 'w'}, {"tos", required_argument, 0, 'q'},
                                       {0, 0, 0, 0}};
  int c;
  optind = 2;
  while ((c = getopt_long(argc, argv, "", opts, NULL)) != -1) {
    switch (c) {
      case 'p': port = atoi(optarg); break;
      case 'b':
      case 't': addr = optarg; break;
      case 'c': count = atol(optarg); break;
      case 'i': interval_ms = atof(optarg); break;
      case 's': size = atol(optarg); break;
      case 'w': timeout_ms = atol(optarg); break;
      case 'q': tos = atoi(optarg); break;
      default: goto usage;
    }
  }
  if (port < 0 || port > 65535) goto usage;
  if (!strcmp(mode, "recv")) return do_recv(addr ? addr : "0.0.0.0", port, count, timeout_ms);
  if (!strcmp(mode, "send") && addr && count > 0) return do_send(addr, port, count, interval_ms, size, tos);
usage:
  fprintf(stderr,
          "usage: egprobe recv --port P [--bind ADDR] [--count N] [--timeout-ms T]\n"
          "       egprobe send --to ADDR --port P --count N [--interval-ms I] [--size B] [--tos T]\n");
  return 2;
}
