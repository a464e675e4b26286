#include "pkg/server/request_head.h"

#include <algorithm>

#include "absl/strings/ascii.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"

namespace sy::server {
namespace {

// (Debian's Abseil has its own string_view: these take std's.)
std::string Lower(std::string_view s) {
  std::string out(s);
  for (char& c : out) c = absl::ascii_tolower(static_cast<unsigned char>(c));
  return out;
}

std::string_view Trim(std::string_view s) {
  while (!s.empty() && (s.front() == ' ' || s.front() == '\t')) s.remove_prefix(1);
  while (!s.empty() && (s.back() == ' ' || s.back() == '\t')) s.remove_suffix(1);
  return s;
}

// `s` cut at every `sep` (empty pieces kept).
std::vector<std::string_view> Split(std::string_view s, char sep) {
  std::vector<std::string_view> out;
  for (size_t at; (at = s.find(sep)) != std::string_view::npos; s.remove_prefix(at + 1)) {
    out.push_back(s.substr(0, at));
  }
  out.push_back(s);
  return out;
}

HeadParse Refuse(int status, std::string message) {
  HeadParse p;
  p.state = HeadParse::State::kRefused;
  p.status = status;
  p.message = std::move(message);
  return p;
}

// RFC 9110 tchar: what a method and a field name are made of.
bool IsToken(std::string_view s) {
  if (s.empty()) return false;
  return std::all_of(s.begin(), s.end(), [](char c) {
    return absl::ascii_isalnum(static_cast<unsigned char>(c)) ||
           std::string_view("!#$%&'*+-.^_`|~").find(c) != std::string_view::npos;
  });
}

bool ParseRequestLine(std::string_view line, RequestHead* h, HeadParse* refused) {
  const std::vector<std::string_view> parts = Split(line, ' ');
  if (parts.size() != 3 || !IsToken(parts[0]) || parts[1].empty()) {
    *refused = Refuse(400, "malformed request line");
    return false;
  }
  if (parts[2] == "HTTP/1.0") {
    h->http10 = true;
  } else if (parts[2] != "HTTP/1.1") {
    *refused = Refuse(505, "only HTTP/1.0 and HTTP/1.1 are served");
    return false;
  }
  h->method = std::string(parts[0]);
  h->target = std::string(parts[1]);
  if (h->target[0] != '/') {
    *refused = Refuse(400, "the request target must be a path");
    return false;
  }
  const size_t q = h->target.find('?');
  h->path = h->target.substr(0, q);
  if (q != std::string::npos) h->query = h->target.substr(q + 1);
  return true;
}

// Checks what the fields say about the body.
HeadParse Framing(RequestHead h, const HeadLimits& limits) {
  std::optional<std::string> length;
  bool has_te = false;
  for (const auto& [name, value] : h.fields) {
    if (name == "content-length") {
      if (length && *length != value) return Refuse(400, "conflicting Content-Length fields");
      length = value;
    } else if (name == "content-encoding") {
      // What cpp-httplib inflates (its names are case-sensitive); anything else would reach
      // the handler still compressed.
      if (value != "gzip" && value != "deflate" && value != "br" && value != "identity") {
        return Refuse(415, absl::StrCat("content coding \"", value,
                                        "\" is not served (gzip, deflate, br or identity)"));
      }
    } else if (name == "transfer-encoding") {
      if (has_te || Lower(value) != "chunked") {
        return Refuse(501, "the only transfer coding served is chunked");
      }
      has_te = true;
    }
  }
  if (has_te && length) return Refuse(400, "both Transfer-Encoding and Content-Length");
  if (length) {
    uint64_t n = 0;
    if (length->empty() || !std::all_of(length->begin(), length->end(), absl::ascii_isdigit) ||
        !absl::SimpleAtoi(absl::string_view(*length), &n)) {
      return Refuse(400, "invalid Content-Length");
    }
    h.content_length = n;
  }
  h.chunked = has_te;
  static constexpr std::string_view kMethods[] = {"GET", "HEAD", "POST", "PUT", "PATCH", "DELETE"};
  if (std::find(std::begin(kMethods), std::end(kMethods), h.method) == std::end(kMethods)) {
    return Refuse(405, absl::StrCat("method ", h.method, " is not served"));
  }
  if ((h.method == "GET" || h.method == "HEAD") && h.HasBody()) {
    return Refuse(400, absl::StrCat(h.method, " with a body"));
  }
  if (h.content_length.value_or(0) > limits.max_body_bytes) {
    return Refuse(
        413, absl::StrCat("Request entity too large: limit is ", limits.max_body_bytes, " bytes"));
  }
  HeadParse p;
  p.state = HeadParse::State::kComplete;
  p.head = std::move(h);
  return p;
}

}  // namespace

std::string RequestHead::Field(std::string_view name) const {
  for (const auto& [k, v] : fields) {
    if (k == name) return v;
  }
  return "";
}

HeadParse ParseRequestHead(std::string_view received, const HeadLimits& limits) {
  RequestHead h;
  HeadParse refused;
  size_t pos = 0;
  for (bool first = true;; first = false) {
    const size_t window = std::min(received.size(), pos + limits.max_line_bytes);
    const size_t nl = received.substr(0, window).find('\n', pos);
    if (nl == std::string_view::npos) {
      if (window - pos >= limits.max_line_bytes) {
        return first ? Refuse(414, "the request line is too long")
                     : Refuse(431, "a header field line is too long");
      }
      if (received.size() >= limits.max_head_bytes) {
        return Refuse(431, "the request head is too large");
      }
      HeadParse incomplete;
      return incomplete;
    }
    if (nl + 1 > limits.max_head_bytes) return Refuse(431, "the request head is too large");
    if (nl == pos || received[nl - 1] != '\r') return Refuse(400, "a line ends in a bare LF");
    const std::string_view line = received.substr(pos, nl - 1 - pos);
    pos = nl + 1;
    if (line.find_first_of(std::string_view("\r\0", 2)) != std::string_view::npos) {
      return Refuse(400, "a stray CR or NUL in the request head");
    }
    if (first) {
      if (!ParseRequestLine(line, &h, &refused)) return refused;
      continue;
    }
    if (line.empty()) break;  // the blank line: the head is complete
    if (h.fields.size() >= limits.max_fields) {
      return Refuse(431, absl::StrCat("more than ", limits.max_fields, " header fields"));
    }
    const size_t colon = line.find(':');
    if (colon == std::string_view::npos || !IsToken(line.substr(0, colon))) {
      return Refuse(400, "malformed header field line");  // also obsolete line folding
    }
    h.fields.emplace_back(Lower(line.substr(0, colon)), std::string(Trim(line.substr(colon + 1))));
  }
  h.head_bytes = pos;
  return Framing(std::move(h), limits);
}

std::optional<std::string> QueryParam(std::string_view query, std::string_view name) {
  for (std::string_view kv : Split(query, '&')) {
    const size_t eq = kv.find('=');
    if (kv.substr(0, eq) == name) {
      return std::string(eq == std::string_view::npos ? "" : kv.substr(eq + 1));
    }
  }
  return std::nullopt;
}

}  // namespace sy::server
