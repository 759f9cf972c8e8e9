#pragma once

#include <string>

namespace lb::config {

// Answers "does this host name resolve?" for the validator. An interface so that tests do not
// depend on the machine's DNS.
class Resolver {
 public:
  virtual ~Resolver() = default;
  // True when `host` (an IP literal or a name) resolves; otherwise sets *error.
  virtual bool resolves(const std::string& host, std::string* error) = 0;
};

// getaddrinfo(3); IP literals are accepted without a lookup.
class SystemResolver : public Resolver {
 public:
  bool resolves(const std::string& host, std::string* error) override;
};

}  // namespace lb::config
