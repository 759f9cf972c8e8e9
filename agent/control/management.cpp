#include "agent/control/management.h"

#include <grpcpp/ext/proto_server_reflection_plugin.h>
#include <grpcpp/health_check_service_interface.h>

#include <atomic>
#include <fstream>
#include <sstream>
#include <thread>

namespace lb::control {

namespace {

bool readFile(const std::string& path, std::string* out, std::string* error) {
  std::ifstream in(path, std::ios::binary);
  if (!in) {
    *error = "cannot read " + path;
    return false;
  }
  std::ostringstream text;
  text << in.rdbuf();
  *out = text.str();
  return true;
}

}  // namespace

bool isLocalAddress(const std::string& address) {
  if (address.rfind("unix:", 0) == 0 || address.rfind("unix-abstract:", 0) == 0) return true;
  std::string host = address;
  if (!host.empty() && host.front() == '[') {
    host = host.substr(1, host.find(']') - 1);
  } else if (auto colon = host.rfind(':'); colon != std::string::npos) {
    host.resize(colon);
  }
  return host == "localhost" || host == "::1" || host.rfind("127.", 0) == 0;
}

ManagementServer::ManagementServer(ControlPlane& control, boost::asio::io_context& control_io,
                                   AgentIdentity identity)
    : control_(control), io_(control_io), identity_(std::move(identity)) {}

ManagementServer::~ManagementServer() {
  shutdown();
}

bool ManagementServer::start(const ManagementOptions& options, std::string* error) {
  const bool tls = !options.tls_cert.empty() || !options.tls_key.empty();
  if (tls && (options.tls_cert.empty() || options.tls_key.empty())) {
    *error = "--grpc-tls-cert and --grpc-tls-key go together";
    return false;
  }
  if (!options.client_ca.empty() && !tls) {
    *error = "--grpc-client-ca needs TLS: give --grpc-tls-cert and --grpc-tls-key too";
    return false;
  }
  if (!tls && !isLocalAddress(options.address) && !options.insecure) {
    *error = "the management API at " + options.address +
             " is reachable from other hosts without TLS: give --grpc-tls-cert and "
             "--grpc-tls-key (and --grpc-tokens), or --grpc-insecure if that is meant";
    return false;
  }
  if (tls && options.tokens_file.empty() && options.client_ca.empty() &&
      !isLocalAddress(options.address) && !options.insecure) {
    // TLS alone encrypts; it does not say who may change the configuration.
    *error = "the management API at " + options.address +
             " would let any client that reaches it apply configurations: give --grpc-tokens "
             "or --grpc-client-ca, or --grpc-insecure if that is meant";
    return false;
  }
  if (!options.tokens_file.empty()) {
    auto auth = Authenticator::fromFile(options.tokens_file, !options.client_ca.empty(), error);
    if (!auth) return false;
    auth_ = std::move(*auth);
  } else {
    auth_ = Authenticator({}, !options.client_ca.empty());
  }
  std::shared_ptr<grpc::ServerCredentials> credentials = grpc::InsecureServerCredentials();
  if (tls) {
    grpc::SslServerCredentialsOptions ssl;
    grpc::SslServerCredentialsOptions::PemKeyCertPair pair;
    if (!readFile(options.tls_key, &pair.private_key, error) ||
        !readFile(options.tls_cert, &pair.cert_chain, error)) {
      return false;
    }
    ssl.pem_key_cert_pairs.push_back(std::move(pair));
    if (!options.client_ca.empty()) {
      if (!readFile(options.client_ca, &ssl.pem_root_certs, error)) return false;
      ssl.client_certificate_request = GRPC_SSL_REQUEST_AND_REQUIRE_CLIENT_CERTIFICATE_AND_VERIFY;
    }
    credentials = grpc::SslServerCredentials(ssl);
  }
  grpc::EnableDefaultHealthCheckService(true);
  grpc::reflection::InitProtoReflectionServerBuilderPlugin();
  service_ =
      std::make_unique<AgentService>(control_, io_, auth_, identity_, [this] { setServing(true); });
  grpc::ServerBuilder builder;
  int port = 0;
  builder.AddListeningPort(options.address, credentials, &port);
  builder.SetMaxReceiveMessageSize(options.max_message);
  builder.RegisterService(service_.get());
  server_ = builder.BuildAndStart();
  if (!server_ || (port == 0 && options.address.rfind("unix", 0) != 0)) {
    *error = "cannot listen on " + options.address + " for the management API";
    server_.reset();
    return false;
  }
  address_ = options.address;
  if (address_.rfind("unix", 0) != 0) {
    address_ = address_.substr(0, address_.rfind(':')) + ":" + std::to_string(port);
  }
  setServing(control_.runtime() != nullptr);
  return true;
}

void ManagementServer::setServing(bool serving) {
  if (server_ && server_->GetHealthCheckService()) {
    server_->GetHealthCheckService()->SetServingStatus(serving);
  }
}

void ManagementServer::shutdown() {
  if (!server_) return;
  // Calls in progress finish from the control thread: keep running it while gRPC waits for
  // them (a watcher's stream is cancelled after a short grace).
  std::atomic<bool> done{false};
  std::thread stopper([this, &done] {
    server_->Shutdown(std::chrono::system_clock::now() + std::chrono::seconds(1));
    done = true;
  });
  while (!done) {
    io_.restart();
    io_.run_for(std::chrono::milliseconds(10));
  }
  stopper.join();
  server_.reset();
}

}  // namespace lb::control
