// Who may use the management API: TLS, mutual TLS and bearer tokens, with certificates and
// tokens the test makes, and every refusal code a client can get.
#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <fstream>
#include <regex>
#include <sstream>
#include <string>

#include "tests/integration/api_client.h"
#include "tests/integration/harness.h"

namespace lb::testing {
namespace {

using ::testing::HasSubstr;

std::string readFile(const std::string& path) {
  std::ifstream in(path);
  std::ostringstream text;
  text << in.rdbuf();
  return text.str();
}

// Runs a command to completion; true when it exited 0.
bool run(const std::vector<std::string>& argv) {
  Process process(argv);
  auto code = process.wait(30s);
  if (code != 0) ADD_FAILURE() << argv[0] << " failed:\n" << process.finalOutput();
  return code == 0;
}

// A CA, a server certificate for 127.0.0.1 and two client certificates (one from the CA, one
// self-signed), made with the openssl command.
struct Certificates {
  TempDir dir;
  std::string path(const std::string& name) const { return dir.path() + "/" + name; }

  Certificates() {
    auto req = [&](const std::string& name, const std::string& subject) {
      return run({"/usr/bin/openssl", "req", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:P-256",
                  "-nodes", "-keyout", path(name + ".key"), "-out", path(name + ".csr"), "-subj",
                  subject});
    };
    auto sign = [&](const std::string& name, const std::string& extensions) {
      dir.write(name + ".ext", extensions);
      return run({"/usr/bin/openssl", "x509", "-req", "-in", path(name + ".csr"), "-CA",
                  path("ca.crt"), "-CAkey", path("ca.key"), "-CAcreateserial", "-days", "2", "-out",
                  path(name + ".crt"), "-extfile", path(name + ".ext")});
    };
    ok = run({"/usr/bin/openssl", "req", "-x509", "-newkey", "ec", "-pkeyopt",
              "ec_paramgen_curve:P-256", "-nodes", "-keyout", path("ca.key"), "-out",
              path("ca.crt"), "-days", "2", "-subj", "/CN=lb test CA"}) &&
         req("server", "/CN=lb-agent") &&
         sign("server", "subjectAltName=IP:127.0.0.1,DNS:localhost\n") &&
         req("client", "/CN=ops-laptop") && sign("client", "extendedKeyUsage=clientAuth\n") &&
         run({"/usr/bin/openssl", "req", "-x509", "-newkey", "ec", "-pkeyopt",
              "ec_paramgen_curve:P-256", "-nodes", "-keyout", path("rogue.key"), "-out",
              path("rogue.crt"), "-days", "2", "-subj", "/CN=rogue"});
  }

  std::shared_ptr<grpc::ChannelCredentials> client(const std::string& name = "") const {
    grpc::SslCredentialsOptions options;
    options.pem_root_certs = readFile(path("ca.crt"));
    if (!name.empty()) {
      options.pem_private_key = readFile(path(name + ".key"));
      options.pem_cert_chain = readFile(path(name + ".crt"));
    }
    return grpc::SslCredentials(options);
  }

  bool ok = false;
};

std::string config(const Backend& web) {
  return "defaults\n    mode tcp\n    timeout connect 1s\n    timeout client 30s\n"
         "    timeout server 30s\nfrontend fe\n    bind 127.0.0.1:0\n    default_backend be\n"
         "backend be\n    server s1 " +
         web.address() + "\n";
}

// The sha256sum of a token, as the docs tell users to make it.
std::string sha256(const std::string& text) {
  TempDir dir;
  std::string file = dir.write("token", text);
  Process sum({"/usr/bin/sha256sum", file});
  sum.wait();
  std::string out = sum.finalOutput();
  return out.substr(0, 64);
}

TEST(ApiAuthTest, TokensDecideWhoMayReadAndWhoMayChange) {
  Certificates certs;
  ASSERT_TRUE(certs.ok);
  Backend web("web");
  std::string tokens =
      certs.dir.write("tokens", "# name role sha256\nops admin " + sha256("admin-secret") +
                                    "\nviewer read " + sha256("read-secret") + "   # dashboards\n");
  Agent agent(config(web), {"--grpc-tls-cert", certs.path("server.crt"), "--grpc-tls-key",
                            certs.path("server.key"), "--grpc-tokens", tokens});
  lb::v1::GetStatusResponse status;
  lb::v1::ApplyConfigResponse applied;
  lb::v1::SetServerStateResponse set;
  // No token, a wrong one: UNAUTHENTICATED.
  ApiClient anonymous(agent.grpcAddress(), "", certs.client());
  EXPECT_EQ(anonymous.getStatus(&status).error_code(), grpc::StatusCode::UNAUTHENTICATED);
  ApiClient wrong(agent.grpcAddress(), "guess", certs.client());
  grpc::Status refused = wrong.getStatus(&status);
  EXPECT_EQ(refused.error_code(), grpc::StatusCode::UNAUTHENTICATED);
  EXPECT_EQ(refused.error_message(), "unknown token");
  // A read token reads and watches; changing is PERMISSION_DENIED.
  ApiClient viewer(agent.grpcAddress(), "read-secret", certs.client());
  ASSERT_TRUE(viewer.getStatus(&status).ok());
  refused = viewer.applyText(config(web), &applied);
  EXPECT_EQ(refused.error_code(), grpc::StatusCode::PERMISSION_DENIED);
  EXPECT_EQ(refused.error_message(), "token 'viewer' has the read role; this call needs admin");
  EXPECT_EQ(viewer.setServer("be", "s1", lb::v1::ServerStatus::DRAIN, &set).error_code(),
            grpc::StatusCode::PERMISSION_DENIED);
  // An admin token changes, and the agent logs who did.
  ApiClient ops(agent.grpcAddress(), "admin-secret", certs.client());
  ASSERT_TRUE(ops.setServer("be", "s1", lb::v1::ServerStatus::DRAIN, &set).ok());
  EXPECT_TRUE(agent.process().waitFor(std::regex("SetServerState from ops: be/s1 DRAIN")));
  // Without TLS the agent is not reachable at all.
  ApiClient plaintext(agent.grpcAddress(), "admin-secret");
  EXPECT_EQ(plaintext.getStatus(&status).error_code(), grpc::StatusCode::UNAVAILABLE);
}

TEST(ApiAuthTest, MutualTlsAdmitsOnlyCertificatesOfTheClientCa) {
  Certificates certs;
  ASSERT_TRUE(certs.ok);
  Backend web("web");
  Agent agent(config(web), {"--grpc-tls-cert", certs.path("server.crt"), "--grpc-tls-key",
                            certs.path("server.key"), "--grpc-client-ca", certs.path("ca.crt")});
  lb::v1::GetStatusResponse status;
  lb::v1::SetServerStateResponse set;
  ApiClient trusted(agent.grpcAddress(), "", certs.client("client"));
  ASSERT_TRUE(trusted.setServer("be", "s1", lb::v1::ServerStatus::DRAIN, &set).ok());
  EXPECT_TRUE(agent.process().waitFor(std::regex("SetServerState from [^\n]*ops-laptop")));
  // No certificate, or one the CA did not sign: the handshake fails.
  ApiClient none(agent.grpcAddress(), "", certs.client());
  EXPECT_EQ(none.getStatus(&status).error_code(), grpc::StatusCode::UNAVAILABLE);
  ApiClient rogue(agent.grpcAddress(), "", certs.client("rogue"));
  EXPECT_EQ(rogue.getStatus(&status).error_code(), grpc::StatusCode::UNAVAILABLE);
}

TEST(ApiAuthTest, TlsOnAPublicAddressStillNeedsTokensOrClientCertificates) {
  Certificates certs;
  ASSERT_TRUE(certs.ok);
  // Checked before anything listens: the agent stops at once.
  Process refused({LB_AGENT_PATH, "--grpc", "0.0.0.0:0", "--http", "127.0.0.1:0", "--threads", "1",
                   "--grpc-tls-cert", certs.path("server.crt"), "--grpc-tls-key",
                   certs.path("server.key")});
  EXPECT_EQ(refused.wait(), 1);
  EXPECT_THAT(refused.finalOutput(),
              HasSubstr("would let any client that reaches it apply configurations: give "
                        "--grpc-tokens or --grpc-client-ca"));
}

TEST(ApiAuthTest, ABadTokensFileStopsTheStartWithItsLine) {
  TempDir dir;
  Backend web("web");
  std::string cfg = dir.write("lb.cfg", config(web));
  std::string tokens = dir.write("tokens", "ops admin " + sha256("x") + "\nci writer abc\n");
  Process agent({LB_AGENT_PATH, "-f", cfg, "--grpc", "127.0.0.1:0", "--http", "127.0.0.1:0",
                 "--grpc-tokens", tokens});
  EXPECT_EQ(agent.wait(), 1);
  EXPECT_THAT(agent.finalOutput(),
              HasSubstr(tokens + ":2: unknown role 'writer'; use 'read' or 'admin'"));
}

}  // namespace
}  // namespace lb::testing
