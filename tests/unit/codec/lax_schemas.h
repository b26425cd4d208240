#pragma once
// libprotobuf without UTF-8 checks, to compare verdicts with our decoders (which do not check
// UTF-8) on arbitrary bytes: the Dapr schemas rebuilt in a private DescriptorPool with every
// `string` field turned into `bytes` (same wire format) and map fields into repeated entry
// messages (bytes may not be a map key; the wire format is the same, and map entries parse
// with the same rules). Messages are parsed as DynamicMessages.
#include <google/protobuf/descriptor.h>
#include <google/protobuf/descriptor.pb.h>
#include <google/protobuf/dynamic_message.h>

#include <initializer_list>
#include <memory>
#include <set>
#include <string>
#include <string_view>

namespace ringside::codec::testing {

class LaxSchemas {
 public:
  // Rebuilds the files (and their imports) declaring these generated messages.
  LaxSchemas(std::initializer_list<const google::protobuf::Descriptor*> roots) {
    for (const auto* r : roots) add(r->file());
  }

  // Whether libprotobuf, minus UTF-8 checks, parses `bytes` as message `full_name`.
  bool parses(const std::string& full_name, std::string_view bytes) {
    const google::protobuf::Descriptor* d = pool_.FindMessageTypeByName(full_name);
    if (d == nullptr) return false;
    std::unique_ptr<google::protobuf::Message> m(factory_.GetPrototype(d)->New());
    return m->ParseFromArray(bytes.data(), static_cast<int>(bytes.size()));
  }

 private:
  static void make_lax(google::protobuf::DescriptorProto* m) {
    m->mutable_options()->clear_map_entry();
    for (auto& f : *m->mutable_field())
      if (f.type() == google::protobuf::FieldDescriptorProto::TYPE_STRING)
        f.set_type(google::protobuf::FieldDescriptorProto::TYPE_BYTES);
    for (auto& n : *m->mutable_nested_type()) make_lax(&n);
  }

  void add(const google::protobuf::FileDescriptor* fd) {
    if (!added_.insert(fd->name()).second) return;
    for (int i = 0; i < fd->dependency_count(); ++i) add(fd->dependency(i));
    google::protobuf::FileDescriptorProto p;
    fd->CopyTo(&p);
    for (auto& m : *p.mutable_message_type()) make_lax(&m);
    pool_.BuildFile(p);
  }

  google::protobuf::DescriptorPool pool_;
  google::protobuf::DynamicMessageFactory factory_{&pool_};
  std::set<std::string> added_;
};

}  // namespace ringside::codec::testing
