// notifySocketSend(path, message): one AF_UNIX datagram, for systemd's
// sd_notify protocol. Node's net/dgram modules cannot send datagrams on a
// unix socket, and this is the only thing the agent needs that libvirt does
// not give it; what to send, when and whether is decided in TypeScript
// (src/ops/sd-notify.ts).
//
// Synchronous on purpose: a datagram to a local socket does not block for
// long (systemd's own sd_notify does the same from every service).
#include "common.h"

#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>
#include <uv.h>

#include <cerrno>
#include <cstddef>
#include <cstring>

namespace vb {

// A JS Error the way Node's own system errors look: "<syscall> <CODE>: <text>",
// with code, errno (negative, as libuv's) and syscall set.
static Napi::Error SystemError(Napi::Env env, int err, const char* syscall, const std::string& path) {
  const char* code = uv_err_name(-err);
  Napi::Error e = Napi::Error::New(env, std::string(syscall) + " " + code + ": " + strerror(err) + " (" + path + ")");
  e.Set("code", Napi::String::New(env, code));
  e.Set("errno", Napi::Number::New(env, -err));
  e.Set("syscall", Napi::String::New(env, syscall));
  e.Set("address", Napi::String::New(env, path));
  return e;
}

// A path starting with '@' names Linux's abstract namespace: the '@' stands
// for the leading NUL byte and the address has no terminating NUL.
static Napi::Value NotifySocketSend(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  std::string path = ArgString(info, 0);
  std::string message = ArgString(info, 1);

  sockaddr_un addr;
  memset(&addr, 0, sizeof(addr));
  addr.sun_family = AF_UNIX;
  const bool abstract = !path.empty() && path[0] == '@';
  // A filesystem path needs its terminating NUL inside sun_path.
  const size_t max = abstract ? sizeof(addr.sun_path) : sizeof(addr.sun_path) - 1;
  if (path.empty()) throw Napi::TypeError::New(env, "argument 0 must be a socket path");
  if (abstract && path.size() < 2) throw Napi::TypeError::New(env, "argument 0 must name an abstract socket after '@'");
  if (path.size() > max) throw Napi::TypeError::New(env, "argument 0 is longer than a unix socket address allows");
  if (path.find('\0') != std::string::npos) throw Napi::TypeError::New(env, "argument 0 must not contain NUL");
  memcpy(addr.sun_path, path.data(), path.size());
  if (abstract) addr.sun_path[0] = '\0';
  const socklen_t len = static_cast<socklen_t>(offsetof(sockaddr_un, sun_path) + path.size() + (abstract ? 0 : 1));

  int fd = socket(AF_UNIX, SOCK_DGRAM | SOCK_CLOEXEC, 0);
  if (fd < 0) throw SystemError(env, errno, "socket", path);
  ssize_t n;
  do {
    n = sendto(fd, message.data(), message.size(), MSG_NOSIGNAL, reinterpret_cast<sockaddr*>(&addr), len);
  } while (n < 0 && errno == EINTR);
  int err = errno;
  close(fd);
  if (n < 0) throw SystemError(env, err, "sendto", path);
  if (static_cast<size_t>(n) != message.size()) throw SystemError(env, EMSGSIZE, "sendto", path);
  return env.Undefined();
}

void InitNotify(Napi::Env env, Napi::Object exports) { VB_EXPORT(exports, "notifySocketSend", NotifySocketSend); }

}  // namespace vb
