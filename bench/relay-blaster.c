/*
 * Sender for bench/relay.ts --blaster: sends the RTP (or SRTP, protected
 * with libsrtp2) of the calls whose phones do not listen, so that the
 * generator's own cost does not cap the load offered to a relay that uses
 * both cores. Built by bench/srtp/libsrtp-peer.ts (gcc + Debian's
 * libsrtp2-dev); never committed.
 *
 * All its streams leave one unconnected UDP socket, one sendmmsg(2) per
 * one-millisecond slot: the per-packet cost of a Node socket send (a
 * syscall and a JavaScript call per packet) is what made the generator the
 * bottleneck. The relay latches each leg on this socket's address (voix's
 * symmetric RTP); what the relay sends back lands on this socket, which is
 * never read (the kernel drops once the receive buffer is full), as for the
 * generator's phones that do not listen.
 *
 * Input (stdin), whitespace separated:
 *   start_ns periods warmup_periods count
 *   then count times: slot dst_port ssrc key_and_salt_hex|-
 * start_ns is an absolute CLOCK_MONOTONIC time (Node's process.hrtime);
 * slot (0..19) is the millisecond of each 20 ms period the stream sends in,
 * as the generator lays its own streams out; "-" for plain RTP. Stream
 * packets: PCMU, 160 bytes of 0xff, sequence number = period, timestamp =
 * 160 × period, as bench/relay-generator.ts sends them.
 *
 * Prints "ready <local port>" once its socket is bound, then after the run
 * one line: sent late_mean_us late_p99_us late_max_us late_last_us cpu_us,
 * where sent and lateness cover the measured periods only (after the
 * warm-up), and cpu_us is its user + system CPU time over them.
 */
#define _GNU_SOURCE
#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <srtp2/srtp.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <time.h>

#define SLOTS 20
#define SLOT_NS 1000000LL
#define RTP_BYTES 172
#define MAX_PACKET 200
#define MAX_STREAMS 20000

struct stream {
  int slot;
  uint32_t ssrc;
  struct sockaddr_in destination;
  srtp_t srtp; /* NULL for plain RTP */
};

static struct stream streams[MAX_STREAMS];
static unsigned char packets[MAX_STREAMS][MAX_PACKET];
static struct mmsghdr messages[MAX_STREAMS];
static struct iovec vectors[MAX_STREAMS];

static void fail(const char *what) {
  fprintf(stderr, "relay-blaster: %s: %s\n", what, strerror(errno));
  exit(1);
}

static int64_t now_ns(void) {
  struct timespec t;
  clock_gettime(CLOCK_MONOTONIC, &t);
  return (int64_t)t.tv_sec * 1000000000LL + t.tv_nsec;
}

static int64_t cpu_us(void) {
  struct rusage usage;
  getrusage(RUSAGE_SELF, &usage);
  return (int64_t)(usage.ru_utime.tv_sec + usage.ru_stime.tv_sec) * 1000000LL + usage.ru_utime.tv_usec + usage.ru_stime.tv_usec;
}

static int hex_value(char c) {
  if (c >= '0' && c <= '9') return c - '0';
  if (c >= 'a' && c <= 'f') return c - 'a' + 10;
  if (c >= 'A' && c <= 'F') return c - 'A' + 10;
  return -1;
}

static srtp_t session_for(const char *hex, uint32_t ssrc) {
  unsigned char key_and_salt[30];
  if (strlen(hex) != 60) {
    fprintf(stderr, "relay-blaster: key and salt must be 60 hex digits\n");
    exit(1);
  }
  for (int i = 0; i < 30; i++) {
    int high = hex_value(hex[2 * i]);
    int low = hex_value(hex[2 * i + 1]);
    if (high < 0 || low < 0) {
      fprintf(stderr, "relay-blaster: bad hex in key\n");
      exit(1);
    }
    key_and_salt[i] = (unsigned char)(high << 4 | low);
  }
  srtp_policy_t policy;
  memset(&policy, 0, sizeof policy);
  srtp_crypto_policy_set_aes_cm_128_hmac_sha1_80(&policy.rtp);
  srtp_crypto_policy_set_aes_cm_128_hmac_sha1_80(&policy.rtcp);
  policy.ssrc.type = ssrc_specific;
  policy.ssrc.value = ssrc;
  policy.key = key_and_salt;
  policy.window_size = 128;
  policy.allow_repeat_tx = 0;
  policy.next = NULL;
  srtp_t session;
  if (srtp_create(&session, &policy) != srtp_err_status_ok) {
    fprintf(stderr, "relay-blaster: srtp_create failed\n");
    exit(1);
  }
  return session;
}

static int compare_doubles(const void *a, const void *b) {
  double x = *(const double *)a;
  double y = *(const double *)b;
  return x < y ? -1 : x > y;
}

int main(void) {
  long long start_ns;
  int periods, warmup, count;
  if (scanf("%lld %d %d %d", &start_ns, &periods, &warmup, &count) != 4 || count < 0 || count > MAX_STREAMS || periods <= warmup) {
    fprintf(stderr, "relay-blaster: bad header line\n");
    return 1;
  }
  if (srtp_init() != srtp_err_status_ok) {
    fprintf(stderr, "relay-blaster: srtp_init failed\n");
    return 1;
  }
  for (int i = 0; i < count; i++) {
    int slot, port;
    unsigned int ssrc;
    char key[128];
    if (scanf("%d %d %u %127s", &slot, &port, &ssrc, key) != 4 || slot < 0 || slot >= SLOTS) {
      fprintf(stderr, "relay-blaster: bad stream line %d\n", i + 1);
      return 1;
    }
    struct stream *s = &streams[i];
    s->slot = slot;
    s->ssrc = ssrc;
    s->destination.sin_family = AF_INET;
    s->destination.sin_port = htons((uint16_t)port);
    s->destination.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    s->srtp = strcmp(key, "-") == 0 ? NULL : session_for(key, ssrc);
  }
  int fd = socket(AF_INET, SOCK_DGRAM, 0);
  if (fd < 0) fail("socket");
  struct sockaddr_in local = {.sin_family = AF_INET, .sin_port = 0, .sin_addr.s_addr = htonl(INADDR_LOOPBACK)};
  if (bind(fd, (struct sockaddr *)&local, sizeof local) != 0) fail("bind");
  socklen_t local_length = sizeof local;
  getsockname(fd, (struct sockaddr *)&local, &local_length);
  printf("ready %d\n", ntohs(local.sin_port));
  fflush(stdout);

  /* Streams in slot order, so each slot's packets are contiguous messages. */
  int slot_start[SLOTS + 1];
  int order[MAX_STREAMS];
  int n = 0;
  for (int slot = 0; slot < SLOTS; slot++) {
    slot_start[slot] = n;
    for (int i = 0; i < count; i++)
      if (streams[i].slot == slot) order[n++] = i;
  }
  slot_start[SLOTS] = n;

  int64_t measured_slots = (int64_t)(periods - warmup) * SLOTS;
  double *lateness = malloc(sizeof(double) * (size_t)(measured_slots > 0 ? measured_slots : 1));
  if (lateness == NULL) fail("malloc");
  long long sent = 0;
  int64_t late_index = 0;
  int64_t cpu_before = cpu_us();
  for (int64_t slot_index = 0; slot_index < (int64_t)periods * SLOTS; slot_index++) {
    int64_t deadline = start_ns + slot_index * SLOT_NS;
    struct timespec at = {.tv_sec = deadline / 1000000000LL, .tv_nsec = deadline % 1000000000LL};
    while (clock_nanosleep(CLOCK_MONOTONIC, TIMER_ABSTIME, &at, NULL) == EINTR) {
    }
    int period = (int)(slot_index / SLOTS);
    int slot = (int)(slot_index % SLOTS);
    if (slot_index == (int64_t)warmup * SLOTS) cpu_before = cpu_us();
    int first = slot_start[slot];
    int messages_count = 0;
    for (int k = first; k < slot_start[slot + 1]; k++) {
      struct stream *s = &streams[order[k]];
      unsigned char *p = packets[order[k]];
      p[0] = 0x80;
      p[1] = 0; /* PCMU */
      p[2] = (unsigned char)(period >> 8);
      p[3] = (unsigned char)period;
      uint32_t timestamp = (uint32_t)period * 160u;
      p[4] = (unsigned char)(timestamp >> 24);
      p[5] = (unsigned char)(timestamp >> 16);
      p[6] = (unsigned char)(timestamp >> 8);
      p[7] = (unsigned char)timestamp;
      p[8] = (unsigned char)(s->ssrc >> 24);
      p[9] = (unsigned char)(s->ssrc >> 16);
      p[10] = (unsigned char)(s->ssrc >> 8);
      p[11] = (unsigned char)s->ssrc;
      memset(p + 12, 0xff, RTP_BYTES - 12);
      int length = RTP_BYTES;
      if (s->srtp != NULL && srtp_protect(s->srtp, p, &length) != srtp_err_status_ok) {
        fprintf(stderr, "relay-blaster: srtp_protect failed\n");
        return 1;
      }
      struct mmsghdr *m = &messages[messages_count];
      vectors[messages_count].iov_base = p;
      vectors[messages_count].iov_len = (size_t)length;
      memset(&m->msg_hdr, 0, sizeof m->msg_hdr);
      m->msg_hdr.msg_name = &s->destination;
      m->msg_hdr.msg_namelen = sizeof s->destination;
      m->msg_hdr.msg_iov = &vectors[messages_count];
      m->msg_hdr.msg_iovlen = 1;
      messages_count++;
    }
    int done = 0;
    while (done < messages_count) {
      int r = sendmmsg(fd, messages + done, (unsigned int)(messages_count - done), 0);
      if (r < 0) {
        if (errno == EINTR || errno == EAGAIN || errno == ENOBUFS) continue;
        fail("sendmmsg");
      }
      done += r;
    }
    if (period >= warmup) {
      sent += messages_count;
      lateness[late_index++] = (double)(now_ns() - deadline) / 1000.0;
    }
  }
  int64_t cpu = cpu_us() - cpu_before;
  double last = late_index > 0 ? lateness[late_index - 1] : 0;
  double total = 0;
  for (int64_t i = 0; i < late_index; i++) total += lateness[i];
  qsort(lateness, (size_t)late_index, sizeof(double), compare_doubles);
  double p99 = late_index > 0 ? lateness[(int64_t)(0.99 * (double)late_index)] : 0;
  double max = late_index > 0 ? lateness[late_index - 1] : 0;
  printf("%lld %.1f %.1f %.1f %.1f %lld\n", sent, late_index > 0 ? total / (double)late_index : 0, p99, max, last, (long long)cpu);
  return 0;
}
