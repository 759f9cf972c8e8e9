#include "agent/control/stats_pages.h"

#include <fmt/format.h>
#include <google/protobuf/util/time_util.h>
#include <spdlog/spdlog.h>

#include <boost/asio/post.hpp>

#include "agent/common/host_port.h"
#include "agent/config/validator.h"
#include "agent/control/runtime_stat.h"

namespace lb::control {

namespace {

std::string base64(std::string_view text) {
  static constexpr char kAlphabet[] =
      "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
  std::string out;
  size_t i = 0;
  for (; i + 2 < text.size(); i += 3) {
    uint32_t n = (uint8_t(text[i]) << 16) | (uint8_t(text[i + 1]) << 8) | uint8_t(text[i + 2]);
    for (int shift : {18, 12, 6, 0}) out += kAlphabet[(n >> shift) & 63];
  }
  if (i + 1 == text.size()) {
    uint32_t n = uint8_t(text[i]) << 16;
    out += kAlphabet[(n >> 18) & 63];
    out += kAlphabet[(n >> 12) & 63];
    out += "==";
  } else if (i + 2 == text.size()) {
    uint32_t n = (uint8_t(text[i]) << 16) | (uint8_t(text[i + 1]) << 8);
    out += kAlphabet[(n >> 18) & 63];
    out += kAlphabet[(n >> 12) & 63];
    out += kAlphabet[(n >> 6) & 63];
    out += '=';
  }
  return out;
}

std::string escape(std::string_view text) {
  std::string out;
  for (char c : text) {
    switch (c) {
      case '<':
        out += "&lt;";
        break;
      case '>':
        out += "&gt;";
        break;
      case '&':
        out += "&amp;";
        break;
      case '"':
        out += "&quot;";
        break;
      default:
        out += c;
    }
  }
  return out;
}

}  // namespace

StatsPages::StatsPages(boost::asio::io_context& io, ControlPlane& control,
                       const AgentIdentity& identity, Metrics& metrics)
    : io_(io), control_(control), identity_(identity), metrics_(metrics) {
  subscription_ = control_.events().subscribe([this](const lb::v1::Event& event) {
    if (event.type() != lb::v1::Event::CONFIG_APPLIED) return;
    boost::asio::post(io_, [this] { follow(control_.config()); });
  });
}

StatsPages::~StatsPages() {
  control_.events().unsubscribe(subscription_);
  stop();
}

void StatsPages::stop() {
  for (auto& server : servers_) server->stop();
  servers_.clear();
  serving_.clear();
}

void StatsPages::follow(const lb::v1::Config& config) {
  std::string wanted;
  for (const auto& fe : config.frontends()) {
    if (config::isStatsOnly(fe) && !fe.disabled()) wanted += fe.SerializeAsString();
  }
  if (wanted == serving_) return;
  stop();
  serving_ = wanted;
  for (const auto& fe : config.frontends()) {
    if (!config::isStatsOnly(fe) || fe.disabled()) continue;
    if (fe.stats_page().unenforced_size() > 0) {
      spdlog::warn("statistics page of '{}' not served: lb cannot enforce '{}'; use 'stats auth'",
                   fe.name(), fe.stats_page().unenforced(0));
      continue;
    }
    for (const auto& bind : fe.binds()) {
      auto server = std::make_unique<http::HttpServer>(io_);
      const auto page = fe.stats_page();
      std::vector<std::string> paths;
      if (page.enabled()) {
        std::string uri = page.uri().substr(0, page.uri().find('?'));
        server->route(uri, [this, page](const http::Request& r) { return this->page(page, r); });
        server->route(uri + ";csv",
                      [this, page](const http::Request& r) { return this->page(page, r); });
        paths.push_back(page.uri());
      }
      if (!page.prometheus_path().empty()) {
        server->route(page.prometheus_path(), [this](const http::Request&) {
          http::Response response(200, metrics_.render());
          response.content_type = "text/plain; version=0.0.4; charset=utf-8";
          return response;
        });
        paths.push_back(page.prometheus_path());
      }
      std::string error;
      std::string address = common::formatHostPort(bind.address(), bind.port());
      if (!server->listen(address, &error)) {
        spdlog::error("statistics page of '{}': {}", fe.name(), error);
        lb::v1::Event event;
        event.set_type(lb::v1::Event::LISTENER_ERROR);
        event.set_config_version(control_.version());
        event.set_message("statistics page of '" + fe.name() + "': " + error);
        control_.events().publish(std::move(event));
        continue;
      }
      spdlog::info("statistics page of '{}' listening on {} ({})", fe.name(), server->address(),
                   fmt::join(paths, ", "));
      servers_.push_back(std::move(server));
    }
  }
}

http::Response StatsPages::page(const lb::v1::StatsPage& page, const http::Request& request) const {
  if (page.auth_size() > 0) {
    bool allowed = false;
    for (const auto& credentials : page.auth()) {
      allowed = allowed || request.authorization == "Basic " + base64(credentials);
    }
    if (!allowed) {
      http::Response denied(401, "401 Unauthorized: this page needs a user and a password\n");
      denied.headers.push_back(
          {"WWW-Authenticate",
           "Basic realm=\"" + (page.realm().empty() ? "HAProxy Statistics" : page.realm()) + "\""});
      return denied;
    }
  }
  std::vector<std::string> show{"show", "stat"};
  bool csv = request.path.ends_with(";csv") || request.query.ends_with(";csv");
  if (csv) {
    http::Response response(200, formatShowStat(control_, identity_, show));
    response.content_type = "text/plain; charset=utf-8";
    return response;
  }
  auto status = buildStatus(control_, identity_, "");
  std::string html =
      "<!DOCTYPE html>\n<html><head><meta charset=\"utf-8\"><title>Statistics Report for lb"
      "</title><style>body{font-family:sans-serif}table{border-collapse:collapse;margin:1em 0}"
      "td,th{border:1px solid #999;padding:2px 8px;text-align:right}td:first-child,"
      "th:first-child{text-align:left}.UP{background:#c0ffc0}.DOWN{background:#ffc0c0}"
      ".DRAIN,.MAINT{background:#ffffa0}</style></head><body>\n";
  html += fmt::format(
      "<h1>Statistics Report for lb {}{}</h1>\n<p>{} current connections, "
      "configuration version {}. <a href=\"{};csv\">CSV export</a></p>\n",
      escape(status.agent().lb_version()),
      status.agent().name().empty() ? "" : " (" + escape(status.agent().name()) + ")",
      status.agent().current_connections(), status.agent().config_version(),
      escape(std::string(request.path)));
  for (const auto& fe : status.frontends()) {
    html += fmt::format(
        "<table><tr><th>frontend {}</th><th>status</th><th>current</th><th>total</th>"
        "<th>denied</th></tr><tr><td>FRONTEND</td><td class=\"UP\">OPEN</td><td>{}</td>"
        "<td>{}</td><td>{}</td></tr></table>\n",
        escape(fe.name()), fe.current_connections(), fe.total_connections(), fe.rejected());
  }
  for (const auto& be : status.backends()) {
    html += fmt::format(
        "<table><tr><th>backend {}</th><th>status</th><th>weight</th><th>current</th>"
        "<th>total</th><th>bytes in</th><th>bytes out</th><th>connect errors</th>"
        "<th>last check</th></tr>\n",
        escape(be.name()));
    for (const auto& s : be.servers()) {
      const char* state = stateName(s);
      html += fmt::format(
          "<tr><td>{}</td><td class=\"{}\">{}</td><td>{}</td><td>{}</td><td>{}</td><td>{}</td>"
          "<td>{}</td><td>{}</td><td>{}</td></tr>\n",
          escape(s.name()), state, state, s.effective_weight(), s.current_connections(),
          s.total_connections(), s.bytes_in(), s.bytes_out(), s.connect_errors(),
          escape(s.check_enabled() ? s.last_check().status() + " " + s.last_check().info()
                                   : "no check"));
    }
    html += fmt::format(
        "<tr><td>BACKEND</td><td class=\"{}\">{}</td><td></td><td>{}</td><td>{}</td>"
        "<td></td><td></td><td></td><td>{} of {} usable</td></tr></table>\n",
        be.usable_servers() > 0 ? "UP" : "DOWN", be.usable_servers() > 0 ? "UP" : "DOWN",
        be.current_connections(), be.total_connections(), be.usable_servers(), be.total_servers());
  }
  html += "</body></html>\n";
  http::Response response(200, std::move(html));
  response.content_type = "text/html; charset=utf-8";
  if (page.has_refresh()) {
    response.headers.push_back(
        {"Refresh",
         std::to_string(google::protobuf::util::TimeUtil::DurationToSeconds(page.refresh()))});
  }
  return response;
}

}  // namespace lb::control
