#pragma once

#include <fcntl.h>
#include <unistd.h>

#include <cstddef>
#include <vector>

namespace lb::proxy {

// The two ends of a kernel pipe, which carries a direction's bytes from one socket to the other
// with splice(2), without copying them through user space.
struct Pipe {
  int read_end = -1;
  int write_end = -1;
  bool valid() const { return read_end >= 0; }
};

// Pipes of one worker. Like relay buffers, a direction holds one only while bytes are in
// flight; an empty pipe holds no memory, only two descriptors, so a few are kept for reuse.
//
// Threads: one worker's thread only.
class PipePool {
 public:
  ~PipePool() {
    for (const Pipe& pipe : free_) close(pipe);
  }

  // An empty pipe, or an invalid one when the kernel refuses (descriptors exhausted): the
  // caller then copies through a buffer instead.
  Pipe acquire() {
    if (!free_.empty()) {
      Pipe pipe = free_.back();
      free_.pop_back();
      return pipe;
    }
    int fds[2];
    if (::pipe2(fds, O_NONBLOCK | O_CLOEXEC) != 0) return {};  // the caller copies instead
    return {fds[0], fds[1]};
  }

  // Closes the spare pipes: the process is short of descriptors, and connections need them
  // more (each spare pipe holds two).
  void shrink() {
    for (const Pipe& pipe : free_) close(pipe);
    free_.clear();
  }
  size_t spare() const { return free_.size(); }

  // Gives back a pipe; `empty` says whether every byte put in was taken out. A pipe that still
  // holds bytes (its session failed halfway) is closed: they belong to nobody else.
  void release(Pipe& pipe, bool empty) {
    if (!pipe.valid()) return;
    if (empty && free_.size() < kMaxFree) {
      free_.push_back(pipe);
    } else {
      close(pipe);
    }
    pipe = {};
  }

 private:
  static constexpr size_t kMaxFree = 64;

  static void close(const Pipe& pipe) {
    ::close(pipe.read_end);
    ::close(pipe.write_end);
  }

  std::vector<Pipe> free_;
};

}  // namespace lb::proxy
