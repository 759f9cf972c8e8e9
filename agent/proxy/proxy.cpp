#include "agent/proxy/proxy.h"

#include <boost/asio/post.hpp>
#include <future>

#include "agent/config/address.h"

namespace lb::proxy {

namespace asio = boost::asio;
using asio::ip::tcp;

Proxy::Proxy(unsigned threads) {
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
    auto listener =
        Listener::open(*worker, frontend.name, group->endpoint, bind.config, global_gate_, ec);
    if (!listener) {
      *error =
          "frontend '" + frontend.name + "': cannot bind " +
          config::formatHostPort(group->endpoint.address().to_string(), group->endpoint.port()) +
          ": " + ec.message();
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

bool Proxy::apply(std::shared_ptr<const runtime::Runtime> runtime, std::string* error) {
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
  // Every worker switches to the new snapshot before its new sockets start accepting.
  for (auto& worker : workers_) {
    Worker* w = worker.get();
    asio::post(w->io(), [w, runtime] { w->setRuntime(runtime); });
  }
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

void Proxy::stopAccepting() {
  // Waits until every listener is closed on its worker, so that once this returns (and the
  // agent says so) a new connection is refused, not accepted by a listener about to close.
  std::vector<std::future<void>> done;
  for (auto& [key, group] : groups_) {
    for (auto& listener : group->listeners) {
      auto promise = std::make_shared<std::promise<void>>();
      done.push_back(promise->get_future());
      asio::post(listener->worker().io(), [listener, promise] {
        listener->close();
        promise->set_value();
      });
    }
    group->listeners.clear();
  }
  groups_.clear();
  for (auto& f : done) f.wait();
}

void Proxy::abortSessions() {
  std::vector<std::future<void>> done;
  for (auto& worker : workers_) {
    auto promise = std::make_shared<std::promise<void>>();
    done.push_back(promise->get_future());
    Worker* w = worker.get();
    asio::post(w->io(), [w, promise] {
      w->abortSessions();
      promise->set_value();
    });
  }
  for (auto& f : done) f.wait();
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
