#pragma once

// A client of the agent's management API for integration tests: the generated stubs of
// protos/lb/v1/agent.proto over a real gRPC channel, every call with a deadline.

#include <grpcpp/grpcpp.h>

#include <chrono>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "lb/v1/agent.grpc.pb.h"

namespace lb::testing {

class ApiClient {
 public:
  // `address` as the agent logs it; `token` sent as `authorization: Bearer TOKEN` when set.
  explicit ApiClient(const std::string& address, const std::string& token = "",
                     std::shared_ptr<grpc::ChannelCredentials> credentials = nullptr,
                     const grpc::ChannelArguments& arguments = {});

  grpc::Status apply(const lb::v1::ApplyConfigRequest& request,
                     lb::v1::ApplyConfigResponse* response);
  // ApplyConfig with one HAProxy-syntax source named `name`.
  grpc::Status applyText(const std::string& text, lb::v1::ApplyConfigResponse* response,
                         bool dry_run = false, uint64_t expected_version = 0,
                         const std::string& name = "lb.cfg");
  grpc::Status getConfig(lb::v1::GetConfigResponse* response);
  grpc::Status getStatus(lb::v1::GetStatusResponse* response, const std::string& backend = "");
  grpc::Status setServer(const std::string& backend, const std::string& server,
                         lb::v1::ServerStatus::AdminState state,
                         lb::v1::SetServerStateResponse* response,
                         std::optional<uint32_t> weight = std::nullopt);
  grpc::Status setDrain(bool drain, lb::v1::SetAgentDrainResponse* response);
  // Every event of `type` the agent holds (a replay-only WatchEvents).
  std::vector<lb::v1::Event> heldEvents(lb::v1::Event::Type type);
  // A WatchEvents stream; read it with the returned reader (its context lives in `context`).
  std::unique_ptr<grpc::ClientReader<lb::v1::WatchEventsResponse>> watch(
      const lb::v1::WatchEventsRequest& request, grpc::ClientContext* context);

  lb::v1::Agent::Stub& stub() { return *stub_; }
  void prepare(grpc::ClientContext* context,
               std::chrono::milliseconds deadline = std::chrono::seconds(10)) const;

 private:
  std::string token_;
  std::unique_ptr<lb::v1::Agent::Stub> stub_;
};

// The status of a server of a GetStatus answer (a default one when not found).
lb::v1::ServerStatus serverOf(const lb::v1::GetStatusResponse& status, const std::string& backend,
                              const std::string& server);

}  // namespace lb::testing
