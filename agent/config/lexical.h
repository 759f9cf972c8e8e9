#pragma once

#include <algorithm>
#include <cctype>
#include <string_view>

namespace lb::config {

// A frontend, backend, server or defaults name as HAProxy accepts it: letters, digits, '-',
// '_', '.' and ':'.
inline bool isValidName(std::string_view name) {
  return !name.empty() && std::all_of(name.begin(), name.end(), [](char c) {
    return std::isalnum(static_cast<unsigned char>(c)) || c == '-' || c == '_' || c == '.' ||
           c == ':';
  });
}

// An even-length string of hexadecimal digits, i.e. bytes written in hex (send-binary,
// expect binary).
inline bool isHexBytes(std::string_view text) {
  return text.size() % 2 == 0 &&
         text.find_first_not_of("0123456789abcdefABCDEF") == std::string_view::npos;
}

}  // namespace lb::config
