// The one thing Node cannot do itself: open a netlink socket, inside another network namespace when
// asked. JavaScript then talks to it with plain read(2) and write(2) (fs.readSync/fs.writeSync), so
// each CNI ADD changes links without spawning `ip` (NETLINK_ROUTE), and weft-proxy loads a table's
// elements without nft parsing them as text (NETLINK_NETFILTER). setns(2) moves only the calling
// thread, which is moved back before returning; a thread left in the pod's namespace would make every
// later call act there, so failing to return aborts the process instead.
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <linux/netlink.h>
#include <sched.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>
#include <node_api.h>

#ifndef SOL_NETLINK
#define SOL_NETLINK 270
#endif

static napi_value throw_errno(napi_env env, const char *what, int err) {
  char code[16];
  char message[160];
  snprintf(code, sizeof code, "%d", err);
  snprintf(message, sizeof message, "%s: %s", what, strerror(err));
  napi_throw_error(env, code, message);
  return NULL;
}

static int open_socket(int protocol) {
  // The kernel answers an nf_tables batch inside the write that carries it: its answers are read
  // without waiting, so a missing one is an error and never a hang.
  int nonblock = protocol == NETLINK_NETFILTER ? SOCK_NONBLOCK : 0;
  int fd = socket(AF_NETLINK, SOCK_RAW | SOCK_CLOEXEC | nonblock, protocol);
  if (fd < 0) return -1;
  int on = 1;
  // Extended acks carry the kernel's own words for a refusal; capped acks keep them short.
  setsockopt(fd, SOL_NETLINK, NETLINK_EXT_ACK, &on, sizeof on);
  setsockopt(fd, SOL_NETLINK, NETLINK_CAP_ACK, &on, sizeof on);
  if (protocol == NETLINK_NETFILTER) {
    // A batch is one write, refused past the send buffer: a node whose net.core.wmem_default is below
    // a batch would refuse every load. As nft does, ask for room (forced where the caller may, as
    // weft-proxy may; else within net.core.wmem_max); the kernel doubles what it is given.
    int room = 1 << 20;
    if (setsockopt(fd, SOL_SOCKET, SO_SNDBUFFORCE, &room, sizeof room) != 0) setsockopt(fd, SOL_SOCKET, SO_SNDBUF, &room, sizeof room);
  }
  return fd;
}

// openNetlinkSocket(protocol: number, netnsFd?: number): number — a socket in the namespace of
// netnsFd, or in this thread's.
static napi_value open_netlink_socket(napi_env env, napi_callback_info info) {
  size_t argc = 2;
  napi_value argv[2];
  napi_get_cb_info(env, info, &argc, argv, NULL, NULL);
  int protocol = -1;
  if (argc < 1 || napi_get_value_int32(env, argv[0], &protocol) != napi_ok || (protocol != NETLINK_ROUTE && protocol != NETLINK_NETFILTER)) {
    napi_throw_type_error(env, NULL, "openNetlinkSocket: protocol must be NETLINK_ROUTE or NETLINK_NETFILTER");
    return NULL;
  }
  int netns = -1;
  if (argc >= 2) {
    napi_valuetype type;
    napi_typeof(env, argv[1], &type);
    if (type != napi_undefined) {
      if (type != napi_number || napi_get_value_int32(env, argv[1], &netns) != napi_ok || netns < 0) {
        napi_throw_type_error(env, NULL, "openNetlinkSocket: netnsFd must be a file descriptor");
        return NULL;
      }
    }
  }
  int fd;
  if (netns < 0) {
    fd = open_socket(protocol);
    if (fd < 0) return throw_errno(env, "cannot open a netlink socket", errno);
  } else {
    int home = open("/proc/thread-self/ns/net", O_RDONLY | O_CLOEXEC);
    if (home < 0) return throw_errno(env, "cannot open this thread's network namespace", errno);
    if (setns(netns, CLONE_NEWNET) != 0) {
      int err = errno;
      close(home);
      return throw_errno(env, "cannot enter the network namespace", err);
    }
    fd = open_socket(protocol);
    int err = errno;
    if (setns(home, CLONE_NEWNET) != 0) {
      perror("weft: cannot return to the node's network namespace");
      abort();
    }
    close(home);
    if (fd < 0) return throw_errno(env, "cannot open a netlink socket in the network namespace", err);
  }
  napi_value result;
  napi_create_int32(env, fd, &result);
  return result;
}

// errnoMessage(errno: number): string — the C library's words, as ip prints them (libuv's differ).
static napi_value errno_message(napi_env env, napi_callback_info info) {
  size_t argc = 1;
  napi_value argv[1];
  int err = 0;
  napi_get_cb_info(env, info, &argc, argv, NULL, NULL);
  if (argc < 1 || napi_get_value_int32(env, argv[0], &err) != napi_ok) {
    napi_throw_type_error(env, NULL, "errnoMessage: errno must be a number");
    return NULL;
  }
  napi_value result;
  napi_create_string_utf8(env, strerror(err), NAPI_AUTO_LENGTH, &result);
  return result;
}

NAPI_MODULE_INIT(/* napi_env env, napi_value exports */) {
  napi_value fn;
  napi_create_function(env, "openNetlinkSocket", NAPI_AUTO_LENGTH, open_netlink_socket, NULL, &fn);
  napi_set_named_property(env, exports, "openNetlinkSocket", fn);
  napi_create_function(env, "errnoMessage", NAPI_AUTO_LENGTH, errno_message, NULL, &fn);
  napi_set_named_property(env, exports, "errnoMessage", fn);
  return exports;
}
