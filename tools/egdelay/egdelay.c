// egdelay: holds the packets of one NFQUEUE queue for a fixed delay (plus optional jitter and
// random loss), then accepts them in arrival order. Test tool for Etherguard's end-to-end tests on
// kernels without netem: iptables sends one directed link's packets to queue Q, and this process,
// started in the same network namespace, delays them.
//
//   egdelay --queue Q --delay-ms D [--jitter-ms J] [--loss PCT] [--seed N] [--maxlen N]
//
// Single-threaded and timer-driven: packets are kept in a FIFO of (id, release time); one ppoll()
// waits for the netlink socket, a signal, or a timerfd armed at the head's release time as an
// *absolute* CLOCK_MONOTONIC deadline (TFD_TIMER_ABSTIME, timer slack 1 ns) 40 us early, and the
// rest is spun (within a budget of 5 % of a core), so a release lands within microseconds of its
// deadline (the exit line reports the lateness percentiles).
// Verdicts for everything that is due go out as one batch verdict. Order is preserved: with jitter,
// a packet's release time is never earlier than the previous packet's.
//
// Prints "egdelay: ready queue=Q" on stdout once bound (helpers wait for it before installing the
// iptables rule). On SIGTERM/SIGINT it accepts whatever it still holds, unbinds, prints counters on
// stderr and exits 0.
#define _GNU_SOURCE
// glibc's netinet/in.h before any linux/ header, or their struct definitions collide.
#include <arpa/inet.h>
#include <errno.h>
#include <getopt.h>
#include <linux/netfilter.h>
#include <linux/netfilter/nfnetlink_queue.h>
#include <libnetfilter_queue/libnetfilter_queue.h>
#include <poll.h>
#include <sched.h>
#include <signal.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/socket.h>
#include <sys/timerfd.h>
#include <time.h>
#include <unistd.h>

struct held {
  uint32_t id;
  uint64_t release_ns;
};

// Growable ring buffer of held packets, oldest first.
static struct held *ring;
static size_t ring_cap, ring_head, ring_len;

static uint64_t delay_ns, jitter_ns, last_release_ns;
static double loss_pct;
static uint64_t rng_state;
static uint64_t n_recv, n_accept, n_drop, n_enobufs, n_stamped;
static uint64_t late_max_ns, late_sum_ns;  // how far after its release time each packet went out
// Lateness histogram in microseconds (the last bucket counts everything at or above it).
#define LATE_BUCKETS 10001
static uint64_t late_hist[LATE_BUCKETS];

// The lateness (us) below which `q` of the timed packets went out.
static double late_pct(double q) {
  uint64_t total = 0;
  for (int i = 0; i < LATE_BUCKETS; i++) total += late_hist[i];
  if (!total) return 0;
  uint64_t want = (uint64_t)(q * (double)total + 0.5), seen = 0;
  for (int i = 0; i < LATE_BUCKETS; i++) {
    seen += late_hist[i];
    if (seen >= want && seen > 0) return (double)i;
  }
  return (double)(LATE_BUCKETS - 1);
}
static volatile sig_atomic_t stop_sig;
// How early the timer fires before a release, to spin the rest (see the main loop), and the most
// spinning allowed per second (5 % of a core: dense traffic then waits on the timer alone, so a
// busy line never takes a CPU from the processes it delays).
#define SPIN_NS 40000ull
#define SPIN_BUDGET_NS 50000000ull
static uint64_t spin_window_start, spin_used_ns;

static int spin_allowed(uint64_t now) {
  if (now - spin_window_start >= 1000000000ull) spin_window_start = now, spin_used_ns = 0;
  return spin_used_ns < SPIN_BUDGET_NS;
}

static uint64_t now_ns(void) {
  struct timespec ts;
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return (uint64_t)ts.tv_sec * 1000000000ull + (uint64_t)ts.tv_nsec;
}

// xorshift64*: good enough for jitter and loss decisions, reproducible with --seed.
static uint64_t rng_next(void) {
  rng_state ^= rng_state >> 12;
  rng_state ^= rng_state << 25;
  rng_state ^= rng_state >> 27;
  return rng_state * 0x2545F4914F6CDD1Dull;
}

static double rng_unit(void) { return (double)(rng_next() >> 11) / (double)(1ull << 53); }

static void die(const char *what) {
  fprintf(stderr, "egdelay: %s: %s\n", what, strerror(errno));
  exit(1);
}

static void ring_push(uint32_t id, uint64_t release_ns) {
  if (ring_len == ring_cap) {
    size_t ncap = ring_cap ? ring_cap * 2 : 4096;
    struct held *n = malloc(ncap * sizeof *n);
    if (!n) die("malloc");
    for (size_t i = 0; i < ring_len; i++) n[i] = ring[(ring_head + i) % ring_cap];
    free(ring);
    ring = n;
    ring_cap = ncap;
    ring_head = 0;
  }
  ring[(ring_head + ring_len) % ring_cap] = (struct held){id, release_ns};
  ring_len++;
}

static int on_packet(struct nfq_q_handle *qh, struct nfgenmsg *msg, struct nfq_data *nfa, void *data) {
  (void)msg;
  (void)data;
  struct nfqnl_msg_packet_hdr *ph = nfq_get_msg_packet_hdr(nfa);
  if (!ph) return 0;
  uint32_t id = ntohl(ph->packet_id);
  n_recv++;
  if (loss_pct > 0 && rng_unit() * 100.0 < loss_pct) {
    // Dropped at once: it never occupies a slot in the kernel queue. Packets still held have
    // lower ids, so this single verdict does not disturb the batch verdicts below.
    if (nfq_set_verdict(qh, id, NF_DROP, 0, NULL) < 0) fprintf(stderr, "egdelay: verdict: %s\n", strerror(errno));
    n_drop++;
    return 0;
  }
  // The hold counts from the packet's arrival in the kernel (its receive timestamp, when the
  // kernel took one: NFQA_TIMESTAMP, CLOCK_REALTIME in us), not from when this process read the
  // queue message, which may be tens of microseconds later on a busy machine.
  uint64_t now = now_ns(), start = now;
  struct timeval tv;
  if (nfq_get_timestamp(nfa, &tv) == 0 && tv.tv_sec > 0) {
    struct timespec rt;
    clock_gettime(CLOCK_REALTIME, &rt);
    int64_t age = ((int64_t)rt.tv_sec * 1000000000ll + rt.tv_nsec) - ((int64_t)tv.tv_sec * 1000000000ll + (int64_t)tv.tv_usec * 1000);
    // Only a plausible age (a stamp from another clock or a stale one is ignored).
    if (age > 0 && age < 100000000ll) start = now - (uint64_t)age, n_stamped++;
  }
  uint64_t rel = start + delay_ns;
  if (jitter_ns) {
    // Uniform in [-J, +J], never before arrival, never before the previous packet (keeps order).
    int64_t j = (int64_t)(rng_unit() * (double)(2 * jitter_ns)) - (int64_t)jitter_ns;
    rel = (j < 0 && (uint64_t)(-j) > delay_ns) ? rel - delay_ns : rel + j;
  }
  if (rel < last_release_ns) rel = last_release_ns;
  last_release_ns = rel;
  ring_push(id, rel);
  return 0;
}

// Accepts everything due at `now` (everything, if now == UINT64_MAX) with one batch verdict:
// the kernel accepts all queued packets with id <= the given one, which are exactly the held
// packets at the head of the FIFO (ids grow in arrival order; dropped ones are already gone).
static void release_due(struct nfq_q_handle *qh, uint64_t now) {
  size_t n = 0;
  uint32_t last = 0;
  while (ring_len > 0 && ring[ring_head].release_ns <= now) {
    last = ring[ring_head].id;
    if (now != UINT64_MAX) {
      uint64_t late = now - ring[ring_head].release_ns;
      late_sum_ns += late;
      if (late > late_max_ns) late_max_ns = late;
      uint64_t us = late / 1000;
      late_hist[us < LATE_BUCKETS ? us : LATE_BUCKETS - 1]++;
    }
    ring_head = (ring_head + 1) % ring_cap;
    ring_len--;
    n++;
  }
  if (n == 0) return;
  if (nfq_set_verdict_batch(qh, last, NF_ACCEPT) < 0) {
    fprintf(stderr, "egdelay: batch verdict: %s\n", strerror(errno));
  }
  n_accept += n;
}

static void on_signal(int sig) { stop_sig = sig; }

static void usage(int code) {
  fprintf(stderr,
          "usage: egdelay --queue Q --delay-ms D [--jitter-ms J] [--loss PCT] [--seed N] [--maxlen N] [--rt]\n"
          "  --queue Q       NFQUEUE number to bind (0-65535)\n"
          "  --delay-ms D    hold each packet D milliseconds (fractions allowed)\n"
          "  --jitter-ms J   add uniform jitter in [-J, +J] ms; order is still preserved\n"
          "  --loss PCT      drop PCT percent of packets at random (0-100)\n"
          "  --seed N        seed for jitter/loss (default: from time and pid)\n"
          "  --maxlen N      kernel queue length (default 65536; overflow drops)\n"
          "  --rt            run SCHED_FIFO (priority 10) so a loaded machine does not make releases late\n");
  exit(code);
}

static double parse_num(const char *s, const char *name, double lo, double hi) {
  char *end;
  errno = 0;
  double v = strtod(s, &end);
  if (errno || end == s || *end || v < lo || v > hi) {
    fprintf(stderr, "egdelay: bad %s: %s\n", name, s);
    exit(2);
  }
  return v;
}

int main(int argc, char **argv) {
  long queue = -1;
  double delay_ms = -1, jitter_ms = 0;
  uint32_t maxlen = 65536;
  uint64_t seed = 0;
  int have_seed = 0, rt = 0;
  static const struct option opts[] = {
      {"queue", required_argument, 0, 'q'},  {"delay-ms", required_argument, 0, 'd'},
      {"jitter-ms", required_argument, 0, 'j'}, {"loss", required_argument, 0, 'l'},
      {"seed", required_argument, 0, 's'},   {"maxlen", required_argument, 0, 'm'},
      {"rt", no_argument, 0, 'r'},            {"help", no_argument, 0, 'h'},          {0, 0, 0, 0}};
  int c;
  while ((c = getopt_long(argc, argv, "q:d:j:l:s:m:rh", opts, NULL)) != -1) {
    switch (c) {
      case 'q': queue = (long)parse_num(optarg, "queue", 0, 65535); break;
      case 'd': delay_ms = parse_num(optarg, "delay-ms", 0, 3600e3); break;
      case 'j': jitter_ms = parse_num(optarg, "jitter-ms", 0, 3600e3); break;
      case 'l': loss_pct = parse_num(optarg, "loss", 0, 100); break;
      case 's': seed = (uint64_t)parse_num(optarg, "seed", 0, 1e18); have_seed = 1; break;
      case 'm': maxlen = (uint32_t)parse_num(optarg, "maxlen", 1, 1 << 24); break;
      case 'r': rt = 1; break;
      case 'h': usage(0); break;
      default: usage(2);
    }
  }
  if (optind != argc || queue < 0 || delay_ms < 0) usage(2);
  delay_ns = (uint64_t)(delay_ms * 1e6);
  jitter_ns = (uint64_t)(jitter_ms * 1e6);
  rng_state = have_seed ? seed * 0x9E3779B97F4A7C15ull + 1 : (now_ns() ^ ((uint64_t)getpid() << 32)) | 1;
  if (rng_state == 0) rng_state = 1;

  // Signals are blocked except inside ppoll, so a SIGTERM can never slip in between the check of
  // stop_sig and the wait.
  sigset_t block, waitmask;
  sigemptyset(&block);
  sigaddset(&block, SIGTERM);
  sigaddset(&block, SIGINT);
  sigaddset(&block, SIGHUP);
  sigprocmask(SIG_BLOCK, &block, &waitmask);
  sigdelset(&waitmask, SIGTERM);
  sigdelset(&waitmask, SIGINT);
  sigdelset(&waitmask, SIGHUP);
  struct sigaction sa = {0};
  sa.sa_handler = on_signal;
  sigaction(SIGTERM, &sa, NULL);
  sigaction(SIGINT, &sa, NULL);
  sigaction(SIGHUP, &sa, NULL);
  prctl(PR_SET_TIMERSLACK, 1UL, 0, 0, 0);  // wake on time, not up to 50 us late
  if (rt) {
    struct sched_param sp = {.sched_priority = 10};
    if (sched_setscheduler(0, SCHED_FIFO, &sp) < 0) fprintf(stderr, "egdelay: --rt ignored: %s\n", strerror(errno));
  }

  struct nfq_handle *h = nfq_open();
  if (!h) die("nfq_open");
  struct nfq_q_handle *qh = nfq_create_queue(h, (uint16_t)queue, on_packet, NULL);
  if (!qh) {
    fprintf(stderr, "egdelay: cannot bind queue %ld (already bound by another process?): %s\n", queue, strerror(errno));
    return 1;
  }
  // Metadata only: the verdict needs the id, not the payload.
  if (nfq_set_mode(qh, NFQNL_COPY_META, 0) < 0) die("nfq_set_mode");
  if (nfq_set_queue_maxlen(qh, maxlen) < 0) die("nfq_set_queue_maxlen");
  // Let GSO packets through whole instead of having the kernel segment them for us (optional).
  nfq_set_queue_flags(qh, NFQA_CFG_F_GSO, NFQA_CFG_F_GSO);
  int fd = nfq_fd(h);
  nfnl_rcvbufsiz(nfq_nfnlh(h), 8 << 20);
  int tfd = timerfd_create(CLOCK_MONOTONIC, TFD_NONBLOCK | TFD_CLOEXEC);
  if (tfd < 0) die("timerfd_create");
  uint64_t armed_ns = 0;  // the deadline the timerfd holds (0 = disarmed)

  printf("egdelay: ready queue=%ld delay_ms=%g jitter_ms=%g loss=%g\n", queue, delay_ms, jitter_ms, loss_pct);
  fflush(stdout);

  static char buf[65536] __attribute__((aligned));
  while (!stop_sig) {
    release_due(qh, now_ns());
    // Woken SPIN_NS early, then the last stretch is spun: a timer wake-up on a busy machine is
    // tens of microseconds late, a spin is not (it costs at most SPIN_NS of CPU per wake-up).
    uint64_t lead = spin_allowed(now_ns()) ? SPIN_NS : 0;
    uint64_t want = ring_len > 0 ? (ring[ring_head].release_ns > lead ? ring[ring_head].release_ns - lead : 1) : 0;
    if (want != armed_ns) {
      // An absolute deadline on the clock the release times use; a past one fires at once.
      struct itimerspec its = {0};
      its.it_value.tv_sec = (time_t)(want / 1000000000ull);
      its.it_value.tv_nsec = (long)(want % 1000000000ull);
      if (want == 0) its.it_value.tv_nsec = 0;  // disarm
      if (timerfd_settime(tfd, TFD_TIMER_ABSTIME, &its, NULL) < 0) die("timerfd_settime");
      armed_ns = want;
    }
    struct pollfd pfd[2] = {{.fd = fd, .events = POLLIN}, {.fd = tfd, .events = POLLIN}};
    int r = ppoll(pfd, 2, NULL, &waitmask);
    if (r < 0) {
      if (errno == EINTR) continue;
      die("ppoll");
    }
    if (pfd[1].revents & POLLIN) {
      uint64_t ticks;
      if (read(tfd, &ticks, sizeof ticks) < 0 && errno != EAGAIN) die("read(timerfd)");
      armed_ns = 0;  // expired: re-armed above if something is still held
      if (ring_len > 0) {
        uint64_t due = ring[ring_head].release_ns, t, t0 = now_ns();
        while ((t = now_ns()) < due && due - t <= SPIN_NS) {
        }
        spin_used_ns += t - t0;
      }
      release_due(qh, now_ns());
    }
    if (!(pfd[0].revents & (POLLIN | POLLERR))) continue;
    // POLLIN, or POLLERR after an overrun (ENOBUFS): either way recv() below clears it, so the
    // loop cannot spin on a pending error.
    // Drain a bounded number of messages, then go back to releasing so a flood cannot starve
    // the timer.
    for (int i = 0; i < 512; i++) {
      ssize_t n = recv(fd, buf, sizeof buf, MSG_DONTWAIT);
      if (n < 0) {
        if (errno == EAGAIN || errno == EWOULDBLOCK || errno == EINTR) break;
        if (errno == ENOBUFS) {  // kernel dropped (never queued) messages it could not deliver
          n_enobufs++;
          continue;
        }
        die("recv");
      }
      nfq_handle_packet(h, buf, (int)n);
      // Release between reads too: a long burst must not hold due packets.
      if ((i & 31) == 31) release_due(qh, now_ns());
    }
  }

  // Let go of everything still held, in order, then unbind.
  size_t held_at_exit = ring_len;
  release_due(qh, UINT64_MAX);
  nfq_destroy_queue(qh);
  nfq_close(h);
  uint64_t timed = n_accept - held_at_exit;
  fprintf(stderr,
          "egdelay: queue=%ld exit on signal %d: received=%llu accepted=%llu dropped=%llu enobufs=%llu stamped=%llu "
          "late_avg_us=%.1f late_p50_us=%.0f late_p99_us=%.0f late_max_us=%.1f\n",
          queue, (int)stop_sig, (unsigned long long)n_recv, (unsigned long long)n_accept, (unsigned long long)n_drop,
          (unsigned long long)n_enobufs, (unsigned long long)n_stamped, timed ? (double)late_sum_ns / 1e3 / (double)timed : 0.0, late_pct(0.5),
          late_pct(0.99), (double)late_max_ns / 1e3);
  return 0;
}
