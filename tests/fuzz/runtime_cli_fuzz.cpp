// libFuzzer target: the Runtime API's command parser and commands. Anyone who can write to a
// `stats socket` sends lines here; whatever they send must be split and answered (or refused)
// without a crash, a hang or an answer that breaks the framing. Runs against a real control
// plane with a configuration in force, at admin level (every command reachable).
#include <spdlog/spdlog.h>

#include <boost/asio/executor_work_guard.hpp>
#include <boost/asio/io_context.hpp>
#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <memory>
#include <string_view>

#include "agent/common/cli_words.h"
#include "agent/common/resolver.h"
#include "agent/common/time_source.h"
#include "agent/config/loader.h"
#include "agent/control/control_plane.h"
#include "agent/control/runtime_commands.h"

namespace {

struct World {
  boost::asio::io_context io;
  lb::common::AsioTimeSource time{io};
  lb::common::SystemResolver resolver;
  lb::control::ControlPlane control{io, time, resolver, lb::control::ControlPlaneOptions{}};
  lb::control::AgentIdentity identity;
  lb::control::RuntimeCommands commands{control, identity};

  World() {
    spdlog::set_level(spdlog::level::off);  // server changes log; the fuzzer needs none of it
    auto loaded = lb::config::load(
        {{"fuzz.cfg",
          "defaults\n    mode tcp\n    timeout connect 1s\n    timeout client 1s\n"
          "    timeout server 1s\nfrontend web\n    bind 127.0.0.1:0\n    default_backend be\n"
          "backend be\n    server s1 127.0.0.1:1 weight 3\n    server s2 127.0.0.1:2 backup\n"
          "listen both\n    bind 127.0.0.1:0\n    server a 127.0.0.1:3\n",
          lb::config::Format::kAuto}},
        {&resolver});
    bool done = false;
    // The apply finishes on this thread once every worker took the snapshot: keep the
    // io_context waiting for that (it would return at once with nothing queued yet).
    auto guard = boost::asio::make_work_guard(io);
    control.apply(std::move(loaded), lb::control::ApplyOptions{},
                  [&](lb::control::ApplyResult result) {
                    if (!result.ok()) std::abort();
                    done = true;
                  });
    while (!done) io.run_one();
    guard.reset();
  }
};

World& world() {
  static auto* w = new World;  // lives for the process: its threads never stop mid-input
  return *w;
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  auto& w = world();
  std::string_view input(reinterpret_cast<const char*>(data), size);
  lb::control::CliSession session;
  session.level = lb::control::CliLevel::kAdmin;
  size_t start = 0;
  while (start <= input.size()) {
    size_t end = input.find('\n', start);
    if (end == std::string_view::npos) end = input.size();
    for (const auto& words : lb::common::splitCliLine(input.substr(start, end - start))) {
      if (words.empty() || words.size() > lb::common::kMaxCliWords) std::abort();
      std::string answer = w.commands.run(words, session);
      if (session.quit) return 0;
      // An answer is text lines: a client finds its end by the prompt or the close, never by
      // a stray NUL.
      if (answer.find('\0') != std::string::npos) std::abort();
    }
    start = end + 1;
  }
  return 0;
}
