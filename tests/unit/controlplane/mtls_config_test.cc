// spec.mtls / spec.ringside.mtls (issue 10): parsed with errors naming the key, merged under
// the flags, and mTLS on without its three files refused.
#include "controlplane/config/mtls_config.h"

#include <gtest/gtest.h>

#include "controlplane/config/configuration.h"

namespace ringside::config {
namespace {

using namespace std::chrono_literals;

TEST(MtlsConfigTest, DaprEnabledAndRingsideFilesParse) {
  auto c = parse_configuration(R"yaml(
apiVersion: dapr.io/v1alpha1
kind: Configuration
spec:
  mtls: {enabled: true, workloadCertTTL: 24h, allowedClockSkew: 15m}
  ringside:
    mtls: {certFile: /c.pem, keyFile: /k.pem, trustAnchorsFile: /ca.pem, reloadInterval: 2s}
)yaml");
  ASSERT_TRUE(c.ok()) << c.status();
  EXPECT_EQ(c->mtls.enabled, true);
  EXPECT_EQ(c->mtls.cert_file, "/c.pem");
  EXPECT_EQ(c->mtls.key_file, "/k.pem");
  EXPECT_EQ(c->mtls.trust_anchors_file, "/ca.pem");
  EXPECT_EQ(c->mtls.reload_interval, std::chrono::milliseconds(2000));
}

TEST(MtlsConfigTest, ErrorsNameTheKey) {
  struct Case {
    const char* yaml;
    const char* error;
  };
  for (const Case& k : {Case{"spec: {mtls: {enabled: maybe}}", "spec.mtls.enabled"},
                        Case{"spec: {mtls: {enable: true}}", "spec.mtls.enable: unknown key"},
                        Case{"spec: {mtls: [1]}", "spec.mtls: must be a map"},
                        Case{"spec: {ringside: {mtls: {certfile: x}}}", "spec.ringside.mtls.certfile: unknown key"},
                        Case{"spec: {ringside: {mtls: {reloadInterval: 0s}}}", "spec.ringside.mtls.reloadInterval: must be positive"},
                        Case{"spec: {ringside: {mtls: {keyFile: [a]}}}", "spec.ringside.mtls.keyFile"}}) {
    auto c = parse_configuration(k.yaml);
    ASSERT_FALSE(c.ok()) << k.yaml;
    EXPECT_NE(c.status().message().find(k.error), std::string::npos) << k.yaml << " -> " << c.status().message();
  }
}

TEST(MtlsConfigTest, FlagsWinAndMtlsNeedsThreeFiles) {
  MtlsConfig file{.enabled = true, .cert_file = "/file.pem", .key_file = "/file.key", .trust_anchors_file = "/ca.pem"};
  Options o;
  o.tls_cert_file = "/flag.pem";
  o.flags_given.emplace("tls-cert-file");
  ASSERT_TRUE(apply_mtls_config(file, &o).ok());
  EXPECT_TRUE(o.enable_mtls);
  EXPECT_EQ(o.tls_cert_file, "/flag.pem");
  EXPECT_EQ(o.tls_key_file, "/file.key");

  Options off;  // --enable-mtls=false on the command line beats spec.mtls.enabled
  off.flags_given.emplace("enable-mtls");
  ASSERT_TRUE(apply_mtls_config(file, &off).ok());
  EXPECT_FALSE(off.enable_mtls);

  Options missing;
  missing.enable_mtls = true;
  missing.flags_given.emplace("enable-mtls");
  absl::Status s = apply_mtls_config(MtlsConfig{}, &missing);
  EXPECT_EQ(s.code(), absl::StatusCode::kInvalidArgument);
  EXPECT_NE(s.message().find("--enable-mtls: needs --tls-cert-file, --tls-key-file and --tls-trust-anchors-file"),
            std::string::npos) << s.message();
}

}  // namespace
}  // namespace ringside::config
