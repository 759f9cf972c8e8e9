#pragma once

#include <grpcpp/grpcpp.h>

#include <boost/asio/io_context.hpp>
#include <memory>
#include <string>

#include "agent/control/auth.h"
#include "agent/control/control_plane.h"
#include "agent/control/grpc_service.h"
#include "agent/control/status.h"

namespace lb::control {

struct ManagementOptions {
  // "127.0.0.1:9901", "[::1]:9901", "0.0.0.0:9901" or "unix:/run/lb/api.sock"; port 0 asks the
  // kernel for one (tests).
  std::string address = "127.0.0.1:9901";
  std::string tls_cert;  // PEM files: with both, the API speaks TLS
  std::string tls_key;
  std::string client_ca;  // PEM: clients must present a certificate it signed (mutual TLS)
  std::string tokens_file;
  // Serve a non-loopback address without TLS anyway.
  bool insecure = false;
  // Bound on a request (a configuration), bytes.
  int max_message = 16 * 1024 * 1024;
};

// The management API: the Agent service, the standard gRPC health service (SERVING once a
// configuration is in force) and server reflection, on one listener, with TLS, mutual TLS and
// bearer tokens as configured.
//
// Threads: start() and shutdown() from the control thread.
class ManagementServer {
 public:
  ManagementServer(ControlPlane& control, boost::asio::io_context& control_io,
                   AgentIdentity identity);
  ~ManagementServer();

  // Listens; false with *error (a bad option, a file that cannot be read, an address that
  // cannot be bound, a public address without TLS).
  bool start(const ManagementOptions& options, std::string* error);
  // Where it listens ("127.0.0.1:40123", "unix:/path"); port 0 resolved.
  const std::string& address() const { return address_; }
  void setServing(bool serving);
  // Stops the listener and ends the calls in progress, running the control thread's
  // io_context meanwhile (the calls finish from there).
  void shutdown();

 private:
  ControlPlane& control_;
  boost::asio::io_context& io_;
  AgentIdentity identity_;
  Authenticator auth_;
  std::unique_ptr<AgentService> service_;
  std::unique_ptr<grpc::Server> server_;
  std::string address_;
};

// Whether an address is this host's only: loopback or a UNIX socket.
bool isLocalAddress(const std::string& address);

}  // namespace lb::control
