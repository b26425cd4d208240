// Parse speed of the HTTP/1.1 codec on typical invoke traffic.
#include <benchmark/benchmark.h>

#include <memory>
#include <string>
#include <vector>

#include "dataplane/http1/chunked_decoder.h"
#include "dataplane/http1/request_parser.h"
#include "dataplane/http1/response_parser.h"
#include "dataplane/mapping/invoke_target.h"

namespace {

using namespace ringside;

const std::string kRequest =
    "POST /v1.0/invoke/orders.prod/method/api/v1/orders?tenant=42 HTTP/1.1\r\n"
    "Host: localhost:3500\r\nUser-Agent: Go-http-client/1.1\r\nContent-Type: application/json\r\n"
    "Content-Length: 27\r\nAccept: */*\r\ntraceparent: 00-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-01\r\n"
    "Accept-Encoding: gzip\r\n\r\n{\"id\":1,\"item\":\"widget-7\"}";

const std::string kResponse =
    "HTTP/1.1 200 OK\r\nContent-Type: application/json\r\nDate: Mon, 01 Jan 2024 00:00:00 GMT\r\n"
    "Content-Length: 11\r\n\r\n{\"ok\":true}";

void BM_ParseRequestHead(benchmark::State& state) {
  auto head = std::make_unique<http1::RequestHead>();
  for (auto _ : state) {
    benchmark::DoNotOptimize(http1::parse_request_head(kRequest, 8192, head.get()));
  }
  state.SetBytesProcessed(static_cast<int64_t>(state.iterations() * kRequest.size()));
}
BENCHMARK(BM_ParseRequestHead);

void BM_ParseRequestAndExtractTarget(benchmark::State& state) {
  auto head = std::make_unique<http1::RequestHead>();
  std::vector<char> scratch(2 * 8192 + 64);
  invoke::InvokeTarget t;
  for (auto _ : state) {
    http1::parse_request_head(kRequest, 8192, head.get());
    benchmark::DoNotOptimize(invoke::extract_invoke_target(*head, scratch, &t));
  }
}
BENCHMARK(BM_ParseRequestAndExtractTarget);

void BM_ParseResponseHead(benchmark::State& state) {
  auto head = std::make_unique<http1::ResponseHead>();
  for (auto _ : state) {
    benchmark::DoNotOptimize(http1::parse_response_head(kResponse, 8192, false, head.get()));
  }
  state.SetBytesProcessed(static_cast<int64_t>(state.iterations() * kResponse.size()));
}
BENCHMARK(BM_ParseResponseHead);

void BM_ChunkedDecode(benchmark::State& state) {
  std::string body;
  for (int i = 0; i < 16; ++i) body += "2000\r\n" + std::string(0x2000, 'x') + "\r\n";
  body += "0\r\n\r\n";
  std::vector<uint8_t> region(body.size());
  for (auto _ : state) {
    state.PauseTiming();
    std::copy(body.begin(), body.end(), region.begin());
    http1::ChunkedDecoder d;
    state.ResumeTiming();
    benchmark::DoNotOptimize(d.decode(region.data(), region.size(), UINT64_MAX));
  }
  state.SetBytesProcessed(static_cast<int64_t>(state.iterations() * body.size()));
}
BENCHMARK(BM_ChunkedDecode);

}  // namespace

BENCHMARK_MAIN();
