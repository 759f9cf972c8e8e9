#include "agent/config/suggest.h"

#include <algorithm>
#include <cctype>

namespace lb::config {

namespace {
// Damerau-Levenshtein (optimal string alignment) distance; '-' and '_' count as equal, and so
// do upper and lower case, since those are the usual slips in names like web-test / web_test.
size_t distance(std::string_view a, std::string_view b) {
  auto same = [](char x, char y) {
    auto fold = [](char c) {
      c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
      return c == '_' ? '-' : c;
    };
    return fold(x) == fold(y);
  };
  std::vector<std::vector<size_t>> d(a.size() + 1, std::vector<size_t>(b.size() + 1));
  for (size_t i = 0; i <= a.size(); ++i) d[i][0] = i;
  for (size_t j = 0; j <= b.size(); ++j) d[0][j] = j;
  for (size_t i = 1; i <= a.size(); ++i) {
    for (size_t j = 1; j <= b.size(); ++j) {
      size_t cost = same(a[i - 1], b[j - 1]) ? 0 : 1;
      d[i][j] = std::min({d[i - 1][j] + 1, d[i][j - 1] + 1, d[i - 1][j - 1] + cost});
      if (i > 1 && j > 1 && same(a[i - 1], b[j - 2]) && same(a[i - 2], b[j - 1])) {
        d[i][j] = std::min(d[i][j], d[i - 2][j - 2] + 1);
      }
    }
  }
  return d[a.size()][b.size()];
}
}  // namespace

std::string closestMatch(std::string_view word, const std::vector<std::string>& candidates) {
  std::string best;
  size_t best_distance = std::max<size_t>(2, word.size() / 3) + 1;
  for (const auto& candidate : candidates) {
    if (candidate == word) continue;
    size_t d = distance(word, candidate);
    // Case/separator-only differences count as distance 0 but are still worth suggesting.
    if (d < best_distance) {
      best = candidate;
      best_distance = d;
    }
  }
  return best;
}

std::string didYouMean(std::string_view word, const std::vector<std::string>& candidates) {
  std::string best = closestMatch(word, candidates);
  return best.empty() ? "" : "; did you mean '" + best + "'?";
}

}  // namespace lb::config
