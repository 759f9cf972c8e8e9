// Log lines to syslog as HAProxy sends them: `log` targets over UDP and a local datagram
// socket (as /dev/log), received by sockets the test owns; and a syslog that is gone or full
// never slows traffic, its lost lines counted.
#include <gmock/gmock.h>
#include <gtest/gtest.h>
#include <netinet/in.h>
#include <poll.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

#include <regex>
#include <string>

#include "tests/integration/api_client.h"
#include "tests/integration/harness.h"

namespace lb::testing {
namespace {

using ::testing::HasSubstr;

// A datagram socket the test reads log lines from: UDP on 127.0.0.1, or a UNIX path.
class Receiver {
 public:
  Receiver() {
    fd_ = ::socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0);
    sockaddr_in in{};
    in.sin_family = AF_INET;
    in.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    ::bind(fd_, reinterpret_cast<sockaddr*>(&in), sizeof in);
    socklen_t length = sizeof in;
    ::getsockname(fd_, reinterpret_cast<sockaddr*>(&in), &length);
    address_ = "127.0.0.1:" + std::to_string(ntohs(in.sin_port));
  }
  explicit Receiver(const std::string& path) {
    fd_ = ::socket(AF_UNIX, SOCK_DGRAM | SOCK_CLOEXEC, 0);
    sockaddr_un un{};
    un.sun_family = AF_UNIX;
    std::snprintf(un.sun_path, sizeof un.sun_path, "%s", path.c_str());
    ::bind(fd_, reinterpret_cast<sockaddr*>(&un), sizeof un);
    address_ = path;
  }
  ~Receiver() { close(); }
  void close() {
    if (fd_ >= 0) ::close(fd_);
    fd_ = -1;
  }
  const std::string& address() const { return address_; }
  // The next datagram within the timeout, or nullopt.
  std::optional<std::string> next(Millis timeout = 5s) {
    pollfd p{fd_, POLLIN, 0};
    if (::poll(&p, 1, static_cast<int>(timeout.count())) != 1) return std::nullopt;
    char buffer[70000];
    ssize_t n = ::recv(fd_, buffer, sizeof buffer, 0);
    if (n < 0) return std::nullopt;
    return std::string(buffer, static_cast<size_t>(n));
  }

 private:
  int fd_ = -1;
  std::string address_;
};

std::string config(const std::string& global, const std::string& frontend = "    log global\n") {
  return "global\n" + global +
         "defaults\n    mode tcp\n    option tcplog\n    timeout connect 1s\n"
         "    timeout client 30s\n    timeout server 30s\nfrontend web\n    bind 127.0.0.1:0\n" +
         frontend + "    default_backend be\nbackend be\n    server s1 ";
}

const std::regex kTcpLog(
    "127\\.0\\.0\\.1:[0-9]+ \\[[0-9]{2}/[A-Z][a-z]{2}/[0-9]{4}:[0-9:.]+\\] web be/s1 "
    "[0-9]+/[0-9]+/[0-9]+ [0-9]+ -- [0-9/]+ 0/0");

TEST(SyslogTest, TcplogLinesReachUdpAndLocalSyslogInHaproxysFormat) {
  Backend web1("web1");
  TempDir dir;
  Receiver udp;
  Receiver local(dir.path() + "/log.sock");
  Agent agent(config("    log " + udp.address() + " local0\n    log " + local.address() +
                     " local1 info\n    log-tag lbtest\n") +
              web1.address() + "\n");
  ASSERT_EQ(whoAnswers(agent.port("web")), "web1");
  auto line = udp.next();
  ASSERT_TRUE(line);
  // RFC 3164 as HAProxy writes it: <PRI>TIMESTAMP TAG[PID]: MESSAGE; local0.info = 134.
  std::smatch m;
  ASSERT_TRUE(std::regex_match(
      *line, m,
      std::regex(
          "<134>[A-Z][a-z]{2} [ 0-9][0-9] [0-9]{2}:[0-9]{2}:[0-9]{2} lbtest\\[([0-9]+)\\]: (.*)")))
      << *line;
  EXPECT_EQ(std::stoi(m[1]), agent.process().pid());
  std::string message = m[2];
  EXPECT_TRUE(std::regex_match(message, kTcpLog)) << message;
  auto same = local.next();
  ASSERT_TRUE(same);
  EXPECT_EQ(same->substr(0, 5), "<142>");  // local1.info
  EXPECT_TRUE(same->ends_with(": " + message)) << *same;
  // With syslog targets, the lines go there and not to lb's own log output.
  EXPECT_THAT(agent.process().output(), ::testing::Not(HasSubstr(message)));
}

TEST(SyslogTest, FormatsLevelsAndLengthAreTheTargets) {
  Backend web1("web1");
  Receiver rfc5424, raw, quiet, shortened;
  Agent agent(config("    log " + rfc5424.address() + " format rfc5424 daemon\n    log " +
                     raw.address() + " format raw local0\n    log " + quiet.address() +
                     " local0 notice\n    log " + shortened.address() +
                     " len 80 format short local7\n    log-send-hostname edge-1\n") +
              web1.address() + "\n");
  ASSERT_EQ(whoAnswers(agent.port("web")), "web1");
  auto line = rfc5424.next();
  ASSERT_TRUE(line);
  EXPECT_TRUE(std::regex_search(
      *line,
      std::regex("^<30>1 [0-9]{4}-[0-9]{2}-[0-9]{2}T[0-9:]{8}\\.[0-9]{6}[+-][0-9]{2}:[0-9]{2} "
                 "edge-1 haproxy [0-9]+ - - 127\\.0\\.0\\.1:")))
      << *line;
  auto message = raw.next();
  ASSERT_TRUE(message);
  EXPECT_TRUE(std::regex_match(*message, kTcpLog)) << *message;
  auto cut = shortened.next();
  ASSERT_TRUE(cut);
  EXPECT_EQ(cut->size(), 80u);
  EXPECT_EQ(*cut, ("<190>" + *message).substr(0, 80));
  // notice and above only: an info line (a connection) is not sent.
  EXPECT_FALSE(quiet.next(300ms));
}

TEST(SyslogTest, AGoneOrFullSyslogNeverSlowsTrafficAndItsLostLinesAreCounted) {
  Backend web1("web1");
  TempDir dir;
  auto full = std::make_unique<Receiver>(dir.path() + "/full.sock");  // never read
  Agent agent(config("    log " + dir.path() + "/gone.sock local0\n    log " + full->address() +
                     " local0\n") +
              web1.address() + "\n");
  // gone.sock never existed; full.sock's buffer fills up after a few hundred lines.
  Stopwatch watch;
  for (int i = 0; i < 1500; ++i) ASSERT_EQ(whoAnswers(agent.port("web")), "web1") << i;
  EXPECT_LT(watch.elapsed(), 60s);
  ApiClient api(agent.grpcAddress());
  lb::v1::GetStatusResponse status;
  ASSERT_TRUE(api.getStatus(&status).ok());
  // Every line to gone.sock, and what full.sock had no room for.
  EXPECT_GE(status.agent().log_lines_dropped(), 1500u);
  HttpAnswer metrics = httpGet(agent.httpAddress(), "/metrics");
  EXPECT_THAT(metrics.body,
              ::testing::ContainsRegex("haproxy_process_dropped_logs_total [0-9]{4}"));
}

}  // namespace
}  // namespace lb::testing
