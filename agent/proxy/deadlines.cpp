#include "agent/proxy/deadlines.h"

namespace lb::proxy {

std::optional<common::MonoTime> sideDeadline(const SideClock& side, bool client,
                                             const RelayTimeouts& timeouts) {
  auto timeout = client ? timeouts.client : timeouts.server;
  if (timeouts.tunnel) timeout = timeouts.tunnel;
  const auto& fin = client ? timeouts.client_fin : timeouts.server_fin;
  if (fin && (side.received_fin || (timeouts.tunnel && side.sent_fin))) timeout = fin;
  if (!timeout) return std::nullopt;
  std::optional<common::MonoTime> at;
  if (side.reading && !side.sent_fin) at = side.read_since + *timeout;
  if (side.writing) {
    auto write_at = side.write_since + *timeout;
    if (!at || write_at < *at) at = write_at;
  }
  return at;
}

std::optional<RelayDeadline> relayDeadline(const RelayClocks& clocks,
                                           const RelayTimeouts& timeouts) {
  auto client = sideDeadline(clocks.client, true, timeouts);
  auto server = sideDeadline(clocks.server, false, timeouts);
  if (client && (!server || *client <= *server)) return RelayDeadline{*client, true};
  if (server) return RelayDeadline{*server, false};
  return std::nullopt;
}

}  // namespace lb::proxy
