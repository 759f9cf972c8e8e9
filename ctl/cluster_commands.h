#pragma once
// What the `lbctl cluster` commands share: their flags, the cluster file read or explained, and
// every tier's agents connected. cmd_cluster.cpp has the commands, cluster_rollout.cpp `apply`.

#include <optional>
#include <string>
#include <vector>

#include "ctl/cluster.h"
#include "ctl/commands.h"

namespace lb::ctl {

struct ClusterFlags {
  std::string file;
  bool dry_run = false;
  std::string wait_timeout = "60s";
  bool wait = false;
  std::string agent;
  std::string output = "tree";
  EventsFlags events;
};

// The cluster file, read and checked; nullopt after saying why not.
std::optional<Cluster> clusterOrSay(const ClusterFlags& flags);
// Every tier's agents, connected, in the cluster's order.
std::vector<std::vector<AgentConnection>> connectTiers(const Cluster& cluster, Millis timeout);
// A duration flag's value; nullopt after saying why it is not one.
std::optional<Millis> durationOrSay(const std::string& flag, const std::string& text);

// lbctl cluster apply [--dry-run]: the rollout, innermost tier first, with its rollback.
int clusterApply(const GlobalOptions& global, const ClusterFlags& flags);

}  // namespace lb::ctl
