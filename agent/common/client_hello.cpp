#include "agent/common/client_hello.h"

namespace lb::common {

namespace {

constexpr uint8_t kHandshakeRecord = 0x16;
constexpr uint8_t kClientHello = 1;
constexpr uint16_t kServerNameExtension = 0;
constexpr uint16_t kAlpnExtension = 16;

// A bounds-checked reader over one message; any read past the end makes it fail for good.
class Reader {
 public:
  explicit Reader(std::string_view bytes) : bytes_(bytes) {}
  bool ok() const { return ok_; }
  size_t left() const { return ok_ ? bytes_.size() - at_ : 0; }
  uint32_t number(size_t width) {
    if (left() < width) return fail();
    uint32_t value = 0;
    for (size_t i = 0; i < width; ++i) {
      value = (value << 8) | static_cast<uint8_t>(bytes_[at_ + i]);
    }
    at_ += width;
    return value;
  }
  std::string_view take(size_t n) {
    if (left() < n) {
      fail();
      return {};
    }
    auto out = bytes_.substr(at_, n);
    at_ += n;
    return out;
  }
  // A vector with a `width`-byte length prefix.
  std::string_view vector(size_t width) { return take(number(width)); }

 private:
  uint32_t fail() {
    ok_ = false;
    return 0;
  }
  std::string_view bytes_;
  size_t at_ = 0;
  bool ok_ = true;
};

void readServerName(std::string_view data, ClientHello& out) {
  Reader list(Reader(data).vector(2));
  while (list.ok() && list.left() > 0) {
    uint32_t type = list.number(1);
    std::string_view name = list.vector(2);
    if (list.ok() && type == 0) {  // host_name
      out.sni = name;
      return;
    }
  }
}

void readAlpn(std::string_view data, ClientHello& out) {
  Reader list(Reader(data).vector(2));
  while (list.ok() && list.left() > 0) {
    std::string_view name = list.vector(1);
    if (list.ok() && !name.empty()) out.alpn.push_back(name);
  }
}

}  // namespace

ClientHello parseClientHello(std::string_view bytes) {
  ClientHello out;
  if (bytes.empty()) return out;
  if (static_cast<uint8_t>(bytes[0]) != kHandshakeRecord) {
    out.status = ClientHello::Status::kNotTls;
    return out;
  }
  if (bytes.size() < 5) return out;
  Reader header(bytes.substr(0, 5));
  header.number(1);
  uint32_t major = header.number(1);
  uint32_t minor = header.number(1);
  uint32_t length = header.number(2);
  out.record_version = (major << 16) | minor;
  if (major != 3 || length == 0 || length > (1u << 14) + 2048) {
    out.status = ClientHello::Status::kNotTls;
    return out;
  }
  if (bytes.size() > 5) out.handshake_type = static_cast<uint8_t>(bytes[5]);
  if (bytes.size() < 5 + length) return out;
  out.status = ClientHello::Status::kNotTls;
  Reader record(bytes.substr(5, length));
  uint32_t type = record.number(1);
  std::string_view body = record.vector(3);  // a hello longer than its record: split, not read
  if (!record.ok() || type != kClientHello) {
    if (record.ok()) out.status = ClientHello::Status::kOk;  // a handshake, not a hello
    return out;
  }
  Reader hello(body);
  hello.take(2 + 32);  // client_version, random
  hello.vector(1);     // session_id
  hello.vector(2);     // cipher_suites
  hello.vector(1);     // compression_methods
  if (!hello.ok()) return out;
  out.status = ClientHello::Status::kOk;
  if (hello.left() == 0) return out;  // no extensions (SSLv3-style hello)
  Reader extensions(hello.vector(2));
  while (extensions.ok() && extensions.left() > 0) {
    uint32_t ext_type = extensions.number(2);
    std::string_view data = extensions.vector(2);
    if (!extensions.ok()) break;
    if (ext_type == kServerNameExtension) readServerName(data, out);
    if (ext_type == kAlpnExtension) readAlpn(data, out);
  }
  return out;
}

}  // namespace lb::common
