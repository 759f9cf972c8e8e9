#include "agent/config/structured_loader.h"

#include <google/protobuf/descriptor.h>
#include <google/protobuf/util/json_util.h>
#include <yaml-cpp/yaml.h>

#include <cctype>
#include <charconv>
#include <cstdio>
#include <regex>

#include "agent/config/duration.h"
#include "agent/config/suggest.h"

namespace lb::config {

namespace {

using google::protobuf::Descriptor;
using google::protobuf::EnumDescriptor;
using google::protobuf::FieldDescriptor;

std::string jsonString(std::string_view text) {
  std::string out = "\"";
  for (char c : text) {
    switch (c) {
      case '"':
        out += "\\\"";
        break;
      case '\\':
        out += "\\\\";
        break;
      case '\n':
        out += "\\n";
        break;
      case '\r':
        out += "\\r";
        break;
      case '\t':
        out += "\\t";
        break;
      default:
        if (static_cast<unsigned char>(c) < 0x20) {
          char buf[8];
          std::snprintf(buf, sizeof buf, "\\u%04x", static_cast<unsigned char>(c));
          out += buf;
        } else {
          out += c;
        }
    }
  }
  return out + "\"";
}

// Walks a YAML tree along a message descriptor, writing the JSON that protobuf's JSON parser
// reads, and reporting problems with field paths and lines.
class Converter {
 public:
  Converter(const std::string& file, SourceMap& sources, Diagnostics& diag, int frontend_offset,
            int backend_offset)
      : file_(file),
        sources_(sources),
        diag_(diag),
        frontend_offset_(frontend_offset),
        backend_offset_(backend_offset) {}

  bool message(const YAML::Node& node, const Descriptor* type, const std::string& path,
               std::string& json) {
    if (!node.IsMap()) {
      error(node, path, "expected a mapping of " + type->name() + " fields");
      return false;
    }
    bool ok = true;
    json += "{";
    bool first = true;
    std::map<const google::protobuf::OneofDescriptor*, std::string> oneofs;
    for (auto it = node.begin(); it != node.end(); ++it) {
      std::string key = it->first.as<std::string>();
      const FieldDescriptor* field = type->FindFieldByName(key);
      for (int i = 0; field == nullptr && i < type->field_count(); ++i) {
        if (type->field(i)->json_name() == key) field = type->field(i);  // lowerCamelCase form
      }
      std::string fpath = path.empty() ? key : path + "." + key;
      if (field == nullptr) {
        std::vector<std::string> names;
        for (int i = 0; i < type->field_count(); ++i) names.push_back(type->field(i)->name());
        error(it->first, fpath,
              "unknown field '" + key + "' in " + type->name() + didYouMean(key, names));
        ok = false;
        continue;
      }
      fpath = path.empty() ? field->name() : path + "." + field->name();
      if (const auto* oneof = field->real_containing_oneof()) {
        auto [prev, inserted] = oneofs.emplace(oneof, field->name());
        if (!inserted) {
          error(it->first, fpath,
                "'" + field->name() + "' and '" + prev->second +
                    "' cannot both be set; write one per list item");
          ok = false;
          continue;
        }
      }
      if (it->second.IsNull()) continue;
      record(it->first, fpath);
      std::string value;
      if (!fieldValue(it->second, field, fpath, value)) {
        ok = false;
        continue;
      }
      if (!first) json += ",";
      first = false;
      json += jsonString(field->name()) + ":" + value;
    }
    json += "}";
    return ok;
  }

 private:
  void error(const YAML::Node& node, const std::string& path, std::string message) {
    diag_.error(Location{file_, node.Mark().line + 1},
                (path.empty() ? "" : path + ": ") + std::move(message));
  }

  void record(const YAML::Node& node, const std::string& path) {
    // Paths are recorded as they will be once this file's config is appended to the others.
    std::string shifted = path;
    for (auto [prefix, offset] : {std::pair<std::string_view, int>{"frontends[", frontend_offset_},
                                  {"backends[", backend_offset_}}) {
      if (offset != 0 && shifted.rfind(prefix, 0) == 0) {
        auto close = shifted.find(']');
        int index = std::stoi(shifted.substr(prefix.size(), close - prefix.size()));
        shifted = std::string(prefix) + std::to_string(index + offset) + shifted.substr(close);
      }
    }
    sources_.set(shifted, Location{file_, node.Mark().line + 1});
  }

  bool fieldValue(const YAML::Node& node, const FieldDescriptor* field, const std::string& path,
                  std::string& json) {
    if (!field->is_repeated()) return singleValue(node, field, path, json);
    if (!node.IsSequence()) {
      error(node, path, "expected a list");
      return false;
    }
    bool ok = true;
    json += "[";
    for (size_t i = 0; i < node.size(); ++i) {
      std::string ipath = path + "[" + std::to_string(i) + "]";
      record(node[i], ipath);
      if (i > 0) json += ",";
      ok = singleValue(node[i], field, ipath, json) && ok;
    }
    json += "]";
    return ok;
  }

  bool scalar(const YAML::Node& node, const std::string& path, std::string* text) {
    if (!node.IsScalar()) {
      error(node, path, "expected a single value, not a list or mapping");
      return false;
    }
    *text = node.Scalar();
    return true;
  }

  bool singleValue(const YAML::Node& node, const FieldDescriptor* field, const std::string& path,
                   std::string& json) {
    std::string text;
    switch (field->cpp_type()) {
      case FieldDescriptor::CPPTYPE_MESSAGE:
        if (field->message_type()->full_name() == "google.protobuf.Duration") {
          return duration(node, path, json);
        }
        return message(node, field->message_type(), path, json);
      case FieldDescriptor::CPPTYPE_STRING:
        if (!scalar(node, path, &text)) return false;
        json += jsonString(text);
        return true;
      case FieldDescriptor::CPPTYPE_BOOL:
        if (!scalar(node, path, &text)) return false;
        if (text != "true" && text != "false") {
          error(node, path, "expected true or false, not '" + text + "'");
          return false;
        }
        json += text;
        return true;
      case FieldDescriptor::CPPTYPE_ENUM:
        if (!scalar(node, path, &text)) return false;
        return enumValue(node, field->enum_type(), text, path, json);
      case FieldDescriptor::CPPTYPE_UINT32:
      case FieldDescriptor::CPPTYPE_UINT64: {
        if (!scalar(node, path, &text)) return false;
        uint64_t value = 0;
        auto [ptr, ec] = std::from_chars(text.data(), text.data() + text.size(), value);
        uint64_t max =
            field->cpp_type() == FieldDescriptor::CPPTYPE_UINT32 ? UINT32_MAX : UINT64_MAX;
        if (text.empty() || ec != std::errc() || ptr != text.data() + text.size() || value > max) {
          error(node, path, "expected a whole number >= 0, not '" + text + "'");
          return false;
        }
        json += std::to_string(value);
        return true;
      }
      case FieldDescriptor::CPPTYPE_INT32:
      case FieldDescriptor::CPPTYPE_INT64: {
        if (!scalar(node, path, &text)) return false;
        int64_t value = 0;
        auto [ptr, ec] = std::from_chars(text.data(), text.data() + text.size(), value);
        if (text.empty() || ec != std::errc() || ptr != text.data() + text.size()) {
          error(node, path, "expected a whole number, not '" + text + "'");
          return false;
        }
        json += std::to_string(value);
        return true;
      }
      default:
        error(node, path, "unsupported field type");
        return false;
    }
  }

  bool duration(const YAML::Node& node, const std::string& path, std::string& json) {
    std::string text;
    if (!scalar(node, path, &text)) return false;
    std::string problem;
    if (auto parsed = parseTime(text, &problem)) {
      auto us = parsed->value.count();
      auto ms = us / 1000;
      if (parsed->unitless && ms > 0 && ms < 100) {
        diag_.warning(Location{file_, node.Mark().line + 1},
                      path + ": '" + text + "' is " + std::to_string(ms) +
                          " ms, since a time without a unit is in milliseconds; write '" + text +
                          "s' for " + std::to_string(ms) + " seconds");
      }
      char buf[64];
      std::snprintf(buf, sizeof buf, "\"%lld.%06llds\"", static_cast<long long>(us / 1000000),
                    static_cast<long long>(us % 1000000));
      json += buf;
      return true;
    }
    static const std::regex kProtoDuration(R"(^\d+(\.\d{1,9})?s$)");
    if (std::regex_match(text, kProtoDuration)) {
      json += jsonString(text);
      return true;
    }
    error(node, path, problem);
    return false;
  }

  bool enumValue(const YAML::Node& node, const EnumDescriptor* type, const std::string& text,
                 const std::string& path, std::string& json) {
    std::string upper;
    for (char c : text) {
      upper += c == '-' ? '_' : static_cast<char>(std::toupper(static_cast<unsigned char>(c)));
    }
    // Mode's values carry their type's name as a prefix ("MODE_TCP"); accept "tcp".
    std::string prefixed;
    for (char c : type->name()) {
      if (std::isupper(static_cast<unsigned char>(c)) && !prefixed.empty()) prefixed += '_';
      prefixed += static_cast<char>(std::toupper(static_cast<unsigned char>(c)));
    }
    prefixed += "_" + upper;
    for (const std::string& candidate : {text, upper, prefixed}) {
      if (const auto* value = type->FindValueByName(candidate); value && value->number() != 0) {
        json += jsonString(value->name());
        return true;
      }
    }
    std::vector<std::string> names;
    std::string list;
    for (int i = 1; i < type->value_count(); ++i) {
      std::string name = type->value(i)->name();
      names.push_back(name);
      list += (list.empty() ? "" : ", ") + name;
    }
    error(node, path,
          "unknown value '" + text + "'; expected one of " + list + didYouMean(upper, names));
    return false;
  }

  const std::string& file_;
  SourceMap& sources_;
  Diagnostics& diag_;
  int frontend_offset_;
  int backend_offset_;
};

}  // namespace

bool loadStructured(std::string_view text, const std::string& file, lb::v1::Config& out,
                    SourceMap& sources, Diagnostics& diag) {
  YAML::Node root;
  try {
    root = YAML::Load(std::string(text));
  } catch (const YAML::Exception& e) {
    diag.error(Location{file, e.mark.line + 1}, "not valid YAML/JSON: " + e.msg);
    return false;
  }
  if (root.IsNull()) return true;  // an empty document is an empty config
  int errors_before = diag.errorCount();
  SourceMap local;
  Converter converter(file, local, diag, out.frontends_size(), out.backends_size());
  std::string json;
  bool ok = false;
  try {
    ok = converter.message(root, lb::v1::Config::descriptor(), "", json);
  } catch (const YAML::Exception& e) {
    diag.error(Location{file, e.mark.line + 1}, "not valid YAML/JSON: " + e.msg);
  }
  if (!ok || diag.errorCount() > errors_before) return false;
  lb::v1::Config parsed;
  auto status = google::protobuf::util::JsonStringToMessage(json, &parsed);
  if (!status.ok()) {
    diag.error(Location{file, 0},
               "cannot map the document onto lb.v1.Config: " + std::string(status.message()));
    return false;
  }
  if (parsed.has_global()) out.mutable_global()->MergeFrom(parsed.global());
  for (auto& fe : *parsed.mutable_frontends()) *out.add_frontends() = std::move(fe);
  for (auto& be : *parsed.mutable_backends()) *out.add_backends() = std::move(be);
  sources.merge(local, 0, 0);
  return true;
}

}  // namespace lb::config
