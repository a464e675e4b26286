// Fuzz target: the API's request handling (server::ApiHandler on a memory store), the code
// every kubectl or yardctl request reaches. An input is one or more requests separated by a
// line "===", each written as
//   METHOD TARGET [CONTENT-TYPE]      (a leading "!" on METHOD: no bearer token)
//   body...
// e.g. "PATCH /apis/switchyard.dev/v1alpha1/namespaces/default/deploymentcolors/shop?dryRun=All
// application/merge-patch+json\n{...}". Invariants: never crashes, hangs or throws; every
// answer is a valid HTTP status, and every error answer is a Kubernetes Status whose code is
// that status, never 500; a write without the token changes nothing; a dry run changes
// nothing.
#include <cstddef>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <nlohmann/json.hpp>
#include <string>
#include <string_view>
#include <vector>

#include "pkg/server/api_handler.h"
#include "pkg/util/clock.h"
#include "pkg/util/log.h"
#include "tests/fuzz/fuzz_check.h"

namespace {

using sy::fuzz::Check;
using sy::server::HttpRequest;

constexpr std::string_view kToken = "fuzz-token";

// `s` cut at every `sep` (empty pieces kept).
std::vector<std::string_view> Split(std::string_view s, std::string_view sep) {
  std::vector<std::string_view> out;
  for (size_t at; (at = s.find(sep)) != std::string_view::npos; s.remove_prefix(at + sep.size())) {
    out.push_back(s.substr(0, at));
  }
  out.push_back(s);
  return out;
}

// Percent-decodes the few escapes clients use in queries (%3D %2C %2F %3A).
std::string Unescape(std::string_view v) {
  std::string out;
  for (size_t i = 0; i < v.size(); ++i) {
    if (v[i] == '%' && i + 2 < v.size()) {
      const std::string hex(v.substr(i + 1, 2));
      char* end = nullptr;
      const long c = std::strtol(hex.c_str(), &end, 16);
      if (end == hex.c_str() + 2) {
        out.push_back(static_cast<char>(c));
        i += 2;
        continue;
      }
    }
    out.push_back(v[i]);
  }
  return out;
}

HttpRequest Parse(std::string_view text) {
  HttpRequest r;
  const size_t nl = text.find('\n');
  const std::string_view head = text.substr(0, nl);
  r.body = nl == std::string_view::npos ? "" : std::string(text.substr(nl + 1));
  std::vector<std::string> words;
  for (std::string_view w : Split(head, " ")) {
    if (!w.empty()) words.emplace_back(w);
  }
  words.resize(3);
  bool token = true;
  if (!words[0].empty() && words[0][0] == '!') {
    token = false;
    words[0].erase(0, 1);
  }
  r.method = words[0];
  const size_t q = words[1].find('?');
  r.path = words[1].substr(0, q);
  if (q != std::string::npos) {
    for (std::string_view kv : Split(std::string_view(words[1]).substr(q + 1), "&")) {
      const size_t eq = kv.find('=');
      r.query.emplace(Unescape(kv.substr(0, eq)),
                      eq == std::string_view::npos ? "" : Unescape(kv.substr(eq + 1)));
    }
  }
  if (token) r.headers.emplace("authorization", "Bearer " + std::string(kToken));
  if (!words[2].empty()) r.headers.emplace("content-type", words[2]);
  if (r.query.count("as") != 0) {
    r.headers.emplace("accept", "application/json;as=Table;v=v1;g=meta.k8s.io");
  }
  return r;
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  static const bool quiet = sy::log::SetLevel("warn");  // no audit line per write
  (void)quiet;
  const std::string_view input(reinterpret_cast<const char*>(data), size);
  sy::source::Store store("", sy::util::RealClock::Get());
  Check(store.Load().ok(), "a memory store loads");
  sy::server::ApiOptions options;
  options.token = std::string(kToken);
  options.max_body_bytes = 16 * 1024;
  sy::server::ApiHandler handler(
      store, sy::util::RealClock::Get(), [] { return true; }, options);
  int requests = 0;
  for (std::string_view text : Split(input, "\n===\n")) {
    if (++requests > 16) break;
    const HttpRequest req = Parse(text);
    const int64_t version = store.ResourceVersion();
    const sy::server::HttpResponse res = handler.Handle(req);
    // Like Check, showing the request and the answer when `ok` is false.
    auto expect = [&](bool ok, std::string_view what) {
      if (!ok) {
        std::fprintf(stderr, "request %d: %s %s -> %d %.500s\n", requests, req.method.c_str(),
                     req.path.c_str(), res.status, res.body.c_str());
      }
      Check(ok, what);
    };
    expect(res.status >= 200 && res.status < 600, "an answer that is no HTTP status");
    // 500 is what Handle answers when a library threw: a bug, whatever the client sent.
    expect(res.status != 500, "a 500 (an exception) for a client's request");
    const bool write = req.method != "GET";
    const bool anonymous = req.Header("authorization").empty();
    if (write && (anonymous || res.status >= 400 || req.Param("dryRun") == "All")) {
      expect(store.ResourceVersion() == version,
             "a refused, anonymous or dry-run write changed the store");
    }
    const bool probe = req.path == "/healthz" || req.path == "/livez" || req.path == "/readyz";
    if (anonymous && write && !probe)
      expect(res.status == 401, "an anonymous write that is not 401");
    if (res.status >= 400 && !res.stream) {
      const nlohmann::json j = nlohmann::json::parse(res.body, nullptr, false);
      if (res.content_type == "application/json") {
        expect(j.is_object() && j.value("kind", "") == "Status", "an error that is not a Status");
        expect(j.value("code", 0) == res.status, "a Status whose code is not the HTTP status");
      }
    }
  }
  return 0;
}
