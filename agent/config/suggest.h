#pragma once

#include <string>
#include <string_view>
#include <vector>

namespace lb::config {

// The candidate closest to `word` by edit distance, or "" when none is close enough to be a
// plausible typo.
std::string closestMatch(std::string_view word, const std::vector<std::string>& candidates);

// "; did you mean 'x'?" or "" — ready to append to a message.
std::string didYouMean(std::string_view word, const std::vector<std::string>& candidates);

}  // namespace lb::config
