// lbctl get: the configuration in force on each agent, as HAProxy syntax (which lb-agent -c and
// haproxy -c both accept), YAML or JSON, or the text it was applied from.
#include <yaml-cpp/yaml.h>

#include <iostream>

#include "agent/config/renderer.h"
#include "ctl/commands.h"
#include "ctl/output.h"

namespace lb::ctl {

namespace {

struct GetFlags {
  std::string output = "haproxy";
  bool source = false;
};

// JSON (protobuf's mapping, the proto's field names) re-emitted as YAML: the shape the YAML
// loader reads back.
void blockStyle(YAML::Node node) {
  node.SetStyle(YAML::EmitterStyle::Block);
  if (node.IsMap()) {
    for (auto entry : node) blockStyle(entry.second);
  } else if (node.IsSequence()) {
    for (auto item : node) blockStyle(item);
  }
}

std::string toYaml(const google::protobuf::Message& message) {
  YAML::Node node = YAML::Load(toJson(message, false));
  blockStyle(node);
  YAML::Emitter out;
  out << node;
  return std::string(out.c_str()) + "\n";
}

struct Answer {
  grpc::Status status;
  lb::v1::GetConfigResponse response;
};

int run(const GlobalOptions& global, const GetFlags& flags) {
  auto agents = agentsOrSay(global);
  if (!agents) return kUsage;
  auto answers = forEachAgent<Answer>(*agents, [&](AgentConnection& agent) {
    Answer answer;
    answer.status = agent.call([&](grpc::ClientContext* context, lb::v1::Agent::Stub& stub) {
      return stub.GetConfig(context, lb::v1::GetConfigRequest(), &answer.response);
    });
    return answer;
  });
  const bool several = agents->size() > 1;
  const std::string comment = flags.output == "json" ? "" : "# ";
  bool failed = false;
  for (size_t i = 0; i < answers.size(); ++i) {
    const auto& agent = (*agents)[i];
    const auto& [status, r] = answers[i];
    if (!status.ok()) {
      std::cerr << agent.name() << ": " << describe(status, agent.timeout()) << "\n";
      failed = true;
      continue;
    }
    if (several && flags.output != "json") {
      std::cout << comment << agent.name() << ": version " << r.version()
                << (r.applied_by().empty() ? "" : ", applied by " + r.applied_by()) << "\n";
    }
    if (r.version() == 0) {
      std::cerr << agent.name() << ": no configuration yet (version 0)\n";
      continue;
    }
    if (flags.source) {
      if (r.sources().files_size() == 0) {
        std::cerr << agent.name()
                  << ": this configuration came as a typed Config, not as text; leave out "
                     "--source\n";
        failed = true;
        continue;
      }
      for (const auto& file : r.sources().files()) {
        if (r.sources().files_size() > 1) std::cout << "# file: " << file.name() << "\n";
        std::cout << file.content();
        if (!file.content().empty() && file.content().back() != '\n') std::cout << "\n";
      }
    } else if (flags.output == "haproxy") {
      std::cout << config::renderHaproxy(r.config());
    } else if (flags.output == "yaml") {
      std::cout << toYaml(r.config());
    } else {
      if (several) {
        // One JSON object per agent, one per line, each saying whose it is.
        std::cout << "{\"agent\":" << jsonQuote(agent.name()) << ",\"version\":" << r.version()
                  << ",\"config\":" << toJson(r.config(), false) << "}\n";
      } else {
        std::cout << toJson(r.config(), true) << "\n";
      }
    }
  }
  return failed ? kFailed : kOk;
}

}  // namespace

void addGetCommand(CLI::App& app, Cli& cli) {
  auto flags = std::make_shared<GetFlags>();
  auto* get = app.add_subcommand("get", "Show the configuration in force on each agent");
  get->add_option("-o,--output", flags->output,
                  "haproxy (HAProxy syntax, every default written out), yaml or json")
      ->check(CLI::IsMember({"haproxy", "yaml", "json"}));
  get->add_flag("--source", flags->source,
                "show the text the configuration was applied from, as it was written");
  get->footer(
      "Examples:\n"
      "  lbctl get                          # HAProxy syntax, accepted by lb-agent -c and haproxy "
      "-c\n"
      "  lbctl get -o yaml > lb.yaml        # the same as YAML, which lbctl apply reads back\n"
      "  lbctl --agent 127.0.0.1:9901 get --source\n\n"
      "With several agents each one's configuration follows a '# agent: version N' line.");
  get->callback([&cli, flags] { cli.run = [&cli, flags] { return run(cli.global, *flags); }; });
}

}  // namespace lb::ctl
