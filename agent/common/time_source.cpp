#include "agent/common/time_source.h"

namespace lb::common {

namespace {

// An Asio steady_timer with Timer's contract. Asio runs a handler whose wait was cancelled after
// it had already expired with a success code, so a generation number tells a live wait from a
// stale one; a token the handler holds weakly tells whether the timer still exists at all.
class AsioTimer final : public Timer {
 public:
  explicit AsioTimer(boost::asio::io_context& io) : timer_(io) {}
  ~AsioTimer() override { timer_.cancel(); }

  void armAt(MonoTime when, std::function<void()> callback) override {
    ++generation_;
    armed_ = true;
    callback_ = std::move(callback);
    timer_.expires_at(when);
    timer_.async_wait([this, alive = std::weak_ptr<char>(alive_),
                       generation = generation_](const boost::system::error_code&) {
      if (alive.expired() || generation != generation_ || !armed_) return;
      armed_ = false;
      auto callback = std::move(callback_);
      callback();  // may destroy or re-arm this timer: nothing of `this` is used after
    });
  }

  void armAfter(std::chrono::nanoseconds delay, std::function<void()> callback) override {
    armAt(std::chrono::steady_clock::now() + delay, std::move(callback));
  }

  void cancel() override {
    if (!armed_) return;
    armed_ = false;
    ++generation_;
    callback_ = nullptr;
    timer_.cancel();
  }

  bool armed() const override { return armed_; }
  MonoTime expiry() const override { return armed_ ? timer_.expiry() : MonoTime{}; }

 private:
  boost::asio::steady_timer timer_;
  std::shared_ptr<char> alive_ = std::make_shared<char>();
  std::function<void()> callback_;
  uint64_t generation_ = 0;
  bool armed_ = false;
};

}  // namespace

std::unique_ptr<Timer> AsioTimeSource::makeTimer() {
  return std::make_unique<AsioTimer>(io_);
}

}  // namespace lb::common
