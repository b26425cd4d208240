// mTLS on the internal port (issue 10), with real sidecars, certificates made here by the
// `openssl` command (one CA, SPIFFE IDs as Dapr issues them), a counting app, and Debian's
// grpc++ as a second, independent TLS client of the internal port:
//  - mutual TLS passes, and the callee's access control sees the caller's SPIFFE ID;
//  - a plaintext peer, a peer signed by another CA, an expired certificate and a client without
//    a certificate are refused, and the app sees none of their calls;
//  - a caller refuses a callee whose certificate names another app id;
//  - certificates rotated under load (files replaced) fail no call, and new connections get the
//    new certificate.
#include <grpcpp/grpcpp.h>
#include <sqlite3.h>
#include <grpcpp/security/credentials.h>
#include <gtest/gtest.h>

#include <atomic>
#include <cstdlib>
#include <ctime>
#include <fstream>
#include <iostream>
#include <sstream>
#include <thread>

#include "absl/strings/str_cat.h"
#include "dapr/proto/internals/v1/service_invocation.grpc.pb.h"
#include "tests/e2e/harness.h"
#include "tests/e2e/raw_socket.h"
#include "tests/e2e/threaded_http_app.h"

namespace ringside::e2e {
namespace {

namespace internals = dapr::proto::internals::v1;
using namespace std::chrono_literals;

// Echoes every request and counts them: what "the app sees nothing" is measured with.
class CountingApp : public ThreadedHttpApp {
 public:
  ~CountingApp() override { Stop(); }
  int received() const { return received_.load(); }

 protected:
  bool Handle(HttpMessage& request, BlockingHttpConnection& conn) override {
    received_.fetch_add(1);
    return conn
        .SendAll(absl::StrCat("HTTP/1.1 200 OK\r\nContent-Type: text/plain\r\nContent-Length: ", request.body.size(),
                              "\r\n\r\n", request.body),
                 std::chrono::steady_clock::now() + 5s)
        .ok();
  }

 private:
  std::atomic<int> received_{0};
};

std::string ReadFile(const std::string& path) {
  std::ifstream in(path);
  std::stringstream s;
  s << in.rdbuf();
  return s.str();
}

// Certificates for the test, made with the openssl command into `dir`.
class Pki {
 public:
  explicit Pki(const TempDir& dir) : dir_(dir) {}
  std::string Path(const std::string& name) const { return dir_.File(name); }

  // A self-signed CA: <name>.pem, <name>.key.
  bool MakeCa(const std::string& name) {
    return Run(absl::StrCat("openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:prime256v1 -nodes -keyout ",
                            Path(name + ".key"), " -out ", Path(name + ".pem"), " -days 2 -subj /CN=", name));
  }
  // A leaf (Dapr SVID shape: SPIFFE ID URI SAN, client and server use) signed by `ca`:
  // <name>.pem, <name>.key. `expired`: valid in 2020 only.
  bool Issue(const std::string& name, const std::string& ca, const std::string& spiffe_id, bool expired = false) {
    const std::string ext = Path(name + ".ext");
    std::ofstream(ext) << "subjectAltName=URI:" << spiffe_id << ",DNS:localhost\n"
                       << "basicConstraints=CA:FALSE\nkeyUsage=digitalSignature,keyEncipherment\n"
                       << "extendedKeyUsage=serverAuth,clientAuth\n";
    if (!Run(absl::StrCat("openssl req -new -newkey ec -pkeyopt ec_paramgen_curve:prime256v1 -nodes -keyout ",
                          Path(name + ".key"), " -out ", Path(name + ".csr"), " -subj /CN=", name)))
      return false;
    if (!expired) {
      return Run(absl::StrCat("openssl x509 -req -in ", Path(name + ".csr"), " -CA ", Path(ca + ".pem"), " -CAkey ",
                              Path(ca + ".key"), " -CAcreateserial -days 1 -extfile ", ext, " -out ", Path(name + ".pem")));
    }
    // `openssl x509` cannot back-date; `openssl ca` can (-startdate/-enddate).
    const std::string db = Path(name + "-ca");
    const std::string cfg = db + "/ca.cnf";
    if (!Run(absl::StrCat("mkdir -p ", db))) return false;
    std::ofstream(db + "/index.txt").flush();
    std::ofstream(db + "/serial") << "01\n";
    std::ofstream(cfg) << "[ca]\ndefault_ca=tca\n[tca]\ndatabase=" << db << "/index.txt\nnew_certs_dir=" << db
                       << "\nserial=" << db << "/serial\ndefault_md=sha256\npolicy=pol\n[pol]\ncommonName=supplied\n";
    return Run(absl::StrCat("openssl ca -batch -notext -config ", cfg, " -cert ", Path(ca + ".pem"), " -keyfile ",
                            Path(ca + ".key"), " -in ", Path(name + ".csr"), " -out ", Path(name + ".pem"),
                            " -startdate 20200101000000Z -enddate 20200102000000Z -extfile ", ext));
  }

 private:
  bool Run(const std::string& cmd) {
    const std::string full = absl::StrCat(cmd, " >>", dir_.File("openssl.log"), " 2>&1");
    return std::system(full.c_str()) == 0;
  }
  const TempDir& dir_;
};

std::vector<std::string> MtlsArgs(const Pki& pki, const std::string& cert, const std::string& anchors = "ca") {
  return {"--enable-mtls", "--tls-cert-file", pki.Path(cert + ".pem"), "--tls-key-file", pki.Path(cert + ".key"),
          "--tls-trust-anchors-file", pki.Path(anchors + ".pem")};
}

internals::InternalInvokeRequest EchoRequest(const std::string& body) {
  internals::InternalInvokeRequest req;
  req.set_ver(internals::V1);
  auto* message = req.mutable_message();
  message->set_method("echo");
  message->mutable_data()->set_value(body);
  message->set_content_type("text/plain");
  message->mutable_http_extension()->set_verb(dapr::proto::common::v1::HTTPExtension::POST);
  return req;
}

// CallLocal to a sidecar's internal port from grpc++ over TLS with the given client
// certificate ("" = none); *peer_cert receives the server certificate (PEM) when it answered.
grpc::Status TlsCallLocal(uint16_t internal_port, const Pki& pki, const std::string& client_cert,
                          std::string* peer_cert = nullptr) {
  grpc::SslCredentialsOptions tls;
  tls.pem_root_certs = ReadFile(pki.Path("ca.pem"));
  if (!client_cert.empty()) {
    tls.pem_cert_chain = ReadFile(pki.Path(client_cert + ".pem"));
    tls.pem_private_key = ReadFile(pki.Path(client_cert + ".key"));
  }
  grpc::ChannelArguments args;
  args.SetSslTargetNameOverride("localhost");  // the test certificates carry DNS:localhost
  auto stub = internals::ServiceInvocation::NewStub(grpc::CreateCustomChannel(
      absl::StrCat("127.0.0.1:", internal_port), grpc::SslCredentials(tls), args));
  grpc::ClientContext ctx;
  ctx.set_deadline(std::chrono::system_clock::now() + 5s);
  internals::InternalInvokeResponse resp;
  grpc::Status st = stub->CallLocal(&ctx, EchoRequest("over tls"), &resp);
  if (peer_cert && ctx.auth_context()) {
    for (const auto& v : ctx.auth_context()->FindPropertyValues("x509_pem_cert")) peer_cert->assign(v.data(), v.size());
  }
  return st;
}

class MtlsTest : public ::testing::Test {
 protected:
  void SetUp() override {
    ASSERT_TRUE(pki_.MakeCa("ca") && pki_.MakeCa("other-ca")) << ReadFile(dir_.File("openssl.log"));
    for (const char* app : {"a", "b", "c", "x"})
      ASSERT_TRUE(pki_.Issue(app, "ca", absl::StrCat("spiffe://public/ns/default/", app))) << ReadFile(dir_.File("openssl.log"));
    ASSERT_TRUE(pki_.Issue("a-other", "other-ca", "spiffe://public/ns/default/a"));
    ASSERT_TRUE(pki_.Issue("a-expired", "ca", "spiffe://public/ns/default/a", /*expired=*/true))
        << ReadFile(dir_.File("openssl.log"));
    // A caller signed by the other CA trusts both, so only the callee's check can stop it.
    std::ofstream(pki_.Path("both.pem")) << ReadFile(pki_.Path("ca.pem")) << ReadFile(pki_.Path("other-ca.pem"));
    nr_db_ = dir_.File("nr.db");
  }
  Sidecar Start(const std::string& app_id, std::vector<std::string> args, std::optional<uint16_t> app_port = {}) {
    auto s = StartSidecar({.app_id = app_id, .app_port = app_port, .nr_db = nr_db_, .extra_args = std::move(args)}, dir_);
    EXPECT_TRUE(s.ok()) << s.status();
    return s.ok() ? std::move(*s) : Sidecar{};
  }
  // Bounded: the first answer from b through `caller` (any status), so the tables are warm.
  absl::StatusOr<HttpMessage> FirstAnswer(const Sidecar& caller, const std::string& app = "b") {
    absl::StatusOr<HttpMessage> r = absl::UnavailableError("no answer");
    const auto deadline = std::chrono::steady_clock::now() + 15s;
    while (std::chrono::steady_clock::now() < deadline) {
      r = Invoke(caller.ports.http, "POST", app, "echo", "ping", {}, 5s);
      // 500 "no instance"/lookup answers come before the table has the app: keep asking.
      if (r.ok() && (r->status() != 500 || r->body.find("ERR_DIRECT_INVOKE") != std::string::npos) &&
          r->body.find("couldn't find service") == std::string::npos)
        return r;
      std::this_thread::sleep_for(100ms);
    }
    return r;
  }

  TempDir dir_;
  Pki pki_{dir_};
  std::string nr_db_;
};

TEST_F(MtlsTest, MutualTlsCallsPassAndAccessControlSeesTheCallersSpiffeId) {
  CountingApp app;
  const std::string config = dir_.File("acl.yaml");
  std::ofstream(config) << "apiVersion: dapr.io/v1alpha1\nkind: Configuration\nmetadata: {name: acl}\nspec:\n"
                           "  accessControl:\n    defaultAction: deny\n    trustDomain: public\n    policies:\n"
                           "    - {appId: a, namespace: default, trustDomain: public, defaultAction: allow}\n"
                           // b turns mTLS on from its Configuration (daprd's key) instead of flags.
                           "  mtls: {enabled: true}\n"
                           "  ringside:\n    mtls: {certFile: " << pki_.Path("b.pem") << ", keyFile: " << pki_.Path("b.key")
                        << ", trustAnchorsFile: " << pki_.Path("ca.pem") << "}\n";
  Sidecar b = Start("b", {"--config", config}, app.port());
  Sidecar a = Start("a", MtlsArgs(pki_, "a"));
  Sidecar c = Start("c", MtlsArgs(pki_, "c"));
  ASSERT_TRUE(b.process && a.process && c.process);

  auto first = FirstAnswer(a);
  ASSERT_TRUE(first.ok()) << first.status() << b.process->LogTail();
  EXPECT_EQ(first->status(), 200) << first->body << "\n" << a.process->LogTail();
  for (int i = 0; i < 20; ++i) {
    auto r = Invoke(a.ports.http, "POST", "b", "echo", absl::StrCat("call ", i), {}, 5s);
    ASSERT_TRUE(r.ok()) << r.status();
    EXPECT_EQ(r->status(), 200) << r->body;
    EXPECT_EQ(r->body, absl::StrCat("call ", i));
  }
  const int delivered = app.received();
  EXPECT_EQ(delivered, 21);

  // c has no policy: the global default (deny) refuses it, naming the identity it proved.
  auto denied = FirstAnswer(c);
  ASSERT_TRUE(denied.ok()) << denied.status();
  EXPECT_EQ(denied->status(), 403) << denied->body;
  EXPECT_NE(denied->body.find("access control policy has denied access to id: spiffe://public/ns/default/c"),
            std::string::npos) << denied->body;
  EXPECT_EQ(app.received(), delivered) << "a denied call reached the app";

  EXPECT_GE(ReadMetric(b.ports.metrics, "ringside_tls_handshakes_total").value_or(0), 2);  // from a and c
  EXPECT_GE(ReadMetric(a.ports.metrics, "ringside_tls_handshakes_total").value_or(0), 1);  // a's dial to b
  // The certificate's expiry is exported for alerting.
  auto expiry = ReadMetric(b.ports.metrics, "ringside_mtls_certificate_expiry_timestamp_seconds");
  ASSERT_TRUE(expiry.has_value());
  EXPECT_GT(*expiry, static_cast<double>(std::time(nullptr)));
}

TEST_F(MtlsTest, PlaintextForeignExpiredAndCertificatelessCallersAreRefusedAndTheAppSeesNothing) {
  CountingApp app;
  Sidecar b = Start("b", MtlsArgs(pki_, "b"), app.port());
  Sidecar plain = Start("a", {});
  // App id a's SVID from another CA (its caller trusts both CAs, so only b's check can stop it).
  Sidecar foreign_a = Start("a", MtlsArgs(pki_, "a-other", "both"));
  ASSERT_TRUE(b.process && plain.process && foreign_a.process);

  for (const Sidecar* caller : {&plain, &foreign_a}) {
    auto r = FirstAnswer(*caller);
    ASSERT_TRUE(r.ok()) << r.status();
    EXPECT_EQ(r->status(), 500) << r->body;
    EXPECT_NE(r->body.find("ERR_DIRECT_INVOKE"), std::string::npos) << r->body;
  }
  EXPECT_EQ(app.received(), 0) << "a refused caller's call reached the app";

  // grpc++ as the peer: no certificate, an expired one, or plaintext are refused ...
  EXPECT_EQ(TlsCallLocal(b.ports.internal, pki_, "").error_code(), grpc::StatusCode::UNAVAILABLE);
  EXPECT_EQ(TlsCallLocal(b.ports.internal, pki_, "a-expired").error_code(), grpc::StatusCode::UNAVAILABLE);
  {
    auto stub = internals::ServiceInvocation::NewStub(
        grpc::CreateChannel(absl::StrCat("127.0.0.1:", b.ports.internal), grpc::InsecureChannelCredentials()));
    grpc::ClientContext ctx;
    ctx.set_deadline(std::chrono::system_clock::now() + 5s);
    internals::InternalInvokeResponse resp;
    EXPECT_EQ(stub->CallLocal(&ctx, EchoRequest("plain"), &resp).error_code(), grpc::StatusCode::UNAVAILABLE);
  }
  EXPECT_EQ(app.received(), 0) << "a refused caller's call reached the app";
  // Each refusal is counted: the foreign sidecar, no certificate, expired, plaintext.
  EXPECT_GE(ReadMetric(b.ports.metrics, "ringside_tls_handshake_failures_total").value_or(0), 4);
  // ... and a valid SVID passes: another TLS stack (grpc++ with its own TLS) agrees with ours.
  grpc::Status ok = TlsCallLocal(b.ports.internal, pki_, "a");
  EXPECT_TRUE(ok.ok()) << ok.error_message();
  EXPECT_EQ(app.received(), 1);
}

TEST_F(MtlsTest, StartUpRefusesCredentialsThatDoNotNameTheAppOrDoNotLoad) {
  // Certificate for "a" given to app id "c": peers would refuse it, so the sidecar says so.
  std::vector<std::string> args = {"--app-id", "c", "--dapr-http-port", absl::StrCat(PickFreePort()),
                                   "--dapr-grpc-port", absl::StrCat(PickFreePort())};
  for (auto& [cert, anchors, want] : std::vector<std::tuple<std::string, std::string, std::string>>{
           {"a", "ca", "names spiffe://public/ns/default/a, not app id \"c\""},
           {"a-expired", "ca", "does not verify"},
           {"a-other", "ca", "does not verify"}}) {
    std::vector<std::string> full = args;
    for (auto& f : MtlsArgs(pki_, cert, anchors)) full.push_back(f);
    auto p = ChildProcess::Spawn(BinPath("ringsided"), full, {"RINGSIDE_NR_SQLITE=" + nr_db_}, dir_.File("startup.log"));
    ASSERT_TRUE(p.ok());
    EXPECT_EQ((*p)->WaitExit(10s), 2) << (*p)->Log();
    EXPECT_NE((*p)->Log().find(want), std::string::npos) << (*p)->Log();
  }
  std::vector<std::string> missing = args;
  missing.push_back("--enable-mtls");
  auto p = ChildProcess::Spawn(BinPath("ringsided"), missing, {"RINGSIDE_NR_SQLITE=" + nr_db_}, dir_.File("startup2.log"));
  ASSERT_TRUE(p.ok());
  EXPECT_NE((*p)->WaitExit(10s), 0);
  EXPECT_NE((*p)->Log().find("--enable-mtls: needs --tls-cert-file"), std::string::npos) << (*p)->Log();
}

// Slowloris against the handshake: the TLS handshake runs inside the connection's header
// deadline (--http-header-timeout, counted from the accept), so a client that connects and says
// nothing, or stops in the middle of its ClientHello, is closed, while a real peer is served.
TEST_F(MtlsTest, StalledHandshakesAreClosedAfterTheHeaderTimeoutWhileCallsGoOn) {
  CountingApp app;
  std::vector<std::string> b_args = MtlsArgs(pki_, "b");
  b_args.insert(b_args.end(), {"--http-header-timeout", "1s"});
  Sidecar b = Start("b", b_args, app.port());
  ASSERT_TRUE(b.process);
  const auto started = Clock::now();
  const int silent = ConnectRaw(b.ports.internal);
  const int half_hello = ConnectRaw(b.ports.internal);
  ASSERT_GE(silent, 0);
  ASSERT_GE(half_hello, 0);
  // A TLS record header announcing a 512-byte handshake record, then 4 bytes of it.
  ASSERT_TRUE(SendRaw(half_hello, std::string("\x16\x03\x01\x02\x00\x01\x00\x01\xfc", 9)));

  grpc::Status meanwhile = TlsCallLocal(b.ports.internal, pki_, "a");
  EXPECT_TRUE(meanwhile.ok()) << meanwhile.error_message();

  const auto deadline = Clock::now() + 15s;
  for (int fd : {silent, half_hello}) {
    std::string got;
    EXPECT_TRUE(ReadUntilClosed(fd, deadline, &got)) << "a stalled handshake is still open";
    ::close(fd);
  }
  const auto took = std::chrono::duration_cast<std::chrono::milliseconds>(Clock::now() - started);
  std::cout << "two stalled TLS handshakes closed after " << took.count() << " ms (header timeout 1000 ms)\n";
  EXPECT_GE(ReadMetric(b.ports.metrics, "ringside_grpc_read_timeouts_total").value_or(0), 2);
  grpc::Status after = TlsCallLocal(b.ports.internal, pki_, "a");
  EXPECT_TRUE(after.ok()) << after.error_message();
  EXPECT_EQ(app.received(), 2);
}

TEST_F(MtlsTest, CallerRefusesACalleeWhoseCertificateNamesAnotherApp) {
  CountingApp app;
  Sidecar x = Start("x", MtlsArgs(pki_, "x"), app.port());
  Sidecar a = Start("a", MtlsArgs(pki_, "a"));
  ASSERT_TRUE(x.process && a.process);
  // The registry says b lives at x's internal port (a stale or forged entry).
  sqlite3* db = nullptr;
  ASSERT_EQ(sqlite3_open(nr_db_.c_str(), &db), SQLITE_OK);
  sqlite3_busy_timeout(db, 5000);
  const std::string sql = absl::StrCat(
      "INSERT INTO hosts (registration_id, address, app_id, namespace, last_update) VALUES ('forged-b', 'localhost:",
      x.ports.internal, "', 'b', 'default', ", static_cast<int64_t>(std::time(nullptr)) + 3600, ")");
  EXPECT_EQ(sqlite3_exec(db, sql.c_str(), nullptr, nullptr, nullptr), SQLITE_OK);
  sqlite3_close(db);

  auto r = FirstAnswer(a);
  ASSERT_TRUE(r.ok()) << r.status();
  EXPECT_EQ(r->status(), 500) << r->body;
  EXPECT_NE(r->body.find("authentication handshake failed"), std::string::npos) << r->body;
  EXPECT_EQ(app.received(), 0) << "the call reached an app it was not meant for";
}

TEST_F(MtlsTest, CertificateRotationUnderLoadFailsNoCall) {
  CountingApp app;
  std::vector<std::string> b_args = MtlsArgs(pki_, "b");
  b_args.insert(b_args.end(), {"--tls-reload-interval", "200ms"});
  std::vector<std::string> a_args = MtlsArgs(pki_, "a");
  a_args.insert(a_args.end(), {"--tls-reload-interval", "200ms"});
  Sidecar b = Start("b", b_args, app.port());
  Sidecar a = Start("a", a_args);
  ASSERT_TRUE(b.process && a.process);
  auto first = FirstAnswer(a);
  ASSERT_TRUE(first.ok() && first->status() == 200) << (first.ok() ? first->body : first.status().ToString());
  std::string old_cert;
  ASSERT_TRUE(TlsCallLocal(b.ports.internal, pki_, "a", &old_cert).ok());

  std::atomic<int> failed_connections{-1};
  std::thread load([&] {
    failed_connections = DriveEchoLoad(a.ports.http, {.count = 3000, .connections = 4, .body_sizes = {64, 4096}});
  });
  // New keys and certificates for both, each pair written aside and renamed into place (key
  // first: for a moment the key does not match the certificate, which the watcher must ride out).
  std::this_thread::sleep_for(300ms);
  for (const char* who : {"b", "a"}) {
    const std::string next = absl::StrCat(who, "-next");
    ASSERT_TRUE(pki_.Issue(next, "ca", absl::StrCat("spiffe://public/ns/default/", who)));
    ASSERT_EQ(std::rename(pki_.Path(next + ".key").c_str(), pki_.Path(absl::StrCat(who, ".key")).c_str()), 0);
    std::this_thread::sleep_for(300ms);
    ASSERT_EQ(std::rename(pki_.Path(next + ".pem").c_str(), pki_.Path(absl::StrCat(who, ".pem")).c_str()), 0);
  }
  for (const Sidecar* s : {&b, &a}) {
    const auto deadline = std::chrono::steady_clock::now() + 10s;
    while (ReadMetric(s->ports.metrics, "ringside_mtls_reloads_total").value_or(0) < 1 &&
           std::chrono::steady_clock::now() < deadline)
      std::this_thread::sleep_for(100ms);
    EXPECT_GE(ReadMetric(s->ports.metrics, "ringside_mtls_reloads_total").value_or(0), 1) << s->process->LogTail();
  }
  load.join();
  EXPECT_EQ(failed_connections.load(), 0) << "calls failed during the rotation\n" << a.process->LogTail();
  // A new connection is served with the new certificate.
  std::string new_cert;
  ASSERT_TRUE(TlsCallLocal(b.ports.internal, pki_, "a", &new_cert).ok());
  EXPECT_FALSE(new_cert.empty());
  EXPECT_NE(new_cert, old_cert);
  EXPECT_EQ(new_cert, ReadFile(pki_.Path("b.pem")));
  std::printf("rotation under load: 3000 calls over 4 connections, %d connections failed, b reloads %.0f\n",
              failed_connections.load(), ReadMetric(b.ports.metrics, "ringside_mtls_reloads_total").value_or(0));
}

#ifdef RINGSIDE_HAS_ALLOCCOUNT
// The request path stays allocation-free with mTLS (OpenSSL keeps its record buffers per
// connection): after a warm-up, 2000 calls over mutual TLS allocate nothing on any shard thread
// of either sidecar (ringsided-alloccount counts the global allocator's calls per thread).
TEST_F(MtlsTest, SteadyStateOverMutualTlsDoesNotAllocateOnShardThreads) {
  constexpr std::string_view kMetric = "ringside_shard_heap_allocations_total";
  CountingApp app;
  auto b = StartSidecar({.binary = "ringsided-alloccount", .app_id = "b", .app_port = app.port(), .nr_db = nr_db_,
                         .extra_args = MtlsArgs(pki_, "b")}, dir_);
  ASSERT_TRUE(b.ok()) << b.status();
  auto a = StartSidecar({.binary = "ringsided-alloccount", .app_id = "a", .nr_db = nr_db_, .extra_args = MtlsArgs(pki_, "a")},
                        dir_);
  ASSERT_TRUE(a.ok()) << a.status();
  auto first = FirstAnswer(*a);
  ASSERT_TRUE(first.ok() && first->status() == 200) << (first.ok() ? first->body : first.status().ToString());
  // Warm-up as in alloc_count_test.cc: four times the measured concurrency, twice.
  EXPECT_EQ(DriveEchoInvocations(a->ports.http, 3000, 16, 700), 0);
  EXPECT_EQ(DriveEchoInvocations(a->ports.http, 3000, 16, 700), 0);
  const int shards = std::stoi(E2eShards());
  const auto a_before = ReadMetricPerShard(a->ports.metrics, kMetric, shards);
  const auto b_before = ReadMetricPerShard(b->ports.metrics, kMetric, shards);
  EXPECT_EQ(DriveEchoInvocations(a->ports.http, 2000, 4, 700), 0);
  const auto a_after = ReadMetricPerShard(a->ports.metrics, kMetric, shards);
  const auto b_after = ReadMetricPerShard(b->ports.metrics, kMetric, shards);
  for (int shard = 0; shard < shards; ++shard) {
    ASSERT_GE(a_before[shard], 0) << "metric " << kMetric << " missing";
    EXPECT_EQ(a_after[shard] - a_before[shard], 0) << "caller a's shard " << shard << " allocated";
    EXPECT_EQ(b_after[shard] - b_before[shard], 0) << "callee b's shard " << shard << " allocated";
    std::printf("mtls shard %d: allocations after warm-up a %.0f -> %.0f, b %.0f -> %.0f\n", shard, a_before[shard],
                a_after[shard], b_before[shard], b_after[shard]);
  }
}
#endif  // RINGSIDE_HAS_ALLOCCOUNT

}  // namespace
}  // namespace ringside::e2e
