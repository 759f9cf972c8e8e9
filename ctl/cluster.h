#pragma once
// The cluster file of `lbctl cluster`: tiers from the edge (where clients connect) to the
// origin (next to the servers), each with its agents and its configuration. A tier may take
// its servers from the next tier's agents (`upstream`), so the topology is written once:
//
//   tiers:
//     - name: edge
//       config: edge.cfg                  # paths are relative to the cluster file
//       agents:
//         - {name: edge-1, address: 10.0.0.10:9901}
//       upstream: {backend: inner, frontend: web}
//     - name: inner
//       config: inner.cfg
//       agents:
//         - {name: inner-1, address: 10.0.0.11:9901}
//         - {name: inner-2, address: 10.0.0.12:9901, traffic: 10.0.0.12:8080,
//            http: 10.0.0.12:9902, config: inner-2.cfg}
//       token-file: ~/.config/lbctl/inner.token
//       tls: {ca: ca.crt, cert: ops.crt, key: ops.key}

#include <optional>
#include <string>
#include <vector>

#include "agent/config/loader.h"
#include "ctl/agents.h"

namespace lb::ctl {

struct ClusterAgent {
  AgentTarget target;   // name, API address, the tier's credentials
  std::string config;   // its configuration file: its own `config`, else the tier's
  std::string traffic;  // HOST:PORT the tier above sends to; empty: derived (planCluster)
  std::string http;     // HOST:PORT of its tier health; empty: derived
};

// The tier above fills `backend` of its configuration with one server per agent of the tier
// below, sending PROXY v2 to the agent's `frontend` and checking that frontend's tier health.
struct Upstream {
  std::string backend;
  std::string frontend;
  std::string server_options = "inter 2s fall 2 rise 2";  // check timing, weights...
};

struct Tier {
  std::string name;
  std::vector<ClusterAgent> agents;
  std::optional<Upstream> upstream;
};

struct Cluster {
  std::string path;
  std::vector<Tier> tiers;  // edge first

  // The tier and index of the agent named `name`; false when there is none.
  bool find(const std::string& name, size_t* tier, size_t* agent) const;
  std::vector<std::string> agentNames() const;
};

// Reads and checks the cluster file. nullopt with *error (file:line: what is wrong) otherwise.
std::optional<Cluster> loadCluster(const std::string& path, std::string* error);

// What each agent is to run: its configuration file with the upstream servers filled in.
struct AgentPlan {
  config::Source source;
  std::string traffic;  // where the tier above sends (resolved from the frontend's bind)
  std::string http;     // where the tier above checks
};

// Reads every agent's configuration and fills upstream backends. On errors it returns nullopt
// and `errors` has one line each, naming the file and line.
std::optional<std::vector<std::vector<AgentPlan>>> planCluster(const Cluster& cluster,
                                                               std::vector<std::string>* errors);

}  // namespace lb::ctl
