// append_metadata_as_http_headers: metadata values written as HTTP/1.1 header lines (spec §5.3),
// with the Connection tokens applied to every header, before and after the Connection header,
// for short messages (one walk of the metadata) and long ones (more values than its table).
#include "dataplane/mapping/metadata_headers.h"

#include <gtest/gtest.h>

#include <string>
#include <utility>
#include <vector>

#include "dataplane/mem/shard_pool.h"

namespace ringside::invoke {
namespace {

using Pairs = std::vector<std::pair<std::string, std::string>>;

// Writes `md` and returns the header block; counts the walks of the metadata in *walks.
std::string Write(const Pairs& md, int* walks) {
  mem::ShardPool pool;
  mem::Buffer out(&pool);
  *walks = 0;
  const bool ok = append_metadata_as_http_headers(out, [&](auto&& f) {
    ++*walks;
    for (const auto& [k, v] : md) f(k, v);
  });
  EXPECT_TRUE(ok);
  return std::string(out.view());
}

TEST(MetadataHeaders, ConnectionTokensApplyToHeadersBeforeAndAfterAndTheMetadataIsWalkedOnce) {
  const Pairs md = {{"x-early", "1"}, {"user-agent", "ua"}, {"connection", "x-early, X-Late"},
                    {"x-late", "2"}, {"grpc-timeout", "1S"}, {"content-length", "9"}};
  int walks = 0;
  EXPECT_EQ(Write(md, &walks), "User-Agent: ua\r\nDapr-Grpc-Timeout: 1S\r\n");
  EXPECT_EQ(walks, 1);
}

TEST(MetadataHeaders, MoreValuesThanTheTableAreAllWrittenWithTheSameRules) {
  Pairs md;
  std::string expect;
  md.push_back({"x-dropped", "early"});  // named by the Connection header at the very end
  for (int i = 0; i < 100; ++i) {
    md.push_back({"x-key-" + std::to_string(i), "v" + std::to_string(i)});
    expect += "X-Key-" + std::to_string(i) + ": v" + std::to_string(i) + "\r\n";
  }
  md.push_back({"connection", "x-dropped"});
  int walks = 0;
  EXPECT_EQ(Write(md, &walks), expect);
  EXPECT_EQ(walks, 3);  // one into the table, which overflowed, then one per pass
}

}  // namespace
}  // namespace ringside::invoke
