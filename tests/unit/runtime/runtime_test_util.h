#pragma once

// Snapshots built from HAProxy text for the runtime tests.

#include <gtest/gtest.h>

#include <memory>
#include <string>

#include "agent/config/loader.h"
#include "agent/runtime/build.h"

namespace lb::runtime {

// The Config of HAProxy text, normalized and validated (no name lookups).
inline lb::v1::Config parse(const std::string& text) {
  auto loaded = config::load({config::Source{"test.cfg", text, config::Format::kHaproxy}}, {});
  EXPECT_TRUE(loaded.ok()) << loaded.diagnostics.format();
  return loaded.config;
}

inline std::shared_ptr<Runtime> buildText(const std::string& text, StateStore& store,
                                          uint64_t version = 1,
                                          common::Resolver* resolver = nullptr) {
  auto built = buildRuntime(parse(text), BuildContext{version, &store, resolver, nullptr});
  EXPECT_NE(built.runtime, nullptr) << built.error.path << ": " << built.error.message;
  return built.runtime;
}

}  // namespace lb::runtime
