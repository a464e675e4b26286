// The head of an HTTP/1.x request (request line and header fields), parsed and checked by
// the transport before any worker thread, handler or body is involved: a head too long, with
// too many or too long lines, or with body framing the API does not take is refused here
// with the status to answer. Pure: no I/O.
#pragma once

#include <cstddef>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

namespace sy::server {

struct HeadLimits {
  size_t max_head_bytes = size_t{16} * 1024;  // request line + header fields + the blank line
  size_t max_line_bytes = size_t{8} * 1024;   // one line, CRLF included (cpp-httplib's own limit)
  size_t max_fields = 64;                     // header field lines
  uint64_t max_body_bytes = 1 << 20;          // a larger Content-Length is refused (413)
};

struct RequestHead {
  std::string method;
  std::string target;                                       // as sent: path and query string
  std::string path;                                         // without the query string
  std::string query;                                        // without the '?'
  std::vector<std::pair<std::string, std::string>> fields;  // names lower case
  size_t head_bytes = 0;                                    // through the blank line
  std::optional<uint64_t> content_length;
  bool chunked = false;
  bool http10 = false;

  // The first value of field `name` (lower case), or "".
  std::string Field(std::string_view name) const;
  // Whether a body follows the head.
  bool HasBody() const { return chunked || content_length.value_or(0) > 0; }
};

// The outcome of looking at the bytes received so far.
struct HeadParse {
  enum class State { kIncomplete, kComplete, kRefused };
  State state = State::kIncomplete;
  RequestHead head;  // kComplete
  int status = 0;    // kRefused: 400, 405, 413, 414, 415, 431, 501, 505
  std::string message;
};

// Parses the head at the start of `received` (which may hold more: body bytes or a
// pipelined request). kIncomplete only while every limit still holds, so a caller that
// reads at most `limits.max_head_bytes` bytes before asking again needs no other bound.
// Refused: a line over max_line_bytes or a request line over it (414), a head over
// max_head_bytes or more than max_fields fields (431), a bare LF or NUL, a malformed line,
// an invalid or repeated Content-Length, Transfer-Encoding with Content-Length (400), a
// transfer coding other than "chunked" (501), a method other than GET, HEAD, POST, PUT,
// PATCH, DELETE (405), a version other than HTTP/1.0 or 1.1 (505), a body on GET or HEAD
// (400), a Content-Length over max_body_bytes (413), a content coding other than gzip,
// deflate, br or identity (415).
HeadParse ParseRequestHead(std::string_view received, const HeadLimits& limits);

// The first value of query parameter `name` in `query` (not decoded), or nullopt.
std::optional<std::string> QueryParam(std::string_view query, std::string_view name);

}  // namespace sy::server
