#include "pkg/actuate/pg_step_util.h"

#include "absl/strings/str_cat.h"
#include "pkg/host/pg_client.h"

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

std::string OutputTail(const std::string& output) {
  return output.size() > 2000 ? "..." + output.substr(output.size() - 2000) : output;
}

absl::Status Annotated(const absl::Status& s, const std::string& context, std::string_view hint) {
  if (s.ok()) return s;
  return absl::Status(s.code(), absl::StrCat(context, ": ", s.message(),
                                             absl::string_view(hint.data(), hint.size())));
}

}  // namespace sy::actuate::pg_internal
