#pragma once
// Internal to Session: what a connection on a frontend with rules carries besides the basics.

#include <chrono>
#include <optional>
#include <string>

#include "agent/proxy/session.h"
#include "agent/rules/fetch.h"

namespace lb::proxy {

struct Session::RuleState {
  // Where the rules are: connection/session done, the frontend's content rules, the
  // backend's content rules, done.
  enum class Stage : uint8_t { kFrontend, kBackend, kDone };
  Stage stage = Stage::kFrontend;
  size_t next_rule = 0;      // the content rule to resume at after waiting
  bool session_ran = false;  // `tcp-request session` rules ran
  std::string payload;       // the client's first bytes, peeked (still in the socket)
  bool client_closed = false;
  Clock::time_point inspect_started{};
  Clock::time_point inspect_until{};
  rules::Tracked tracked;
  // What the client connected to (getsockname once per connection, or the PROXY header's).
  std::optional<boost::asio::ip::tcp::endpoint> destination;
};

}  // namespace lb::proxy
