#include "agent/common/syslog.h"

#include <fcntl.h>
#include <netinet/in.h>
#include <spdlog/spdlog.h>
#include <sys/un.h>
#include <unistd.h>

#include <algorithm>
#include <array>
#include <cerrno>
#include <cstring>
#include <ctime>

namespace lb::common {

namespace {

constexpr std::array<std::string_view, 24> kFacilities = {
    "kern",   "user",   "mail",   "daemon", "auth",   "syslog", "lpr",    "news",
    "uucp",   "cron",   "auth2",  "ftp",    "ntp",    "audit",  "alert",  "cron2",
    "local0", "local1", "local2", "local3", "local4", "local5", "local6", "local7"};
constexpr std::array<std::string_view, 8> kLevels = {"emerg",   "alert",  "crit", "err",
                                                     "warning", "notice", "info", "debug"};

}  // namespace

int syslogFacility(std::string_view name) {
  for (size_t i = 0; i < kFacilities.size(); ++i) {
    if (kFacilities[i] == name) return static_cast<int>(i);
  }
  return -1;
}

int syslogLevel(std::string_view name) {
  for (size_t i = 0; i < kLevels.size(); ++i) {
    if (kLevels[i] == name) return static_cast<int>(i);
  }
  return -1;
}

bool parseSyslogAddress(const std::string& address, SyslogKind* kind, std::string* host,
                        uint16_t* port, std::string* error) {
  if (address == "stdout" || address == "stderr") {
    *kind = SyslogKind::kOutput;
    return true;
  }
  if (address.rfind("unix@", 0) == 0 || (!address.empty() && address[0] == '/')) {
    *kind = SyslogKind::kLocal;
    return true;
  }
  std::string rest = address;
  for (const char* prefix : {"udp@", "udp4@", "udp6@", "ipv4@", "ipv6@"}) {
    if (rest.rfind(prefix, 0) == 0) rest = rest.substr(std::strlen(prefix));
  }
  *kind = SyslogKind::kUdp;
  *port = 514;
  std::string port_text;
  if (!rest.empty() && rest[0] == '[') {
    auto close = rest.find(']');
    if (close == std::string::npos) {
      *error = "'" + address + "': missing ']'";
      return false;
    }
    *host = rest.substr(1, close - 1);
    if (close + 1 < rest.size()) {
      if (rest[close + 1] != ':') {
        *error = "'" + address + "': expected ':' after ']'";
        return false;
      }
      port_text = rest.substr(close + 2);
    }
  } else if (std::count(rest.begin(), rest.end(), ':') == 1) {
    *host = rest.substr(0, rest.find(':'));
    port_text = rest.substr(rest.find(':') + 1);
  } else {
    *host = rest;  // a name, an IPv4 literal, or a bare IPv6 literal
  }
  if (host->empty()) {
    *error = "'" + address + "' names no host";
    return false;
  }
  if (!port_text.empty()) {
    char* end = nullptr;
    unsigned long value = std::strtoul(port_text.c_str(), &end, 10);
    if (*end != '\0' || value == 0 || value > 65535) {
      *error = "'" + address + "': '" + port_text + "' is not a port (1 to 65535)";
      return false;
    }
    *port = static_cast<uint16_t>(value);
  }
  return true;
}

std::vector<std::string> syslogFacilityNames() {
  return {kFacilities.begin(), kFacilities.end()};
}

std::vector<std::string> syslogLevelNames() {
  return {kLevels.begin(), kLevels.end()};
}

std::atomic<uint64_t>& syslogDropped() {
  static std::atomic<uint64_t> dropped{0};
  return dropped;
}

std::unique_ptr<SyslogTarget> SyslogTarget::open(const SyslogTargetSpec& spec, std::string* error) {
  std::unique_ptr<SyslogTarget> target(new SyslogTarget(spec));
  target->pid_ = static_cast<int>(::getpid());
  target->rfc5424_host_ = spec.hostname;
  if (target->rfc5424_host_.empty()) {
    char host[256] = "-";
    ::gethostname(host, sizeof host - 1);
    target->rfc5424_host_ = host;
  }
  if (spec.address == "stdout" || spec.address == "stderr") return target;
  if (spec.address.rfind("unix@", 0) == 0 || (!spec.address.empty() && spec.address[0] == '/')) {
    std::string path = spec.address.rfind("unix@", 0) == 0 ? spec.address.substr(5) : spec.address;
    sockaddr_un un{};
    if (path.size() >= sizeof un.sun_path) {
      *error = "log target '" + spec.address + "': the path is too long for a UNIX socket";
      return nullptr;
    }
    un.sun_family = AF_UNIX;
    std::memcpy(un.sun_path, path.c_str(), path.size() + 1);
    std::memcpy(&target->peer_, &un, sizeof un);
    target->peer_length_ = sizeof un;
    target->fd_ = ::socket(AF_UNIX, SOCK_DGRAM | SOCK_CLOEXEC | SOCK_NONBLOCK, 0);
  } else {
    if (!spec.udp_address) {
      *error = "log target '" + spec.address + "': no address";
      return nullptr;
    }
    if (spec.udp_address->is_v4()) {
      sockaddr_in in{};
      in.sin_family = AF_INET;
      in.sin_port = htons(spec.udp_port);
      auto bytes = spec.udp_address->to_v4().to_bytes();
      std::memcpy(&in.sin_addr, bytes.data(), bytes.size());
      std::memcpy(&target->peer_, &in, sizeof in);
      target->peer_length_ = sizeof in;
    } else {
      sockaddr_in6 in6{};
      in6.sin6_family = AF_INET6;
      in6.sin6_port = htons(spec.udp_port);
      auto bytes = spec.udp_address->to_v6().to_bytes();
      std::memcpy(&in6.sin6_addr, bytes.data(), bytes.size());
      std::memcpy(&target->peer_, &in6, sizeof in6);
      target->peer_length_ = sizeof in6;
    }
    target->fd_ = ::socket(target->peer_.ss_family, SOCK_DGRAM | SOCK_CLOEXEC | SOCK_NONBLOCK, 0);
  }
  if (target->fd_ < 0) {
    *error = "log target '" + spec.address + "': socket: " + std::strerror(errno);
    return nullptr;
  }
  return target;
}

SyslogTarget::~SyslogTarget() {
  if (fd_ >= 0) ::close(fd_);
}

std::string SyslogTarget::format(int severity, std::string_view message,
                                 std::chrono::system_clock::time_point when) const {
  severity = std::max(severity, spec_.min_level);
  int priority = spec_.facility * 8 + severity;
  std::string out;
  std::time_t t = std::chrono::system_clock::to_time_t(when);
  std::tm tm{};
  ::localtime_r(&t, &tm);
  char stamp[64];
  switch (spec_.format) {
    case SyslogFormat::kRaw:
      break;
    case SyslogFormat::kShort:
      out = "<" + std::to_string(priority) + ">";
      break;
    case SyslogFormat::kRfc3164:
      // "<134>Dec  4 22:03:01 [host ]haproxy[1234]: " as HAProxy writes it.
      std::strftime(stamp, sizeof stamp, "%b %e %H:%M:%S", &tm);
      out = "<" + std::to_string(priority) + ">" + stamp + " ";
      if (!spec_.hostname.empty()) out += spec_.hostname + " ";
      out += spec_.tag + "[" + std::to_string(pid_) + "]: ";
      break;
    case SyslogFormat::kRfc5424: {
      std::strftime(stamp, sizeof stamp, "%Y-%m-%dT%H:%M:%S", &tm);
      auto us =
          std::chrono::duration_cast<std::chrono::microseconds>(when.time_since_epoch()) % 1000000;
      char zone[8];
      std::strftime(zone, sizeof zone, "%z", &tm);  // +0100 -> +01:00
      std::string offset = std::string(zone, 3) + ":" + std::string(zone + 3, 2);
      char micros[8];
      std::snprintf(micros, sizeof micros, "%06ld", static_cast<long>(us.count()));
      out = "<" + std::to_string(priority) + ">1 " + stamp + "." + micros + offset + " " +
            rfc5424_host_ + " " + spec_.tag + " " + std::to_string(pid_) + " - - ";
      break;
    }
  }
  out.append(message);
  if (out.size() > spec_.max_length) out.resize(spec_.max_length);
  return out;
}

void SyslogTarget::send(int severity, std::string_view message,
                        std::chrono::system_clock::time_point when) {
  if (severity > spec_.max_level) return;
  if (fd_ < 0) {
    spdlog::info("{}", message);  // stdout / stderr: lb's own log output
    return;
  }
  std::string datagram = format(severity, message, when);
  ssize_t sent = ::sendto(fd_, datagram.data(), datagram.size(), MSG_DONTWAIT | MSG_NOSIGNAL,
                          reinterpret_cast<const sockaddr*>(&peer_), peer_length_);
  if (sent < 0) syslogDropped().fetch_add(1, std::memory_order_relaxed);
}

}  // namespace lb::common
