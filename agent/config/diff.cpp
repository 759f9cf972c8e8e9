#include "agent/config/diff.h"

#include <google/protobuf/descriptor.h>
#include <google/protobuf/util/message_differencer.h>

#include <map>
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

template <typename T>
std::map<std::string, const T*> byName(const google::protobuf::RepeatedPtrField<T>& items) {
  std::map<std::string, const T*> out;
  for (const auto& item : items) out.emplace(item.name(), &item);
  return out;
}

// Added, removed and changed items of one kind, in the order of `to` (added, changed) and of
// `from` (removed).
template <typename T>
void compare(const google::protobuf::RepeatedPtrField<T>& from,
             const google::protobuf::RepeatedPtrField<T>& to, const std::string& name_prefix,
             const std::string& skip, google::protobuf::RepeatedPtrField<std::string>* added,
             google::protobuf::RepeatedPtrField<std::string>* removed,
             google::protobuf::RepeatedPtrField<lb::v1::ConfigDiff::Change>* changed) {
  auto before = byName(from);
  auto after = byName(to);
  for (const auto& item : to) {
    auto it = before.find(item.name());
    if (it == before.end()) {
      added->Add(name_prefix + item.name());
      continue;
    }
    std::vector<std::string> fields;
    differingFields(*it->second, item, "", skip, fields);
    if (fields.empty()) continue;
    auto* change = changed->Add();
    change->set_name(name_prefix + item.name());
    for (auto& f : fields) change->add_fields(std::move(f));
  }
  for (const auto& item : from) {
    if (after.find(item.name()) == after.end()) removed->Add(name_prefix + item.name());
  }
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
