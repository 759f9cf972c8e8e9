#include "agent/common/simulated_time.h"

namespace lb::common {

class SimulatedTimeSource::SimTimer final : public Timer {
 public:
  explicit SimTimer(std::weak_ptr<SimulatedTimeSource*> source) : source_(std::move(source)) {}
  ~SimTimer() override { cancel(); }

  void armAt(MonoTime when, std::function<void()> callback) override {
    auto source = source_.lock();
    if (!source) return;
    cancel();
    callback_ = std::move(callback);
    key_ = (*source)->add(this, when);
  }

  void armAfter(std::chrono::nanoseconds delay, std::function<void()> callback) override {
    auto source = source_.lock();
    if (!source) return;
    armAt((*source)->now() + delay, std::move(callback));
  }

  void cancel() override {
    if (!key_) return;
    if (auto source = source_.lock()) (*source)->remove(*key_);
    key_.reset();
    callback_ = nullptr;
  }

  bool armed() const override { return key_.has_value(); }
  MonoTime expiry() const override { return key_ ? key_->first : MonoTime{}; }

  // Called by the source once the timer left its queue.
  void fire() {
    key_.reset();
    auto callback = std::move(callback_);
    callback();  // may destroy or re-arm this timer
  }

 private:
  std::weak_ptr<SimulatedTimeSource*> source_;
  std::function<void()> callback_;
  std::optional<Key> key_;
};

SimulatedTimeSource::SimulatedTimeSource()
    // Far from the steady clock's epoch, so that "now - something" never underflows in code
    // that subtracts intervals; the wall clock starts at the real time.
    : start_(MonoTime{} + std::chrono::hours(1000)),
      now_(start_),
      wall_start_(std::chrono::system_clock::now()),
      self_(std::make_shared<SimulatedTimeSource*>(this)) {}

SimulatedTimeSource::~SimulatedTimeSource() = default;

std::unique_ptr<Timer> SimulatedTimeSource::makeTimer() {
  return std::make_unique<SimTimer>(self_);
}

SimulatedTimeSource::Key SimulatedTimeSource::add(SimTimer* timer, MonoTime when) {
  Key key{when, next_order_++};
  queue_.emplace(key, timer);
  return key;
}

void SimulatedTimeSource::remove(const Key& key) {
  queue_.erase(key);
}

std::optional<MonoTime> SimulatedTimeSource::nextExpiry() const {
  if (queue_.empty()) return std::nullopt;
  return queue_.begin()->first.first;
}

size_t SimulatedTimeSource::advance(std::chrono::nanoseconds delay) {
  const MonoTime until = now_ + delay;
  size_t ran = 0;
  while (!queue_.empty() && queue_.begin()->first.first <= until) {
    auto it = queue_.begin();
    SimTimer* timer = it->second;
    if (it->first.first > now_) now_ = it->first.first;
    queue_.erase(it);
    timer->fire();
    ++ran;
    if (after_each_) after_each_();
  }
  if (until > now_) now_ = until;
  return ran;
}

bool SimulatedTimeSource::step(std::chrono::nanoseconds limit) {
  auto next = nextExpiry();
  if (!next || *next > now_ + limit) return false;
  advance(*next - now_);
  return true;
}

bool SimulatedTimeSource::advanceUntil(const std::function<bool()>& done,
                                       std::chrono::nanoseconds limit) {
  const MonoTime until = now_ + limit;
  while (!done()) {
    auto next = nextExpiry();
    if (!next || *next > until) {
      advance(until - now_);
      return done();
    }
    advance(*next - now_);
  }
  return true;
}

}  // namespace lb::common
