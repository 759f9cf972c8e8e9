#include "agent/config/diff.h"

#include <google/protobuf/descriptor.h>
#include <google/protobuf/io/coded_stream.h>
#include <google/protobuf/io/zero_copy_stream_impl_lite.h>
#include <google/protobuf/util/message_differencer.h>

#include <string_view>
#include <unordered_map>
#include <vector>

namespace lb::config {

namespace {

using google::protobuf::FieldDescriptor;
using google::protobuf::Message;
using google::protobuf::Reflection;
using google::protobuf::util::MessageDifferencer;

// The paths of the fields that differ between two messages of one type: singular messages are
// followed down to their leaves, repeated fields and scalars are compared whole. `skip` names a
// top-level field left out (a backend's servers, reported one by one).
void differingFields(const Message& a, const Message& b, const std::string& prefix,
                     const std::string& skip, std::vector<std::string>& out) {
  const auto* descriptor = a.GetDescriptor();
  const Reflection* ra = a.GetReflection();
  const Reflection* rb = b.GetReflection();
  for (int i = 0; i < descriptor->field_count(); ++i) {
    const FieldDescriptor* field = descriptor->field(i);
    if (prefix.empty() && field->name() == skip) continue;
    const std::string path = prefix.empty() ? field->name() : prefix + "." + field->name();
    if (!field->is_repeated() && field->cpp_type() == FieldDescriptor::CPPTYPE_MESSAGE &&
        field->message_type()->file()->package() != "google.protobuf" && ra->HasField(a, field) &&
        rb->HasField(b, field)) {
      // Both set: say which of its fields differ (google.protobuf.Duration compares whole).
      differingFields(ra->GetMessage(a, field), rb->GetMessage(b, field), path, "", out);
      continue;
    }
    MessageDifferencer differencer;
    std::vector<const FieldDescriptor*> only{field};
    if (!differencer.CompareWithFields(a, b, only, only)) out.push_back(path);
  }
}

// Most items of a large configuration are unchanged: equal encodings settle them without the
// field by field walk (deterministic, so equal messages encode alike). The buffers are the
// caller's, reused from one item to the next.
bool sameEncoding(const Message& a, const Message& b, std::string& ea, std::string& eb) {
  auto encode = [](const Message& m, std::string& out) {
    out.clear();
    google::protobuf::io::StringOutputStream stream(&out);
    google::protobuf::io::CodedOutputStream coded(&stream);
    coded.SetSerializationDeterministic(true);
    m.SerializeToCodedStream(&coded);
  };
  encode(a, ea);
  encode(b, eb);
  return ea == eb;
}

template <typename T>
std::unordered_map<std::string_view, const T*> byName(
    const google::protobuf::RepeatedPtrField<T>& items) {
  std::unordered_map<std::string_view, const T*> out;
  out.reserve(items.size());
  for (const auto& item : items) out.emplace(item.name(), &item);
  return out;
}

template <typename T>
bool sameNames(const google::protobuf::RepeatedPtrField<T>& a,
               const google::protobuf::RepeatedPtrField<T>& b) {
  if (a.size() != b.size()) return false;
  for (int i = 0; i < a.size(); ++i) {
    if (a.Get(i).name() != b.Get(i).name()) return false;
  }
  return true;
}

// Added, removed and changed items of one kind, in the order of `to` (added, changed) and of
// `from` (removed).
template <typename T>
void compare(const google::protobuf::RepeatedPtrField<T>& from,
             const google::protobuf::RepeatedPtrField<T>& to, const std::string& name_prefix,
             const std::string& skip, google::protobuf::RepeatedPtrField<std::string>* added,
             google::protobuf::RepeatedPtrField<std::string>* removed,
             google::protobuf::RepeatedPtrField<lb::v1::ConfigDiff::Change>* changed) {
  std::string ea, eb;
  auto compareOne = [&](const T& before, const T& after) {
    if (skip.empty() && sameEncoding(before, after, ea, eb)) return;
    std::vector<std::string> fields;
    differingFields(before, after, "", skip, fields);
    if (fields.empty()) return;
    auto* change = changed->Add();
    change->set_name(name_prefix + after.name());
    for (auto& f : fields) change->add_fields(std::move(f));
  };
  // The usual change keeps every name in its place: compare pairwise, no lookup.
  if (sameNames(from, to)) {
    for (int i = 0; i < to.size(); ++i) compareOne(from.Get(i), to.Get(i));
    return;
  }
  auto before = byName(from);
  auto after = byName(to);
  for (const auto& item : to) {
    auto it = before.find(item.name());
    if (it == before.end()) {
      added->Add(name_prefix + item.name());
      continue;
    }
    compareOne(*it->second, item);
  }
  for (const auto& item : from) {
    if (after.find(item.name()) == after.end()) removed->Add(name_prefix + item.name());
  }
}

// Whether the servers both lists have are in another order.
bool reordered(const google::protobuf::RepeatedPtrField<lb::v1::Server>& from,
               const google::protobuf::RepeatedPtrField<lb::v1::Server>& to) {
  if (sameNames(from, to)) return false;
  auto before = byName(from);
  auto after = byName(to);
  std::vector<std::string_view> kept_from, kept_to;
  for (const auto& s : from) {
    if (after.contains(s.name())) kept_from.push_back(s.name());
  }
  for (const auto& s : to) {
    if (before.contains(s.name())) kept_to.push_back(s.name());
  }
  return kept_from != kept_to;
}

std::string plural(int n, const std::string& word) {
  return std::to_string(n) + " " + word + (n == 1 ? "" : "s");
}

std::string summarize(const lb::v1::ConfigDiff& d) {
  std::vector<std::string> parts;
  auto add = [&](int n, const std::string& sign, const std::string& word) {
    if (n > 0) parts.push_back(sign + plural(n, word));
  };
  add(d.frontends_added_size(), "+", "frontend");
  add(d.frontends_removed_size(), "-", "frontend");
  add(d.backends_added_size(), "+", "backend");
  add(d.backends_removed_size(), "-", "backend");
  add(d.servers_added_size(), "+", "server");
  add(d.servers_removed_size(), "-", "server");
  int changed = d.frontends_changed_size() + d.backends_changed_size() + d.servers_changed_size() +
                (d.global_changed_size() > 0 ? 1 : 0);
  if (changed > 0) parts.push_back(std::to_string(changed) + " changed");
  if (parts.empty()) return "no changes";
  std::string out;
  for (const auto& part : parts) out += (out.empty() ? "" : ", ") + part;
  return out;
}

}  // namespace

lb::v1::ConfigDiff diff(const lb::v1::Config& from, const lb::v1::Config& to) {
  lb::v1::ConfigDiff d;
  std::vector<std::string> global;
  differingFields(from.global(), to.global(), "", "", global);
  for (auto& path : global) d.add_global_changed(std::move(path));
  compare(from.frontends(), to.frontends(), "", "", d.mutable_frontends_added(),
          d.mutable_frontends_removed(), d.mutable_frontends_changed());
  compare(from.backends(), to.backends(), "", "servers", d.mutable_backends_added(),
          d.mutable_backends_removed(), d.mutable_backends_changed());
  // Servers of backends on both sides; a new or removed backend's servers come with it.
  auto before = byName(from.backends());
  for (const auto& backend : to.backends()) {
    auto it = before.find(backend.name());
    if (it == before.end()) continue;
    compare(it->second->servers(), backend.servers(), backend.name() + "/", "",
            d.mutable_servers_added(), d.mutable_servers_removed(), d.mutable_servers_changed());
    if (reordered(it->second->servers(), backend.servers())) {
      // The order decides `balance first` and the round-robin rotation.
      lb::v1::ConfigDiff::Change* change = nullptr;
      for (auto& c : *d.mutable_backends_changed()) {
        if (c.name() == backend.name()) change = &c;
      }
      if (change == nullptr) {
        change = d.add_backends_changed();
        change->set_name(backend.name());
      }
      change->add_fields("servers");
    }
  }
  d.set_summary(summarize(d));
  return d;
}

bool empty(const lb::v1::ConfigDiff& d) {
  return d.frontends_added_size() + d.frontends_removed_size() + d.frontends_changed_size() +
             d.backends_added_size() + d.backends_removed_size() + d.backends_changed_size() +
             d.servers_added_size() + d.servers_removed_size() + d.servers_changed_size() +
             d.global_changed_size() ==
         0;
}

}  // namespace lb::config
