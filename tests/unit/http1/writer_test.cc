#include "dataplane/http1/writer.h"

#include <gtest/gtest.h>

#include <memory>
#include <string>

#include "dataplane/http1/chunked_decoder.h"
#include "dataplane/http1/response_parser.h"

namespace ringside::http1 {
namespace {

class WriterTest : public ::testing::Test {
 protected:
  mem::ShardPool pool_;
  mem::Buffer buf_{&pool_};
};

TEST_F(WriterTest, StatusLines) {
  ASSERT_TRUE(append_status_line(buf_, 200));
  ASSERT_TRUE(append_status_line(buf_, 404));
  ASSERT_TRUE(append_status_line(buf_, 599));
  EXPECT_EQ(buf_.view(), "HTTP/1.1 200 OK\r\nHTTP/1.1 404 Not Found\r\nHTTP/1.1 599 status code 599\r\n");
}

TEST_F(WriterTest, RequestLines) {
  ASSERT_TRUE(append_request_line(buf_, "GET", "/a?b=1"));
  ASSERT_TRUE(append_request_line(buf_, "POST", "/m", ""));
  ASSERT_TRUE(append_request_line(buf_, "PUT", "/m", "x=%20"));
  EXPECT_EQ(buf_.view(), "GET /a?b=1 HTTP/1.1\r\nPOST /m HTTP/1.1\r\nPUT /m?x=%20 HTTP/1.1\r\n");
}

TEST_F(WriterTest, HeadersRejectInjection) {
  EXPECT_EQ(append_header(buf_, "Content-Type", "application/json"), AppendHeader::kOk);
  EXPECT_EQ(append_header(buf_, "X-Evil", "a\r\nInjected: 1"), AppendHeader::kRejected);
  EXPECT_EQ(append_header(buf_, "Bad Name", "v"), AppendHeader::kRejected);
  EXPECT_EQ(append_header(buf_, "", "v"), AppendHeader::kRejected);
  EXPECT_EQ(append_header(buf_, "X-Tab", "a\tb"), AppendHeader::kOk);
  EXPECT_EQ(append_header(buf_, "X-Empty", ""), AppendHeader::kOk);
  ASSERT_TRUE(append_content_length(buf_, 1234));
  ASSERT_TRUE(append_end_of_head(buf_));
  EXPECT_EQ(buf_.view(),
            "Content-Type: application/json\r\nX-Tab: a\tb\r\nX-Empty: \r\nContent-Length: 1234\r\n\r\n");
}

TEST_F(WriterTest, ChunksRoundTripThroughDecoder) {
  ASSERT_TRUE(append_status_line(buf_, 200));
  ASSERT_EQ(append_header(buf_, "Transfer-Encoding", "chunked"), AppendHeader::kOk);
  ASSERT_TRUE(append_end_of_head(buf_));
  std::string big(5000, 'q');
  ASSERT_TRUE(append_chunk(buf_, {reinterpret_cast<const uint8_t*>("hello"), 5}));
  ASSERT_TRUE(append_chunk(buf_, {}));  // writes nothing
  ASSERT_TRUE(append_chunk_header(buf_, big.size()));
  ASSERT_TRUE(buf_.append(big));
  ASSERT_TRUE(append_chunk_trailer(buf_));
  ASSERT_TRUE(append_last_chunk(buf_));

  EXPECT_NE(buf_.view().find("\r\n1388\r\n"), std::string_view::npos);  // 5000 = 0x1388

  auto head = std::make_unique<ResponseHead>();
  ASSERT_EQ(parse_response_head(buf_.view(), 8192, false, head.get()), ParseStatus::kComplete);
  EXPECT_EQ(head->body_kind, BodyKind::kChunked);
  ChunkedDecoder d;
  uint8_t* body = buf_.data() + head->head_size;
  size_t len = buf_.size() - head->head_size;
  ASSERT_EQ(d.decode(body, len, UINT64_MAX), ParseStatus::kComplete);
  EXPECT_EQ(d.consumed(), len);
  EXPECT_EQ(std::string(reinterpret_cast<char*>(body), d.payload_size()), "hello" + big);
}

}  // namespace
}  // namespace ringside::http1
