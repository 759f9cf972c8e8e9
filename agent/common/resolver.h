#pragma once

#include <boost/asio/ip/address.hpp>
#include <map>
#include <optional>
#include <string>

namespace lb::common {

// Turns a host name or IP literal into an address. An interface so that the validator and the
// snapshot builder agree on one answer and tests do not depend on the machine's DNS.
class Resolver {
 public:
  virtual ~Resolver() = default;
  // The address `host` stands for (IPv4 first, as HAProxy prefers), or nullopt with *error set
  // to the resolver's reason.
  virtual std::optional<boost::asio::ip::address> resolve(const std::string& host,
                                                          std::string* error) = 0;
  bool resolves(const std::string& host, std::string* error) {
    return resolve(host, error).has_value();
  }
};

// getaddrinfo(3); IP literals are read without a lookup.
class SystemResolver : public Resolver {
 public:
  std::optional<boost::asio::ip::address> resolve(const std::string& host,
                                                  std::string* error) override;
};

// Remembers every answer of `upstream` (failures too): one validation and the snapshot built
// from it see the same addresses, and the control thread asks DNS nothing. Made per apply, so
// a reload sees names that moved.
//
// Threads: one at a time (the loader's, then the control thread's).
class CachingResolver : public Resolver {
 public:
  explicit CachingResolver(Resolver& upstream) : upstream_(upstream) {}
  std::optional<boost::asio::ip::address> resolve(const std::string& host,
                                                  std::string* error) override;

 private:
  struct Answer {
    std::optional<boost::asio::ip::address> address;
    std::string error;
  };
  Resolver& upstream_;
  std::map<std::string, Answer> answers_;
};

}  // namespace lb::common
