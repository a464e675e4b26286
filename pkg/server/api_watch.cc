// Watches: GET ...?watch=true answers a chunked stream of JSON lines
// {"type":"ADDED|MODIFIED|DELETED|ERROR","object":...}, each flushed as it happens, starting
// after ?resourceVersion= (or, without one, with ADDED for every current object), honouring
// selectors, ?timeoutSeconds= and the Table form.
#include <algorithm>
#include <memory>

#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "pkg/server/api_body.h"
#include "pkg/server/api_errors.h"
#include "pkg/server/api_internal.h"
#include "pkg/server/api_selector.h"
#include "pkg/server/api_table.h"

namespace sy::server::internal {
namespace {

constexpr std::chrono::milliseconds kPollSlice{1000};  // how often a watch looks up

const char* TypeName(source::Event::Type t) {
  switch (t) {
    case source::Event::Type::kAdded:
      return "ADDED";
    case source::Event::Type::kModified:
      return "MODIFIED";
    case source::Event::Type::kDeleted:
      return "DELETED";
  }
  return "MODIFIED";
}

struct WatchSpec {
  std::string ns;
  Selector selector;
  std::string table;  // Table apiVersion, "" for objects
  IncludeObject include = IncludeObject::kMetadata;
  int64_t start = -1;  // -1: begin with the current objects
  std::chrono::seconds timeout{0};
  std::chrono::milliseconds heartbeat{0};
};

// One of ApiOptions::max_watches, held from the answer until the stream (or, when the
// transport never starts it, the answer) is gone.
class WatchSlot {
 public:
  explicit WatchSlot(std::atomic<int>& watches) : watches_(watches) {}
  ~WatchSlot() { --watches_; }
  WatchSlot(const WatchSlot&) = delete;
  WatchSlot& operator=(const WatchSlot&) = delete;

 private:
  std::atomic<int>& watches_;
};

void Stream(const WatchSpec& w, const source::Store& store, const util::Clock& clock,
            ResponseStream& out) {
  auto send = [&](const char* type, const api::DeploymentColor& dc, int64_t rv) {
    if (!w.ns.empty() && dc.metadata.namespace_ != w.ns) return true;
    nlohmann::json obj =
        w.table.empty() ? ObjectJson(dc) : MakeTable({dc}, clock.Now(), w.include, rv, w.table);
    return out.Write(nlohmann::json{{"type", type}, {"object", obj}}.dump() + "\n");
  };
  // What a selector's watcher sees of a change: an object that stops matching is DELETED for
  // it, one that starts matching ADDED (as in Kubernetes), one it never matched nothing.
  auto seen_as = [&](const source::Event& e) -> const char* {
    const bool now = w.selector.Matches(e.object);
    if (e.type != source::Event::Type::kModified) return now ? TypeName(e.type) : nullptr;
    const bool before = e.previous ? w.selector.Matches(*e.previous) : now;
    if (before && now) return "MODIFIED";
    if (before) return "DELETED";
    return now ? "ADDED" : nullptr;
  };
  int64_t rv = w.start;
  if (rv < 0) {
    for (const auto& dc : store.ListAt(&rv)) {
      if (w.selector.Matches(dc) && !send("ADDED", dc, rv)) return;
    }
  }
  const auto deadline = clock.MonotonicNow() + w.timeout;
  auto last_write = clock.MonotonicNow();
  while (out.Open() && clock.MonotonicNow() < deadline) {
    auto events = store.EventsAfter(rv, std::min(kPollSlice, w.heartbeat));
    if (!events.ok()) {
      out.Write(absl::StrCat(R"({"type":"ERROR","object":)",
                             StatusJson(410, "Expired", std::string(events.status().message())),
                             "}\n"));
      return;
    }
    for (const source::Event& e : *events) {
      (void)absl::SimpleAtoi(e.object.metadata.resource_version, &rv);
      const char* type = seen_as(e);
      if (type == nullptr) continue;
      if (!send(type, e.object, rv)) return;
      last_write = clock.MonotonicNow();
    }
    if (clock.MonotonicNow() - last_write >= w.heartbeat) {
      if (!out.Write("\n")) return;  // JSON streams skip whitespace; a gone client fails here
      last_write = clock.MonotonicNow();
    }
  }
}

}  // namespace

HttpResponse WatchObjects(const Call& c) {
  auto selector = Selector::Parse(c.req.Param("labelSelector"), c.req.Param("fieldSelector"));
  if (!selector.ok()) return ErrorResponse(selector.status(), "");
  auto include = ParseIncludeObject(c.req.Param("includeObject"));
  if (!include.ok()) return ErrorResponse(include.status(), "");
  WatchSpec w{c.ns, *std::move(selector), TableVersionWanted(c.req), *include};
  const std::string rv = c.req.Param("resourceVersion");
  if (!rv.empty() && rv != "0" && (!absl::SimpleAtoi(rv, &w.start) || w.start < 0)) {
    return StatusResponse(400, "BadRequest", "resourceVersion \"" + rv + "\": not a version");
  }
  if (rv == "0") w.start = -1;
  w.timeout = c.options.max_watch;
  if (const std::string t = c.req.Param("timeoutSeconds"); !t.empty()) {
    int64_t s = 0;
    if (!absl::SimpleAtoi(t, &s) || s < 0) {
      return StatusResponse(400, "BadRequest", "timeoutSeconds \"" + t + "\": not a number");
    }
    w.timeout = std::min(w.timeout, std::chrono::seconds(s));
  }
  w.heartbeat = std::max(c.options.watch_heartbeat, std::chrono::milliseconds(1));
  // Counted before it is checked: two requests at once cannot both take the last slot.
  if (c.watches.fetch_add(1) >= c.options.max_watches) {
    --c.watches;
    HttpResponse r =
        StatusResponse(429, "TooManyRequests",
                       absl::StrCat("too many watches (", c.options.max_watches, "); try again"));
    r.headers.emplace_back("Retry-After", "1");
    return r;
  }
  HttpResponse r;
  r.content_type = "application/json;stream=watch";
  r.stream = [w = std::move(w), &store = c.store, &clock = c.clock,
              slot = std::make_shared<WatchSlot>(c.watches)](ResponseStream& out) {
    Stream(w, store, clock, out);
  };
  return r;
}

}  // namespace sy::server::internal
