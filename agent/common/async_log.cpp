#include "agent/common/async_log.h"

#include <poll.h>
#include <spdlog/pattern_formatter.h>
#include <unistd.h>

#include <cerrno>
#include <chrono>
#include <cstring>
#include <optional>

namespace lb::common {

namespace {

// Bytes per write(2): a pipe that polls writable takes this much without blocking (PIPE_BUF).
constexpr size_t kChunk = 4096;
// How long the writer waits for a stalled output before looking at its buffers again.
constexpr int kPollMillis = 100;
// After stop(), how long a stalled output may hold the agent's exit.
constexpr auto kStopGrace = std::chrono::seconds(2);

std::atomic<uint64_t> next_sink_id{1};

}  // namespace

// One thread's lines. The thread appends (head), the writer consumes (tail); whole lines only,
// so a full buffer drops a line, never part of one.
class AsyncLogSink::Buffer {
 public:
  explicit Buffer(size_t capacity) : data_(new char[capacity]), capacity_(capacity) {}

  bool push(std::string_view line) {
    const uint64_t head = head_.load(std::memory_order_relaxed);
    const uint64_t tail = tail_.load(std::memory_order_acquire);
    if (capacity_ - (head - tail) < line.size()) return false;
    size_t at = head % capacity_;
    size_t first = std::min(line.size(), capacity_ - at);
    std::memcpy(data_.get() + at, line.data(), first);
    std::memcpy(data_.get(), line.data() + first, line.size() - first);
    head_.store(head + line.size(), std::memory_order_seq_cst);
    return true;
  }

  // The first contiguous run of unwritten bytes (the writer's side).
  std::string_view peek() const {
    const uint64_t tail = tail_.load(std::memory_order_relaxed);
    const uint64_t head = head_.load(std::memory_order_acquire);
    size_t at = tail % capacity_;
    size_t size = std::min<uint64_t>(head - tail, capacity_ - at);
    return {data_.get() + at, size};
  }
  void consume(size_t n) {
    tail_.store(tail_.load(std::memory_order_relaxed) + n, std::memory_order_release);
  }
  bool empty() const {
    return head_.load(std::memory_order_seq_cst) == tail_.load(std::memory_order_relaxed);
  }

 private:
  std::unique_ptr<char[]> data_;
  const size_t capacity_;
  std::atomic<uint64_t> head_{0};
  std::atomic<uint64_t> tail_{0};
};

namespace {

// What one thread keeps per sink: its buffer (shared with the writer, which frees it once the
// thread is gone and it is drained), its copy of the formatter (spdlog's is not thread-safe).
struct ThreadState {
  uint64_t sink = 0;
  std::shared_ptr<void> buffer;  // AsyncLogSink::Buffer
  uint64_t formatter_version = 0;
  std::unique_ptr<spdlog::formatter> formatter;
  spdlog::memory_buf_t line;
};

thread_local std::vector<std::unique_ptr<ThreadState>> t_states;

}  // namespace

AsyncLogSink::AsyncLogSink(int fd, size_t per_thread)
    : fd_(fd),
      per_thread_(per_thread),
      id_(next_sink_id.fetch_add(1)),
      formatter_(std::make_unique<spdlog::pattern_formatter>()),
      writer_([this] { run(); }) {}

AsyncLogSink::~AsyncLogSink() {
  stop();
}

void AsyncLogSink::set_pattern(const std::string& pattern) {
  set_formatter(std::make_unique<spdlog::pattern_formatter>(pattern));
}

void AsyncLogSink::set_formatter(std::unique_ptr<spdlog::formatter> formatter) {
  std::lock_guard lock(formatter_mutex_);
  formatter_ = std::move(formatter);
  formatter_version_.fetch_add(1);
}

void AsyncLogSink::log(const spdlog::details::log_msg& msg) {
  if (!should_log(msg.level)) return;
  ThreadState* state = nullptr;
  for (auto& s : t_states) {
    if (s->sink == id_) state = s.get();
  }
  if (state == nullptr) {
    auto fresh = std::make_unique<ThreadState>();
    fresh->sink = id_;
    std::shared_ptr<void> buffer = std::make_shared<Buffer>(per_thread_);
    {
      std::lock_guard lock(buffers_mutex_);
      buffers_.push_back(buffer);
    }
    fresh->buffer = buffer;
    state = fresh.get();
    t_states.push_back(std::move(fresh));
  }
  if (stopping_.load(std::memory_order_relaxed)) {
    dropped_.fetch_add(1, std::memory_order_relaxed);
    return;
  }
  uint64_t version = formatter_version_.load(std::memory_order_acquire);
  if (!state->formatter || state->formatter_version != version) {
    std::lock_guard lock(formatter_mutex_);
    state->formatter = formatter_->clone();
    state->formatter_version = formatter_version_.load();
  }
  state->line.clear();
  state->formatter->format(msg, state->line);
  auto* buffer = static_cast<Buffer*>(state->buffer.get());
  if (!buffer->push({state->line.data(), state->line.size()})) {
    dropped_.fetch_add(1, std::memory_order_relaxed);
    return;
  }
  if (idle_.load(std::memory_order_seq_cst)) flush();
}

void AsyncLogSink::flush() {
  std::lock_guard lock(wake_mutex_);
  idle_.store(false);
  wake_.notify_one();
}

void AsyncLogSink::stop() {
  if (stopping_.exchange(true)) return;
  flush();
  if (writer_.joinable()) writer_.join();
}

void AsyncLogSink::run() {
  std::optional<std::chrono::steady_clock::time_point> stop_by;
  while (true) {
    if (stopping_.load() && !stop_by) stop_by = std::chrono::steady_clock::now() + kStopGrace;
    stop_by_ = stop_by;
    bool wrote = drain();
    reportDrops();
    if (stopping_.load() && (!wrote || std::chrono::steady_clock::now() >= *stop_by)) return;
    if (wrote) continue;
    std::unique_lock lock(wake_mutex_);
    idle_.store(true);
    bool pending = false;
    {
      std::lock_guard buffers(buffers_mutex_);
      for (const auto& b : buffers_) pending |= !static_cast<Buffer*>(b.get())->empty();
    }
    if (pending || stopping_.load()) {
      idle_.store(false);
      continue;
    }
    wake_.wait_for(lock, std::chrono::milliseconds(kPollMillis * 2),
                   [this] { return !idle_.load() || stopping_.load(); });
    idle_.store(false);
  }
}

bool AsyncLogSink::drain() {
  std::vector<std::shared_ptr<void>> buffers;
  {
    std::lock_guard lock(buffers_mutex_);
    // A buffer only the writer still holds belongs to a thread that has exited; once empty it
    // goes.
    std::erase_if(buffers_, [](const std::shared_ptr<void>& b) {
      return b.use_count() == 1 && static_cast<Buffer*>(b.get())->empty();
    });
    buffers = buffers_;
  }
  bool wrote = false;
  for (const auto& b : buffers) {
    auto* buffer = static_cast<Buffer*>(b.get());
    for (std::string_view bytes = buffer->peek(); !bytes.empty(); bytes = buffer->peek()) {
      size_t n = writeSome(bytes);
      if (n == 0) return wrote;  // the output is stalled: look again later
      buffer->consume(n);
      wrote = true;
    }
  }
  return wrote;
}

size_t AsyncLogSink::writeSome(std::string_view bytes) {
  // Wait for room without blocking forever, so that stop() is never held by a stalled reader
  // for more than its grace period.
  pollfd p{fd_, POLLOUT, 0};
  int ready;
  do {
    ready = ::poll(&p, 1, kPollMillis);
  } while (ready < 0 && errno == EINTR);
  if (ready <= 0) return 0;
  if (p.revents & (POLLERR | POLLNVAL)) {
    dropped_.fetch_add(1, std::memory_order_relaxed);
    return bytes.size();  // nobody will read it: drop what was there
  }
  ssize_t n;
  do {
    n = ::write(fd_, bytes.data(), std::min(bytes.size(), kChunk));
  } while (n < 0 && errno == EINTR);
  if (n < 0) return errno == EAGAIN ? 0 : bytes.size();  // EPIPE and others: the reader left
  return static_cast<size_t>(n);
}

void AsyncLogSink::writeLine(spdlog::level::level_enum level, const std::string& text) {
  spdlog::memory_buf_t line;
  {
    std::lock_guard lock(formatter_mutex_);
    spdlog::details::log_msg msg("", level, text);
    formatter_->format(msg, line);
  }
  std::string_view bytes(line.data(), line.size());
  while (!bytes.empty()) {
    size_t n = writeSome(bytes);
    if (n == 0 && stop_by_ && std::chrono::steady_clock::now() >= *stop_by_) return;
    bytes.remove_prefix(n);
  }
}

void AsyncLogSink::reportDrops() {
  uint64_t dropped = dropped_.load(std::memory_order_relaxed);
  if (dropped > dropped_reported_) {
    if (!dropping_) {
      dropping_ = true;
      dropping_from_ = dropped_reported_;
      writeLine(spdlog::level::warn,
                "log output is not keeping up: dropping log lines rather than slowing traffic");
    }
    dropped_reported_ = dropped;
    return;
  }
  if (dropping_) {
    bool empty = true;
    {
      std::lock_guard lock(buffers_mutex_);
      for (const auto& b : buffers_) empty &= static_cast<Buffer*>(b.get())->empty();
    }
    if (!empty) return;
    dropping_ = false;
    writeLine(spdlog::level::warn,
              "log output caught up; " + std::to_string(dropped - dropping_from_) +
                  " log lines were dropped (" + std::to_string(dropped) + " since the start)");
  }
}

}  // namespace lb::common
