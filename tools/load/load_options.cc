#include "tools/load/load_options.h"

#include <string_view>

#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/strip.h"
#include "absl/strings/ascii.h"

namespace ringside::load {

bool ParseUrl(std::string_view url_in, uint16_t* port, std::string* target) {
  absl::string_view url(url_in.data(), url_in.size());
  if (!absl::ConsumePrefix(&url, "http://")) return false;
  const size_t slash = url.find('/');
  const absl::string_view authority = url.substr(0, slash);
  *target = slash == absl::string_view::npos ? "/" : std::string(url.substr(slash));
  const size_t colon = authority.rfind(':');
  if (colon == absl::string_view::npos) return false;
  const absl::string_view host = authority.substr(0, colon);
  if (host != "127.0.0.1" && host != "localhost") return false;
  uint32_t p = 0;
  if (!absl::SimpleAtoi(authority.substr(colon + 1), &p) || p == 0 || p > 65535) return false;
  *port = static_cast<uint16_t>(p);
  return true;
}

absl::StatusOr<LoadOptions> ParseLoadOptions(int argc, char** argv) {
  LoadOptions o;
  bool have_url = false;
  bool have_method = false;
  for (int i = 1; i < argc; ++i) {
    const absl::string_view flag = argv[i];
    if (i + 1 >= argc) return absl::InvalidArgumentError(absl::StrCat("flag ", flag, " needs a value"));
    const absl::string_view value = argv[++i];
    bool ok = true;
    if (flag == "--url") {
      ok = have_url = ParseUrl(std::string_view(value.data(), value.size()), &o.port, &o.target);
    } else if (flag == "-n") {
      ok = absl::SimpleAtoi(value, &o.requests) && o.requests > 0;
    } else if (flag == "-c") {
      ok = absl::SimpleAtoi(value, &o.connections) && o.connections > 0 && o.connections <= 4096;
    } else if (flag == "--body-size") {
      ok = absl::SimpleAtoi(value, &o.body_size);
    } else if (flag == "--method") {
      o.method = absl::AsciiStrToUpper(value);
      have_method = ok = !o.method.empty();
    } else if (flag == "--timeout") {
      double seconds = 0;
      ok = absl::SimpleAtod(value, &seconds) && seconds > 0;
      o.timeout = std::chrono::milliseconds(static_cast<int64_t>(seconds * 1000));
    } else if (flag == "--header") {
      const size_t colon = value.find(':');
      ok = colon != absl::string_view::npos && colon > 0;
      if (ok) {
        o.headers.emplace_back(std::string(value.substr(0, colon)),
                               std::string(absl::StripAsciiWhitespace(value.substr(colon + 1))));
      }
    } else {
      return absl::InvalidArgumentError(absl::StrCat("unknown flag ", flag));
    }
    if (!ok) return absl::InvalidArgumentError(absl::StrCat("bad value for ", flag, ": ", value));
  }
  if (!have_url) return absl::InvalidArgumentError("--url http://127.0.0.1:<port>/<path> is required");
  if (!have_method && o.body_size > 0) o.method = "POST";
  return o;
}

}  // namespace ringside::load
