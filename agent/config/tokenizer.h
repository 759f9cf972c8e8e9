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

// Splits one line of HAProxy configuration into words, as HAProxy 2.6's parse_line() does:
// blanks separate words; '#' starts a comment; a CR or LF ends the line; "double quotes" group
// words, allow backslash escapes and expand environment variables ($NAME, ${NAME},
// ${NAME-default} when NAME is unset, ${NAME[*]} split into words, $.LINE/$.FILE/$.SECTION
// asked of `env` by those names); a '$' not starting a name is an error there (\$ is a '$');
// 'single quotes' take everything literally; outside them a backslash escapes \  \# \\ \"
// \' and makes \r \n \t \xHH, and any other backslash is kept as it is.
// Returns nullopt and sets *error on an unterminated quote or brace, a bad escape or name.
std::optional<std::vector<std::string>> tokenize(std::string_view line, const EnvLookup& env,
                                                 std::string* error);

// Expands "$NAME" and "${NAME}" anywhere in an address, as HAProxy 2.6 does for every address
// it parses (bind, server), quoted or not; an unset NAME gives "".
std::string expandAddressEnv(std::string_view text, const EnvLookup& env);

}  // namespace lb::config
