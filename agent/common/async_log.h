#pragma once

#include <spdlog/sinks/sink.h>

#include <atomic>
#include <chrono>
#include <condition_variable>
#include <cstdint>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <string_view>
#include <thread>
#include <vector>

namespace lb::common {

// A log output that never blocks the thread that logs (HAProxy drops log lines rather than
// stall traffic). Each thread that logs appends formatted lines to a bounded buffer of its own,
// without a lock; one writer thread drains the buffers to the file descriptor and is the only
// one that may block on it (a stalled journald, a container log driver, a full pipe). A line
// that does not fit is dropped and counted; the writer says when dropping starts and when the
// output has caught up, with the count.
//
// It is an spdlog sink, so every log call of the agent (data plane, control thread, gRPC
// threads) goes through it with spdlog's pattern, in the order each thread logged.
//
// Threads: log() from any thread; flush() and stop() from the owner's.
class AsyncLogSink : public spdlog::sinks::sink {
 public:
  // Writes to `fd` (not closed here); `per_thread` bytes are buffered per logging thread.
  explicit AsyncLogSink(int fd, size_t per_thread = 256 * 1024);
  ~AsyncLogSink() override;

  void log(const spdlog::details::log_msg& msg) override;
  // Wakes the writer; never waits for it.
  void flush() override;
  void set_pattern(const std::string& pattern) override;
  void set_formatter(std::unique_ptr<spdlog::formatter> formatter) override;

  // Lines dropped because their thread's buffer was full, since the start.
  uint64_t dropped() const { return dropped_.load(std::memory_order_relaxed); }
  // Writes what is buffered (waiting at most a couple of seconds for a stalled output) and
  // stops the writer thread. Log calls after it are dropped.
  void stop();

 private:
  class Buffer;  // one thread's lines: a single-producer, single-consumer byte ring

  void run();
  // Writes what every buffer holds; false when nothing was written (nothing there, or the
  // output is stalled).
  bool drain();
  // One write(2) of at most a pipe's atomic size, once the fd polls writable (within 100 ms);
  // returns the bytes taken, 0 when the output is stalled.
  size_t writeSome(std::string_view bytes);
  // A line of the writer's own (the drop warnings), in the sink's pattern.
  void writeLine(spdlog::level::level_enum level, const std::string& text);
  void reportDrops();

  const int fd_;
  const size_t per_thread_;
  const uint64_t id_;  // tells this sink's thread-local state from another's
  std::mutex formatter_mutex_;
  std::unique_ptr<spdlog::formatter> formatter_;
  std::atomic<uint64_t> formatter_version_{0};

  std::mutex buffers_mutex_;  // adding a thread's buffer; the writer's list of them
  std::vector<std::shared_ptr<void>> buffers_;

  std::mutex wake_mutex_;
  std::condition_variable wake_;
  std::atomic<bool> idle_{false};  // the writer sleeps: a producer must wake it
  std::atomic<bool> stopping_{false};
  std::atomic<uint64_t> dropped_{0};
  // The writer's own.
  std::optional<std::chrono::steady_clock::time_point> stop_by_;
  uint64_t dropped_reported_ = 0;
  uint64_t dropping_from_ = 0;
  bool dropping_ = false;
  std::thread writer_;
};

}  // namespace lb::common
