// Tests of how log values are rendered: one line per event, whatever a value holds, so that
// a value a client or a file chose cannot forge a log line or drive a terminal.
#include "pkg/util/log.h"

#include <gtest/gtest.h>

namespace sy::log {
namespace {

TEST(LogTest, PlainValuesStayPlain) {
  EXPECT_EQ(FormatField("resource", "default/shop"), "resource=default/shop");
  EXPECT_EQ(FormatField("e", ""), "e=\"\"");
  EXPECT_EQ(FormatField("msg", "a b"), "msg=\"a b\"");
}

TEST(LogTest, ControlCharactersAreEscaped) {
  EXPECT_EQ(FormatField("v", "a\nb"), "v=\"a\\nb\"");
  EXPECT_EQ(FormatField("v", "a\rb"), "v=\"a\\rb\"");
  EXPECT_EQ(FormatField("v", "x\x1b[31mred"), "v=\"x\\x1b[31mred\"");
  EXPECT_EQ(FormatField("v", std::string("n\0ul", 4)), "v=\"n\\x00ul\"");
  EXPECT_EQ(FormatField("v", "tab\there"), "v=\"tab\\there\"");
  EXPECT_EQ(FormatField("v", "del\x7f"), "v=\"del\\x7f\"");
  EXPECT_EQ(FormatField("v", "q\"b\\"), "v=\"q\\\"b\\\\\"");
  // A forged second event stays inside the value.
  const std::string forged =
      FormatField("path", "/x\r\n2026-01-01T00:00:00Z info  audit user=root");
  EXPECT_EQ(forged.find('\n'), std::string::npos);
  EXPECT_EQ(forged.find('\r'), std::string::npos);
}

TEST(LogTest, Utf8IsKept) { EXPECT_EQ(FormatField("v", "grün"), "v=grün"); }

}  // namespace
}  // namespace sy::log
