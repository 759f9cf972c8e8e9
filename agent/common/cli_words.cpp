#include "agent/common/cli_words.h"

namespace lb::common {

std::vector<std::vector<std::string>> splitCliLine(std::string_view line) {
  std::vector<std::vector<std::string>> commands;
  std::vector<std::string> words;
  std::string word;
  bool in_word = false;
  auto endWord = [&] {
    if (in_word) words.push_back(std::move(word));
    word.clear();
    in_word = false;
  };
  auto endCommand = [&] {
    endWord();
    if (!words.empty()) commands.push_back(std::move(words));
    words.clear();
  };
  for (size_t i = 0; i < line.size(); ++i) {
    char c = line[i];
    if (c == '\\' && i + 1 < line.size()) {
      char escaped = line[++i];
      if (static_cast<unsigned char>(escaped) >= 0x20 && escaped != 0x7f) word += escaped;
      in_word = true;
    } else if (c == ';') {
      endCommand();
    } else if ((c == ' ' || c == '\t') && words.size() + 1 < kMaxCliWords) {
      endWord();
    } else if (static_cast<unsigned char>(c) < 0x20 || c == 0x7f) {
      // CR (before the newline), NUL and other control bytes are no part of any word: an
      // answer that repeats a word never carries them back
    } else {
      word += c;
      in_word = true;
    }
  }
  endCommand();
  return commands;
}

}  // namespace lb::common
