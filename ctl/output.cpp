#include "ctl/output.h"

#include <google/protobuf/util/json_util.h>
#include <unistd.h>

#include <cstdlib>
#include <ctime>

namespace lb::ctl {

bool colorWanted(bool no_color) {
  if (no_color) return false;
  if (const char* env = std::getenv("NO_COLOR"); env != nullptr && *env != '\0') return false;
  if (const char* term = std::getenv("TERM"); term != nullptr && std::string(term) == "dumb") {
    return false;
  }
  return ::isatty(STDOUT_FILENO) == 1;
}

std::string Style::paint(const std::string& text, Color color) const {
  if (!color_ || color == Color::kNone) return text;
  const char* code = "";
  switch (color) {
    case Color::kGreen:
      code = "\033[32m";
      break;
    case Color::kRed:
      code = "\033[31m";
      break;
    case Color::kYellow:
      code = "\033[33m";
      break;
    case Color::kBold:
      code = "\033[1m";
      break;
    case Color::kDim:
      code = "\033[2m";
      break;
    case Color::kNone:
      break;
  }
  return code + text + "\033[0m";
}

Color stateColor(const std::string& state) {
  if (state == "UP" || state == "READY" || state == "SERVING") return Color::kGreen;
  if (state == "DOWN") return Color::kRed;
  if (state == "DRAIN" || state == "MAINT") return Color::kYellow;
  return Color::kNone;
}

void Table::print(std::ostream& out, const Style& style, const std::string& indent) const {
  std::vector<size_t> widths(header_.size(), 0);
  for (size_t i = 0; i < header_.size(); ++i) widths[i] = header_[i].size();
  for (const auto& row : rows_) {
    for (size_t i = 0; i < row.size() && i < widths.size(); ++i) {
      widths[i] = std::max(widths[i], row[i].text.size());
    }
  }
  auto line = [&](const std::vector<Cell>& cells) {
    std::string text = indent;
    for (size_t i = 0; i < cells.size() && i < widths.size(); ++i) {
      const bool last = i + 1 == cells.size();
      text += style.paint(cells[i].text, cells[i].color);
      if (!last) text += std::string(widths[i] - cells[i].text.size() + 2, ' ');
    }
    out << text << "\n";
  };
  std::vector<Cell> head;
  for (const auto& h : header_) head.push_back({h, Color::kBold});
  line(head);
  for (const auto& row : rows_) line(row);
}

std::string clockTime(const google::protobuf::Timestamp& time) {
  std::time_t seconds = static_cast<std::time_t>(time.seconds());
  std::tm local{};
  ::localtime_r(&seconds, &local);
  char buffer[32];
  std::strftime(buffer, sizeof buffer, "%H:%M:%S", &local);
  char millis[8];
  std::snprintf(millis, sizeof millis, ".%03d", time.nanos() / 1000000);
  return std::string(buffer) + millis;
}

namespace {

// HAProxy's "status: 2/3 UP" of a check that moved the counter without changing the state:
// an UP server has `health - rise + 1` of `fall` points left, a DOWN one `health` of `rise`.
std::string counter(const lb::v1::CheckCause& cause, const std::string& state) {
  if (cause.rise() == 0 && cause.fall() == 0) return "";
  bool up = state == "UP";
  uint32_t shown =
      up ? cause.health() + 1 - std::min(cause.health() + 1, cause.rise()) : cause.health();
  return "(status " + std::to_string(shown) + "/" +
         std::to_string(up ? cause.fall() : cause.rise()) + " " + state + ")";
}

std::string because(const lb::v1::CheckCause& cause) {
  std::string text = cause.description();
  if (!cause.info().empty()) text += (text.empty() ? "" : ": ") + cause.info();
  if (text.empty()) text = cause.status();
  return text;
}

}  // namespace

std::string describeEvent(const lb::v1::Event& e) {
  const std::string who = e.backend() + "/" + e.server();
  switch (e.type()) {
    case lb::v1::Event::SERVER_STATE: {
      std::string text = who + " " + e.old_state() + " -> " + e.new_state();
      if (e.has_cause()) {
        text += "  " + because(e.cause());
        if (e.cause().passive()) text += " (passive check: live traffic)";
      }
      return text;
    }
    case lb::v1::Event::CHECK: {
      // The counter turned without a state change: a failure of an UP server, a success of a
      // DOWN one (L4OK, L6OK, L7OK pass).
      const std::string& status = e.cause().status();
      bool failing = status.size() < 2 || status.substr(status.size() - 2) != "OK";
      std::string text = who + " " + e.new_state() + ", check " + (failing ? "failed" : "passed");
      if (e.has_cause())
        text += "  " + because(e.cause()) + " " + counter(e.cause(), e.new_state());
      return text;
    }
    case lb::v1::Event::ADMIN_STATE:
      return who + " " + e.old_state() + " -> " + e.new_state();
    case lb::v1::Event::SERVER_WEIGHT:
      return who + " weight " + e.old_state() + " -> " + e.new_state();
    case lb::v1::Event::BACKEND_DOWN:
      return "backend " + e.backend() + " has no server available!";
    case lb::v1::Event::BACKEND_UP:
      return "backend " + e.backend() + " has a server available again";
    case lb::v1::Event::CONFIG_APPLIED:
      return "configuration version " + std::to_string(e.config_version()) + " applied" +
             (e.origin().empty() ? "" : " by " + e.origin()) + ": " + e.diff_summary();
    default:
      return e.message();
  }
}

std::string jsonQuote(const std::string& text) {
  std::string out = "\"";
  for (unsigned char c : text) {
    if (c == '"' || c == '\\') {
      out += '\\';
      out += static_cast<char>(c);
    } else if (c < 0x20) {
      char escaped[8];
      std::snprintf(escaped, sizeof escaped, "\\u%04x", c);
      out += escaped;
    } else {
      out += static_cast<char>(c);
    }
  }
  return out + "\"";
}

std::string toJson(const google::protobuf::Message& message, bool pretty, bool defaults) {
  std::string out;
  google::protobuf::util::JsonPrintOptions options;
  options.add_whitespace = pretty;
  options.always_print_primitive_fields = defaults;
  options.preserve_proto_field_names = true;
  (void)google::protobuf::util::MessageToJsonString(message, &out, options);
  if (!out.empty() && out.back() == '\n') out.pop_back();
  return out;
}

}  // namespace lb::ctl
