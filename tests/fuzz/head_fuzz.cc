// Fuzz target: the transport's request-head parser (server::ParseRequestHead), the first code
// every byte a client sends reaches. Invariants: never crashes or hangs; a complete head lies
// within the bytes given and the limits (size, field count, body size), names an allowed
// method and a path; "incomplete" only while fewer than max_head_bytes arrived (so a reader
// that stops there needs no other bound); a refusal carries one of the documented statuses.
#include <algorithm>
#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>

#include "pkg/server/request_head.h"
#include "tests/fuzz/fuzz_check.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  using sy::fuzz::Check;
  using sy::server::HeadParse;
  const std::string_view in(reinterpret_cast<const char*>(data), size);
  sy::server::HeadLimits limits;
  limits.max_head_bytes = 2048;  // small, so that the fuzzer reaches every limit
  limits.max_line_bytes = 512;
  limits.max_fields = 16;
  limits.max_body_bytes = 1000;
  const HeadParse p = sy::server::ParseRequestHead(in, limits);
  switch (p.state) {
    case HeadParse::State::kIncomplete:
      Check(in.size() < limits.max_head_bytes, "incomplete beyond max_head_bytes");
      break;
    case HeadParse::State::kComplete: {
      const auto& h = p.head;
      Check(h.head_bytes <= in.size() && h.head_bytes <= limits.max_head_bytes,
            "a head beyond the bytes or the limit");
      Check(in.substr(0, h.head_bytes).find("\r\n\r\n") == h.head_bytes - 4,
            "a head that does not end at its first blank line");
      Check(h.fields.size() <= limits.max_fields, "more fields than allowed");
      Check(!h.path.empty() && h.path[0] == '/', "a path that is not one");
      Check(h.content_length.value_or(0) <= limits.max_body_bytes, "a body over the limit");
      Check(!(h.chunked && h.content_length), "chunked with a Content-Length");
      static constexpr std::string_view kMethods[] = {"GET", "HEAD",  "POST",
                                                      "PUT", "PATCH", "DELETE"};
      Check(std::find(std::begin(kMethods), std::end(kMethods), h.method) != std::end(kMethods),
            "a method that is not served");
      for (const auto& [name, value] : h.fields) {
        Check(name.find_first_of("ABCDEFGHIJKLMNOPQRSTUVWXYZ :\r\n") == std::string::npos,
              "a field name not lower case or with a separator");
        Check(value.find_first_of("\r\n") == std::string::npos, "a field value with CR or LF");
      }
      break;
    }
    case HeadParse::State::kRefused: {
      static constexpr int kStatuses[] = {400, 405, 413, 414, 415, 431, 501, 505};
      Check(std::find(std::begin(kStatuses), std::end(kStatuses), p.status) != std::end(kStatuses),
            "a refusal with an undocumented status");
      Check(!p.message.empty(), "a refusal without a message");
      break;
    }
  }
  return 0;
}
