#include "controlplane/resolvers/kubernetes/address_template.h"

#include "absl/strings/str_cat.h"

namespace ringside::resolvers {

namespace {

constexpr const char* kSupported = "only {{.ID}}, {{.Namespace}}, {{.Port}} and {{.Data.key}} are supported";

bool is_space(char c) { return c == ' ' || c == '\t' || c == '\r' || c == '\n'; }

std::string_view trim(std::string_view s) {
  while (!s.empty() && is_space(s.front())) s.remove_prefix(1);
  while (!s.empty() && is_space(s.back())) s.remove_suffix(1);
  return s;
}

// Go identifiers as map keys in a field chain: a letter or '_' then letters, digits, '_'
// (ASCII only, which is what DNS names can carry anyway).
bool is_identifier(std::string_view s) {
  if (s.empty()) return false;
  for (size_t i = 0; i < s.size(); ++i) {
    char c = s[i];
    bool letter = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || c == '_';
    bool digit = c >= '0' && c <= '9';
    if (!letter && !(digit && i > 0)) return false;
  }
  return true;
}

std::string shown(std::string_view action) {
  // Long or binary junk is cut so the error stays one readable line.
  std::string out;
  for (char c : action.substr(0, 40)) out += (c >= 0x20 && c < 0x7f) ? c : '?';
  if (action.size() > 40) out += "...";
  return out;
}

}  // namespace

absl::StatusOr<AddressTemplate> AddressTemplate::parse(std::string_view text) {
  AddressTemplate t;
  size_t pos = 0;
  while (pos < text.size()) {
    size_t open = text.find("{{", pos);
    if (open == std::string_view::npos) {
      t.pieces_.push_back({Kind::kText, std::string(text.substr(pos))});
      break;
    }
    if (open > pos) t.pieces_.push_back({Kind::kText, std::string(text.substr(pos, open - pos))});
    size_t close = text.find("}}", open + 2);
    if (close == std::string_view::npos)
      return absl::InvalidArgumentError(absl::StrCat("unclosed action \"{{\" at offset ", open));
    std::string_view raw = text.substr(open, close + 2 - open);
    std::string_view inner = text.substr(open + 2, close - open - 2);
    if (!inner.empty() && (inner.front() == '-' || inner.back() == '-' || inner.front() == '/'))
      return absl::InvalidArgumentError(absl::StrCat(shown(raw), " at offset ", open,
                                                     ": trim markers and comments are not supported; ", kSupported));
    inner = trim(inner);
    Piece p;
    if (inner == ".ID") {
      p.kind = Kind::kId;
    } else if (inner == ".Namespace") {
      p.kind = Kind::kNamespace;
    } else if (inner == ".Port") {
      p.kind = Kind::kPort;
    } else if (inner.substr(0, 6) == ".Data." && is_identifier(inner.substr(6))) {
      p.kind = Kind::kData;
      p.text = std::string(inner.substr(6));
    } else {
      return absl::InvalidArgumentError(absl::StrCat(shown(raw), " at offset ", open, " is not supported; ", kSupported));
    }
    t.pieces_.push_back(std::move(p));
    pos = close + 2;
  }
  return t;
}

std::string AddressTemplate::render(const TemplateValues& v) const {
  std::string out;
  for (const Piece& p : pieces_) {
    switch (p.kind) {
      case Kind::kText: out += p.text; break;
      case Kind::kId: out.append(v.id.data(), v.id.size()); break;
      case Kind::kNamespace: out.append(v.ns.data(), v.ns.size()); break;
      case Kind::kPort: absl::StrAppend(&out, v.port); break;
      case Kind::kData: {
        auto it = v.data ? v.data->find(p.text) : std::map<std::string, std::string>::const_iterator();
        if (v.data && it != v.data->end()) {
          out += it->second;
        } else {
          out += "<no value>";
        }
        break;
      }
    }
  }
  return out;
}

}  // namespace ringside::resolvers
