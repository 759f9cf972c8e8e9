// lbctl apply and lbctl diff: a configuration checked here with the agents' own validator, then
// sent as text (so the agents' errors name the user's lines too) to every agent at once.
#include <google/protobuf/any.pb.h>

#include <iostream>

#include "agent/config/loader.h"
#include "agent/config/validator.h"
#include "ctl/commands.h"
#include "ctl/output.h"

namespace lb::ctl {

namespace {

struct ApplyFlags {
  std::vector<std::string> files;
  bool dry_run = false;
  uint64_t expected_version = 0;
  bool allow_no_listener = false;
};

// Loads and validates the files as an agent would (without resolving names: the agents do, from
// where they are). Prints what it found; nullopt when nothing may be sent.
std::optional<std::vector<config::Source>> checkLocally(const ApplyFlags& flags) {
  config::LoadOptions options;  // no resolver: names are the agents' to resolve
  auto loaded = config::loadFiles(flags.files, options);
  std::cerr << loaded.diagnostics.format();
  if (!loaded.ok()) {
    int errors = loaded.diagnostics.errorCount();
    std::cerr << errors << " error" << (errors == 1 ? "" : "s")
              << " found here; nothing was sent to the agents\n";
    return std::nullopt;
  }
  if (!config::hasListener(loaded.config) && !flags.allow_no_listener &&
      !loaded.config.global().allow_no_listener()) {
    std::cerr << "error: the configuration has no listener (no enabled frontend with a 'bind'): "
                 "it would stop every frontend; give --allow-no-listener if that is meant. "
                 "Nothing was sent to the agents\n";
    return std::nullopt;
  }
  return loaded.texts;
}

void printDiff(const lb::v1::ConfigDiff& d, const Style& style) {
  auto names = [](const auto& fields) {
    std::string out;
    for (const auto& f : fields) out += (out.empty() ? "" : ", ") + f;
    return out;
  };
  auto added = [&](const std::string& kind, const auto& list) {
    for (const auto& n : list)
      std::cout << "    " << style.paint("+ " + kind + " " + n, Color::kGreen) << "\n";
  };
  auto removed = [&](const std::string& kind, const auto& list) {
    for (const auto& n : list)
      std::cout << "    " << style.paint("- " + kind + " " + n, Color::kRed) << "\n";
  };
  auto changed = [&](const std::string& kind, const auto& list) {
    for (const auto& c : list) {
      std::cout << "    "
                << style.paint("~ " + kind + " " + c.name() + ": " + names(c.fields()),
                               Color::kYellow)
                << "\n";
    }
  };
  if (d.global_changed_size() > 0) {
    std::cout << "    " << style.paint("~ global: " + names(d.global_changed()), Color::kYellow)
              << "\n";
  }
  added("frontend", d.frontends_added());
  removed("frontend", d.frontends_removed());
  changed("frontend", d.frontends_changed());
  added("backend", d.backends_added());
  removed("backend", d.backends_removed());
  changed("backend", d.backends_changed());
  added("server", d.servers_added());
  removed("server", d.servers_removed());
  changed("server", d.servers_changed());
}

bool hasChanges(const lb::v1::ConfigDiff& d) {
  return d.summary() != "no changes";
}

struct Answer {
  grpc::Status status;
  lb::v1::ApplyConfigResponse response;
};

// Every error of a refused apply, from the structured details when there are some.
void printRefusal(const grpc::Status& status, const std::string& name, Millis timeout) {
  std::cout << name << ": ";
  if (status.error_code() == grpc::StatusCode::INVALID_ARGUMENT) {
    lb::v1::ErrorStatus details;
    lb::v1::ApplyErrors errors;
    if (details.ParseFromString(status.error_details()) && details.details_size() > 0 &&
        details.details(0).UnpackTo(&errors) && errors.errors_size() > 0) {
      std::cout << "refused, " << errors.errors_size() << " error"
                << (errors.errors_size() == 1 ? "" : "s") << " (version " << errors.version()
                << " stays)\n";
      for (const auto& e : errors.errors()) std::cout << "    " << e.text() << "\n";
      return;
    }
  }
  if (status.error_code() == grpc::StatusCode::FAILED_PRECONDITION) {
    std::cout << "refused: " << status.error_message() << "\n";
    return;
  }
  std::cout << describe(status, timeout) << "\n";
}

int run(const GlobalOptions& global, const ApplyFlags& flags, bool diff_only) {
  auto sources = checkLocally(flags);
  if (!sources) return kFailed;
  auto agents = agentsOrSay(global);
  if (!agents) return kUsage;
  lb::v1::ApplyConfigRequest request;
  for (const auto& source : *sources) {
    auto* file = request.mutable_sources()->add_files();
    file->set_name(source.name);
    file->set_content(source.text);
    file->set_format(config::formatName(source.format));
  }
  request.set_dry_run(flags.dry_run || diff_only);
  request.set_expected_version(flags.expected_version);
  request.set_allow_no_listener(flags.allow_no_listener);
  auto answers = forEachAgent<Answer>(*agents, [&](AgentConnection& agent) {
    Answer answer;
    answer.status = agent.call([&](grpc::ClientContext* context, lb::v1::Agent::Stub& stub) {
      return stub.ApplyConfig(context, request, &answer.response);
    });
    return answer;
  });
  Style style(colorWanted(global.no_color));
  bool failed = false, differs = false;
  for (size_t i = 0; i < answers.size(); ++i) {
    const auto& agent = (*agents)[i];
    const auto& [status, r] = answers[i];
    if (!status.ok()) {
      failed = true;
      printRefusal(status, agent.name(), agent.timeout());
      continue;
    }
    const bool changes = hasChanges(r.diff());
    differs = differs || changes;
    std::cout << agent.name() << ": ";
    if (!request.dry_run()) {
      if (r.applied()) {
        std::cout << "version " << r.previous_version() << " -> " << r.version() << " ("
                  << r.diff().summary() << ")\n";
      } else {
        std::cout << "unchanged, version " << r.version() << "\n";
      }
    } else if (changes) {
      std::cout << "version " << r.version() << " would become " << r.version() + 1 << " ("
                << r.diff().summary() << ")\n";
    } else {
      std::cout << "no changes, version " << r.version() << "\n";
    }
    printDiff(r.diff(), style);
    for (const auto& w : r.warnings()) std::cout << "    " << w.text() << "\n";
  }
  if (diff_only) return failed ? kUsage : (differs ? kFailed : kOk);
  return failed ? kFailed : kOk;
}

}  // namespace

void addApplyCommands(CLI::App& app, Cli& cli) {
  auto flags = std::make_shared<ApplyFlags>();
  auto* apply = app.add_subcommand(
      "apply", "Check a configuration here, then put it in force on every agent");
  apply
      ->add_option("-f,--filename", flags->files,
                   "configuration file (HAProxy syntax, YAML or JSON); repeat for several, read "
                   "in order")
      ->required()
      ->check(CLI::ExistingFile);
  apply->add_flag("--dry-run", flags->dry_run,
                  "check and show what would change on each agent; change nothing");
  apply->add_option("--expected-version", flags->expected_version,
                    "apply only where this version is in force (a read-modify-write guard)");
  apply->add_flag("--allow-no-listener", flags->allow_no_listener,
                  "accept a configuration without any listening frontend");
  apply->footer(
      "Examples:\n"
      "  lbctl apply -f haproxy.cfg\n"
      "  lbctl apply -f haproxy.cfg --dry-run\n"
      "  lbctl --agent 10.0.0.11:9901 --agent 10.0.0.12:9901 apply -f haproxy.cfg\n\n"
      "Prints one line per agent (agent: version 7 -> 8 (+1 server, 1 changed)) and what "
      "changed.\nExit status: 0 applied (or unchanged) everywhere, 1 refused or unreachable "
      "somewhere, 2 usage.");
  apply->callback(
      [&cli, flags] { cli.run = [&cli, flags] { return run(cli.global, *flags, false); }; });

  auto* diff = app.add_subcommand("diff", "Show what 'apply' would change on each agent");
  diff->add_option("-f,--filename", flags->files, "configuration file; repeat for several")
      ->required()
      ->check(CLI::ExistingFile);
  diff->footer(
      "Example:\n"
      "  lbctl diff -f haproxy.cfg\n\n"
      "Exit status (kubectl's): 0 no differences, 1 differences, 2 usage or an agent could not "
      "be asked.");
  diff->callback(
      [&cli, flags] { cli.run = [&cli, flags] { return run(cli.global, *flags, true); }; });
}

}  // namespace lb::ctl
