// Listener and socket options from HAProxy configs (issue 16): `tfo` on a bind, `option tcpka`,
// global `maxconnrate`, bind port ranges, and `:P` with `:::P` in one frontend. The socket
// options are read from lb-agent's own sockets (pidfd_getfd), not inferred from timing.
#include <arpa/inet.h>
#include <dirent.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <sys/socket.h>
#include <sys/syscall.h>
#include <unistd.h>

#include <fstream>
#include <sstream>

#include <gtest/gtest.h>

#include "tests/integration/harness.h"

namespace lb::testing {
namespace {

std::string defaults(const std::string& global = "") {
  return "global\n" + global +
         "defaults\n"
         "    mode tcp\n"
         "    timeout connect 2s\n"
         "    timeout client 30s\n"
         "    timeout server 30s\n";
}

// One line of /proc/net/tcp or tcp6.
struct TcpSocket {
  uint16_t local_port = 0;
  uint16_t remote_port = 0;
  int state = 0;  // 0x0A: listening, 0x01: established
  unsigned long inode = 0;
};

std::vector<TcpSocket> tcpSockets() {
  std::vector<TcpSocket> out;
  for (const char* path : {"/proc/net/tcp", "/proc/net/tcp6"}) {
    std::ifstream in(path);
    std::string line;
    std::getline(in, line);  // header
    while (std::getline(in, line)) {
      std::istringstream fields(line);
      std::string slot, local, remote, state, queues, timer, retransmits, uid, timeout;
      TcpSocket s;
      fields >> slot >> local >> remote >> state >> queues >> timer >> retransmits >> uid >>
          timeout >> s.inode;
      s.local_port =
          static_cast<uint16_t>(std::stoul(local.substr(local.find(':') + 1), nullptr, 16));
      s.remote_port =
          static_cast<uint16_t>(std::stoul(remote.substr(remote.find(':') + 1), nullptr, 16));
      s.state = std::stoi(state, nullptr, 16);
      out.push_back(s);
    }
  }
  return out;
}

// A duplicate of the socket with `inode` that process `pid` holds; -1 when it has none.
int stealSocket(pid_t pid, unsigned long inode) {
  std::string dir = "/proc/" + std::to_string(pid) + "/fd";
  DIR* fds = ::opendir(dir.c_str());
  if (fds == nullptr) return -1;
  int target = -1;
  std::string wanted = "socket:[" + std::to_string(inode) + "]";
  while (dirent* entry = ::readdir(fds)) {
    char link[128] = {};
    std::string path = dir + "/" + entry->d_name;
    if (::readlink(path.c_str(), link, sizeof link - 1) > 0 && wanted == link) {
      target = std::atoi(entry->d_name);
      break;
    }
  }
  ::closedir(fds);
  if (target < 0) return -1;
  int pidfd = static_cast<int>(::syscall(SYS_pidfd_open, pid, 0));
  if (pidfd < 0) return -1;
  int fd = static_cast<int>(::syscall(SYS_pidfd_getfd, pidfd, target, 0));
  ::close(pidfd);
  return fd;
}

// The value of a socket option on every socket of `pid` matching `match`; empty when none.
template <typename Match>
std::vector<int> optionOf(pid_t pid, Match match, int level, int name) {
  std::vector<int> values;
  for (const auto& s : tcpSockets()) {
    if (!match(s)) continue;
    int fd = stealSocket(pid, s.inode);
    if (fd < 0) continue;
    int value = -1;
    socklen_t length = sizeof value;
    ::getsockopt(fd, level, name, &value, &length);
    ::close(fd);
    values.push_back(value);
  }
  return values;
}

bool canStealSockets() {
  int pidfd = static_cast<int>(::syscall(SYS_pidfd_open, ::getpid(), 0));
  if (pidfd < 0) return false;
  int fd = static_cast<int>(::syscall(SYS_pidfd_getfd, pidfd, 0, 0));
  ::close(pidfd);
  if (fd < 0) return false;
  ::close(fd);
  return true;
}

// Whether `port` can be bound on `host` right now.
bool bindable(const std::string& host, uint16_t port) {
  bool v6 = host.find(':') != std::string::npos;
  int fd = ::socket(v6 ? AF_INET6 : AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
  sockaddr_storage storage{};
  socklen_t length;
  if (!v6) {
    auto* in = reinterpret_cast<sockaddr_in*>(&storage);
    in->sin_family = AF_INET;
    in->sin_port = htons(port);
    ::inet_pton(AF_INET, host.c_str(), &in->sin_addr);
    length = sizeof *in;
  } else {
    auto* in6 = reinterpret_cast<sockaddr_in6*>(&storage);
    in6->sin6_family = AF_INET6;
    in6->sin6_port = htons(port);
    ::inet_pton(AF_INET6, host.c_str(), &in6->sin6_addr);
    int one = 1;
    ::setsockopt(fd, IPPROTO_IPV6, IPV6_V6ONLY, &one, sizeof one);
    length = sizeof *in6;
  }
  bool ok = ::bind(fd, reinterpret_cast<sockaddr*>(&storage), length) == 0;
  ::close(fd);
  return ok;
}

// The first of `count` consecutive ports free on `host`, found by trying binds (a port from
// the kernel, then its neighbours); 0 if none found.
uint16_t freePorts(const std::string& host, int count, const std::string& also = "") {
  for (int attempt = 0; attempt < 50; ++attempt) {
    uint16_t first = 0;
    {
      RawListener probe(host);
      first = probe.port();
    }
    if (first + count > 65535) continue;
    bool all = true;
    for (int i = 0; i < count && all; ++i) {
      auto port = static_cast<uint16_t>(first + i);
      all = bindable(host, port) && (also.empty() || bindable(also, port));
    }
    if (all) return first;
  }
  return 0;
}

TEST(ListenerOptionsTest, TfoSetsTcpFastopenOnTheListeningSockets) {
  if (!canStealSockets()) GTEST_SKIP() << "pidfd_getfd is not allowed here";
  Backend hello("hello");
  Agent agent(defaults() +
              "frontend fast\n    bind 127.0.0.1:0 tfo backlog 100\n    default_backend be\n"
              "frontend plain\n    bind 127.0.0.1:0\n    default_backend be\n"
              "backend be\n    server s1 " +
              hello.address() + "\n");
  auto listening = [](uint16_t port) {
    return [port](const TcpSocket& s) { return s.state == 0x0A && s.local_port == port; };
  };
  auto fast =
      optionOf(agent.process().pid(), listening(agent.port("fast")), IPPROTO_TCP, TCP_FASTOPEN);
  ASSERT_EQ(fast.size(), 2u) << "one listening socket per worker (--threads 2)";
  for (int qlen : fast) EXPECT_EQ(qlen, 100) << "the Fast Open queue is the backlog";
  for (int qlen :
       optionOf(agent.process().pid(), listening(agent.port("plain")), IPPROTO_TCP, TCP_FASTOPEN)) {
    EXPECT_EQ(qlen, 0);
  }
  EXPECT_EQ(whoAnswers(agent.port("fast")), "hello");
}

TEST(ListenerOptionsTest, TcpkaSetsKeepaliveOnClientAndServerConnections) {
  if (!canStealSockets()) GTEST_SKIP() << "pidfd_getfd is not allowed here";
  Backend with("with"), without("without");
  Agent agent(defaults() +
              "frontend ka\n    bind 127.0.0.1:0\n    option tcpka\n    default_backend be_ka\n"
              "frontend plain\n    bind 127.0.0.1:0\n    default_backend be_plain\n"
              "backend be_ka\n    option tcpka\n    server s1 " +
              with.address() +
              "\n"
              "backend be_plain\n    server s1 " +
              without.address() + "\n");
  pid_t pid = agent.process().pid();
  for (bool keepalive : {true, false}) {
    uint16_t port = agent.port(keepalive ? "ka" : "plain");
    uint16_t server_port = keepalive ? with.port() : without.port();
    Client client("127.0.0.1", port);
    ASSERT_EQ(client.readLine(), keepalive ? "with" : "without");
    auto client_side = optionOf(
        pid, [&](const TcpSocket& s) { return s.state == 0x01 && s.local_port == port; },
        SOL_SOCKET, SO_KEEPALIVE);
    auto server_side = optionOf(
        pid, [&](const TcpSocket& s) { return s.state == 0x01 && s.remote_port == server_port; },
        SOL_SOCKET, SO_KEEPALIVE);
    ASSERT_EQ(client_side.size(), 1u);
    ASSERT_EQ(server_side.size(), 1u);
    EXPECT_EQ(client_side[0] != 0, keepalive) << "client side, option tcpka " << keepalive;
    EXPECT_EQ(server_side[0] != 0, keepalive) << "server side, option tcpka " << keepalive;
  }
}

// HAProxy pauses its listeners past `maxconnrate`; lb's clients wait in the backlog the same
// way, and are all served in the following seconds.
TEST(ListenerOptionsTest, MaxconnrateSpreadsAcceptsOverSeconds) {
  Backend hello("hello");
  Agent agent(defaults("    maxconnrate 4\n") +
              "frontend fe\n    bind 127.0.0.1:0\n    default_backend be\n"
              "backend be\n    server s1 " +
              hello.address() + "\n");
  constexpr int kClients = 10;
  Stopwatch watch;
  std::vector<Client> clients;
  for (int i = 0; i < kClients; ++i) clients.emplace_back("127.0.0.1", agent.port("fe"));
  std::vector<bool> answered(kClients, false);
  int served_at_once = 0;
  for (int i = 0; i < kClients; ++i) {
    answered[i] = clients[i].readLine(50ms) == "hello";
    served_at_once += answered[i] ? 1 : 0;
  }
  // At most two windows' worth (the first second may end during the burst).
  EXPECT_LE(served_at_once, 8) << "maxconnrate 4 let more in at once";
  int served = served_at_once;
  for (int i = 0; i < kClients; ++i) {
    if (!answered[i] && clients[i].readLine(5s) == "hello") ++served;
  }
  EXPECT_EQ(served, kClients) << "every client is served in the end";
  EXPECT_GE(watch.elapsed(), 1000ms) << "10 clients at 4 per second take more than a second";
}

TEST(ListenerOptionsTest, APortRangeListensOnEveryPort) {
  uint16_t first = freePorts("127.0.0.1", 3);
  if (first == 0) GTEST_SKIP() << "no three consecutive free ports";
  Backend hello("hello");
  Agent agent(defaults() + "frontend fe\n    bind 127.0.0.1:" + std::to_string(first) + "-" +
              std::to_string(first + 2) + "\n    default_backend be\nbackend be\n    server s1 " +
              hello.address() + "\n");
  for (int i = 0; i < 3; ++i) {
    EXPECT_EQ(whoAnswers(static_cast<uint16_t>(first + i)), "hello") << "port " << first + i;
  }
}

// `bind :P` and `bind :::P` together: two sockets (IPv6 dual-stack next to IPv4), both serving.
TEST(ListenerOptionsTest, OneFrontendOnIpv4AndIpv6WildcardsOfOnePort) {
  if (!hasIpv6Loopback()) GTEST_SKIP() << "no IPv6 loopback";
  uint16_t port = freePorts("0.0.0.0", 1, "::");
  ASSERT_NE(port, 0);
  Backend hello("hello");
  Agent agent(defaults() + "frontend fe\n    bind :" + std::to_string(port) +
              "\n    bind :::" + std::to_string(port) +
              "\n    default_backend be\nbackend be\n    server s1 " + hello.address() + "\n");
  EXPECT_EQ(whoAnswers(port, "127.0.0.1"), "hello");
  EXPECT_EQ(whoAnswers(port, "::1"), "hello");
}

}  // namespace
}  // namespace lb::testing

namespace lb::testing {
namespace {

// `init-addr ...,none`: a server whose name does not resolve no longer stops the agent; it
// starts in maintenance (HAProxy's RMAINT) and the others serve. `.invalid` never resolves
// (RFC 6761).
TEST(InitAddrTest, AnUnresolvedServerWithInitAddrNoneStartsInMaintenance) {
  Backend one("one");
  Agent agent(defaults() +
              "frontend fe\n    bind 127.0.0.1:0\n    default_backend be\n"
              "backend be\n"
              "    default-server init-addr last,libc,none\n"
              "    server s1 " +
              one.address() +
              " check inter 100ms\n"
              "    server s2 nowhere.invalid:80 check inter 100ms\n"
              "    server-template t 1-2 nowhere.invalid:81 check\n");
  for (int i = 0; i < 6; ++i) EXPECT_EQ(whoAnswers(agent.port("fe")), "one") << "request " << i;
}

}  // namespace
}  // namespace lb::testing

namespace lb::testing {
namespace {

// `server NAME ADDR:+N` / `ADDR:-N`: the port the client connected to, moved by N.
TEST(PortOffsetTest, TheServerPortIsTheClientsPortPlusTheOffset) {
  Backend hello("hello");
  uint16_t front = freePorts("127.0.0.1", 1);
  ASSERT_NE(front, 0);
  int offset = static_cast<int>(hello.port()) - static_cast<int>(front);
  std::string written = (offset >= 0 ? "+" : "-") + std::to_string(std::abs(offset));
  Agent agent(defaults() + "frontend fe\n    bind 127.0.0.1:" + std::to_string(front) +
              "\n    default_backend be\nbackend be\n    server s1 127.0.0.1:" + written + "\n");
  EXPECT_EQ(whoAnswers(front), "hello");
}

}  // namespace
}  // namespace lb::testing
