#include "agent/control/auth.h"

#include <openssl/crypto.h>
#include <openssl/sha.h>

#include <fstream>
#include <sstream>

namespace lb::control {

namespace {

bool isHex64(const std::string& s) {
  if (s.size() != 64) return false;
  for (char c : s) {
    if (!std::isxdigit(static_cast<unsigned char>(c))) return false;
  }
  return true;
}

std::string lower(std::string s) {
  for (char& c : s) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  return s;
}

// The verified client certificate's subject (or common name), when there is one.
std::string certificateSubject(const grpc::ServerContextBase& context) {
  auto auth = context.auth_context();
  if (!auth || !auth->IsPeerAuthenticated()) return "";
  for (const char* property : {"x509_subject", "x509_common_name"}) {
    auto values = auth->FindPropertyValues(property);
    if (!values.empty()) return std::string(values.front().data(), values.front().size());
  }
  auto identity = auth->GetPeerIdentity();
  if (!identity.empty()) return std::string(identity.front().data(), identity.front().size());
  return "";
}

}  // namespace

const char* toString(Role role) {
  switch (role) {
    case Role::kRead:
      return "read";
    case Role::kAdmin:
      return "admin";
    case Role::kNone:
      break;
  }
  return "none";
}

std::string sha256Hex(const std::string& text) {
  unsigned char digest[SHA256_DIGEST_LENGTH];
  SHA256(reinterpret_cast<const unsigned char*>(text.data()), text.size(), digest);
  static const char* kHex = "0123456789abcdef";
  std::string out;
  for (unsigned char byte : digest) {
    out += kHex[byte >> 4];
    out += kHex[byte & 15];
  }
  return out;
}

std::optional<Authenticator> Authenticator::fromFile(const std::string& path,
                                                     bool client_certificates, std::string* error) {
  std::ifstream in(path);
  if (!in) {
    *error = path + ": cannot read the tokens file";
    return std::nullopt;
  }
  std::vector<Token> tokens;
  std::string line;
  int number = 0;
  while (std::getline(in, line)) {
    ++number;
    if (auto hash = line.find('#'); hash != std::string::npos) line.resize(hash);
    std::istringstream words(line);
    std::vector<std::string> w;
    for (std::string word; words >> word;) w.push_back(word);
    if (w.empty()) continue;
    std::string where = path + ":" + std::to_string(number) + ": ";
    if (w.size() != 3) {
      *error = where + "expected 'NAME ROLE SHA256HEX' (ROLE read or admin), found " +
               std::to_string(w.size()) + " word" + (w.size() == 1 ? "" : "s");
      return std::nullopt;
    }
    Token token;
    token.name = w[0];
    if (w[1] == "read") {
      token.role = Role::kRead;
    } else if (w[1] == "admin") {
      token.role = Role::kAdmin;
    } else {
      *error = where + "unknown role '" + w[1] + "'; use 'read' or 'admin'";
      return std::nullopt;
    }
    if (!isHex64(w[2])) {
      *error = where + "'" + w[2] + "' is not a SHA-256 in hex (64 digits); make one with: " +
               "printf %s \"$TOKEN\" | sha256sum";
      return std::nullopt;
    }
    token.sha256 = lower(w[2]);
    for (const auto& other : tokens) {
      if (other.name == token.name) {
        *error = where + "token name '" + token.name + "' is used twice";
        return std::nullopt;
      }
    }
    tokens.push_back(std::move(token));
  }
  if (tokens.empty()) {
    *error = path + ": no token in the file; every call would be refused";
    return std::nullopt;
  }
  return Authenticator(std::move(tokens), client_certificates);
}

grpc::Status Authenticator::authorize(const grpc::ServerContextBase& context, Role needed,
                                      Caller* caller) const {
  std::string subject = client_certificates_ ? certificateSubject(context) : "";
  if (tokens_.empty()) {
    if (client_certificates_ && subject.empty()) {
      return grpc::Status(grpc::StatusCode::UNAUTHENTICATED,
                          "a verified client certificate is required");
    }
    caller->role = Role::kAdmin;
    caller->identity = subject.empty() ? "anonymous" : subject;
    return grpc::Status::OK;
  }
  const auto& metadata = context.client_metadata();
  auto it = metadata.find("authorization");
  if (it == metadata.end()) {
    return grpc::Status(grpc::StatusCode::UNAUTHENTICATED,
                        "missing credentials: send 'authorization: Bearer TOKEN' metadata");
  }
  std::string value(it->second.data(), it->second.size());
  const std::string prefix = "Bearer ";
  if (value.rfind(prefix, 0) != 0 || value.size() == prefix.size()) {
    return grpc::Status(grpc::StatusCode::UNAUTHENTICATED,
                        "the authorization metadata must be 'Bearer TOKEN'");
  }
  std::string digest = sha256Hex(value.substr(prefix.size()));
  const Token* found = nullptr;
  for (const auto& token : tokens_) {
    // Compared in constant time: how much of a hash matched says nothing.
    if (CRYPTO_memcmp(token.sha256.data(), digest.data(), digest.size()) == 0) found = &token;
  }
  if (found == nullptr) {
    return grpc::Status(grpc::StatusCode::UNAUTHENTICATED, "unknown token");
  }
  caller->role = found->role;
  caller->identity = subject.empty() ? found->name : found->name + " (" + subject + ")";
  if (needed == Role::kAdmin && found->role != Role::kAdmin) {
    return grpc::Status(grpc::StatusCode::PERMISSION_DENIED,
                        "token '" + found->name + "' has the read role; this call needs admin");
  }
  return grpc::Status::OK;
}

}  // namespace lb::control
