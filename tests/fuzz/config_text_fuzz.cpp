// libFuzzer target: arbitrary bytes as an HAProxy-syntax configuration. Besides "no crash", it
// checks a property: whatever loads cleanly renders to text that loads back to the same Config.
#include <google/protobuf/util/message_differencer.h>

#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <string>

#include "agent/config/loader.h"
#include "agent/config/renderer.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  using namespace lb::config;
  LoadOptions options;
  options.env = [](std::string_view) -> std::optional<std::string> { return "env"; };
  std::string text(reinterpret_cast<const char*>(data), size);
  LoadResult first = load({{"fuzz.cfg", text, Format::kHaproxy}}, options);
  if (!first.ok()) return 0;
  std::string rendered = renderHaproxy(first.config);
  LoadResult second = load({{"rendered.cfg", rendered, Format::kHaproxy}}, options);
  if (!second.ok() ||
      !google::protobuf::util::MessageDifferencer::Equals(first.config, second.config)) {
    std::fprintf(stderr, "render/parse round trip failed\n--- input\n%s\n--- rendered\n%s\n%s",
                 text.c_str(), rendered.c_str(), second.diagnostics.format().c_str());
    std::abort();
  }
  return 0;
}
