#pragma once
// Hosts as network namespaces the test creates: each host gets a namespace with loopback up
// and an eth0 on a bridge that lives in a namespace of its own (the "switch"), so nothing is
// added to the machine's own network. Everything is removed with the object.

#include <functional>
#include <map>
#include <memory>
#include <string>
#include <vector>

#include "tests/integration/harness.h"

namespace lb::testing {

class Network {
 public:
  // Skips when not root or without `ip netns` (checked by usable()).
  Network();
  ~Network();
  Network(const Network&) = delete;
  Network& operator=(const Network&) = delete;

  // True when this machine lets the test make namespaces (root, iproute2).
  static bool usable(std::string* why);

  // A host named `name` at 10.77.0.`index`/24; returns its address.
  std::string addHost(const std::string& name, int index);
  const std::string& address(const std::string& host) const { return hosts_.at(host).address; }
  // The namespace's name, for `ip netns exec`.
  const std::string& ns(const std::string& host) const { return hosts_.at(host).ns; }

  // argv run inside the host's namespace (a Process of its own).
  std::unique_ptr<Process> start(const std::string& host, std::vector<std::string> argv,
                                 ProcessOptions options = {});
  // Runs argv inside the host to completion; its exit code and output.
  int run(const std::string& host, std::vector<std::string> argv, std::string* output = nullptr);
  // Runs `work` on a thread of its own inside the host's namespace (sockets it opens are that
  // host's) and waits for it.
  void inside(const std::string& host, const std::function<void()>& work);

  // The host's cable to the switch: unplugged (its packets vanish, nothing is refused) and back.
  void cut(const std::string& host);
  void plug(const std::string& host);

 private:
  struct Host {
    std::string ns;
    std::string address;
    std::string port;  // the switch side of its cable
  };
  void ip(std::vector<std::string> args);

  std::string prefix_;
  std::string hub_;
  std::map<std::string, Host> hosts_;
};

}  // namespace lb::testing
