#include "dataplane/mapping/access_control.h"

#include <algorithm>
#include <cstdio>

namespace ringside::invoke {
namespace {

constexpr size_t kMaxSegments = 64;  // deeper paths match no operation (the fallback decides)

char lower(char c) { return (c >= 'A' && c <= 'Z') ? static_cast<char>(c + 32) : c; }

std::string lowered(std::string s) {
  for (char& c : s) c = lower(c);
  return s;
}

// Splits "/a//b/c" into {"a", "b", "c"}; false when there are more than `out.size()` segments.
bool split_segments(std::string_view path, std::span<std::string_view> out, size_t* n) {
  *n = 0;
  while (!path.empty()) {
    const size_t slash = path.find('/');
    const std::string_view seg = path.substr(0, slash);
    if (!seg.empty()) {
      if (*n == out.size()) return false;
      out[(*n)++] = seg;
    }
    if (slash == std::string_view::npos) break;
    path.remove_prefix(slash + 1);
  }
  return true;
}

// Glob inside one segment: '*' matches any run of characters. `fold`: compare case-insensitively
// (the pattern is already lower-case).
bool glob_match(std::string_view pattern, std::string_view text, bool fold) {
  size_t p = 0, t = 0, star = std::string_view::npos, mark = 0;
  while (t < text.size()) {
    if (p < pattern.size() && pattern[p] == '*') {
      star = p++;
      mark = t;
    } else if (p < pattern.size() && pattern[p] == (fold ? lower(text[t]) : text[t])) {
      ++p;
      ++t;
    } else if (star != std::string_view::npos) {
      p = star + 1;
      t = ++mark;
    } else {
      return false;
    }
  }
  while (p < pattern.size() && pattern[p] == '*') ++p;
  return p == pattern.size();
}

// Rank of a pattern segment: higher is more specific.
int segment_rank(std::string_view seg) {
  if (seg == "**") return 0;
  if (seg == "*") return 1;
  if (seg.find('*') != std::string_view::npos) return 2;
  return 3;
}

// The pattern's segments match the path's ("**" takes the rest).
bool pattern_match(std::span<const std::string> pattern, std::span<const std::string_view> path,
                   bool fold) {
  size_t i = 0;
  for (; i < pattern.size(); ++i) {
    if (pattern[i] == "**") return true;  // the rest, however long (or empty)
    if (i == path.size()) return false;
    if (!glob_match(pattern[i], path[i], fold)) return false;
  }
  return i == path.size();
}

// a is more specific than b: compare segment ranks position by position.
bool more_specific(std::span<const std::string> a, std::span<const std::string> b) {
  const size_t n = std::min(a.size(), b.size());
  for (size_t i = 0; i < n; ++i) {
    const int ra = segment_rank(a[i]);
    const int rb = segment_rank(b[i]);
    if (ra != rb) return ra > rb;
  }
  return a.size() > b.size();
}

}  // namespace

AccessControlList::AccessControlList(bool default_allow, std::string trust_domain, bool app_is_http)
    : default_allow_(default_allow), trust_domain_(std::move(trust_domain)), app_is_http_(app_is_http) {}

void AccessControlList::add_policy(std::string app_id, std::string app_namespace, std::string trust_domain,
                                   std::string_view default_action,
                                   const std::vector<OperationRule>& operations) {
  Policy p;
  p.app_id = std::move(app_id);
  p.app_namespace = std::move(app_namespace);
  p.trust_domain = std::move(trust_domain);
  if (!default_action.empty()) p.default_action = default_action == "allow" ? Action::kAllow : Action::kDeny;
  for (const OperationRule& rule : operations) {
    Operation op;
    const std::string name = app_is_http_ ? lowered(rule.name) : rule.name;
    std::string_view rest = name;
    while (!rest.empty()) {
      const size_t slash = rest.find('/');
      const std::string_view seg = rest.substr(0, slash);
      if (!seg.empty()) op.segments.emplace_back(seg);
      if (slash == std::string_view::npos) break;
      rest.remove_prefix(slash + 1);
    }
    const Action a = rule.allow ? Action::kAllow : Action::kDeny;
    op.action = a;
    for (const std::string& verb : rule.verbs) {
      if (verb == "*") {
        op.any_verb = a;
        continue;
      }
      for (int v = 1; v <= 9; ++v) {
        if (http1::verb_name(static_cast<http1::Verb>(v)) == verb) op.verb_action[v] = a;
      }
    }
    p.operations.push_back(std::move(op));
  }
  policies_.push_back(std::move(p));
}

const AccessControlList::Operation* AccessControlList::match(const Policy& p,
                                                             std::span<const std::string_view> segments) const {
  const Operation* best = nullptr;
  for (const Operation& op : p.operations) {
    if (!pattern_match(op.segments, segments, app_is_http_)) continue;
    if (!best || more_specific(op.segments, best->segments)) best = &op;
  }
  return best;
}

bool AccessControlList::allows(const CallerIdentity* caller, std::string_view operation,
                               http1::Verb verb) const {
  if (caller == nullptr) return default_allow_;
  const Policy* policy = nullptr;
  for (const Policy& p : policies_) {
    if (p.app_id == caller->app_id && p.app_namespace == caller->app_namespace) {
      policy = &p;
      break;
    }
  }
  if (!policy || policy->trust_domain != caller->trust_domain) return default_allow_;
  Action action = default_allow_ ? Action::kAllow : Action::kDeny;
  if (policy->default_action != Action::kUnset) action = policy->default_action;

  std::string_view storage[kMaxSegments];
  size_t n = 0;
  const Operation* op = split_segments(operation, storage, &n)
                            ? match(*policy, std::span<const std::string_view>(storage, n))
                            : nullptr;
  if (op) {
    if (!app_is_http_) {
      action = op->action;
    } else if (verb == http1::Verb::kNone) {
      action = policy->default_action;  // daprd: a verb-less call to an HTTP app
    } else {
      const int v = static_cast<int>(verb);
      const Action by_verb = v > 0 && v <= 9 ? op->verb_action[v] : Action::kUnset;
      if (by_verb != Action::kUnset) {
        action = by_verb;
      } else if (op->any_verb != Action::kUnset) {
        action = op->any_verb;
      }
    }
  }
  return action == Action::kAllow;
}

std::string_view access_denied_text(const CallerIdentity* caller, std::string_view operation,
                                    http1::Verb verb, std::span<char> out) {
  const std::string_view verb_text = http1::verb_name(verb);
  int n;
  if (caller) {
    n = snprintf(out.data(), out.size(),
                 "access control policy has denied access to id: spiffe://%.*s/ns/%.*s/%.*s operation: %.*s verb: %.*s",
                 static_cast<int>(caller->trust_domain.size()), caller->trust_domain.data(),
                 static_cast<int>(caller->app_namespace.size()), caller->app_namespace.data(),
                 static_cast<int>(caller->app_id.size()), caller->app_id.data(),
                 static_cast<int>(std::min<size_t>(operation.size(), 300)), operation.data(),
                 static_cast<int>(verb_text.size()), verb_text.data());
  } else {
    n = snprintf(out.data(), out.size(), "access control policy has denied access to id:  operation: %.*s verb: %.*s",
                 static_cast<int>(std::min<size_t>(operation.size(), 300)), operation.data(),
                 static_cast<int>(verb_text.size()), verb_text.data());
  }
  if (n < 0) return {};
  return {out.data(), std::min<size_t>(static_cast<size_t>(n), out.size() - 1)};
}

}  // namespace ringside::invoke
