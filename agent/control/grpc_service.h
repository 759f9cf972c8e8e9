#pragma once

#include <boost/asio/io_context.hpp>
#include <functional>
#include <string>

#include "agent/control/auth.h"
#include "agent/control/control_plane.h"
#include "agent/control/status.h"
#include "lb/v1/agent.grpc.pb.h"

namespace lb::control {

// The Agent service of protos/lb/v1/agent.proto over the control plane. Every call is
// authorized first, then posted to the control thread (configurations are parsed on the
// control plane's loader thread) and finished from there: a reaction never blocks a gRPC
// thread, and the control plane is only ever touched by its own thread.
class AgentService final : public lb::v1::Agent::CallbackService {
 public:
  AgentService(ControlPlane& control, boost::asio::io_context& control_io,
               const Authenticator& auth, AgentIdentity identity, std::function<void()> on_applied,
               size_t watch_queue = 1000);

  grpc::ServerUnaryReactor* ApplyConfig(grpc::CallbackServerContext* context,
                                        const lb::v1::ApplyConfigRequest* request,
                                        lb::v1::ApplyConfigResponse* response) override;
  grpc::ServerUnaryReactor* GetConfig(grpc::CallbackServerContext* context,
                                      const lb::v1::GetConfigRequest* request,
                                      lb::v1::GetConfigResponse* response) override;
  grpc::ServerUnaryReactor* GetStatus(grpc::CallbackServerContext* context,
                                      const lb::v1::GetStatusRequest* request,
                                      lb::v1::GetStatusResponse* response) override;
  grpc::ServerWriteReactor<lb::v1::WatchEventsResponse>* WatchEvents(
      grpc::CallbackServerContext* context, const lb::v1::WatchEventsRequest* request) override;
  grpc::ServerUnaryReactor* SetServerState(grpc::CallbackServerContext* context,
                                           const lb::v1::SetServerStateRequest* request,
                                           lb::v1::SetServerStateResponse* response) override;
  grpc::ServerUnaryReactor* SetAgentDrain(grpc::CallbackServerContext* context,
                                          const lb::v1::SetAgentDrainRequest* request,
                                          lb::v1::SetAgentDrainResponse* response) override;

 private:
  ControlPlane& control_;
  boost::asio::io_context& io_;
  const Authenticator& auth_;
  AgentIdentity identity_;
  std::function<void()> on_applied_;
  size_t watch_queue_;
};

// The gRPC status of a refused apply: INVALID_ARGUMENT with every error as a `FILE:LINE:
// message` line, or FAILED_PRECONDITION; ApplyErrors in the status details.
grpc::Status applyStatus(const ApplyResult& result);

}  // namespace lb::control
