// libvirt's event loop, our own (virEventRegisterImpl), on epoll.
//
// libvirt's default loop (virEventRegisterDefaultImpl) polls a set it builds
// each round, so every change to a watch or a timer from another thread
// interrupts it: a write to its pipe, its thread woken, the set rebuilt. A
// remote call does that three times or more — the client takes the socket
// out of the loop and puts it back around its own I/O, and keepalive
// reschedules its timer on every message received — which made each libvirt
// RPC of the agent ~40 % dearer than the RPC itself (bench/RESULTS.md,
// eighth session). Here:
// - a watch's change is an epoll_ctl, which a thread waiting in epoll_wait
//   sees at once: no wake-up;
// - a timer wakes the loop only when it is due before the loop would wake
//   anyway (a later deadline, keepalive's case, waits for that wake-up);
// - removals wake it, to run the free callbacks soon, on this thread, never
//   while the watch's or timer's callback may run.
// Same contract as the default loop: level-triggered, callbacks called on
// the loop's thread without its lock (they may add, change and remove), a
// disabled watch (events 0) not watched at all, a timer of frequency 0 due
// on every round, -1 disabled.
// No N-API here: libvirt and the kernel only (events.cc starts it).
#include <libvirt/libvirt.h>

#include <pthread.h>
#include <sys/epoll.h>
#include <sys/eventfd.h>
#include <time.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <climits>
#include <cstdint>
#include <map>
#include <mutex>
#include <thread>
#include <unordered_map>
#include <vector>

namespace vb {

namespace {

struct Watch {
  int fd;
  int events;  // VIR_EVENT_HANDLE_*; 0: not watched
  virEventHandleCallback cb;
  void* opaque;
  virFreeCallback ff;
  bool removed = false;
};

struct Timer {
  int frequency;  // ms; -1 disabled, 0 due on every round
  int64_t expiresAt;
  virEventTimeoutCallback cb;
  void* opaque;
  virFreeCallback ff;
  bool removed = false;
};

constexpr int64_t kNever = INT64_MAX;

int64_t NowMs() {
  timespec ts;
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return static_cast<int64_t>(ts.tv_sec) * 1000 + ts.tv_nsec / 1000000;
}

// When a timer of this frequency is next due, counted from now.
int64_t Deadline(int64_t now, int frequency) { return frequency >= 0 ? now + frequency : kNever; }

uint32_t ToEpoll(int events) {
  uint32_t e = 0;
  if (events & VIR_EVENT_HANDLE_READABLE) e |= EPOLLIN;
  if (events & VIR_EVENT_HANDLE_WRITABLE) e |= EPOLLOUT;
  return e;  // EPOLLERR and EPOLLHUP come unasked
}

int FromEpoll(uint32_t e) {
  int events = 0;
  if (e & EPOLLIN) events |= VIR_EVENT_HANDLE_READABLE;
  if (e & EPOLLOUT) events |= VIR_EVENT_HANDLE_WRITABLE;
  if (e & EPOLLERR) events |= VIR_EVENT_HANDLE_ERROR;
  if (e & EPOLLHUP) events |= VIR_EVENT_HANDLE_HANGUP;
  return events;
}

class Loop {
 public:
  bool Start() {
    epfd_ = epoll_create1(EPOLL_CLOEXEC);
    wakefd_ = eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK);
    if (epfd_ < 0 || wakefd_ < 0) return false;
    epoll_event ev{};
    ev.events = EPOLLIN;
    ev.data.fd = wakefd_;
    if (epoll_ctl(epfd_, EPOLL_CTL_ADD, wakefd_, &ev) < 0) return false;
    std::thread([this] { Run(); }).detach();  // for the life of the process, as libvirt's own
    return true;
  }

  int AddHandle(int fd, int events, virEventHandleCallback cb, void* opaque, virFreeCallback ff) {
    std::lock_guard<std::mutex> lock(mu_);
    int id = nextWatch_++;
    watches_[id] = Watch{fd, events, cb, opaque, ff};
    byFd_[fd].push_back(id);
    if (!SyncFdLocked(fd)) {
      Forget(id);
      return -1;
    }
    return id;
  }

  void UpdateHandle(int id, int events) {
    std::lock_guard<std::mutex> lock(mu_);
    auto it = watches_.find(id);
    if (it == watches_.end() || it->second.removed || it->second.events == events) return;
    it->second.events = events;
    SyncFdLocked(it->second.fd);
  }

  int RemoveHandle(int id) {
    {
      std::lock_guard<std::mutex> lock(mu_);
      auto it = watches_.find(id);
      if (it == watches_.end() || it->second.removed) return -1;
      it->second.removed = true;
      it->second.events = 0;
      SyncFdLocked(it->second.fd);
      garbage_ = true;
    }
    Wake();
    return 0;
  }

  int AddTimeout(int frequency, virEventTimeoutCallback cb, void* opaque, virFreeCallback ff) {
    bool wake;
    int id;
    {
      std::lock_guard<std::mutex> lock(mu_);
      id = nextTimer_++;
      int64_t at = Deadline(NowMs(), frequency);
      timers_[id] = Timer{frequency, at, cb, opaque, ff};
      wake = at < sleepsUntil_;
    }
    if (wake) Wake();
    return id;
  }

  void UpdateTimeout(int id, int frequency) {
    bool wake;
    {
      std::lock_guard<std::mutex> lock(mu_);
      auto it = timers_.find(id);
      if (it == timers_.end() || it->second.removed) return;
      it->second.frequency = frequency;
      it->second.expiresAt = Deadline(NowMs(), frequency);
      wake = it->second.expiresAt < sleepsUntil_;
    }
    if (wake) Wake();
  }

  int RemoveTimeout(int id) {
    {
      std::lock_guard<std::mutex> lock(mu_);
      auto it = timers_.find(id);
      if (it == timers_.end() || it->second.removed) return -1;
      it->second.removed = true;
      garbage_ = true;
    }
    Wake();
    return 0;
  }

 private:
  // Brings the epoll set in line with the fd's watches: the union of their
  // events, or out of the set when none wants any (epoll would still report
  // a hang-up of a disabled watch, on every round). mu_ held.
  bool SyncFdLocked(int fd) {
    int events = 0;
    for (int id : byFd_[fd]) {
      const Watch& w = watches_[id];
      if (!w.removed) events |= w.events;
    }
    uint32_t want = ToEpoll(events);
    auto reg = registered_.find(fd);
    bool in = reg != registered_.end();
    if (in && reg->second == want) return true;
    if (want == 0) {
      if (in) {
        // EBADF/ENOENT: closed already, which took it out of the set
        epoll_ctl(epfd_, EPOLL_CTL_DEL, fd, nullptr);
        registered_.erase(reg);
      }
      return true;
    }
    epoll_event ev{};
    ev.events = want;
    ev.data.fd = fd;
    int rc = epoll_ctl(epfd_, in ? EPOLL_CTL_MOD : EPOLL_CTL_ADD, fd, &ev);
    if (rc < 0 && in && errno == ENOENT) rc = epoll_ctl(epfd_, EPOLL_CTL_ADD, fd, &ev);  // closed and reused
    if (rc < 0 && !in && errno == EEXIST) rc = epoll_ctl(epfd_, EPOLL_CTL_MOD, fd, &ev);
    if (rc < 0) {
      if (in) registered_.erase(reg);
      return false;
    }
    registered_[fd] = want;
    return true;
  }

  // Drops a watch from the tables. mu_ held.
  void Forget(int id) {
    int fd = watches_[id].fd;
    auto& ids = byFd_[fd];
    for (auto i = ids.begin(); i != ids.end(); ++i)
      if (*i == id) {
        ids.erase(i);
        break;
      }
    if (ids.empty()) byFd_.erase(fd);
    watches_.erase(id);
  }

  void Wake() {
    uint64_t one = 1;
    ssize_t n = write(wakefd_, &one, sizeof one);
    (void)n;  // EAGAIN: the counter is full, so a wake-up is pending already
  }

  // Removed watches and timers out of the tables; their free callbacks to
  // run once the lock is released. mu_ held, loop thread, no callback running.
  void CollectLocked(std::vector<std::pair<virFreeCallback, void*>>& frees) {
    if (!garbage_) return;
    garbage_ = false;
    std::vector<int> gone;
    for (auto& [id, w] : watches_)
      if (w.removed) gone.push_back(id);
    for (int id : gone) {
      // out of the epoll set already: RemoveHandle synced its fd
      if (watches_[id].ff) frees.emplace_back(watches_[id].ff, watches_[id].opaque);
      Forget(id);
    }
    for (auto it = timers_.begin(); it != timers_.end();) {
      if (it->second.removed) {
        if (it->second.ff) frees.emplace_back(it->second.ff, it->second.opaque);
        it = timers_.erase(it);
      } else {
        ++it;
      }
    }
  }

  void Run() {
    // its name in top -H and /proc/PID/task/*/comm (test/libvirt/event-loop.test.ts finds it by it)
    pthread_setname_np(pthread_self(), "virtbus-events");
    std::vector<epoll_event> ready(64);
    std::vector<std::pair<virFreeCallback, void*>> frees;
    struct Due {
      int id;
      int fd;
      int events;
    };
    std::vector<Due> handles;
    std::vector<int> due;
    for (;;) {
      int timeout;
      {
        std::lock_guard<std::mutex> lock(mu_);
        CollectLocked(frees);
        int64_t next = kNever;
        for (auto& [id, t] : timers_)
          if (!t.removed && t.frequency >= 0 && t.expiresAt < next) next = t.expiresAt;
        int64_t now = NowMs();
        timeout = next == kNever ? -1 : next <= now ? 0 : static_cast<int>(std::min<int64_t>(next - now, INT_MAX));
        sleepsUntil_ = next;
      }
      for (auto& [ff, opaque] : frees) ff(opaque);
      frees.clear();

      int n = epoll_wait(epfd_, ready.data(), static_cast<int>(ready.size()), timeout);
      if (n < 0 && errno != EINTR) n = 0;

      {
        std::lock_guard<std::mutex> lock(mu_);
        sleepsUntil_ = INT64_MIN;  // awake: the next round sees every change
        int64_t now = NowMs();
        for (auto& [id, t] : timers_)
          if (!t.removed && t.frequency >= 0 && t.expiresAt <= now) {
            t.expiresAt = Deadline(now, t.frequency);
            due.push_back(id);
          }
        for (int i = 0; i < n; i++) {
          int fd = ready[i].data.fd;
          if (fd == wakefd_) {
            uint64_t count;
            ssize_t r = read(wakefd_, &count, sizeof count);
            (void)r;
            continue;
          }
          auto ids = byFd_.find(fd);
          if (ids == byFd_.end()) continue;
          int events = FromEpoll(ready[i].events);
          for (int id : ids->second) handles.push_back({id, fd, events});
        }
      }

      // Each callback only if still there (and, for a watch, still wanting
      // what happened) when its turn comes: an earlier one may have changed it.
      for (int id : due) {
        virEventTimeoutCallback cb = nullptr;
        void* opaque = nullptr;
        {
          std::lock_guard<std::mutex> lock(mu_);
          auto it = timers_.find(id);
          if (it != timers_.end() && !it->second.removed && it->second.frequency >= 0) {
            cb = it->second.cb;
            opaque = it->second.opaque;
          }
        }
        if (cb) cb(id, opaque);
      }
      due.clear();
      for (const Due& h : handles) {
        virEventHandleCallback cb = nullptr;
        void* opaque = nullptr;
        int events = 0;
        {
          std::lock_guard<std::mutex> lock(mu_);
          auto it = watches_.find(h.id);
          if (it != watches_.end() && !it->second.removed && it->second.events != 0) {
            events = h.events & (it->second.events | VIR_EVENT_HANDLE_ERROR | VIR_EVENT_HANDLE_HANGUP);
            cb = it->second.cb;
            opaque = it->second.opaque;
          }
        }
        if (cb && events) cb(h.id, h.fd, events, opaque);
      }
      handles.clear();
    }
  }

  std::mutex mu_;
  int epfd_ = -1;
  int wakefd_ = -1;
  std::unordered_map<int, Watch> watches_;
  std::unordered_map<int, std::vector<int>> byFd_;
  std::unordered_map<int, uint32_t> registered_;  // fd -> the events epoll watches
  std::map<int, Timer> timers_;
  int nextWatch_ = 1;
  int nextTimer_ = 1;
  int64_t sleepsUntil_ = INT64_MIN;  // the deadline the loop sleeps to; INT64_MIN while awake
  bool garbage_ = false;
};

Loop* loop = new Loop();  // never destroyed: its detached thread uses it

int AddHandle(int fd, int events, virEventHandleCallback cb, void* opaque, virFreeCallback ff) {
  return loop->AddHandle(fd, events, cb, opaque, ff);
}
void UpdateHandle(int watch, int events) { loop->UpdateHandle(watch, events); }
int RemoveHandle(int watch) { return loop->RemoveHandle(watch); }
int AddTimeout(int frequency, virEventTimeoutCallback cb, void* opaque, virFreeCallback ff) {
  return loop->AddTimeout(frequency, cb, opaque, ff);
}
void UpdateTimeout(int timer, int frequency) { loop->UpdateTimeout(timer, frequency); }
int RemoveTimeout(int timer) { return loop->RemoveTimeout(timer); }

}  // namespace

bool StartEventLoop() {
  if (!loop->Start()) return false;
  virEventRegisterImpl(AddHandle, UpdateHandle, RemoveHandle, AddTimeout, UpdateTimeout, RemoveTimeout);
  return true;
}

}  // namespace vb
