#pragma once

#include <optional>
#include <string>

#include "lb/v1/state.pb.h"

namespace lb::control {

// The agent's persisted state under --state-dir: one file, `state.pb`, written atomically (a
// temporary file, fsync, rename over the old one, fsync of the directory), so that a crash at
// any moment leaves either the old state or the new one, never a mix.
//
// Threads: the control thread.
class StateFile {
 public:
  explicit StateFile(std::string dir);

  const std::string& path() const { return path_; }
  // The state, or nullopt: none yet (no error), or unreadable (*error says why and where).
  std::optional<lb::v1::PersistedState> load(std::string* error) const;
  // Replaces the state; false with *error when it could not be written (the old one stays).
  bool save(const lb::v1::PersistedState& state, std::string* error) const;

 private:
  std::string dir_;
  std::string path_;
};

}  // namespace lb::control
