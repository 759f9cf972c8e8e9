// libFuzzer target: arbitrary bytes as a YAML/JSON configuration.
#include <cstdint>
#include <string>

#include "agent/config/loader.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  using namespace lb::config;
  LoadOptions options;
  std::string text(reinterpret_cast<const char*>(data), size);
  load({{"fuzz.yaml", text, Format::kYaml}}, options);
  return 0;
}
