#include "controlplane/resolvers/consul/consul_options.h"

#include <cstdlib>
#include <fstream>
#include <sstream>

#include "absl/strings/ascii.h"
#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "controlplane/config/string_view_compat.h"
#include "controlplane/config/value_parsers.h"
#include "controlplane/config/yaml_fields.h"

namespace ringside::resolvers::consul {

namespace {

constexpr std::string_view kBase = "spec.nameResolution.configuration";

std::string at(std::string_view path, std::string_view key) { return absl::StrCat(config::to_absl(path), ".", config::to_absl(key)); }

absl::StatusOr<std::string> str(const YAML::Node& n, std::string_view path) {
  if (n.IsNull()) return std::string();
  return config::scalar(n, path);
}

absl::StatusOr<bool> boolean(const YAML::Node& n, std::string_view path) {
  if (n.IsNull()) return false;
  return config::bool_at(n, path);
}

// A Go time.Duration decoded by encoding/json is an integer of nanoseconds (what daprd
// accepts); we also take Go duration text ("10s"), which daprd would reject.
absl::StatusOr<std::chrono::milliseconds> go_duration(const YAML::Node& n, std::string_view path) {
  if (n.IsNull()) return std::chrono::milliseconds(0);
  absl::StatusOr<std::string> text = config::scalar(n, path);
  if (!text.ok()) return text.status();
  if (auto ns = config::parse_int(*text)) {
    if (*ns < 0) return config::path_error(path, absl::StrCat(config::quoted(*text), " is negative"));
    return std::chrono::duration_cast<std::chrono::milliseconds>(std::chrono::nanoseconds(*ns));
  }
  absl::StatusOr<std::chrono::nanoseconds> d = config::duration_at(n, path);
  if (!d.ok()) return d.status();
  return std::chrono::duration_cast<std::chrono::milliseconds>(*d);
}

// The user-visible key under `map` matching `name` (for error paths).
std::string key_as_written(const YAML::Node& map, std::string_view name) {
  for (const auto& kv : map) {
    if (kv.first.IsScalar() && absl::EqualsIgnoreCase(kv.first.Scalar(), config::to_absl(name))) return kv.first.Scalar();
  }
  return std::string(name);
}

// Applies an address the way consul/api NewClient does: "http://host:port[/prefix]".
absl::Status apply_address(std::string text, std::string_view path, ClientOptions* c, bool* https) {
  if (size_t p = text.find("://"); p != std::string::npos) {
    const std::string scheme = absl::AsciiStrToLower(text.substr(0, p));
    if (scheme == "https") {
      *https = true;
    } else if (scheme != "http") {
      return config::path_error(path, absl::StrCat(config::quoted(text), ": scheme \"", scheme,
                                                   "\" is not supported by ringside (http only)"));
    }
    text = text.substr(p + 3);
    if (size_t slash = text.find('/'); slash != std::string::npos) {
      c->path_prefix = text.substr(slash);
      text = text.substr(0, slash);
    }
  }
  if (text.empty()) return config::path_error(path, "is empty");
  c->address = std::move(text);
  return absl::OkStatus();
}

absl::Status parse_client(const YAML::Node& node, const std::string& path, const EnvLookup& env, ClientOptions* c) {
  // consul/api DefaultConfig(): defaults, then the environment; explicit fields win.
  bool https = false;
  std::string token_file = env("CONSUL_HTTP_TOKEN_FILE");
  if (std::string a = env("CONSUL_HTTP_ADDR"); !a.empty()) {
    if (absl::Status s = apply_address(a, "CONSUL_HTTP_ADDR", c, &https); !s.ok()) return s;
  }
  c->token = env("CONSUL_HTTP_TOKEN");
  if (std::string auth = env("CONSUL_HTTP_AUTH"); !auth.empty()) {
    c->basic_auth = true;
    size_t colon = auth.find(':');
    c->username = auth.substr(0, colon);
    if (colon != std::string::npos) c->password = auth.substr(colon + 1);
  }
  if (std::string ssl = env("CONSUL_HTTP_SSL"); !ssl.empty()) {
    if (config::parse_bool(ssl).value_or(false)) https = true;
  }
  c->ns = env("CONSUL_NAMESPACE");
  c->partition = env("CONSUL_PARTITION");
  std::string https_path = "CONSUL_HTTP_SSL";

  if (node.IsDefined() && !node.IsNull()) {
    if (!node.IsMap()) return config::path_error(path, "must be a map");
    auto field = [&](std::string_view name) { return child_ignoring_case(node, name); };
    auto key = [&](std::string_view name) { return at(path, key_as_written(node, name)); };
    if (YAML::Node n = field("Address"); n.IsDefined()) {
      absl::StatusOr<std::string> a = str(n, key("address"));
      if (!a.ok()) return a.status();
      if (!a->empty()) {
        https = false;  // an explicit address replaces the environment's
        if (absl::Status s = apply_address(*a, key("address"), c, &https); !s.ok()) return s;
        if (https) https_path = key("address");
      }
    }
    if (YAML::Node n = field("Scheme"); n.IsDefined()) {
      absl::StatusOr<std::string> s = str(n, key("scheme"));
      if (!s.ok()) return s.status();
      const std::string scheme = absl::AsciiStrToLower(*s);
      if (scheme == "https") {
        https = true;
        https_path = key("scheme");
      } else if (!scheme.empty() && scheme != "http") {
        return config::path_error(key("scheme"), absl::StrCat(config::quoted(*s), " is not http or https"));
      }
    }
    struct Text {
      std::string_view name;  // Go field name
      std::string* out;       // where the value goes
    };
    for (Text t : {Text{"Datacenter", &c->datacenter}, Text{"Namespace", &c->ns}, Text{"Partition", &c->partition}}) {
      if (YAML::Node n = field(t.name); n.IsDefined()) {
        absl::StatusOr<std::string> v = str(n, key(t.name));
        if (!v.ok()) return v.status();
        if (!v->empty()) *t.out = *v;
      }
    }
    if (YAML::Node n = field("Token"); n.IsDefined()) {
      absl::StatusOr<std::string> v = str(n, key("token"));
      if (!v.ok()) return v.status();
      if (!v->empty()) c->token = *v;
    }
    if (YAML::Node n = field("TokenFile"); n.IsDefined()) {
      absl::StatusOr<std::string> v = str(n, key("tokenFile"));
      if (!v.ok()) return v.status();
      if (!v->empty()) token_file = *v;
    }
    if (YAML::Node n = field("HttpAuth"); n.IsDefined() && !n.IsNull()) {
      const std::string p = key("httpAuth");
      if (!n.IsMap()) return config::path_error(p, "must be a map");
      absl::StatusOr<std::string> u = str(child_ignoring_case(n, "Username"), at(p, "username"));
      if (!u.ok()) return u.status();
      YAML::Node pw = child_ignoring_case(n, "Password");
      absl::StatusOr<std::string> w = pw.IsDefined() ? str(pw, at(p, "password")) : std::string();
      if (!w.ok()) return w.status();
      c->basic_auth = true;
      c->username = *u;
      c->password = *w;
    }
    if (YAML::Node n = field("WaitTime"); n.IsDefined()) {
      absl::StatusOr<std::chrono::milliseconds> d = go_duration(n, key("waitTime"));
      if (!d.ok()) return d.status();
      c->wait_time = *d;
    }
  }
  if (https) {
    return config::path_error(https_path, "https is not supported by ringside's consul resolver yet (use http, e.g. a local agent on 127.0.0.1:8500)");
  }
  // consul/api NewClient: a token file, when set, wins over a token.
  if (!token_file.empty()) {
    std::ifstream f(token_file);
    if (!f) return config::path_error(at(path, "tokenFile"), absl::StrCat(config::quoted(token_file), " cannot be read"));
    std::stringstream ss;
    ss << f.rdbuf();
    std::string t(absl::StripAsciiWhitespace(ss.str()));
    if (!t.empty()) c->token = std::move(t);
  }
  return absl::OkStatus();
}

absl::Status parse_query(const YAML::Node& node, const std::string& path, QueryOptions* q) {
  if (!node.IsDefined() || node.IsNull()) {
    q->params.emplace_back("cached", "");  // daprd's default: QueryOptions{UseCache: true}
    return absl::OkStatus();
  }
  if (!node.IsMap()) return config::path_error(path, "must be a map");
  auto field = [&](std::string_view name) { return child_ignoring_case(node, name); };
  auto key = [&](std::string_view name) { return at(path, key_as_written(node, name)); };
  auto text = [&](std::string_view name, std::string* out) -> absl::Status {
    if (YAML::Node n = field(name); n.IsDefined()) {
      absl::StatusOr<std::string> v = str(n, key(name));
      if (!v.ok()) return v.status();
      *out = *v;
    }
    return absl::OkStatus();
  };
  auto flag = [&](std::string_view name, bool* out) -> absl::Status {
    if (YAML::Node n = field(name); n.IsDefined()) {
      absl::StatusOr<bool> v = boolean(n, key(name));
      if (!v.ok()) return v.status();
      *out = *v;
    }
    return absl::OkStatus();
  };
  auto duration = [&](std::string_view name, std::chrono::milliseconds* out) -> absl::Status {
    if (YAML::Node n = field(name); n.IsDefined()) {
      absl::StatusOr<std::chrono::milliseconds> v = go_duration(n, key(name));
      if (!v.ok()) return v.status();
      *out = *v;
    }
    return absl::OkStatus();
  };
  std::string ns, partition, dc, near, filter;
  bool stale = false, consistent = false, use_cache = false, local_only = false, connect = false;
  std::chrono::milliseconds max_age{0}, stale_if_error{0};
  int64_t relay = 0;
  for (absl::Status s : {text("Namespace", &ns), text("Partition", &partition), text("Datacenter", &dc),
                         text("Near", &near), text("Filter", &filter), text("Token", &q->token),
                         flag("AllowStale", &stale), flag("RequireConsistent", &consistent),
                         flag("UseCache", &use_cache), flag("LocalOnly", &local_only), flag("Connect", &connect),
                         duration("MaxAge", &max_age), duration("StaleIfError", &stale_if_error),
                         duration("WaitTime", &q->wait_time)}) {
    if (!s.ok()) return s;
  }
  if (YAML::Node n = field("RelayFactor"); n.IsDefined() && !n.IsNull()) {
    absl::StatusOr<int64_t> v = config::int_at(n, key("relayFactor"), 0, 255);
    if (!v.ok()) return v.status();
    relay = *v;
  }
  // consul/api setQueryOptions order. waitIndex/waitHash are cleared by daprd before use.
  if (!ns.empty()) q->params.emplace_back("ns", ns);
  if (!partition.empty()) q->params.emplace_back("partition", partition);
  if (!dc.empty()) q->params.emplace_back("dc", dc);
  if (stale) q->params.emplace_back("stale", "");
  if (consistent) q->params.emplace_back("consistent", "");
  if (!near.empty()) q->params.emplace_back("near", near);
  if (!filter.empty()) q->params.emplace_back("filter", filter);
  if (YAML::Node n = field("NodeMeta"); n.IsDefined() && !n.IsNull()) {
    if (!n.IsMap()) return config::path_error(key("nodeMeta"), "must be a map");
    for (const auto& kv : n) {
      absl::StatusOr<std::string> v = str(kv.second, at(key("nodeMeta"), kv.first.Scalar()));
      if (!v.ok()) return v.status();
      q->params.emplace_back("node-meta", absl::StrCat(kv.first.Scalar(), ":", *v));
    }
  }
  if (relay != 0) q->params.emplace_back("relay-factor", absl::StrCat(relay));
  if (local_only) q->params.emplace_back("local-only", "true");
  if (connect) q->params.emplace_back("connect", "true");
  if (use_cache && !consistent) {
    q->params.emplace_back("cached", "");
    std::string cc;
    if (max_age.count() > 0) cc = absl::StrFormat("max-age=%.0f", max_age.count() / 1000.0);
    if (stale_if_error.count() > 0) {
      absl::StrAppend(&cc, cc.empty() ? "" : ", ", absl::StrFormat("stale-if-error=%.0f", stale_if_error.count() / 1000.0));
    }
    q->cache_control = cc;
  }
  return absl::OkStatus();
}

absl::Status parse_ringside(const YAML::Node& node, const std::string& path, ConsulOptions* o) {
  if (!node.IsDefined() || node.IsNull()) return absl::OkStatus();
  if (!node.IsMap()) return config::path_error(path, "must be a map");
  struct Knob {
    std::string_view name;           // key under configuration.ringside
    std::chrono::milliseconds* out;  // where it goes
  };
  for (Knob k : {Knob{"refreshInterval", &o->refresh_interval}, Knob{"retryInitial", &o->retry_initial},
                 Knob{"retryMax", &o->retry_max}, Knob{"requestTimeout", &o->request_timeout}}) {
    YAML::Node n = child_ignoring_case(node, k.name);
    if (!n.IsDefined()) continue;
    const std::string p = at(path, key_as_written(node, k.name));
    absl::StatusOr<std::chrono::nanoseconds> d = config::duration_at(n, p);
    if (!d.ok()) return d.status();
    if (d->count() <= 0) return config::path_error(p, "must be positive");
    *k.out = std::max(std::chrono::milliseconds(1), std::chrono::duration_cast<std::chrono::milliseconds>(*d));
  }
  if (o->retry_max < o->retry_initial) o->retry_max = o->retry_initial;
  return absl::OkStatus();
}

}  // namespace

std::string process_env(std::string_view name) {
  const char* v = std::getenv(std::string(name).c_str());
  return v ? std::string(v) : std::string();
}

absl::StatusOr<ConsulOptions> parse_consul_options(std::string_view yaml_text, const EnvLookup& env) {
  ConsulOptions o;
  YAML::Node root;
  if (!yaml_text.empty()) {
    try {
      root = YAML::Load(std::string(yaml_text));
    } catch (const YAML::Exception& e) {
      return config::path_error(kBase, e.what());
    }
  }
  if (root.IsDefined() && !root.IsNull() && !root.IsMap()) return config::path_error(kBase, "must be a map");
  const std::string base(kBase);
  auto field = [&](std::string_view name) { return child_ignoring_case(root, name); };
  auto key = [&](std::string_view name) {
    return at(base, root.IsMap() ? key_as_written(root, name) : std::string(name));
  };

  if (absl::Status s = parse_client(field("Client"), key("client"), env, &o.client); !s.ok()) return s;
  if (absl::Status s = parse_query(field("QueryOptions"), key("queryOptions"), &o.query); !s.ok()) return s;

  struct Flag {
    std::string_view name;  // Go field name
    bool* out;              // where it goes
  };
  for (Flag f : {Flag{"SelfRegister", &o.self_register}, Flag{"SelfDeregister", &o.self_deregister},
                 Flag{"UseCache", &o.use_cache}}) {
    if (YAML::Node n = field(f.name); n.IsDefined()) {
      absl::StatusOr<bool> v = boolean(n, key(f.name));
      if (!v.ok()) return v.status();
      *f.out = *v;
    }
  }
  if (YAML::Node n = field("DaprPortMetaKey"); n.IsDefined()) {
    absl::StatusOr<std::string> v = str(n, key("daprPortMetaKey"));
    if (!v.ok()) return v.status();
    o.dapr_port_meta_key = *v;  // daprd uses an explicit "" as given
  }
  if (YAML::Node n = field("Checks"); n.IsDefined() && !n.IsNull()) {
    static const Field kChecks{"Checks", "Checks", FieldKind::kObjectList, &agent_service_check_schema(), true};
    static const Field kWrap[] = {kChecks};
    YAML::Node wrap;
    wrap["Checks"] = n;
    absl::StatusOr<Json> j = to_go_json(wrap, Schema{kWrap}, base);
    if (!j.ok()) {
      // Paths come out as <base>.Checks[i]...; name the key as written.
      std::string msg(j.status().message());
      const std::string from = at(base, "Checks"), to = key("checks");
      if (absl::StartsWith(msg, from)) msg = to + msg.substr(from.size());
      return absl::InvalidArgumentError(msg);
    }
    if (j->contains("Checks") && !(*j)["Checks"].empty()) o.checks = (*j)["Checks"];
  }
  if (YAML::Node n = field("Tags"); n.IsDefined() && !n.IsNull()) {
    if (!n.IsSequence()) return config::path_error(key("tags"), "must be a list");
    o.tags = Json::array();
    for (size_t i = 0; i < n.size(); ++i) {
      absl::StatusOr<std::string> t = str(n[i], absl::StrCat(key("tags"), "[", i, "]"));
      if (!t.ok()) return t.status();
      o.tags.push_back(*t);
    }
  }
  if (YAML::Node n = field("Meta"); n.IsDefined() && !n.IsNull()) {
    if (!n.IsMap()) return config::path_error(key("meta"), "must be a map");
    o.meta = Json::object();
    for (const auto& kv : n) {
      absl::StatusOr<std::string> v = str(kv.second, at(key("meta"), kv.first.Scalar()));
      if (!v.ok()) return v.status();
      o.meta[kv.first.Scalar()] = *v;
    }
  }
  if (YAML::Node n = field("AdvancedRegistration"); n.IsDefined() && !n.IsNull()) {
    absl::StatusOr<Json> j = to_go_json(n, agent_service_registration_schema(), key("advancedRegistration"));
    if (!j.ok()) return j.status();
    o.advanced_registration = *std::move(j);
  }
  if (absl::Status s = parse_ringside(field("ringside"), key("ringside"), &o); !s.ok()) return s;
  return o;
}

}  // namespace ringside::resolvers::consul
