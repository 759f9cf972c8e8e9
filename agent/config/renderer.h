#pragma once

#include <string>

#include "lb/v1/config.pb.h"

namespace lb::config {

// Writes a Config in HAProxy syntax. Settings equal to HAProxy's built-in defaults are left
// out, so the output stays close to what a person writes; reading it back gives the same
// normalized Config: normalize(parse(render(c))) == c for any normalized c.
std::string renderHaproxy(const lb::v1::Config& config);

// One word as the HAProxy tokenizer needs it: bare when safe, else in double quotes with
// escapes.
std::string quoteWord(const std::string& word);

}  // namespace lb::config
