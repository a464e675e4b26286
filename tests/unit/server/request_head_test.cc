// Table tests of ParseRequestHead(): what a complete head yields, and every refusal with its
// status, as the transport answers it before any worker sees the request.
#include "pkg/server/request_head.h"

#include <gtest/gtest.h>

#include <string>

namespace sy::server {
namespace {

HeadParse Parse(const std::string& s, HeadLimits limits = {}) {
  return ParseRequestHead(s, limits);
}

TEST(RequestHeadTest, ACompleteHead) {
  const std::string raw =
      "PATCH /apis/x?watch=true&dryRun=All HTTP/1.1\r\nHost: a\r\nContent-Length: 12\r\n"
      "Content-Type:  application/json \r\n\r\n{\"spec\":{}}x";
  const HeadParse p = Parse(raw);
  ASSERT_EQ(p.state, HeadParse::State::kComplete) << p.message;
  EXPECT_EQ(p.head.method, "PATCH");
  EXPECT_EQ(p.head.path, "/apis/x");
  EXPECT_EQ(p.head.query, "watch=true&dryRun=All");
  EXPECT_EQ(p.head.Field("content-type"), "application/json");
  EXPECT_EQ(p.head.content_length, 12u);
  EXPECT_TRUE(p.head.HasBody());
  EXPECT_EQ(p.head.head_bytes, raw.find("{"));
  EXPECT_EQ(QueryParam(p.head.query, "watch"), "true");
  EXPECT_EQ(QueryParam(p.head.query, "dryRun"), "All");
  EXPECT_EQ(QueryParam(p.head.query, "nope"), std::nullopt);
}

TEST(RequestHeadTest, IncompleteWhileWithinTheLimits) {
  EXPECT_EQ(Parse("").state, HeadParse::State::kIncomplete);
  EXPECT_EQ(Parse("GET / HTTP/1.1\r\nHost: a\r\n").state, HeadParse::State::kIncomplete);
  EXPECT_EQ(Parse("GET / HTTP/1.1\r").state, HeadParse::State::kIncomplete);
}

TEST(RequestHeadTest, Refusals) {
  HeadLimits small;
  small.max_head_bytes = 256;
  small.max_line_bytes = 64;
  small.max_fields = 3;
  small.max_body_bytes = 100;
  const struct {
    std::string raw;
    int status;
  } cases[] = {
      {"GET /" + std::string(100, 'a'), 414},
      {"GET / HTTP/1.1\r\nX: " + std::string(100, 'a'), 431},
      {"GET / HTTP/1.1\r\nA: 1\r\nB: 2\r\nC: 3\r\nD: 4\r\n\r\n", 431},
      {"GET / HTTP/1.1\r\n" + std::string(10, 'X') + ": 1\r\n" + std::string(250, ' '), 431},
      {"GET / HTTP/1.1\nHost: a\n\n", 400},
      {"GET / HTTP/1.1\r\nHo\rst: a\r\n\r\n", 400},
      {std::string("GET / HTTP/1.1\r\nHost: a\0b\r\n\r\n", 29), 400},
      {"GET / HTTP/1.1\r\n folded\r\n\r\n", 400},
      {"GET / HTTP/1.1\r\nNo colon\r\n\r\n", 400},
      {"GET  / HTTP/1.1\r\n\r\n", 400},
      {"GET http://a/ HTTP/1.1\r\n\r\n", 400},
      {"GET / HTTP/2.0\r\n\r\n", 505},
      {"BREW / HTTP/1.1\r\n\r\n", 405},
      {"GET / HTTP/1.1\r\nContent-Length: 5\r\n\r\n", 400},
      {"POST / HTTP/1.1\r\nContent-Length: 1\r\nContent-Length: 2\r\n\r\n", 400},
      {"POST / HTTP/1.1\r\nContent-Length: -1\r\n\r\n", 400},
      {"POST / HTTP/1.1\r\nContent-Length: 99999999999999999999999\r\n\r\n", 400},
      {"POST / HTTP/1.1\r\nContent-Length: 101\r\n\r\n", 413},
      {"POST / HTTP/1.1\r\nTransfer-Encoding: gzip, chunked\r\n\r\n", 501},
      {"POST / HTTP/1.1\r\nTransfer-Encoding: chunked\r\nContent-Length: 3\r\n\r\n", 400},
      {"POST / HTTP/1.1\r\nContent-Encoding: compress\r\nContent-Length: 3\r\n\r\n", 415},
  };
  for (const auto& c : cases) {
    const HeadParse p = Parse(c.raw, small);
    EXPECT_EQ(p.state, HeadParse::State::kRefused) << c.raw;
    EXPECT_EQ(p.status, c.status) << c.raw << ": " << p.message;
  }
  // Repeated equal lengths, chunked alone, and the codings cpp-httplib inflates are fine.
  for (const std::string ok :
       {"POST / HTTP/1.1\r\nContent-Length: 3\r\nContent-Length: 3\r\n\r\n",
        "POST / HTTP/1.1\r\nTransfer-Encoding: Chunked\r\n\r\n",
        "POST / HTTP/1.1\r\nContent-Encoding: gzip\r\nContent-Length: 3\r\n\r\n",
        "DELETE / HTTP/1.0\r\n\r\n"}) {
    EXPECT_EQ(Parse(ok, small).state, HeadParse::State::kComplete) << ok;
  }
}

}  // namespace
}  // namespace sy::server
