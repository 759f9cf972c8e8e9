#pragma once

#include <functional>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace lb::config {

// Looks up an environment variable; nullopt when it is not set.
using EnvLookup = std::function<std::optional<std::string>(std::string_view)>;
EnvLookup processEnv();

// Splits one line of HAProxy configuration into words, as HAProxy does: blanks separate words;
// '#' starts a comment; "double quotes" group words, allow backslash escapes and expand
// environment variables ($NAME, ${NAME}); 'single quotes' take everything literally; outside
// quotes a backslash escapes the next character (\  \# \\ \" \' and \r \n \t \xHH).
// Returns nullopt and sets *error on an unterminated quote or a bad escape.
std::optional<std::vector<std::string>> tokenize(std::string_view line, const EnvLookup& env,
                                                 std::string* error);

}  // namespace lb::config
