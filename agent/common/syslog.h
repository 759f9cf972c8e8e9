#pragma once

#include <sys/socket.h>

#include <atomic>
#include <boost/asio/ip/address.hpp>
#include <chrono>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace lb::common {

enum class SyslogFormat { kRfc3164, kRfc5424, kRaw, kShort };

// One `log` target, ready to be opened.
struct SyslogTargetSpec {
  // "/dev/log" / "unix@PATH": a local datagram socket; "stdout" / "stderr": lb's own log
  // output; else a UDP address (resolved: `udp_address` and `udp_port`).
  std::string address;
  std::optional<boost::asio::ip::address> udp_address;
  uint16_t udp_port = 514;
  int facility = 16;  // local0
  int max_level = 7;  // lines less important than this are not sent
  int min_level = 0;  // lines more important than this are sent at this level
  SyslogFormat format = SyslogFormat::kRfc3164;
  size_t max_length = 1024;
  std::string tag = "haproxy";
  std::string hostname;  // RFC 3164: empty, no host name (HAProxy's default)
};

// What a `log` address is: lb's own output ("stdout", "stderr"), a local datagram socket
// ("/dev/log", "unix@PATH"), or a UDP destination ("udp@HOST[:PORT]", "ipv4@...",
// "HOST[:PORT]", "[V6]:PORT"; port 514 by default) whose host and port are set. False with
// *error for anything else.
enum class SyslogKind { kOutput, kLocal, kUdp };
bool parseSyslogAddress(const std::string& address, SyslogKind* kind, std::string* host,
                        uint16_t* port, std::string* error);

// Facility and level names as syslog(3) and HAProxy spell them; -1 when unknown.
int syslogFacility(std::string_view name);
int syslogLevel(std::string_view name);
// All of them, for messages that suggest one.
std::vector<std::string> syslogFacilityNames();
std::vector<std::string> syslogLevelNames();

// Sends log lines to one target and never waits: one datagram per line, sent with
// MSG_DONTWAIT; a line that cannot leave at once (a full socket buffer, no receiver, a
// network error) is dropped and counted in syslogDropped(). Lines for stdout/stderr go to lb's
// own (non-blocking) log output.
//
// Threads: send() from any thread (one sendto(2) per line).
class SyslogTarget {
 public:
  static std::unique_ptr<SyslogTarget> open(const SyslogTargetSpec& spec, std::string* error);
  ~SyslogTarget();
  SyslogTarget(const SyslogTarget&) = delete;
  SyslogTarget& operator=(const SyslogTarget&) = delete;

  // `severity` 0 (emerg) .. 7 (debug); tcplog lines are info (6).
  void send(int severity, std::string_view message, std::chrono::system_clock::time_point when);
  // The datagram for a line, as it would be sent (tests).
  std::string format(int severity, std::string_view message,
                     std::chrono::system_clock::time_point when) const;

 private:
  explicit SyslogTarget(SyslogTargetSpec spec) : spec_(std::move(spec)) {}

  SyslogTargetSpec spec_;
  int fd_ = -1;               // -1 for stdout/stderr
  std::string rfc5424_host_;  // the host name RFC 5424 lines carry, found once
  sockaddr_storage peer_{};
  socklen_t peer_length_ = 0;
  int pid_ = 0;
};

// Lines dropped by every target since the start.
std::atomic<uint64_t>& syslogDropped();

}  // namespace lb::common
