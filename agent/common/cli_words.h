#pragma once

#include <string>
#include <string_view>
#include <vector>

namespace lb::common {

// HAProxy's Runtime API command line, split as its CLI splits it: ';' separates commands, spaces
// and tabs separate words, a backslash makes the next character ordinary ("\;", "\ ", "\\"),
// other control bytes (CR, NUL, ...) are dropped.
// Empty commands are dropped. At most kMaxCliWords words per command: the rest of a longer
// command is kept in the last word, so nothing a client sends is lost or unbounded.
constexpr size_t kMaxCliWords = 64;
std::vector<std::vector<std::string>> splitCliLine(std::string_view line);

}  // namespace lb::common
