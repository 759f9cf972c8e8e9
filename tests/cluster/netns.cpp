#include "tests/cluster/netns.h"

#include <fcntl.h>
#include <sched.h>
#include <signal.h>
#include <unistd.h>

#include <atomic>
#include <cerrno>
#include <filesystem>
#include <regex>
#include <stdexcept>
#include <thread>

namespace lb::testing {

namespace {

std::string ipPath() {
  for (const char* path : {"/usr/sbin/ip", "/sbin/ip", "/usr/bin/ip", "/bin/ip"}) {
    if (::access(path, X_OK) == 0) return path;
  }
  return "";
}

std::atomic<int> networks{0};
std::error_code ignore_;

}  // namespace

bool Network::usable(std::string* why) {
  if (::geteuid() != 0) {
    *why = "network namespaces need root";
    return false;
  }
  if (ipPath().empty()) {
    *why = "iproute2's ip is not installed";
    return false;
  }
  return true;
}

Network::Network() {
  // Namespaces a crashed run left behind (its pid is in their names) go first.
  for (const auto& entry : std::filesystem::directory_iterator("/run/netns", ignore_)) {
    std::smatch m;
    std::string name = entry.path().filename().string();
    if (std::regex_match(name, m, std::regex("lbt([0-9]+)x[0-9]+-.*")) &&
        ::kill(std::stoi(m[1]), 0) != 0 && errno == ESRCH) {
      Process remove({ipPath(), "netns", "delete", name});
      remove.wait();
    }
  }
  // Short names: an interface name has at most 15 characters ("p" + pid + "x" + n + "h" + host).
  prefix_ = "lbt" + std::to_string(::getpid()) + "x" + std::to_string(networks++);
  hub_ = prefix_ + "-hub";
  ip({"netns", "add", hub_});
  ip({"-n", hub_, "link", "add", "br0", "type", "bridge"});
  ip({"-n", hub_, "link", "set", "br0", "up"});
}

Network::~Network() {
  for (const auto& [name, host] : hosts_) {
    Process remove({ipPath(), "netns", "delete", host.ns});
    remove.wait();
  }
  Process remove({ipPath(), "netns", "delete", hub_});
  remove.wait();
}

void Network::ip(std::vector<std::string> args) {
  args.insert(args.begin(), ipPath());
  Process process(args);
  auto code = process.wait(30s);
  if (code != 0) {
    std::string line;
    for (const auto& a : args) line += a + " ";
    throw std::runtime_error(line + "failed: " + process.output());
  }
}

std::string Network::addHost(const std::string& name, int index) {
  Host host;
  host.ns = prefix_ + "-" + name;
  host.address = "10.77.0." + std::to_string(index);
  host.port = "p" + prefix_.substr(3) + "h" + std::to_string(index);
  ip({"netns", "add", host.ns});
  ip({"-n", host.ns, "link", "set", "lo", "up"});
  ip({"-n", host.ns, "link", "add", "eth0", "type", "veth", "peer", "name", host.port, "netns",
      hub_});
  ip({"-n", hub_, "link", "set", host.port, "master", "br0", "up"});
  ip({"-n", host.ns, "addr", "add", host.address + "/24", "dev", "eth0"});
  ip({"-n", host.ns, "link", "set", "eth0", "up"});
  hosts_[name] = host;
  return host.address;
}

std::unique_ptr<Process> Network::start(const std::string& host, std::vector<std::string> argv,
                                        ProcessOptions options) {
  std::vector<std::string> full{ipPath(), "netns", "exec", ns(host)};
  full.insert(full.end(), argv.begin(), argv.end());
  return std::make_unique<Process>(full, options);
}

int Network::run(const std::string& host, std::vector<std::string> argv, std::string* output) {
  auto process = start(host, std::move(argv));
  std::string out = process->finalOutput(120s);
  if (output != nullptr) *output = out;
  return process->wait().value_or(-1);
}

void Network::inside(const std::string& host, const std::function<void()>& work) {
  std::exception_ptr failure;
  std::thread thread([&] {
    try {
      int fd = ::open(("/run/netns/" + ns(host)).c_str(), O_RDONLY | O_CLOEXEC);
      if (fd < 0 || ::setns(fd, CLONE_NEWNET) != 0) {
        throw std::runtime_error("cannot enter network namespace " + ns(host));
      }
      ::close(fd);
      work();
    } catch (...) {
      failure = std::current_exception();
    }
  });
  thread.join();
  if (failure) std::rethrow_exception(failure);
}

void Network::cut(const std::string& host) {
  ip({"-n", hub_, "link", "set", hosts_.at(host).port, "down"});
}

void Network::plug(const std::string& host) {
  ip({"-n", hub_, "link", "set", hosts_.at(host).port, "up"});
}

}  // namespace lb::testing
