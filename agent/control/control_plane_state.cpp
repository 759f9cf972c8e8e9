// The control plane's state directory: what an acknowledged change leaves on disk, and what
// a restart brings back from it.
#include <spdlog/spdlog.h>

#include "agent/common/proto_time.h"
#include "agent/control/control_plane.h"
#include "agent/control/status.h"

namespace lb::control {

namespace {

// Event sequence numbers reserved ahead on disk: a restarted agent starts above the last
// reservation, so sequences never repeat, at one state write per this many events.
constexpr uint64_t kSequenceBlock = 10000;

}  // namespace

bool ControlPlane::useStateDir(const std::string& dir, std::string* error) {
  state_file_ = std::make_unique<StateFile>(dir);
  persisted_ = state_file_->load(error);
  if (!error->empty()) return false;
  if (persisted_) {
    // The configuration the previous run had is the one an apply is compared with: the same
    // again keeps its version.
    applied_.config = persisted_->config();
    applied_.version = persisted_->version();
    events_.startAt(persisted_->event_sequence_reserved());
    draining_ = persisted_->draining();
    for (const auto& s : persisted_->servers()) {
      ServerChange change;
      change.admin = fromProto(s.admin_state());
      if (s.has_weight()) change.weight = s.weight();
      server_changes_[{s.backend(), s.server()}] = change;
    }
  }
  sequences_reserved_ = events_.lastSequence() + 1;
  events_.setReservation(sequences_reserved_,
                         [this](uint64_t next) { return reserveSequences(next); });
  return true;
}

uint64_t ControlPlane::reserveSequences(uint64_t next) {
  sequences_reserved_ = next + kSequenceBlock;
  std::string error;
  if (!persist(&error)) spdlog::warn("cannot save the event sequence reservation: {}", error);
  return sequences_reserved_;
}

void ControlPlane::restoreServerChanges() {
  auto changes = server_changes_;
  for (const auto& [key, change] : changes) {
    auto result = changeServer(key.first, key.second, change);
    if (result.code != ServerChangeResult::Code::kOk) server_changes_.erase(key);
  }
}

bool ControlPlane::setDraining(bool draining, const std::string& origin) {
  if (draining == draining_) return false;
  draining_ = draining;
  std::string error;
  if (!persist(&error)) {
    spdlog::warn("drain switch turned but not saved: {}; a restart would undo it", error);
  }
  lb::v1::Event event;
  event.set_type(lb::v1::Event::AGENT_DRAIN);
  event.set_config_version(applied_.version);
  event.set_origin(origin);
  event.set_old_state(draining ? "ready" : "draining");
  event.set_new_state(draining ? "draining" : "ready");
  event.set_message(std::string(draining ? "agent draining: tier health answers 503, traffic "
                                           "still served"
                                         : "agent ready: tier health answers again") +
                    (origin.empty() ? "" : " (" + origin + ")"));
  events_.publish(std::move(event));
  return true;
}

bool ControlPlane::persist(std::string* error) {
  if (!state_file_) return true;
  lb::v1::PersistedState state;
  state.set_version(applied_.version);
  *state.mutable_config() = applied_.config;
  for (const auto& text : applied_.texts) {
    auto* source = state.mutable_sources()->add_files();
    source->set_name(text.name);
    source->set_format(config::formatName(text.format));
    source->set_content(text.text);
  }
  *state.mutable_applied_at() = common::toProto(applied_.at);
  state.set_applied_by(applied_.by);
  for (const auto& [key, change] : server_changes_) {
    auto* server = state.add_servers();
    server->set_backend(key.first);
    server->set_server(key.second);
    if (change.admin) server->set_admin_state(toProto(*change.admin));
    if (change.weight) server->set_weight(*change.weight);
  }
  state.set_event_sequence_reserved(sequences_reserved_);
  state.set_draining(draining_);
  return state_file_->save(state, error);
}

}  // namespace lb::control
