/*
 * UDP sockets for the media relay without Node's per-datagram costs
 * (docs/adr/0006-entrees-sorties-udp-natives.md).
 *
 * dgram allocates a receive buffer, a Buffer and an rinfo object for every
 * datagram, and a send request object for every send. Here each worker
 * thread hands over once a receive arena (slots of SLOT_BYTES) and a
 * metadata array; a readable socket is drained with recvmmsg() into the
 * arena and JavaScript is called once per batch with the socket and the
 * number of datagrams. Sends are one send()/sendto() each, synchronous, from
 * the caller's bytes. Nothing is allocated per datagram on either side.
 *
 * Readiness comes from libuv (uv_poll on the worker's own loop), so the
 * relay keeps running on the thread's event loop like everything else.
 * libuv keeps its ABI within major version 1: the headers of Debian's
 * libuv1-dev match the libuv inside Node.
 *
 * State is per thread (napi_set_instance_data): each media worker loads the
 * addon for itself.
 */
#define _GNU_SOURCE /* recvmmsg */
#define NAPI_VERSION 8
#include <node_api.h>
#include <uv.h>

#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#define SLOT_BYTES 2048
#define META_WORDS 8 /* per slot: length, port, family (4 or 6), address as 4 big-endian words, truncated */

typedef struct Instance Instance;

/* The sockets still closing when the thread ends; Node waits for them before unloading the addon. */
typedef struct Teardown {
  napi_async_cleanup_hook_handle hook;
  int pending;
} Teardown;

typedef struct Socket {
  uv_poll_t poll;
  int fd;
  int closing;
  Instance *instance;
  Teardown *teardown;
  struct Socket *next;
} Socket;

struct Instance {
  napi_env env;
  uint8_t *rx;
  uint32_t *meta;
  uint32_t slots;
  napi_ref rx_ref;
  napi_ref meta_ref;
  napi_ref callback_ref;
  napi_async_context async_context;
  struct mmsghdr *messages;
  struct iovec *vectors;
  struct sockaddr_in6 *sources;
  Socket *sockets;
};

static napi_value throw_errno(napi_env env, int err, const char *what) {
  char message[160];
  const char *code = uv_err_name(-err);
  snprintf(message, sizeof message, "%s %s: %s", what, code, strerror(err));
  napi_value code_value, message_value, error;
  napi_create_string_utf8(env, code, NAPI_AUTO_LENGTH, &code_value);
  napi_create_string_utf8(env, message, NAPI_AUTO_LENGTH, &message_value);
  napi_create_error(env, code_value, message_value, &error);
  napi_value errno_value;
  napi_create_int32(env, -err, &errno_value);
  napi_set_named_property(env, error, "errno", errno_value);
  napi_throw(env, error);
  return NULL;
}

static Instance *instance_of(napi_env env) {
  Instance *instance = NULL;
  napi_get_instance_data(env, (void **)&instance);
  return instance;
}

static Socket *find_socket(Instance *instance, int fd) {
  for (Socket *s = instance->sockets; s != NULL; s = s->next)
    if (s->fd == fd && !s->closing) return s;
  return NULL;
}

/* An IPv4 or IPv6 literal and a port into a socket address of the socket's family (IPv4 as ::ffff:a.b.c.d on IPv6 sockets). */
static int to_sockaddr(int family, const char *address, uint32_t port, struct sockaddr_storage *out, socklen_t *length) {
  memset(out, 0, sizeof *out);
  if (family == AF_INET) {
    struct sockaddr_in *in = (struct sockaddr_in *)out;
    in->sin_family = AF_INET;
    in->sin_port = htons((uint16_t)port);
    if (inet_pton(AF_INET, address, &in->sin_addr) != 1) return EINVAL;
    *length = sizeof *in;
    return 0;
  }
  struct sockaddr_in6 *in6 = (struct sockaddr_in6 *)out;
  in6->sin6_family = AF_INET6;
  in6->sin6_port = htons((uint16_t)port);
  if (inet_pton(AF_INET6, address, &in6->sin6_addr) != 1) {
    struct in_addr v4;
    if (inet_pton(AF_INET, address, &v4) != 1) return EINVAL;
    in6->sin6_addr.s6_addr[10] = 0xff;
    in6->sin6_addr.s6_addr[11] = 0xff;
    memcpy(&in6->sin6_addr.s6_addr[12], &v4, 4);
  }
  *length = sizeof *in6;
  return 0;
}

static int socket_family(int fd) {
  struct sockaddr_storage local;
  socklen_t length = sizeof local;
  if (getsockname(fd, (struct sockaddr *)&local, &length) != 0) return AF_INET;
  return local.ss_family;
}

static void call_js(Instance *instance, int fd, int32_t count) {
  napi_env env = instance->env;
  napi_value callback, global, argv[2], result;
  napi_get_reference_value(env, instance->callback_ref, &callback);
  napi_get_global(env, &global);
  napi_create_int32(env, fd, &argv[0]);
  napi_create_int32(env, count, &argv[1]);
  /* napi_make_callback runs the microtask queue afterwards, as for any I/O callback. */
  if (napi_make_callback(env, instance->async_context, global, callback, 2, argv, &result) == napi_pending_exception) {
    napi_value exception;
    napi_get_and_clear_last_exception(env, &exception);
    napi_fatal_exception(env, exception);
  }
}

static void drain(Socket *socket) {
  Instance *instance = socket->instance;
  for (;;) {
    for (uint32_t i = 0; i < instance->slots; i++) {
      instance->messages[i].msg_hdr.msg_namelen = sizeof(struct sockaddr_in6);
      instance->messages[i].msg_hdr.msg_flags = 0;
    }
    int count = recvmmsg(socket->fd, instance->messages, instance->slots, MSG_DONTWAIT, NULL);
    if (count < 0) {
      if (errno == EINTR) continue;
      if (errno != EAGAIN && errno != EWOULDBLOCK) call_js(instance, socket->fd, -errno);
      return;
    }
    for (int i = 0; i < count; i++) {
      uint32_t *meta = instance->meta + (size_t)i * META_WORDS;
      struct msghdr *header = &instance->messages[i].msg_hdr;
      uint32_t length = instance->messages[i].msg_len;
      meta[0] = length > SLOT_BYTES ? SLOT_BYTES : length;
      meta[7] = (header->msg_flags & MSG_TRUNC) != 0;
      const struct sockaddr *source = (const struct sockaddr *)header->msg_name;
      if (source->sa_family == AF_INET) {
        const struct sockaddr_in *in = (const struct sockaddr_in *)source;
        meta[1] = ntohs(in->sin_port);
        meta[2] = 4;
        meta[3] = ntohl(in->sin_addr.s_addr);
        meta[4] = meta[5] = meta[6] = 0;
      } else {
        const struct sockaddr_in6 *in6 = (const struct sockaddr_in6 *)source;
        meta[1] = ntohs(in6->sin6_port);
        meta[2] = 6;
        for (int w = 0; w < 4; w++) {
          uint32_t word;
          memcpy(&word, &in6->sin6_addr.s6_addr[w * 4], 4);
          meta[3 + w] = ntohl(word);
        }
      }
    }
    if (count > 0) call_js(instance, socket->fd, count);
    if (socket->closing || (uint32_t)count < instance->slots) return;
  }
}

static void on_poll(uv_poll_t *handle, int status, int events) {
  (void)events;
  Socket *socket = (Socket *)handle->data;
  if (socket->closing) return;
  napi_handle_scope scope;
  napi_open_handle_scope(socket->instance->env, &scope);
  if (status < 0) {
    /* libuv stops the poll on POLLERR: a connected socket got an ICMP error. Report it, clear it, poll again. */
    int err = 0;
    socklen_t length = sizeof err;
    getsockopt(socket->fd, SOL_SOCKET, SO_ERROR, &err, &length);
    if (err != 0) call_js(socket->instance, socket->fd, -err);
    if (!socket->closing) uv_poll_start(&socket->poll, UV_READABLE, on_poll);
  }
  if (!socket->closing) drain(socket);
  napi_close_handle_scope(socket->instance->env, scope);
}

static void on_closed(uv_handle_t *handle) {
  Socket *socket = (Socket *)handle->data;
  Teardown *teardown = socket->teardown;
  free(socket);
  if (teardown != NULL && --teardown->pending == 0) {
    napi_remove_async_cleanup_hook(teardown->hook);
    free(teardown);
  }
}

static void unlink_socket(Instance *instance, Socket *socket) {
  for (Socket **at = &instance->sockets; *at != NULL; at = &(*at)->next) {
    if (*at == socket) {
      *at = socket->next;
      return;
    }
  }
}

/*
 * The descriptor closes now, so that its port is free when this returns
 * (a bind that follows must not find it taken); libuv is done with the
 * descriptor once the poll is stopped, and the handle's memory goes in the
 * close callback.
 */
static void close_socket(Instance *instance, Socket *socket) {
  socket->closing = 1;
  unlink_socket(instance, socket);
  uv_poll_stop(&socket->poll);
  uv_close((uv_handle_t *)&socket->poll, on_closed);
  close(socket->fd);
}

/*
 * The thread is ending: every handle must be closed, and its close callback
 * (code in this library) run, before Node unloads the addon and closes the loop.
 */
static void close_all(napi_async_cleanup_hook_handle hook, void *data) {
  Instance *instance = (Instance *)data;
  Teardown *teardown = calloc(1, sizeof *teardown);
  teardown->hook = hook;
  for (Socket *s = instance->sockets; s != NULL; s = s->next) {
    s->teardown = teardown;
    teardown->pending++;
  }
  if (teardown->pending == 0) {
    napi_remove_async_cleanup_hook(hook);
    free(teardown);
    return;
  }
  while (instance->sockets != NULL) close_socket(instance, instance->sockets);
}

static void finalize_instance(napi_env env, void *data, void *hint) {
  (void)hint;
  Instance *instance = (Instance *)data;
  if (instance->callback_ref != NULL) {
    napi_delete_reference(env, instance->callback_ref);
    napi_delete_reference(env, instance->rx_ref);
    napi_delete_reference(env, instance->meta_ref);
  }
  free(instance->messages);
  free(instance->vectors);
  free(instance->sources);
  free(instance);
}

static int get_args(napi_env env, napi_callback_info info, size_t expected, napi_value *argv) {
  size_t argc = expected;
  napi_get_cb_info(env, info, &argc, argv, NULL, NULL);
  if (argc < expected) {
    napi_throw_type_error(env, NULL, "udp-io: missing arguments");
    return 0;
  }
  return 1;
}

static int get_string(napi_env env, napi_value value, char *out, size_t size) {
  size_t length;
  if (napi_get_value_string_utf8(env, value, out, size, &length) != napi_ok) {
    napi_throw_type_error(env, NULL, "udp-io: address must be a string");
    return 0;
  }
  return 1;
}

static int get_bytes(napi_env env, napi_value value, uint8_t **data, size_t *length) {
  bool is_typed;
  napi_is_typedarray(env, value, &is_typed);
  if (!is_typed) {
    napi_throw_type_error(env, NULL, "udp-io: expected a Uint8Array");
    return 0;
  }
  napi_typedarray_type type;
  void *bytes;
  napi_get_typedarray_info(env, value, &type, length, &bytes, NULL, NULL);
  *data = (uint8_t *)bytes;
  if (type == napi_uint32_array) *length *= 4;
  return 1;
}

/* init(rx: Uint8Array, meta: Uint32Array, onPackets: (fd, count) => void): the number of slots in the arena */
static napi_value init(napi_env env, napi_callback_info info) {
  napi_value argv[3];
  if (!get_args(env, info, 3, argv)) return NULL;
  Instance *instance = instance_of(env);
  uint8_t *rx, *meta;
  size_t rx_length, meta_length;
  if (!get_bytes(env, argv[0], &rx, &rx_length) || !get_bytes(env, argv[1], &meta, &meta_length)) return NULL;
  uint32_t slots = (uint32_t)(rx_length / SLOT_BYTES);
  if (slots == 0 || meta_length < (size_t)slots * META_WORDS * 4) {
    napi_throw_range_error(env, NULL, "udp-io: arena and metadata do not match");
    return NULL;
  }
  /* Called again (a test runner that reloads modules in the same thread): the new arena and callback replace the old ones. */
  if (instance->callback_ref != NULL) {
    napi_delete_reference(env, instance->callback_ref);
    napi_delete_reference(env, instance->rx_ref);
    napi_delete_reference(env, instance->meta_ref);
    napi_async_destroy(env, instance->async_context);
    free(instance->messages);
    free(instance->vectors);
    free(instance->sources);
  }
  instance->rx = rx;
  instance->meta = (uint32_t *)meta;
  instance->slots = slots;
  napi_create_reference(env, argv[0], 1, &instance->rx_ref);
  napi_create_reference(env, argv[1], 1, &instance->meta_ref);
  napi_create_reference(env, argv[2], 1, &instance->callback_ref);
  napi_value resource, name;
  napi_create_object(env, &resource);
  napi_create_string_utf8(env, "voix:udp-io", NAPI_AUTO_LENGTH, &name);
  napi_async_init(env, resource, name, &instance->async_context);
  instance->messages = calloc(slots, sizeof(struct mmsghdr));
  instance->vectors = calloc(slots, sizeof(struct iovec));
  instance->sources = calloc(slots, sizeof(struct sockaddr_in6));
  for (uint32_t i = 0; i < slots; i++) {
    instance->vectors[i].iov_base = rx + (size_t)i * SLOT_BYTES;
    instance->vectors[i].iov_len = SLOT_BYTES;
    instance->messages[i].msg_hdr.msg_iov = &instance->vectors[i];
    instance->messages[i].msg_hdr.msg_iovlen = 1;
    instance->messages[i].msg_hdr.msg_name = &instance->sources[i];
  }
  napi_value result;
  napi_create_uint32(env, slots, &result);
  return result;
}

/* open(ipv6: boolean, address: string, port: number, reuseAddr: boolean): fd */
static napi_value open_socket(napi_env env, napi_callback_info info) {
  napi_value argv[4];
  if (!get_args(env, info, 4, argv)) return NULL;
  Instance *instance = instance_of(env);
  if (instance->callback_ref == NULL) {
    napi_throw_error(env, NULL, "udp-io: open before init");
    return NULL;
  }
  bool ipv6, reuse;
  uint32_t port;
  char address[INET6_ADDRSTRLEN + 1];
  napi_get_value_bool(env, argv[0], &ipv6);
  if (!get_string(env, argv[1], address, sizeof address)) return NULL;
  napi_get_value_uint32(env, argv[2], &port);
  napi_get_value_bool(env, argv[3], &reuse);
  int family = ipv6 ? AF_INET6 : AF_INET;
  struct sockaddr_storage local;
  socklen_t local_length;
  if (to_sockaddr(family, address, port, &local, &local_length) != 0) return throw_errno(env, EINVAL, "bind");
  int fd = socket(family, SOCK_DGRAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
  if (fd < 0) return throw_errno(env, errno, "socket");
  int one = 1;
  if (reuse && setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof one) != 0) {
    int err = errno;
    close(fd);
    return throw_errno(env, err, "setsockopt");
  }
  if (bind(fd, (struct sockaddr *)&local, local_length) != 0) {
    int err = errno;
    close(fd);
    return throw_errno(env, err, "bind");
  }
  uv_loop_t *loop;
  napi_get_uv_event_loop(env, &loop);
  Socket *socket_state = calloc(1, sizeof *socket_state);
  socket_state->fd = fd;
  socket_state->instance = instance;
  socket_state->poll.data = socket_state;
  int err = uv_poll_init_socket(loop, &socket_state->poll, fd);
  if (err == 0) err = uv_poll_start(&socket_state->poll, UV_READABLE, on_poll);
  if (err != 0) {
    close(fd);
    free(socket_state);
    return throw_errno(env, -err, "poll");
  }
  socket_state->next = instance->sockets;
  instance->sockets = socket_state;
  napi_value result;
  napi_create_int32(env, fd, &result);
  return result;
}

static Socket *socket_arg(napi_env env, napi_value value) {
  int32_t fd;
  napi_get_value_int32(env, value, &fd);
  Socket *socket = find_socket(instance_of(env), fd);
  if (socket == NULL) throw_errno(env, EBADF, "udp-io");
  return socket;
}

/* connect(fd, address, port): the socket then sends there with send() and receives only from there */
static napi_value connect_socket(napi_env env, napi_callback_info info) {
  napi_value argv[3];
  if (!get_args(env, info, 3, argv)) return NULL;
  Socket *socket = socket_arg(env, argv[0]);
  if (socket == NULL) return NULL;
  char address[INET6_ADDRSTRLEN + 1];
  uint32_t port;
  if (!get_string(env, argv[1], address, sizeof address)) return NULL;
  napi_get_value_uint32(env, argv[2], &port);
  struct sockaddr_storage remote;
  socklen_t length;
  if (to_sockaddr(socket_family(socket->fd), address, port, &remote, &length) != 0) return throw_errno(env, EINVAL, "connect");
  if (connect(socket->fd, (struct sockaddr *)&remote, length) != 0) return throw_errno(env, errno, "connect");
  return NULL;
}

/* disconnect(fd): AF_UNSPEC dissolves the association (connect(2)) */
static napi_value disconnect_socket(napi_env env, napi_callback_info info) {
  napi_value argv[1];
  if (!get_args(env, info, 1, argv)) return NULL;
  Socket *socket = socket_arg(env, argv[0]);
  if (socket == NULL) return NULL;
  struct sockaddr unspecified;
  memset(&unspecified, 0, sizeof unspecified);
  unspecified.sa_family = AF_UNSPEC;
  connect(socket->fd, &unspecified, sizeof unspecified);
  return NULL;
}

static napi_value send_result(napi_env env, ssize_t sent) {
  napi_value result;
  napi_create_int32(env, sent < 0 ? errno : 0, &result);
  return result;
}

/* send(fd, bytes, length): 0, or the errno of a failed send (EAGAIN: the kernel's buffer is full, the datagram is dropped) */
static napi_value send_connected(napi_env env, napi_callback_info info) {
  napi_value argv[3];
  if (!get_args(env, info, 3, argv)) return NULL;
  int32_t fd;
  uint32_t length;
  uint8_t *bytes;
  size_t available;
  napi_get_value_int32(env, argv[0], &fd);
  if (!get_bytes(env, argv[1], &bytes, &available)) return NULL;
  napi_get_value_uint32(env, argv[2], &length);
  if (length > available) length = (uint32_t)available;
  return send_result(env, send(fd, bytes, length, MSG_DONTWAIT));
}

/* sendTo(fd, bytes, length, address, port): as send, to an explicit destination */
static napi_value send_to(napi_env env, napi_callback_info info) {
  napi_value argv[5];
  if (!get_args(env, info, 5, argv)) return NULL;
  int32_t fd;
  uint32_t length, port;
  uint8_t *bytes;
  size_t available;
  char address[INET6_ADDRSTRLEN + 1];
  napi_get_value_int32(env, argv[0], &fd);
  if (!get_bytes(env, argv[1], &bytes, &available)) return NULL;
  napi_get_value_uint32(env, argv[2], &length);
  if (!get_string(env, argv[3], address, sizeof address)) return NULL;
  napi_get_value_uint32(env, argv[4], &port);
  if (length > available) length = (uint32_t)available;
  struct sockaddr_storage remote;
  socklen_t remote_length;
  if (to_sockaddr(socket_family(fd), address, port, &remote, &remote_length) != 0) {
    napi_value result;
    napi_create_int32(env, EINVAL, &result);
    return result;
  }
  return send_result(env, sendto(fd, bytes, length, MSG_DONTWAIT, (struct sockaddr *)&remote, remote_length));
}

/* close(fd): stops reading and closes the descriptor at once */
static napi_value close_js(napi_env env, napi_callback_info info) {
  napi_value argv[1];
  if (!get_args(env, info, 1, argv)) return NULL;
  int32_t fd;
  napi_get_value_int32(env, argv[0], &fd);
  Instance *instance = instance_of(env);
  Socket *socket = find_socket(instance, fd);
  if (socket != NULL) close_socket(instance, socket);
  return NULL;
}

/* formatAddress(slot): the source of a received datagram as Node's dgram writes it (inet_ntop) */
static napi_value format_address(napi_env env, napi_callback_info info) {
  napi_value argv[1];
  if (!get_args(env, info, 1, argv)) return NULL;
  Instance *instance = instance_of(env);
  uint32_t slot;
  napi_get_value_uint32(env, argv[0], &slot);
  if (slot >= instance->slots) return throw_errno(env, EINVAL, "formatAddress");
  char text[INET6_ADDRSTRLEN];
  const struct sockaddr *source = (const struct sockaddr *)&instance->sources[slot];
  if (source->sa_family == AF_INET)
    inet_ntop(AF_INET, &((const struct sockaddr_in *)source)->sin_addr, text, sizeof text);
  else
    inet_ntop(AF_INET6, &((const struct sockaddr_in6 *)source)->sin6_addr, text, sizeof text);
  napi_value result;
  napi_create_string_utf8(env, text, NAPI_AUTO_LENGTH, &result);
  return result;
}

/* openCount(): sockets open in this thread (tests check nothing leaks) */
static napi_value open_count(napi_env env, napi_callback_info info) {
  (void)info;
  uint32_t count = 0;
  for (Socket *s = instance_of(env)->sockets; s != NULL; s = s->next) count++;
  napi_value result;
  napi_create_uint32(env, count, &result);
  return result;
}

NAPI_MODULE_INIT(/* napi_env env, napi_value exports */) {
  Instance *instance = calloc(1, sizeof *instance);
  instance->env = env;
  napi_set_instance_data(env, instance, finalize_instance, NULL);
  napi_add_async_cleanup_hook(env, close_all, instance, NULL);
  napi_property_descriptor functions[] = {
      {"init", NULL, init, NULL, NULL, NULL, napi_default, NULL},
      {"open", NULL, open_socket, NULL, NULL, NULL, napi_default, NULL},
      {"connect", NULL, connect_socket, NULL, NULL, NULL, napi_default, NULL},
      {"disconnect", NULL, disconnect_socket, NULL, NULL, NULL, napi_default, NULL},
      {"send", NULL, send_connected, NULL, NULL, NULL, napi_default, NULL},
      {"sendTo", NULL, send_to, NULL, NULL, NULL, napi_default, NULL},
      {"close", NULL, close_js, NULL, NULL, NULL, napi_default, NULL},
      {"formatAddress", NULL, format_address, NULL, NULL, NULL, napi_default, NULL},
      {"openCount", NULL, open_count, NULL, NULL, NULL, napi_default, NULL},
  };
  napi_define_properties(env, exports, sizeof functions / sizeof functions[0], functions);
  napi_value slot_bytes, meta_words;
  napi_create_uint32(env, SLOT_BYTES, &slot_bytes);
  napi_create_uint32(env, META_WORDS, &meta_words);
  napi_set_named_property(env, exports, "SLOT_BYTES", slot_bytes);
  napi_set_named_property(env, exports, "META_WORDS", meta_words);
  return exports;
}
