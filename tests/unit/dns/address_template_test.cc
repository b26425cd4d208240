// The Go text/template subset of the kubernetes resolver's `template` option.
#include "controlplane/resolvers/kubernetes/address_template.h"

#include <gtest/gtest.h>

#include <map>
#include <string>

namespace ringside::resolvers {
namespace {

std::string render(const std::string& text, const std::map<std::string, std::string>* data = nullptr) {
  absl::StatusOr<AddressTemplate> t = AddressTemplate::parse(text);
  EXPECT_TRUE(t.ok()) << text << ": " << t.status();
  if (!t.ok()) return "<parse error>";
  return t->render({"orders", "prod", 50002, data});
}

TEST(AddressTemplateTest, RendersTheSupportedActions) {
  EXPECT_EQ(render("{{.ID}}-dapr.{{.Namespace}}.svc.cluster.local:{{.Port}}"), "orders-dapr.prod.svc.cluster.local:50002");
  EXPECT_EQ(render("{{ .ID }}.{{\t.Namespace\t}}"), "orders.prod");
  EXPECT_EQ(render("plain.example:80"), "plain.example:80");
  EXPECT_EQ(render(""), "");
  EXPECT_EQ(render("a}}b{{.ID}}}}"), "a}}borders}}");  // "}}" outside an action is text, as in Go
  std::map<std::string, std::string> data{{"region", "eu"}};
  EXPECT_EQ(render("{{.ID}}.{{.Data.region}}.example", &data), "orders.eu.example");
  // daprd never fills Data: Go prints "<no value>" for a missing map key.
  EXPECT_EQ(render("{{.ID}}.{{.Data.region}}"), "orders.<no value>");
}

TEST(AddressTemplateTest, RejectsEverythingElseSayingWhere) {
  struct Bad {
    const char* text;
    const char* message;
  } bad[] = {
      {"{{.ID", "unclosed action \"{{\" at offset 0"},
      {"x{{.Id}}", "{{.Id}} at offset 1 is not supported; only {{.ID}}, {{.Namespace}}, {{.Port}} and {{.Data.key}}"},
      {"{{.Data}}", "{{.Data}} at offset 0 is not supported"},
      {"{{.Data.a.b}}", "{{.Data.a.b}} at offset 0 is not supported"},
      {"{{.Data.1x}}", "{{.Data.1x}} at offset 0 is not supported"},
      {"{{printf \"%s\" .ID}}", "{{printf \"%s\" .ID}} at offset 0 is not supported"},
      {"{{.ID | lower}}", "{{.ID | lower}} at offset 0 is not supported"},
      {"{{}}", "{{}} at offset 0 is not supported"},
      {"{{-.ID}}", "{{-.ID}} at offset 0: trim markers and comments are not supported"},
      {"{{.ID -}}", "{{.ID -}} at offset 0: trim markers"},
      {"{{/* c */}}", "{{/* c */}} at offset 0: trim markers and comments"},
      {"{{if .ID}}x{{end}}", "{{if .ID}} at offset 0 is not supported"},
  };
  for (const Bad& b : bad) {
    absl::StatusOr<AddressTemplate> t = AddressTemplate::parse(b.text);
    ASSERT_FALSE(t.ok()) << b.text;
    EXPECT_EQ(std::string(t.status().message()).rfind(b.message, 0), 0u) << b.text << " -> " << t.status();
  }
}

}  // namespace
}  // namespace ringside::resolvers
