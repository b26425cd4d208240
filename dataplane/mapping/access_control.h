#pragma once
// AccessControlList: the callee's compiled spec.accessControl (spec §10), built once at start-up
// and read-only on the shards; allows() allocates nothing.
//
// Decision, as daprd's acl package: no identity → the global default; identity with no policy for
// (appId, namespace), or a policy whose trust domain or namespace differs → the global default;
// otherwise the policy's defaultAction (when set) is the fallback, and the best-matching operation
// decides: HTTP apps by the request verb, else "*", else the fallback (a NONE verb → the policy's
// defaultAction); gRPC apps by the operation's action. Only "allow" allows.
//
// Operations: "/" prepended; for HTTP apps matched case-insensitively; "*" is one path segment
// (or a glob inside one, "ord*"), "**" any remaining segments. When several match, the one with
// literal segments earliest wins (exact beats glob beats "*" beats "**"), then the first written.
#include <cstdint>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "dataplane/http1/verb.h"
#include "dataplane/tls/spiffe_id.h"

namespace ringside::invoke {

// Who is calling, from the peer's mTLS certificate (spiffe://<trust domain>/ns/<namespace>/<app id>).
using CallerIdentity = tls::SpiffeId;

class AccessControlList {
 public:
  // `app_is_http`: our app speaks HTTP (operations compare case-insensitively, verbs apply).
  AccessControlList(bool default_allow, std::string trust_domain, bool app_is_http);

  struct OperationRule {
    std::string name;                 // as configured, "/" prepended
    std::vector<std::string> verbs;   // upper-case verb names or "*"
    bool allow = false;               // action == allow
  };
  // `default_action`: "allow", "deny" or "" (none: the global default stays the fallback).
  void add_policy(std::string app_id, std::string app_namespace, std::string trust_domain,
                  std::string_view default_action, const std::vector<OperationRule>& operations);

  // `operation`: the normalized method ("orders/1" or "/pkg.Svc/Method"); `caller`: nullptr
  // when the peer has no identity (no mTLS).
  bool allows(const CallerIdentity* caller, std::string_view operation, http1::Verb verb) const;

  const std::string& trust_domain() const { return trust_domain_; }

 private:
  enum class Action : uint8_t { kUnset, kAllow, kDeny };
  struct Operation {
    std::vector<std::string> segments;  // lower-cased for HTTP apps
    Action verb_action[10] = {};        // by http1::Verb value (0 = NONE unused)
    Action any_verb = Action::kUnset;   // "*"
    Action action = Action::kDeny;      // gRPC apps
  };
  struct Policy {
    std::string app_id;
    std::string app_namespace;
    std::string trust_domain;
    Action default_action = Action::kUnset;
    std::vector<Operation> operations;
  };
  // The best-matching operation for `segments`, or nullptr.
  const Operation* match(const Policy& p, std::span<const std::string_view> segments) const;

  bool default_allow_;          // global defaultAction == allow
  std::string trust_domain_;    // our own trust domain
  bool app_is_http_;
  std::vector<Policy> policies_;
};

// daprd's denial text: "access control policy has denied access to id: <spiffe id> operation:
// <op> verb: <VERB>", written into `out` (cut to fit). The id is empty without an identity.
std::string_view access_denied_text(const CallerIdentity* caller, std::string_view operation,
                                    http1::Verb verb, std::span<char> out);

}  // namespace ringside::invoke
