// Decode / encode of a typical CallLocal request (13 metadata entries as a stock daprd sends,
// small JSON body) and response, ours vs libprotobuf (generated classes, arena-less).
#include <benchmark/benchmark.h>

#include <string>
#include <vector>

#include "dapr/proto/internals/v1/service_invocation.pb.h"
#include "dataplane/codec/invoke_messages.h"

namespace {

namespace pbi = dapr::proto::internals::v1;
using namespace ringside::codec;

const std::string_view kAccept[] = {"application/json"};
const std::string_view kCaller[] = {"checkout"};
const std::string_view kCallee[] = {"orders"};
const std::string_view kTrace[] = {"00-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-01"};
const std::string_view kUa[] = {"curl/7.88.1"};
const std::string_view kHost[] = {"localhost:3500"};
const std::string_view kCt[] = {"application/json"};
const std::string_view kFwd[] = {"for=127.0.0.1;by=127.0.0.1;host=ringside"};
const std::string_view kFwdFor[] = {"127.0.0.1"};
const std::string_view kFwdHost[] = {"ringside"};
const std::string_view kNs[] = {"default"};
const std::string_view kLen[] = {"27"};
const std::string_view kState[] = {""};

const MetadataEntry kMetadata[] = {
    {"accept", kAccept}, {"dapr-caller-app-id", kCaller}, {"dapr-callee-app-id", kCallee},
    {"traceparent", kTrace}, {"user-agent", kUa}, {"host", kHost}, {"content-type", kCt},
    {"forwarded", kFwd}, {"x-forwarded-for", kFwdFor}, {"x-forwarded-host", kFwdHost},
    {"dapr-caller-namespace", kNs}, {"content-length", kLen}, {"tracestate", kState}};

InternalInvokeRequestFields request_fields() {
  InternalInvokeRequestFields f;
  f.metadata = kMetadata;
  f.message.method = "orders/42";
  f.message.data = {"", R"({"id":42,"item":"ringside"})", true};
  f.message.content_type = "application/json";
  f.message.has_http_extension = true;
  f.message.verb = 3;
  f.message.querystring = "a=1&b=2";
  return f;
}

InternalInvokeResponseFields response_fields() {
  InternalInvokeResponseFields f;
  f.status.code = 200;
  f.headers = std::span(kMetadata, 4);
  f.message.data = {"", R"({"ok":true})", true};
  f.message.content_type = "application/json";
  return f;
}

template <class F>
std::string encoded(const F& f) {
  std::string s(encoded_size(f), '\0');
  encode(f, reinterpret_cast<uint8_t*>(s.data()));
  return s;
}

void BM_DecodeRequest_Ringside(benchmark::State& state) {
  std::string bytes = encoded(request_fields());
  for (auto _ : state) {
    InternalInvokeRequestView v;
    bool ok = decode_internal_invoke_request(bytes, &v);
    size_t n = 0;
    v.for_each_metadata([&](std::string_view k, std::string_view x) { n += k.size() + x.size(); });
    benchmark::DoNotOptimize(ok);
    benchmark::DoNotOptimize(n);
  }
  state.SetBytesProcessed(state.iterations() * bytes.size());
}
BENCHMARK(BM_DecodeRequest_Ringside);

void BM_DecodeRequest_Libprotobuf(benchmark::State& state) {
  std::string bytes = encoded(request_fields());
  for (auto _ : state) {
    pbi::InternalInvokeRequest m;
    bool ok = m.ParseFromString(bytes);
    size_t n = 0;
    for (const auto& [k, v] : m.metadata())
      for (const auto& x : v.values()) n += k.size() + x.size();
    benchmark::DoNotOptimize(ok);
    benchmark::DoNotOptimize(n);
  }
  state.SetBytesProcessed(state.iterations() * bytes.size());
}
BENCHMARK(BM_DecodeRequest_Libprotobuf);

void BM_EncodeRequest_Ringside(benchmark::State& state) {
  InternalInvokeRequestFields f = request_fields();
  std::vector<uint8_t> out(encoded_size(f));
  for (auto _ : state) {
    size_t n = encoded_size(f);
    uint8_t* end = encode(f, out.data());
    benchmark::DoNotOptimize(n);
    benchmark::DoNotOptimize(end);
  }
  state.SetBytesProcessed(state.iterations() * out.size());
}
BENCHMARK(BM_EncodeRequest_Ringside);

void BM_EncodeRequest_Libprotobuf(benchmark::State& state) {
  pbi::InternalInvokeRequest m;
  m.ParseFromString(encoded(request_fields()));
  std::vector<uint8_t> out(m.ByteSizeLong());
  for (auto _ : state) {
    size_t n = m.ByteSizeLong();
    benchmark::DoNotOptimize(m.SerializeWithCachedSizesToArray(out.data()));
    benchmark::DoNotOptimize(n);
  }
  state.SetBytesProcessed(state.iterations() * out.size());
}
BENCHMARK(BM_EncodeRequest_Libprotobuf);

void BM_DecodeResponse_Ringside(benchmark::State& state) {
  std::string bytes = encoded(response_fields());
  for (auto _ : state) {
    InternalInvokeResponseView v;
    bool ok = decode_internal_invoke_response(bytes, &v);
    size_t n = 0;
    v.for_each_header([&](std::string_view k, std::string_view x) { n += k.size() + x.size(); });
    benchmark::DoNotOptimize(ok);
    benchmark::DoNotOptimize(n);
  }
  state.SetBytesProcessed(state.iterations() * bytes.size());
}
BENCHMARK(BM_DecodeResponse_Ringside);

void BM_EncodeResponse_Ringside(benchmark::State& state) {
  InternalInvokeResponseFields f = response_fields();
  std::vector<uint8_t> out(encoded_size(f));
  for (auto _ : state) {
    size_t n = encoded_size(f);
    uint8_t* end = encode(f, out.data());
    benchmark::DoNotOptimize(n);
    benchmark::DoNotOptimize(end);
  }
  state.SetBytesProcessed(state.iterations() * out.size());
}
BENCHMARK(BM_EncodeResponse_Ringside);

}  // namespace
