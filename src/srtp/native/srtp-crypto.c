/*
 * The per-packet cryptography of SRTP and SRTCP (RFC 3711) for SrtpSession
 * (docs/adr/0007-chiffrement-srtp-natif.md): AES-128 in counter mode (§4.1.1) and
 * HMAC-SHA1 (§4.2), with the OpenSSL that Node itself carries and exports
 * to addons (AES-NI and SHA-NI where the processor has them). Everything
 * else of SRTP (index and rollover counter estimation, replay windows, key
 * derivation, SSRC states) stays in TypeScript; this file only turns bytes
 * into bytes, in place, and allocates nothing per packet.
 *
 * A context holds one transform's session keys (SRTP or SRTCP of one
 * session): an AES-128-ECB context for the keystream and the SHA-1 states
 * after K ⊕ ipad and K ⊕ opad. It lives in a JavaScript external, freed
 * when the session is collected.
 */
#define NAPI_VERSION 8
#define OPENSSL_SUPPRESS_DEPRECATED /* SHA1_Init & co.: the copyable SHA_CTX is what makes precomputed HMAC states possible */
#include <node_api.h>
#include <openssl/evp.h>
#include <openssl/sha.h>

#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#define KEY_BYTES 16
#define SALT_BYTES 14
#define AUTH_KEY_BYTES 20
#define BLOCK_BYTES 16
/* The longest packet part encrypted in one call; longer ones are done in pieces. */
#define CHUNK_BLOCKS 128

typedef struct Context {
  EVP_CIPHER_CTX *aes;
  uint8_t salt[SALT_BYTES];
  SHA_CTX inner;
  SHA_CTX outer;
} Context;

static void free_context(napi_env env, void *data, void *hint) {
  (void)env;
  (void)hint;
  Context *context = (Context *)data;
  EVP_CIPHER_CTX_free(context->aes);
  OPENSSL_cleanse(context, sizeof *context);
  free(context);
}

static int bytes_of(napi_env env, napi_value value, uint8_t **data, size_t *length) {
  bool is_typed = false;
  napi_is_typedarray(env, value, &is_typed);
  if (!is_typed) return 0;
  napi_typedarray_type type;
  void *bytes;
  napi_get_typedarray_info(env, value, &type, length, &bytes, NULL, NULL);
  if (type != napi_uint8_array) return 0;
  *data = (uint8_t *)bytes;
  return 1;
}

static Context *context_of(napi_env env, napi_value value) {
  void *data = NULL;
  if (napi_get_value_external(env, value, &data) != napi_ok) return NULL;
  return (Context *)data;
}

/* context(sessionKey: 16 bytes, sessionSalt: 14 bytes, authKey: 20 bytes): external */
static napi_value create_context(napi_env env, napi_callback_info info) {
  size_t argc = 3;
  napi_value argv[3];
  napi_get_cb_info(env, info, &argc, argv, NULL, NULL);
  uint8_t *key, *salt, *auth;
  size_t key_length, salt_length, auth_length;
  if (argc < 3 || !bytes_of(env, argv[0], &key, &key_length) || !bytes_of(env, argv[1], &salt, &salt_length) ||
      !bytes_of(env, argv[2], &auth, &auth_length) || key_length != KEY_BYTES || salt_length != SALT_BYTES || auth_length != AUTH_KEY_BYTES) {
    napi_throw_type_error(env, NULL, "srtp-crypto: context(key[16], salt[14], authKey[20])");
    return NULL;
  }
  Context *context = calloc(1, sizeof *context);
  context->aes = EVP_CIPHER_CTX_new();
  if (context->aes == NULL || EVP_EncryptInit_ex(context->aes, EVP_aes_128_ecb(), NULL, key, NULL) != 1) {
    EVP_CIPHER_CTX_free(context->aes);
    free(context);
    napi_throw_error(env, NULL, "srtp-crypto: OpenSSL refused the AES-128 key");
    return NULL;
  }
  EVP_CIPHER_CTX_set_padding(context->aes, 0);
  memcpy(context->salt, salt, SALT_BYTES);
  /* RFC 2104: the states after the first block of each hash, computed once per key. */
  uint8_t pad[64];
  memset(pad, 0x36, sizeof pad);
  for (int i = 0; i < AUTH_KEY_BYTES; i++) pad[i] ^= auth[i];
  SHA1_Init(&context->inner);
  SHA1_Update(&context->inner, pad, sizeof pad);
  memset(pad, 0x5c, sizeof pad);
  for (int i = 0; i < AUTH_KEY_BYTES; i++) pad[i] ^= auth[i];
  SHA1_Init(&context->outer);
  SHA1_Update(&context->outer, pad, sizeof pad);
  OPENSSL_cleanse(pad, sizeof pad);
  napi_value result;
  napi_create_external(env, context, free_context, NULL, &result);
  return result;
}

/*
 * crypt(context, buf, start, end, ssrc | 0, indexHigh | 0, indexLow): XORs
 * buf[start, end) with the AES-CM keystream of packet index
 * indexHigh × 2^16 + indexLow (SRTP: ROC and SEQ; SRTCP: 0 and the low
 * bits, §3.4 uses the 31-bit index the same way). §4.1.1:
 * IV = (k_s × 2^16) XOR (SSRC × 2^64) XOR (i × 2^16), counter blocks IV + j.
 */
static napi_value crypt_js(napi_env env, napi_callback_info info) {
  size_t argc = 7;
  napi_value argv[7];
  napi_get_cb_info(env, info, &argc, argv, NULL, NULL);
  Context *context = argc == 7 ? context_of(env, argv[0]) : NULL;
  uint8_t *buf;
  size_t length;
  if (context == NULL || !bytes_of(env, argv[1], &buf, &length)) {
    napi_throw_type_error(env, NULL, "srtp-crypto: crypt(context, bytes, start, end, ssrc, indexHigh, indexLow)");
    return NULL;
  }
  uint32_t start, end, index_low;
  /* SSRC and ROC arrive as signed 32-bit integers (the same bits): small integers in V8, never a boxed number per call. */
  int32_t ssrc_bits, index_high_bits;
  napi_get_value_uint32(env, argv[2], &start);
  napi_get_value_uint32(env, argv[3], &end);
  napi_get_value_int32(env, argv[4], &ssrc_bits);
  napi_get_value_int32(env, argv[5], &index_high_bits);
  napi_get_value_uint32(env, argv[6], &index_low);
  uint32_t ssrc = (uint32_t)ssrc_bits, index_high = (uint32_t)index_high_bits;
  if (end > length || start > end) {
    napi_throw_range_error(env, NULL, "srtp-crypto: crypt range outside the buffer");
    return NULL;
  }
  uint8_t iv[BLOCK_BYTES];
  memcpy(iv, context->salt, SALT_BYTES);
  iv[14] = iv[15] = 0;
  iv[4] ^= (uint8_t)(ssrc >> 24);
  iv[5] ^= (uint8_t)(ssrc >> 16);
  iv[6] ^= (uint8_t)(ssrc >> 8);
  iv[7] ^= (uint8_t)ssrc;
  /* The 48-bit index shifted left by 16 bits: bytes 8 to 13. */
  iv[8] ^= (uint8_t)(index_high >> 24);
  iv[9] ^= (uint8_t)(index_high >> 16);
  iv[10] ^= (uint8_t)(index_high >> 8);
  iv[11] ^= (uint8_t)index_high;
  iv[12] ^= (uint8_t)(index_low >> 8);
  iv[13] ^= (uint8_t)index_low;

  uint8_t counters[CHUNK_BLOCKS * BLOCK_BYTES];
  uint8_t keystream[CHUNK_BLOCKS * BLOCK_BYTES];
  uint32_t block = 0;
  for (uint32_t offset = start; offset < end;) {
    uint32_t remaining = end - offset;
    uint32_t blocks = (remaining + BLOCK_BYTES - 1) / BLOCK_BYTES;
    if (blocks > CHUNK_BLOCKS) blocks = CHUNK_BLOCKS;
    for (uint32_t j = 0; j < blocks; j++, block++) {
      uint8_t *counter = counters + j * BLOCK_BYTES;
      memcpy(counter, iv, 14);
      /* The block counter occupies the low 16 bits (§4.1.1: at most 2^16 blocks per packet). */
      counter[14] = (uint8_t)(block >> 8);
      counter[15] = (uint8_t)block;
    }
    int produced = 0;
    EVP_EncryptUpdate(context->aes, keystream, &produced, counters, (int)(blocks * BLOCK_BYTES));
    uint32_t bytes = blocks * BLOCK_BYTES < remaining ? blocks * BLOCK_BYTES : remaining;
    for (uint32_t k = 0; k < bytes; k++) buf[offset + k] ^= keystream[k];
    offset += bytes;
  }
  return NULL;
}

/* HMAC-SHA1 over buf[0, end), then the 4 bytes of `roc` when withRoc (SRTP's M = Authenticated Portion || ROC, §4.2). */
static void hmac(const Context *context, const uint8_t *buf, uint32_t end, uint32_t roc, int with_roc, uint8_t digest[SHA_DIGEST_LENGTH]) {
  SHA_CTX sha = context->inner;
  SHA1_Update(&sha, buf, end);
  if (with_roc) {
    uint8_t r[4] = {(uint8_t)(roc >> 24), (uint8_t)(roc >> 16), (uint8_t)(roc >> 8), (uint8_t)roc};
    SHA1_Update(&sha, r, sizeof r);
  }
  uint8_t inner[SHA_DIGEST_LENGTH];
  SHA1_Final(inner, &sha);
  sha = context->outer;
  SHA1_Update(&sha, inner, sizeof inner);
  SHA1_Final(digest, &sha);
}

/* Common arguments of sign and verify: (context, buf, end, roc, withRoc, tagLength). */
static int tag_args(napi_env env, napi_callback_info info, Context **context, uint8_t **buf, uint32_t *end, uint32_t *roc, bool *with_roc,
                    uint32_t *tag_length) {
  size_t argc = 6;
  napi_value argv[6];
  napi_get_cb_info(env, info, &argc, argv, NULL, NULL);
  size_t length;
  *context = argc == 6 ? context_of(env, argv[0]) : NULL;
  if (*context == NULL || !bytes_of(env, argv[1], buf, &length)) {
    napi_throw_type_error(env, NULL, "srtp-crypto: (context, bytes, end, roc, withRoc, tagLength)");
    return 0;
  }
  int32_t roc_bits;
  napi_get_value_uint32(env, argv[2], end);
  napi_get_value_int32(env, argv[3], &roc_bits);
  *roc = (uint32_t)roc_bits;
  napi_get_value_bool(env, argv[4], with_roc);
  napi_get_value_uint32(env, argv[5], tag_length);
  if (*tag_length > SHA_DIGEST_LENGTH || (size_t)*end + *tag_length > length) {
    napi_throw_range_error(env, NULL, "srtp-crypto: tag outside the buffer");
    return 0;
  }
  return 1;
}

/* sign(context, buf, end, roc, withRoc, tagLength): writes the tag at buf[end] */
static napi_value sign_js(napi_env env, napi_callback_info info) {
  Context *context;
  uint8_t *buf;
  uint32_t end, roc, tag_length;
  bool with_roc;
  if (!tag_args(env, info, &context, &buf, &end, &roc, &with_roc, &tag_length)) return NULL;
  uint8_t digest[SHA_DIGEST_LENGTH];
  hmac(context, buf, end, roc, with_roc, digest);
  memcpy(buf + end, digest, tag_length);
  return NULL;
}

/* verify(context, buf, end, roc, withRoc, tagLength): whether buf[end, end + tagLength) is the tag, compared in constant time */
static napi_value verify_js(napi_env env, napi_callback_info info) {
  Context *context;
  uint8_t *buf;
  uint32_t end, roc, tag_length;
  bool with_roc;
  if (!tag_args(env, info, &context, &buf, &end, &roc, &with_roc, &tag_length)) return NULL;
  uint8_t digest[SHA_DIGEST_LENGTH];
  hmac(context, buf, end, roc, with_roc, digest);
  uint8_t difference = 0;
  for (uint32_t i = 0; i < tag_length; i++) difference |= digest[i] ^ buf[end + i];
  napi_value result;
  napi_get_boolean(env, difference == 0, &result);
  return result;
}

NAPI_MODULE_INIT(/* napi_env env, napi_value exports */) {
  napi_property_descriptor functions[] = {
      {"context", NULL, create_context, NULL, NULL, NULL, napi_default, NULL},
      {"crypt", NULL, crypt_js, NULL, NULL, NULL, napi_default, NULL},
      {"sign", NULL, sign_js, NULL, NULL, NULL, napi_default, NULL},
      {"verify", NULL, verify_js, NULL, NULL, NULL, napi_default, NULL},
  };
  napi_define_properties(env, exports, sizeof functions / sizeof functions[0], functions);
  return exports;
}
