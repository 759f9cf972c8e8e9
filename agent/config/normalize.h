#pragma once

#include <chrono>

#include "lb/v1/config.pb.h"

namespace lb::config {

// HAProxy's built-in defaults, which normalize() writes into a Config.
inline constexpr std::chrono::seconds kDefaultInter{2};
inline constexpr uint32_t kDefaultRise = 2;
inline constexpr uint32_t kDefaultFall = 3;
inline constexpr uint32_t kDefaultWeight = 1;
inline constexpr uint32_t kDefaultRetries = 3;
inline constexpr uint32_t kDefaultErrorLimit = 10;
inline constexpr uint32_t kDefaultRandomDraws = 2;
inline constexpr const char* kDefaultCheckMethod = "OPTIONS";
inline constexpr const char* kDefaultCheckUri = "/";
inline constexpr const char* kDefaultCheckVersion = "HTTP/1.0";

// Fills every setting HAProxy gives a fixed default and that the config left unset (mode tcp,
// balance roundrobin, retries 3, weight 1, inter 2s, rise 2, fall 3, error-limit 10,
// on-error fail-check, the httpchk request line). Idempotent. Settings whose absence means
// something (no `timeout check`, no fastinter = inter) stay unset. Empty messages (`timeouts {}`,
// `log {}`, `global {}`) are dropped, since they mean the same as absent ones.
void normalize(lb::v1::Config& config);

}  // namespace lb::config
