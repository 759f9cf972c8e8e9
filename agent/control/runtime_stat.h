#pragma once
// The Runtime API's long answers in HAProxy 2.6's exact formats: `show info` (Key: value
// lines), `show stat` (the 128-column CSV, every row ending in ','), `show servers state`
// (format 1). Columns lb has no value for are empty, as HAProxy leaves them for a TCP proxy.

#include <chrono>
#include <string>
#include <vector>

#include "agent/control/control_plane.h"
#include "agent/control/status.h"

namespace lb::control {

std::string formatShowInfo(ControlPlane& control, const AgentIdentity& identity);
// `words` is the whole command: "show stat [<iid>|<proxy> <type> <sid>]".
std::string formatShowStat(ControlPlane& control, const AgentIdentity& identity,
                           const std::vector<std::string>& words);
// All backends, or `backend` ("Can't find backend." when there is no such one).
std::string formatServersState(ControlPlane& control, const std::string& backend);

// "04/Dec/2026:22:26:25.649", HAProxy's date in the CLI and logs.
std::string cliDate(std::chrono::system_clock::time_point when);
std::chrono::system_clock::time_point eventTime(const lb::v1::Event& event);

}  // namespace lb::control
