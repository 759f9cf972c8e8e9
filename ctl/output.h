#pragma once
// How lbctl prints: aligned tables, colours on a terminal only, times and events in the words
// HAProxy's log uses.

#include <google/protobuf/timestamp.pb.h>

#include <ostream>
#include <string>
#include <vector>

#include "lb/v1/agent.pb.h"
#include "lb/v1/event.pb.h"

namespace lb::ctl {

enum class Color { kNone, kGreen, kRed, kYellow, kBold, kDim };

// Colours when stdout is a terminal, NO_COLOR is unset and --no-color was not given.
bool colorWanted(bool no_color);

class Style {
 public:
  explicit Style(bool color) : color_(color) {}
  std::string paint(const std::string& text, Color color) const;
  bool color() const { return color_; }

 private:
  bool color_;
};

// UP green, DOWN red, DRAIN and MAINT yellow.
Color stateColor(const std::string& state);

// Columns padded to their widest cell (widths count the text, not the colour codes).
class Table {
 public:
  struct Cell {
    std::string text;
    Color color = Color::kNone;
  };
  explicit Table(std::vector<std::string> header) : header_(std::move(header)) {}
  void add(std::vector<Cell> row) { rows_.push_back(std::move(row)); }
  bool empty() const { return rows_.empty(); }
  void print(std::ostream& out, const Style& style, const std::string& indent = "") const;

 private:
  std::vector<std::string> header_;
  std::vector<std::vector<Cell>> rows_;
};

// "20:11:15.306" in local time.
std::string clockTime(const google::protobuf::Timestamp& time);

// An event in the words HAProxy's log uses, without the agent or the time:
//   web_test/server2 UP -> DOWN  Layer4 connection problem: Connection refused
//   web_test/server2 UP, check failed  Layer4 timeout (status 2/3 UP)
std::string describeEvent(const lb::v1::Event& event);

// A JSON string literal: "text" with quotes and control characters escaped.
std::string jsonQuote(const std::string& text);

// A message as protobuf's JSON mapping prints it, on one line or indented; `defaults` prints
// fields at their default value too (0, false, ""), so scripts always find every key.
std::string toJson(const google::protobuf::Message& message, bool pretty, bool defaults = false);

}  // namespace lb::ctl
