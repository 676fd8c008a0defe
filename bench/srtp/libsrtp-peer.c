/*
 * libsrtp2 as an independent SRTP peer for voix, compiled at run time by
 * bench/srtp/libsrtp-peer.ts (gcc + Debian's libsrtp2-dev); never committed
 * as a binary.
 *
 *   libsrtp-peer version
 *   libsrtp-peer bench SUITE SECONDS ROUNDS PAYLOAD_BYTES [ORDER]
 *       One line per round: "protect PPS unprotect PPS", single thread,
 *       RTP packets of 12 + PAYLOAD_BYTES bytes (bench/srtp.ts). ORDER of
 *       the sequence numbers: in-order (default), reversed-8 (blocks of
 *       eight sent backwards) or jump-40 (40 apart).
 *   libsrtp-peer script
 *       Reads commands on stdin, answers one line each
 *       (test/integration/srtp):
 *         session NAME SUITE KEYHEX SALTHEX inbound|outbound   -> ok
 *         protect_rtp|unprotect_rtp|protect_rtcp|unprotect_rtcp NAME HEX
 *                                          -> ok HEX | err STATUS
 *
 * SUITE is 80 or 32 (AES_CM_128_HMAC_SHA1_80 / _32). SRTCP always uses the
 * 80-bit tag (RFC 3711 §5.2, RFC 4568 §6.2).
 */
#include <srtp2/srtp.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#define MAX_SESSIONS 32
#define MAX_PACKET 2048
#define BATCH 1024

static void fail(const char *what, int status) {
  fprintf(stderr, "libsrtp-peer: %s failed (status %d)\n", what, status);
  exit(2);
}

static srtp_t create_session(int suite, const uint8_t *key_and_salt, int inbound) {
  srtp_policy_t policy;
  memset(&policy, 0, sizeof policy);
  if (suite == 32)
    srtp_crypto_policy_set_aes_cm_128_hmac_sha1_32(&policy.rtp);
  else
    srtp_crypto_policy_set_aes_cm_128_hmac_sha1_80(&policy.rtp);
  srtp_crypto_policy_set_aes_cm_128_hmac_sha1_80(&policy.rtcp);
  policy.ssrc.type = inbound ? ssrc_any_inbound : ssrc_any_outbound;
  policy.ssrc.value = 0;
  policy.key = (unsigned char *)key_and_salt;
  policy.window_size = 64;
  policy.allow_repeat_tx = 0;
  policy.next = NULL;
  srtp_t session;
  srtp_err_status_t status = srtp_create(&session, &policy);
  if (status != srtp_err_status_ok) fail("srtp_create", status);
  return session;
}

static double now_seconds(void) {
  struct timespec ts;
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return ts.tv_sec + ts.tv_nsec / 1e9;
}

static void make_rtp(uint8_t *p, int payload, uint16_t seq) {
  memset(p, 0, 12 + payload);
  p[0] = 0x80;
  p[1] = 0; /* PCMU */
  p[2] = seq >> 8;
  p[3] = seq & 0xff;
  uint32_t ts = (uint32_t)seq * 160;
  p[4] = ts >> 24; p[5] = ts >> 16; p[6] = ts >> 8; p[7] = ts;
  p[8] = 0x11; p[9] = 0x22; p[10] = 0x33; p[11] = 0x44;
  for (int i = 0; i < payload; i++) p[12 + i] = 0xff ^ (i & 0x7f);
}

enum order { IN_ORDER, REVERSED_8, JUMP_40 };

static uint16_t sequence_number(enum order order, uint32_t i) {
  if (order == REVERSED_8) return (uint16_t)((i & ~7u) | (7 - (i & 7u)));
  if (order == JUMP_40) return (uint16_t)(i * 40);
  return (uint16_t)i;
}

static int bench(int suite, double seconds, int rounds, int payload, enum order order) {
  uint8_t key[30];
  for (int i = 0; i < 30; i++) key[i] = (uint8_t)(i * 7 + 1);
  uint8_t template[MAX_PACKET];
  static uint8_t batch[BATCH][MAX_PACKET];
  static int batch_len[BATCH];
  make_rtp(template, payload, 0);
  for (int round = 0; round < rounds; round++) {
    /* protect: copy the plaintext in, stamp the sequence number, protect */
    srtp_t tx = create_session(suite, key, 0);
    uint8_t buf[MAX_PACKET];
    uint32_t seq = 0;
    long count = 0;
    double start = now_seconds(), elapsed = 0;
    while (elapsed < seconds) {
      for (int i = 0; i < 256; i++) {
        memcpy(buf, template, 12 + payload);
        uint16_t s = sequence_number(order, seq++);
        buf[2] = s >> 8;
        buf[3] = s & 0xff;
        int len = 12 + payload;
        srtp_err_status_t status = srtp_protect(tx, buf, &len);
        if (status != srtp_err_status_ok) fail("srtp_protect", status);
      }
      count += 256;
      elapsed = now_seconds() - start;
    }
    double protect_pps = count / elapsed;
    srtp_dealloc(tx);

    /* unprotect: batches protected untimed, then unprotected timed */
    srtp_t sender = create_session(suite, key, 0);
    srtp_t rx = create_session(suite, key, 1);
    seq = 0;
    count = 0;
    elapsed = 0;
    while (elapsed < seconds) {
      for (int i = 0; i < BATCH; i++) {
        memcpy(batch[i], template, 12 + payload);
        uint16_t s = sequence_number(order, seq++);
        batch[i][2] = s >> 8;
        batch[i][3] = s & 0xff;
        batch_len[i] = 12 + payload;
        srtp_err_status_t status = srtp_protect(sender, batch[i], &batch_len[i]);
        if (status != srtp_err_status_ok) fail("srtp_protect", status);
      }
      double t0 = now_seconds();
      for (int i = 0; i < BATCH; i++) {
        srtp_err_status_t status = srtp_unprotect(rx, batch[i], &batch_len[i]);
        if (status != srtp_err_status_ok) fail("srtp_unprotect", status);
      }
      elapsed += now_seconds() - t0;
      count += BATCH;
    }
    double unprotect_pps = count / elapsed;
    srtp_dealloc(sender);
    srtp_dealloc(rx);
    printf("protect %.0f unprotect %.0f\n", protect_pps, unprotect_pps);
    fflush(stdout);
  }
  return 0;
}

static int hex_value(char c) {
  if (c >= '0' && c <= '9') return c - '0';
  if (c >= 'a' && c <= 'f') return c - 'a' + 10;
  if (c >= 'A' && c <= 'F') return c - 'A' + 10;
  return -1;
}

static int from_hex(const char *hex, uint8_t *out, int max) {
  int n = (int)strlen(hex);
  if (n % 2 != 0 || n / 2 > max) return -1;
  for (int i = 0; i < n / 2; i++) {
    int hi = hex_value(hex[2 * i]), lo = hex_value(hex[2 * i + 1]);
    if (hi < 0 || lo < 0) return -1;
    out[i] = (uint8_t)(hi << 4 | lo);
  }
  return n / 2;
}

static void print_hex(const uint8_t *p, int n) {
  for (int i = 0; i < n; i++) printf("%02x", p[i]);
}

static int script(void) {
  char names[MAX_SESSIONS][64];
  srtp_t sessions[MAX_SESSIONS];
  int count = 0;
  static char line[8 * MAX_PACKET];
  while (fgets(line, sizeof line, stdin) != NULL) {
    char command[32], name[64], arg1[8 * MAX_PACKET], arg2[128], arg3[128], arg4[32];
    int fields = sscanf(line, "%31s %63s %16383s %127s %127s %31s", command, name, arg1, arg2, arg3, arg4);
    if (fields < 3) {
      printf("err bad-command\n");
      continue;
    }
    if (strcmp(command, "session") == 0) {
      uint8_t key_and_salt[30];
      if (fields != 6 || count == MAX_SESSIONS || from_hex(arg2, key_and_salt, 16) != 16 ||
          from_hex(arg3, key_and_salt + 16, 14) != 14) {
        printf("err bad-session\n");
        continue;
      }
      snprintf(names[count], sizeof names[count], "%s", name);
      sessions[count++] = create_session(atoi(arg1), key_and_salt, strcmp(arg4, "inbound") == 0);
      printf("ok\n");
      continue;
    }
    srtp_t session = NULL;
    for (int i = 0; i < count; i++)
      if (strcmp(names[i], name) == 0) session = sessions[i];
    uint8_t packet[MAX_PACKET + SRTP_MAX_TRAILER_LEN];
    int len = from_hex(arg1, packet, MAX_PACKET);
    if (session == NULL || len < 0) {
      printf("err bad-arguments\n");
      continue;
    }
    srtp_err_status_t status;
    if (strcmp(command, "protect_rtp") == 0)
      status = srtp_protect(session, packet, &len);
    else if (strcmp(command, "unprotect_rtp") == 0)
      status = srtp_unprotect(session, packet, &len);
    else if (strcmp(command, "protect_rtcp") == 0)
      status = srtp_protect_rtcp(session, packet, &len);
    else if (strcmp(command, "unprotect_rtcp") == 0)
      status = srtp_unprotect_rtcp(session, packet, &len);
    else {
      printf("err bad-command\n");
      continue;
    }
    if (status == srtp_err_status_ok) {
      printf("ok ");
      print_hex(packet, len);
      printf("\n");
    } else {
      printf("err %d\n", status);
    }
  }
  fflush(stdout);
  return 0;
}

int main(int argc, char **argv) {
  srtp_err_status_t status = srtp_init();
  if (status != srtp_err_status_ok) fail("srtp_init", status);
  if (argc >= 2 && strcmp(argv[1], "version") == 0) {
    printf("%s\n", srtp_get_version_string());
    return 0;
  }
  if ((argc == 6 || argc == 7) && strcmp(argv[1], "bench") == 0) {
    enum order order = IN_ORDER;
    if (argc == 7 && strcmp(argv[6], "reversed-8") == 0) order = REVERSED_8;
    else if (argc == 7 && strcmp(argv[6], "jump-40") == 0) order = JUMP_40;
    else if (argc == 7 && strcmp(argv[6], "in-order") != 0) {
      fprintf(stderr, "libsrtp-peer: unknown order %s\n", argv[6]);
      return 64;
    }
    return bench(atoi(argv[2]), atof(argv[3]), atoi(argv[4]), atoi(argv[5]), order);
  }
  if (argc == 2 && strcmp(argv[1], "script") == 0) return script();
  fprintf(stderr, "usage: libsrtp-peer version | bench SUITE SECONDS ROUNDS PAYLOAD [ORDER] | script\n");
  return 64;
}
