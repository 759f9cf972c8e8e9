#include "agent/proxy/proxy.h"

#include <atomic>
#include <boost/asio/post.hpp>

#include "agent/common/host_port.h"

namespace lb::proxy {

namespace asio = boost::asio;
using asio::ip::tcp;

Proxy::Proxy(unsigned threads, asio::io_context& control) : control_(control) {
  for (unsigned i = 0; i < threads; ++i) {
    workers_.push_back(std::make_unique<Worker>(i));
    workers_.back()->start();
  }
}

Proxy::~Proxy() {
  stop();
}

std::shared_ptr<Proxy::ListenerGroup> Proxy::openGroup(const runtime::FrontendRuntime& frontend,
                                                       const runtime::BindRuntime& bind,
                                                       std::string* error) {
  auto group = std::make_shared<ListenerGroup>();
  group->frontend = frontend.name;
  group->endpoint = bind.endpoint;
  for (auto& worker : workers_) {
    boost::system::error_code ec;
    auto listener = Listener::open(*worker, frontend.name, group->endpoint, bind, global_gate_, ec);
    if (!listener) {
      *error = "frontend '" + frontend.name + "': cannot bind " +
               common::formatEndpoint(group->endpoint) + ": " + ec.message();
      closeGroup(*group);
      return nullptr;
    }
    // With port 0 the first socket gets a port from the kernel; the others share it.
    if (group->endpoint.port() == 0) group->endpoint = listener->localEndpoint();
    group->listeners.push_back(std::move(listener));
  }
  return group;
}

void Proxy::closeGroup(ListenerGroup& group) {
  for (auto& listener : group.listeners) {
    asio::post(listener->worker().io(), [listener] { listener->close(); });
  }
  group.listeners.clear();
}

void Proxy::onEveryWorker(std::function<void(Worker&)> work, Done done) {
  auto left = std::make_shared<std::atomic<size_t>>(workers_.size());
  auto finished = std::make_shared<Done>(std::move(done));
  if (workers_.empty()) {
    asio::post(control_, [finished] { (*finished)(); });
    return;
  }
  for (auto& worker : workers_) {
    Worker* w = worker.get();
    asio::post(w->io(), [this, w, work, left, finished] {
      work(*w);
      if (left->fetch_sub(1) == 1) asio::post(control_, [finished] { (*finished)(); });
    });
  }
}

bool Proxy::apply(std::shared_ptr<const runtime::Runtime> runtime, std::string* error,
                  Done on_switched) {
  std::map<std::string, std::shared_ptr<ListenerGroup>> next;
  std::vector<std::shared_ptr<ListenerGroup>> opened;
  for (const auto& frontend : runtime->frontends) {
    for (const auto& bind : frontend.binds) {
      std::string key = frontend.name + "|" + bind.key();
      if (auto it = groups_.find(key); it != groups_.end()) {
        next[key] = it->second;
        continue;
      }
      auto group = openGroup(frontend, bind, error);
      if (!group) {
        for (auto& g : opened) closeGroup(*g);
        return false;
      }
      opened.push_back(group);
      next[key] = group;
    }
  }
  // Every worker switches to the new snapshot before its new sockets start accepting (posts to
  // one worker run in order).
  onEveryWorker([runtime](Worker& w) { w.setRuntime(runtime); }, std::move(on_switched));
  for (auto& group : opened) {
    for (auto& listener : group->listeners) {
      asio::post(listener->worker().io(), [listener] { listener->start(); });
    }
  }
  for (auto& [key, group] : groups_) {
    if (next.find(key) == next.end()) closeGroup(*group);
  }
  groups_ = std::move(next);
  return true;
}

std::vector<ListeningAddress> Proxy::listening() const {
  std::vector<ListeningAddress> out;
  for (const auto& [key, group] : groups_) out.push_back({group->frontend, group->endpoint});
  return out;
}

void Proxy::stopAccepting(Done done) {
  // Each worker closes its own listeners; `done` says all are closed, so that once the agent
  // says so a new connection is refused, not accepted by a listener about to close.
  std::vector<std::shared_ptr<Listener>> listeners;
  for (auto& [key, group] : groups_) {
    for (auto& listener : group->listeners) listeners.push_back(listener);
    group->listeners.clear();
  }
  groups_.clear();
  onEveryWorker(
      [listeners = std::move(listeners)](Worker& w) {
        for (const auto& listener : listeners) {
          if (&listener->worker() == &w) listener->close();
        }
      },
      std::move(done));
}

void Proxy::abortSessions(Done done) {
  onEveryWorker([](Worker& w) { w.abortSessions(); }, std::move(done));
}

void Proxy::shutdownSessions(const runtime::ServerState* server) {
  for (auto& worker : workers_) {
    Worker* w = worker.get();
    asio::post(w->io(), [w, server] { w->abortSessionsOf(server); });
  }
}

void Proxy::stop() {
  for (auto& worker : workers_) worker->stop();
  workers_.clear();
}

}  // namespace lb::proxy
