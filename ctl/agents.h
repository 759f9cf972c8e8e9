#pragma once
// lbctl's one connection layer: which agents a command talks to, a channel with credentials for
// each, a deadline on every call, and calls to every agent at once.

#include <grpcpp/grpcpp.h>

#include <chrono>
#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <thread>
#include <vector>

#include "lb/v1/agent.grpc.pb.h"

namespace lb::ctl {

using Millis = std::chrono::milliseconds;

// TLS files and a token, as a context or the flags give them. All empty: plain text, no token.
struct Credentials {
  std::string ca;          // PEM: trust agents' certificates this CA signed (TLS)
  std::string cert;        // PEM: this client's certificate, for mutual TLS (with `key`)
  std::string key;         // PEM: its private key
  std::string token_file;  // a file whose first line is the bearer token
};

// One agent as lbctl addresses it.
struct AgentTarget {
  std::string name;     // what lbctl calls it in its output (the address when unnamed)
  std::string address;  // host:port, [v6]:port or unix:PATH
  Credentials credentials;
};

// The flags every command shares.
struct GlobalOptions {
  std::vector<std::string> agents;  // --agent, repeatable
  std::string context;              // --context: instead of the current one
  Millis timeout{5000};             // every call's deadline
  Credentials credentials;          // for --agent and LBCTL_AGENTS
  bool no_color = false;
};

// The agents to talk to: --agent, else LBCTL_AGENTS (comma-separated), else the agents of the
// contexts file's current context (or --context). nullopt with *error when there are none.
std::optional<std::vector<AgentTarget>> findAgents(const GlobalOptions& options,
                                                   std::string* error);

// One agent: its channel and stub, and what every call to it carries.
class AgentConnection {
 public:
  AgentConnection(AgentTarget target, Millis timeout);

  const AgentTarget& target() const { return target_; }
  const std::string& name() const { return target_.name; }
  Millis timeout() const { return timeout_; }
  // A certificate, key or token file that could not be read: every call fails with it.
  const std::string& setupError() const { return setup_error_; }
  lb::v1::Agent::Stub& stub() { return *stub_; }
  // The token, and the deadline unless `stream` (streams run until cancelled).
  void prepare(grpc::ClientContext& context, bool stream = false) const;
  // One unary call with the deadline and the token; a setup error is its status.
  grpc::Status call(
      const std::function<grpc::Status(grpc::ClientContext*, lb::v1::Agent::Stub&)>& rpc);

 private:
  AgentTarget target_;
  Millis timeout_;
  std::string token_;
  std::string setup_error_;
  std::unique_ptr<lb::v1::Agent::Stub> stub_;
};

std::vector<AgentConnection> connect(const std::vector<AgentTarget>& targets, Millis timeout);

// Runs `call` for every agent at once, a thread each, and returns the results in the agents'
// order. Each call has its own deadline, so an unreachable agent delays nobody beyond it.
template <typename R>
std::vector<R> forEachAgent(std::vector<AgentConnection>& agents,
                            const std::function<R(AgentConnection&)>& call) {
  std::vector<R> results(agents.size());
  std::vector<std::thread> threads;
  for (size_t i = 0; i < agents.size(); ++i) {
    threads.emplace_back([&, i] { results[i] = call(agents[i]); });
  }
  for (auto& t : threads) t.join();
  return results;
}

// A failed call in a user's words: "unreachable: connection refused", "no answer within 5s",
// "INVALID_ARGUMENT: ...".
std::string describe(const grpc::Status& status, Millis timeout);
const char* codeName(grpc::StatusCode code);

// A time flag ("5s", "250ms", "2m"): HAProxy's units, but a unit is required here. nullopt with
// *error otherwise.
std::optional<Millis> parseDuration(const std::string& text, std::string* error);
// For people: "3h12m", "4m5s", "12s", "250ms".
std::string formatDuration(Millis duration);

}  // namespace lb::ctl
