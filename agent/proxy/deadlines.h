#pragma once

#include <chrono>
#include <optional>

#include "agent/common/time_source.h"

namespace lb::proxy {

using Millis = std::chrono::milliseconds;

// What the relay knows of one side of an established session, for its inactivity deadline.
struct SideClock {
  bool sent_fin = false;      // its FIN was read (nothing more is expected from it)
  bool received_fin = false;  // the other side's FIN was passed on to it
  // We are reading from it: it has not sent its FIN, and the other side has taken everything
  // read so far (a side whose bytes we do not read because its peer is full is not idle).
  bool reading = false;
  bool writing = false;            // bytes wait for it to take them
  common::MonoTime read_since{};   // last read from it, a write to it, or when reading resumed
  common::MonoTime write_since{};  // last write progress to it, or when the write began waiting
};

struct RelayClocks {
  SideClock client;
  SideClock server;
};

// The timeouts of an established session.
struct RelayTimeouts {
  std::optional<Millis> client;      // timeout client
  std::optional<Millis> server;      // timeout server
  std::optional<Millis> client_fin;  // timeout client-fin
  std::optional<Millis> server_fin;  // timeout server-fin
  std::optional<Millis> tunnel;      // timeout tunnel: replaces client and server
};

struct RelayDeadline {
  common::MonoTime at;
  bool client = false;  // whose timeout it is (the termination code's 'c' or 's')
};

// HAProxy's inactivity rules for an established TCP session, per side: its timeout (`timeout
// tunnel` replaces client and server) runs from the last read while we are reading from it,
// and from the last write progress while bytes wait for it. Once the other side's FIN was
// passed on to it, `client-fin` / `server-fin` replaces it (with `timeout tunnel`, also once it
// sent its own FIN). The earlier side's deadline wins; nullopt when no clock runs.
std::optional<RelayDeadline> relayDeadline(const RelayClocks& clocks,
                                           const RelayTimeouts& timeouts);

// The side's own deadline under those rules (nullopt: none runs).
std::optional<common::MonoTime> sideDeadline(const SideClock& side, bool client,
                                             const RelayTimeouts& timeouts);

}  // namespace lb::proxy
