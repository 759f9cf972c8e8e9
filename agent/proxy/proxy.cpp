#include "agent/proxy/proxy.h"

#include <sys/socket.h>

#include <algorithm>
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
  group->options = bind.socketOptions();
  group->backlog = bind.backlog;
  if (bind.endpoint.port() == 0) group->port0_key = bind.port0Key();
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

std::string Proxy::boundKey(const ListenerGroup& group) {
  return group.endpoint.address().to_string() + "|" + std::to_string(group.endpoint.port());
}

std::map<std::string, std::shared_ptr<Proxy::ListenerGroup>>::iterator Proxy::findGroup(
    const runtime::BindRuntime& bind) {
  if (bind.endpoint.port() != 0) return groups_.find(bind.key());
  std::string port0_key = bind.port0Key();
  return std::find_if(groups_.begin(), groups_.end(),
                      [&](const auto& entry) { return entry.second->port0_key == port0_key; });
}

bool Proxy::apply(std::shared_ptr<const runtime::Runtime> runtime, std::string* error,
                  Done on_switched) {
  std::map<std::string, std::shared_ptr<ListenerGroup>> next;
  std::map<const runtime::BindRuntime*, std::shared_ptr<ListenerGroup>> of;
  std::vector<std::shared_ptr<ListenerGroup>> opened;
  // What can fail comes first: new sockets. A bind whose address and port stay keeps its
  // socket, unless it needs one with other options (v6only, v4v6, interface).
  for (const auto& frontend : runtime->frontends) {
    for (const auto& bind : frontend.binds) {
      auto it = findGroup(bind);
      if (it != groups_.end() && it->second->options == bind.socketOptions()) {
        next[it->first] = it->second;
        of[&bind] = it->second;
        continue;
      }
      auto group = openGroup(frontend, bind, error);
      if (!group) {
        for (auto& g : opened) closeGroup(*g);
        return false;
      }
      opened.push_back(group);
      next[boundKey(*group)] = group;
      of[&bind] = group;
    }
  }
  // Kept sockets learn their (maybe new) frontend and backlog on their worker, with the
  // snapshot, in one step: no accept sees a name the worker's snapshot does not know.
  struct Change {
    std::shared_ptr<Listener> listener;
    std::string frontend;
    bool accept_proxy;
    std::optional<int> backlog;
  };
  std::map<Worker*, std::vector<Change>> changes;
  for (const auto& frontend : runtime->frontends) {
    for (const auto& bind : frontend.binds) {
      auto& group = of[&bind];
      bool fresh = std::find(opened.begin(), opened.end(), group) != opened.end();
      std::optional<int> backlog;
      if (!fresh && group->backlog != bind.backlog) {
        backlog = bind.backlog ? static_cast<int>(*bind.backlog) : SOMAXCONN;
      }
      group->frontend = frontend.name;
      group->backlog = bind.backlog;
      for (auto& listener : group->listeners) {
        changes[&listener->worker()].push_back(
            {listener, frontend.name, bind.accept_proxy, backlog});
      }
    }
  }
  // Every worker switches to the new snapshot, updates its kept listeners, and lets parked
  // ones look at the (maybe raised) limits again, before its new sockets start accepting
  // (posts to one worker run in order).
  onEveryWorker(
      [runtime, changes = std::move(changes)](Worker& w) {
        w.setRuntime(runtime);
        auto it = changes.find(&w);
        if (it == changes.end()) return;
        for (const auto& change : it->second) {
          change.listener->setFrontend(change.frontend, change.accept_proxy);
          if (change.backlog) change.listener->setBacklog(*change.backlog);
          change.listener->resume();
        }
      },
      std::move(on_switched));
  for (auto& group : opened) {
    for (auto& listener : group->listeners) {
      asio::post(listener->worker().io(), [listener] { listener->start(); });
    }
  }
  // Removed and replaced sockets accept what their queues hold, then close: new connections
  // already go to the new sockets, and no client in a queue is reset.
  for (auto& [key, group] : groups_) {
    if (next.find(key) == next.end() || next[key] != group) drainGroup(*group);
  }
  groups_ = std::move(next);
  return true;
}

void Proxy::drainGroup(ListenerGroup& group) {
  for (auto& listener : group.listeners) {
    asio::post(listener->worker().io(), [listener] { listener->closeAfterDrain(); });
  }
  group.listeners.clear();
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

void Proxy::shutdownSessions(std::shared_ptr<const runtime::ServerState> server) {
  // The state stays alive until every worker has looked: no other server can take its address.
  for (auto& worker : workers_) {
    Worker* w = worker.get();
    asio::post(w->io(), [w, server] { w->abortSessionsOf(server.get()); });
  }
}

void Proxy::stop() {
  for (auto& worker : workers_) worker->stop();
  workers_.clear();
}

}  // namespace lb::proxy
