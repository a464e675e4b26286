#include "pkg/actuate/pg_step_util.h"

#include <algorithm>

#include "absl/strings/str_cat.h"
#include "pkg/host/pqxx_pg_client.h"
#include "pkg/util/files.h"

namespace sy::actuate::pg_internal {

using std::chrono::milliseconds;

std::string Name(api::Color c) { return std::string(api::ColorName(c)); }

const std::string& DataDir(const api::DeploymentColorSpec& spec, api::Color c) {
  return spec.color(c).database.data_directory;
}

std::string Context(std::string_view verb, const api::DeploymentColorSpec& spec, api::Color c) {
  return absl::StrCat(absl::string_view(verb.data(), verb.size()), " ", Name(c), " (",
                      host::EndpointFor(spec, c).Address(), ")");
}

std::string Context(std::string_view verb, const api::DeploymentColorSpec& spec, api::Color c,
                    std::string_view preposition, api::Color other) {
  return absl::StrCat(Context(verb, spec, c), " ",
                      absl::string_view(preposition.data(), preposition.size()), " ",
                      Context("", spec, other).substr(1));
}

bool PollUntil(const util::Clock& clock, milliseconds timeout, milliseconds every,
               const std::function<bool()>& done) {
  const auto deadline = clock.MonotonicNow() + timeout;
  while (true) {  // poll
    if (done()) return true;
    if (clock.MonotonicNow() >= deadline) return false;
    clock.SleepFor(every);
  }
}

int64_t MillisSince(const util::Clock& clock, std::chrono::steady_clock::time_point start) {
  return std::chrono::duration_cast<milliseconds>(clock.MonotonicNow() - start).count();
}

std::string LogTail(const std::string& path) {
  absl::StatusOr<std::string> content = util::ReadFile(path);
  if (!content.ok()) return "(no log at " + path + ")";
  std::string tail = content->size() > 1500 ? content->substr(content->size() - 1500) : *content;
  if (content->size() > 1500) tail = tail.substr(std::min(tail.size(), tail.find('\n') + 1));
  return path + ":\n" + tail;
}

std::string OutputTail(const std::string& output) {
  return output.size() > 2000 ? "..." + output.substr(output.size() - 2000) : output;
}

absl::Status Annotated(const absl::Status& s, const std::string& context, std::string_view hint) {
  if (s.ok()) return s;
  return absl::Status(s.code(), absl::StrCat(context, ": ", s.message(),
                                             absl::string_view(hint.data(), hint.size())));
}

}  // namespace sy::actuate::pg_internal
