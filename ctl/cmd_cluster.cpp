// lbctl cluster: tiers of agents declared once in a cluster file (ctl/cluster.h). apply rolls a
// change out from the innermost tier to the edge, waiting for each tier to be healthy, and rolls
// back what it changed when a tier fails; status draws the tree edge -> inner -> servers; events
// merges every agent's stream labelled tier/agent; drain and ready take an agent out of (or back
// into) every tier above it.
#include <google/protobuf/util/time_util.h>

#include <chrono>
#include <iostream>
#include <thread>

#include "agent/config/suggest.h"
#include "ctl/cluster_commands.h"
#include "ctl/output.h"

namespace lb::ctl {

// The cluster file, read and checked; nullopt after saying why not.
std::optional<Cluster> clusterOrSay(const ClusterFlags& flags) {
  std::string error;
  auto cluster = loadCluster(flags.file, &error);
  if (!cluster) std::cerr << "lbctl cluster: " << error << "\n";
  return cluster;
}

// Every tier's agents, connected, in the cluster's order.
std::vector<std::vector<AgentConnection>> connectTiers(const Cluster& cluster, Millis timeout) {
  std::vector<std::vector<AgentConnection>> tiers;
  for (const auto& tier : cluster.tiers) {
    std::vector<AgentTarget> targets;
    for (const auto& agent : tier.agents) targets.push_back(agent.target);
    tiers.push_back(connect(targets, timeout));
  }
  return tiers;
}

std::optional<Millis> durationOrSay(const std::string& flag, const std::string& text) {
  std::string error;
  auto value = parseDuration(text, &error);
  if (!value) std::cerr << "lbctl cluster: " << flag << ": " << error << "\n";
  return value;
}

namespace {

using Clock = std::chrono::steady_clock;
using lb::v1::ServerStatus;

// ---- status: the tree ----

struct Node {
  grpc::Status status;
  lb::v1::GetStatusResponse response;
};

std::string connections(uint32_t n) {
  return std::to_string(n) + (n == 1 ? " connection" : " connections");
}

std::string stateText(const ServerStatus& s) {
  std::string text = ServerStatus::OpState_Name(s.op_state());
  if (s.admin_state() != ServerStatus::READY) {
    text += " " + ServerStatus::AdminState_Name(s.admin_state());
  }
  return text;
}

void printAgentTree(const Cluster& cluster, std::vector<std::vector<AgentConnection>>& tiers,
                    const std::vector<std::vector<Node>>& nodes, size_t t, size_t a,
                    const std::string& indent, const Style& style) {
  const auto& agent = tiers[t][a];
  const auto& node = nodes[t][a];
  std::cout << indent << style.paint(agent.name(), Color::kBold) << "  [" << cluster.tiers[t].name
            << "]  " << agent.target().address;
  if (!node.status.ok()) {
    std::cout << "  " << style.paint(describe(node.status, agent.timeout()), Color::kRed) << "\n";
    return;
  }
  const auto& info = node.response.agent();
  std::cout << "  version " << info.config_version() << "  "
            << (info.draining() ? style.paint("draining", Color::kYellow)
                                : style.paint("ready", Color::kGreen))
            << "  " << connections(info.current_connections()) << "\n";
  const auto& upstream = cluster.tiers[t].upstream;
  for (const auto& fe : node.response.frontends()) {
    const lb::v1::BackendStatus* backend = nullptr;
    for (const auto& be : node.response.backends()) {
      if (be.name() == fe.default_backend()) backend = &be;
    }
    std::cout << indent << "  frontend " << fe.name() << " ("
              << connections(fe.current_connections()) << ")";
    if (backend == nullptr) {
      std::cout << "  no backend\n";
      continue;
    }
    Color color = backend->usable_servers() == 0 ? Color::kRed : Color::kNone;
    std::cout << " -> backend " << backend->name() << ": "
              << style.paint(std::to_string(backend->usable_servers()) + " of " +
                                 std::to_string(backend->total_servers()) + " usable",
                             color)
              << "\n";
    for (const auto& s : backend->servers()) {
      std::cout << indent << "    " << s.name() << "  " << s.address() << "  "
                << style.paint(stateText(s), stateColor(stateText(s))) << "  "
                << connections(s.current_connections());
      if (s.has_last_check() && !s.last_check().status().empty()) {
        std::cout << "  " << s.last_check().status();
      }
      std::cout << "\n";
      size_t lt = 0, la = 0;
      if (upstream && backend->name() == upstream->backend && t + 1 < cluster.tiers.size() &&
          cluster.find(s.name(), &lt, &la) && lt == t + 1) {
        printAgentTree(cluster, tiers, nodes, lt, la, indent + "      ", style);
      }
    }
  }
}

int status(const GlobalOptions& global, const ClusterFlags& flags) {
  auto cluster = clusterOrSay(flags);
  if (!cluster) return kUsage;
  auto tiers = connectTiers(*cluster, global.timeout);
  std::vector<std::vector<Node>> nodes;
  bool all = true;
  for (auto& tier : tiers) {
    nodes.push_back(forEachAgent<Node>(tier, [](AgentConnection& agent) {
      Node node;
      node.status = agent.call([&](grpc::ClientContext* context, lb::v1::Agent::Stub& stub) {
        return stub.GetStatus(context, lb::v1::GetStatusRequest(), &node.response);
      });
      return node;
    }));
    for (const auto& node : nodes.back()) all = all && node.status.ok();
  }
  if (flags.output == "json") {
    std::cout << "{\"agents\":[";
    bool first = true;
    for (size_t t = 0; t < tiers.size(); ++t) {
      for (size_t a = 0; a < tiers[t].size(); ++a) {
        std::cout << (first ? "" : ",") << "\n  {\"tier\":" << jsonQuote(cluster->tiers[t].name)
                  << ",\"agent\":" << jsonQuote(tiers[t][a].name())
                  << ",\"address\":" << jsonQuote(tiers[t][a].target().address);
        if (nodes[t][a].status.ok()) {
          std::cout << ",\"status\":" << toJson(nodes[t][a].response, false, true);
        } else {
          std::cout << ",\"error\":"
                    << jsonQuote(describe(nodes[t][a].status, tiers[t][a].timeout()));
        }
        std::cout << "}";
        first = false;
      }
    }
    std::cout << "\n]}\n";
    return all ? kOk : kFailed;
  }
  Style style(colorWanted(global.no_color));
  // The edge's agents, with the agents below nested under the servers that are them; agents no
  // tier above points at are drawn as roots of their own.
  std::vector<std::vector<bool>> nested(tiers.size());
  for (size_t t = 0; t < tiers.size(); ++t) nested[t].assign(tiers[t].size(), false);
  for (size_t t = 0; t + 1 < tiers.size(); ++t) {
    if (!cluster->tiers[t].upstream) continue;
    for (size_t a = 0; a < tiers[t].size(); ++a) {
      for (const auto& be : nodes[t][a].response.backends()) {
        if (be.name() != cluster->tiers[t].upstream->backend) continue;
        for (const auto& s : be.servers()) {
          size_t lt = 0, la = 0;
          if (cluster->find(s.name(), &lt, &la) && lt == t + 1) nested[lt][la] = true;
        }
      }
    }
  }
  for (size_t t = 0; t < tiers.size(); ++t) {
    for (size_t a = 0; a < tiers[t].size(); ++a) {
      if (!nested[t][a]) printAgentTree(*cluster, tiers, nodes, t, a, "", style);
    }
  }
  return all ? kOk : kFailed;
}

// ---- drain and ready ----

int drainOrReady(const GlobalOptions& global, const ClusterFlags& flags, bool drain) {
  auto cluster = clusterOrSay(flags);
  if (!cluster) return kUsage;
  size_t t = 0, a = 0;
  if (!cluster->find(flags.agent, &t, &a)) {
    std::cerr << "lbctl cluster: no agent '" << flags.agent << "' in " << flags.file
              << config::didYouMean(flags.agent, cluster->agentNames()) << "\n";
    return kUsage;
  }
  auto wait = durationOrSay("--wait-timeout", flags.wait_timeout);
  if (!wait) return kUsage;
  auto tiers = connectTiers(*cluster, global.timeout);
  auto& target = tiers[t][a];
  bool failed = false;
  // The agent's own switch: its tier health answers 503 (or 200 again), so any tier above,
  // written here or not, follows within its check interval.
  lb::v1::SetAgentDrainRequest request;
  request.set_drain(drain);
  lb::v1::SetAgentDrainResponse response;
  auto status = target.call([&](grpc::ClientContext* context, lb::v1::Agent::Stub& stub) {
    return stub.SetAgentDrain(context, request, &response);
  });
  std::cout << cluster->tiers[t].name << "/" << target.name() << ": ";
  if (!status.ok()) {
    failed = true;
    std::cout << describe(status, target.timeout()) << "\n";
  } else {
    std::cout << (drain ? "draining" : "ready") << (response.changed() ? "" : " (already)") << ", "
              << response.current_connections() << " connection"
              << (response.current_connections() == 1 ? "" : "s") << "\n";
  }
  // The tier above at once: its server for this agent in DRAIN (or READY): no new connection
  // goes there, the ones open carry on.
  if (t > 0 && cluster->tiers[t - 1].upstream) {
    const auto& upstream = *cluster->tiers[t - 1].upstream;
    lb::v1::SetServerStateRequest change;
    change.set_backend(upstream.backend);
    change.set_server(target.name());
    change.set_admin_state(drain ? ServerStatus::DRAIN : ServerStatus::READY);
    auto results = forEachAgent<grpc::Status>(tiers[t - 1], [&](AgentConnection& upper) {
      lb::v1::SetServerStateResponse ignored;
      return upper.call([&](grpc::ClientContext* context, lb::v1::Agent::Stub& stub) {
        return stub.SetServerState(context, change, &ignored);
      });
    });
    for (size_t u = 0; u < results.size(); ++u) {
      std::cout << cluster->tiers[t - 1].name << "/" << tiers[t - 1][u].name() << ": ";
      if (results[u].ok()) {
        std::cout << upstream.backend << "/" << target.name() << " " << (drain ? "DRAIN" : "READY")
                  << "\n";
      } else {
        failed = true;
        std::cout << describe(results[u], tiers[t - 1][u].timeout()) << "\n";
      }
    }
  }
  if (!drain || !flags.wait || failed) return failed ? kFailed : kOk;
  auto started = Clock::now();
  uint32_t left = 0;
  while (true) {
    lb::v1::GetStatusResponse now;
    auto call = target.call([&](grpc::ClientContext* context, lb::v1::Agent::Stub& stub) {
      return stub.GetStatus(context, lb::v1::GetStatusRequest(), &now);
    });
    if (call.ok()) {
      left = now.agent().current_connections();
      if (left == 0) break;
    }
    if (Clock::now() - started >= *wait) {
      std::cout << target.name() << ": still " << left << " connection" << (left == 1 ? "" : "s")
                << " after " << formatDuration(*wait) << "\n";
      return kFailed;
    }
    std::this_thread::sleep_for(Millis(200));
  }
  std::cout << target.name() << ": drained, 0 connections after "
            << formatDuration(std::chrono::duration_cast<Millis>(Clock::now() - started)) << "\n";
  return kOk;
}

}  // namespace

void addClusterCommands(CLI::App& app, Cli& cli) {
  auto flags = std::make_shared<ClusterFlags>();
  auto* cluster = app.add_subcommand(
      "cluster", "Tiers of agents declared once in a cluster file: apply, status, events, drain");
  cluster->require_subcommand(1);
  cluster->fallthrough();
  cluster->add_option("-f,--filename", flags->file, "the cluster file (tiers, agents, configs)")
      ->required()
      ->check(CLI::ExistingFile);
  cluster->footer(
      "Examples:\n"
      "  lbctl cluster -f cluster.yaml apply --dry-run\n"
      "  lbctl cluster -f cluster.yaml apply\n"
      "  lbctl cluster -f cluster.yaml status\n"
      "  lbctl cluster -f cluster.yaml events --follow\n"
      "  lbctl cluster -f cluster.yaml drain inner-1 --wait\n"
      "  lbctl cluster -f cluster.yaml ready inner-1\n\n"
      "The cluster file is described in docs/tiers.md.");

  auto* apply = cluster->add_subcommand(
      "apply", "Roll every tier's configuration out, innermost first, rolling back on failure");
  apply->add_flag("--dry-run", flags->dry_run,
                  "check every tier here and on its agents; change nothing");
  apply->add_option("--wait-timeout", flags->wait_timeout,
                    "how long a tier may take to be healthy after its apply (default 60s)");
  apply->footer(
      "Exit status: 0 applied (or unchanged) everywhere; 1 refused, unreachable or not healthy "
      "in time (the tiers it changed are rolled back); 2 usage.");
  apply->callback(
      [&cli, flags] { cli.run = [&cli, flags] { return clusterApply(cli.global, *flags); }; });

  auto* status_cmd = cluster->add_subcommand("status", "The tree: edge -> inner agents -> servers");
  status_cmd->add_option("-o,--output", flags->output, "tree, or json")
      ->check(CLI::IsMember({"tree", "json"}));
  status_cmd->callback(
      [&cli, flags] { cli.run = [&cli, flags] { return status(cli.global, *flags); }; });

  auto* events = cluster->add_subcommand(
      "events", "Every agent's events merged in time order, labelled tier/agent");
  addEventsFlags(events, flags->events, "--follow");
  events->callback([&cli, flags] {
    cli.run = [&cli, flags] {
      auto cluster = clusterOrSay(*flags);
      if (!cluster) return kUsage;
      return runEvents(cli.global, flags->events,
                       [&]() -> std::optional<std::vector<AgentConnection>> {
                         std::vector<AgentTarget> targets;
                         for (const auto& tier : cluster->tiers) {
                           for (auto agent : tier.agents) {
                             agent.target.name = tier.name + "/" + agent.target.name;
                             targets.push_back(agent.target);
                           }
                         }
                         return connect(targets, cli.global.timeout);
                       });
    };
  });

  for (bool drain : {true, false}) {
    auto* cmd = cluster->add_subcommand(
        drain ? "drain" : "ready",
        drain ? "Take an agent out of the tier above (and its tier health to 503); traffic "
                "in flight carries on"
              : "Put a drained agent back into the tier above");
    cmd->add_option("agent", flags->agent, "the agent's name in the cluster file")->required();
    if (drain) {
      cmd->add_flag("--wait", flags->wait, "then wait until the agent holds no connection");
      cmd->add_option("--wait-timeout", flags->wait_timeout, "how long --wait waits (default 60s)");
    }
    cmd->callback([&cli, flags, drain] {
      cli.run = [&cli, flags, drain] { return drainOrReady(cli.global, *flags, drain); };
    });
  }
}

}  // namespace lb::ctl
