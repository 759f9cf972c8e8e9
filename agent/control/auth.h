#pragma once

#include <grpcpp/grpcpp.h>

#include <optional>
#include <string>
#include <vector>

namespace lb::control {

// What a caller of the management API may do: `read` may get and watch; `admin` may also apply
// and set server state.
enum class Role { kNone, kRead, kAdmin };

struct Caller {
  Role role = Role::kNone;
  // Who, for logs and events: the token's name, or the client certificate's subject.
  std::string identity;
};

// One line of a tokens file.
struct Token {
  std::string name;
  Role role = Role::kNone;
  std::string sha256;  // lowercase hex of the token's SHA-256: the file never holds the token
};

// Decides who a caller is and whether it may make a call. Without tokens and without a client
// CA every caller is an anonymous admin (the API then listens on loopback or a UNIX socket, or
// was explicitly made insecure). With tokens, each call must present `authorization: Bearer
// TOKEN`; with a client CA (mutual TLS) and no tokens, a verified certificate makes an admin.
//
// Threads: any (read-only after construction).
class Authenticator {
 public:
  Authenticator() = default;
  Authenticator(std::vector<Token> tokens, bool client_certificates)
      : tokens_(std::move(tokens)), client_certificates_(client_certificates) {}

  // Reads a tokens file: one `NAME ROLE SHA256HEX` per line, whitespace-separated, `#`
  // comments, ROLE `read` or `admin`. Errors name the file and line.
  static std::optional<Authenticator> fromFile(const std::string& path, bool client_certificates,
                                               std::string* error);

  // OK with the caller filled in, UNAUTHENTICATED (no or unknown credentials) or
  // PERMISSION_DENIED (known, but its role is below `needed`).
  grpc::Status authorize(const grpc::ServerContextBase& context, Role needed, Caller* caller) const;

  bool usesTokens() const { return !tokens_.empty(); }

 private:
  std::vector<Token> tokens_;
  bool client_certificates_ = false;
};

// Lowercase hex SHA-256 of `text` (what a tokens file holds for a token).
std::string sha256Hex(const std::string& text);

const char* toString(Role role);

}  // namespace lb::control
