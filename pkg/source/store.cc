#include "pkg/source/store.h"

#include <dirent.h>
#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstring>
#include <random>

#include "absl/strings/ascii.h"
#include "absl/strings/match.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "pkg/api/validation.h"
#include "pkg/codec/codec.h"
#include "pkg/util/files.h"
#include "pkg/util/status_macros.h"

namespace sy::source {
namespace {

constexpr std::string_view kCommitMark = " (commit ";

std::string NewUid() {
  static std::mt19937_64 rng(std::random_device{}());
  static std::mutex mu;
  std::lock_guard<std::mutex> l(mu);
  const uint64_t a = rng();
  const uint64_t b = rng();
  char buf[40];
  snprintf(buf, sizeof buf, "%08x-%04x-4%03x-%04x-%012llx", static_cast<uint32_t>(a >> 32),
           static_cast<uint32_t>(a >> 16) & 0xffff, static_cast<uint32_t>(a) & 0xfff,
           (static_cast<uint32_t>(b >> 48) & 0x3fff) | 0x8000,
           static_cast<unsigned long long>(b & 0xffffffffffffULL));
  return buf;
}

// The annotations that steer the controller (a change is a new generation).
std::map<std::string, std::string> Steering(const std::map<std::string, std::string>& a) {
  std::map<std::string, std::string> out;
  for (const auto& [k, v] : a) {
    if (absl::StartsWith(k, "switchyard.dev/")) out.emplace(k, v);
  }
  return out;
}

std::string Quoted(const std::string& key) {
  return absl::StrCat("deploymentcolors.switchyard.dev \"", key.substr(key.find('/') + 1), "\"");
}

// "field: message; ..." of every problem.
std::string Joined(const std::vector<api::FieldError>& errors) {
  std::string out;
  for (const api::FieldError& e : errors) {
    absl::StrAppend(&out, out.empty() ? "" : "; ", e.field, ": ", e.message);
  }
  return out;
}

}  // namespace

std::string FileSource(const std::string& path, const std::string& commit,
                       const std::string& note) {
  if (commit.empty()) return path;
  return absl::StrCat(path, std::string(kCommitMark), commit, note.empty() ? "" : "; ", note, ")");
}

std::string SourceFile(const std::string& source) {
  if (source.empty() || source[0] != '/') return "";
  return source.substr(0, source.find(kCommitMark));
}

Store::Store(std::string state_dir, const util::Clock& clock)
    : dir_(std::move(state_dir)), clock_(clock) {}

std::string Store::PathFor(const std::string& key) const {
  std::string file = key;
  for (char& c : file) {
    if (c == '/') c = '_';  // namespaces and names are DNS-1123 labels: no '_' in them
  }
  return dir_ + "/objects/" + file + ".json";
}

absl::Status Store::Load() {
  if (dir_.empty()) return absl::OkStatus();
  const std::string objects = dir_ + "/objects";
  if (::mkdir(objects.c_str(), 0700) != 0 && errno != EEXIST) {
    return util::ErrnoStatus(errno, "creating " + objects);
  }
  DIR* d = ::opendir(objects.c_str());
  if (d == nullptr) return util::ErrnoStatus(errno, "reading " + objects);
  std::vector<std::string> files;
  while (dirent* e = ::readdir(d)) {
    std::string n = e->d_name;
    if (n.size() > 5 && n.substr(n.size() - 5) == ".json") {
      files.push_back(absl::StrCat(objects, "/", n));
    }
  }
  ::closedir(d);
  std::sort(files.begin(), files.end());
  std::lock_guard<std::mutex> l(mu_);
  // The floor the deletions left (absent before the first one).
  if (auto floor = util::ReadFile(VersionPath()); floor.ok()) {
    int64_t v = 0;
    if (absl::SimpleAtoi(absl::StripAsciiWhitespace(*floor), &v)) version_ = std::max(version_, v);
  }
  for (const auto& f : files) SY_RETURN_IF_ERROR(LoadFile(f));
  return absl::OkStatus();
}

absl::Status Store::LoadFile(const std::string& f) {
  SY_ASSIGN_OR_RETURN(std::string content, util::ReadFile(f));
  auto obj = codec::DecodeJson(content, f);
  if (!obj.ok()) {
    return Quarantine(f, absl::StrCat("it cannot be decoded: ", obj.status().message()));
  }
  const std::string key = obj->Key();
  if (PathFor(key) != f) {
    // A copy left by hand (or a restore) must not bring back an object deleted since.
    return Quarantine(f, absl::StrCat("it holds ", key, ", which is stored as ", PathFor(key)));
  }
  int64_t rv = 0;
  if (absl::SimpleAtoi(obj->metadata.resource_version, &rv)) version_ = std::max(version_, rv);
  objects_[key] = *std::move(obj);
  return absl::OkStatus();
}

absl::Status Store::Quarantine(const std::string& file, const std::string& reason) {
  const std::string dir = dir_ + "/quarantine";
  if (::mkdir(dir.c_str(), 0700) != 0 && errno != EEXIST) {
    return absl::DataLossError(absl::StrCat("state file ", file, " is unusable (", reason,
                                            ") and cannot be moved to ", dir, ": ",
                                            std::strerror(errno), "; move it away to start"));
  }
  const std::string base = file.substr(file.find_last_of('/') + 1);
  const std::string stamp = std::to_string(
      std::chrono::duration_cast<std::chrono::seconds>(clock_.Now().time_since_epoch()).count());
  std::string to = absl::StrCat(dir, "/", base, ".", stamp);
  for (int i = 1; util::PathExists(to); ++i) to = absl::StrCat(dir, "/", base, ".", stamp, ".", i);
  if (::rename(file.c_str(), to.c_str()) != 0) {
    return absl::DataLossError(absl::StrCat("state file ", file, " is unusable (", reason,
                                            ") and cannot be moved to ", to, ": ",
                                            std::strerror(errno), "; move it away to start"));
  }
  quarantined_.push_back({file, to, reason});
  return absl::OkStatus();
}

std::vector<QuarantinedFile> Store::Quarantined() const {
  std::lock_guard<std::mutex> l(mu_);
  return quarantined_;
}

std::string Store::VersionPath() const { return dir_ + "/resource-version"; }

absl::Status Store::PersistVersion(int64_t v) {
  if (dir_.empty()) return absl::OkStatus();
  return util::WriteFileAtomically(VersionPath(), absl::StrCat(v, "\n"), 0600);
}

absl::Status Store::Persist(const api::DeploymentColor& obj) {
  if (dir_.empty()) return absl::OkStatus();
  return util::WriteFileAtomically(PathFor(obj.Key()), codec::EncodeJson(obj, 2) + "\n", 0600);
}

absl::Status Store::Unpersist(const std::string& key) {
  if (dir_.empty()) return absl::OkStatus();
  if (::unlink(PathFor(key).c_str()) != 0 && errno != ENOENT) {
    return util::ErrnoStatus(errno, "removing " + PathFor(key));
  }
  // The removal is durable only once the directory is synced.
  const std::string objects = dir_ + "/objects";
  int dfd = ::open(objects.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC);
  if (dfd >= 0) {
    ::fsync(dfd);
    ::close(dfd);
  }
  return absl::OkStatus();
}

void Store::Record(Event::Type type, const api::DeploymentColor& obj,
                   std::optional<api::ObjectMeta> previous) {
  history_.emplace_back(version_, Event{type, obj, std::move(previous)});
  while (history_.size() > kHistory) history_.pop_front();
  changed_.notify_all();
}

absl::Status Store::CheckWrite(const std::string& key, const WriteOptions& o) const {
  auto it = objects_.find(key);
  if (it == objects_.end()) {
    if (o.exists == WriteOptions::Exists::kMustExist) {
      return absl::NotFoundError(Quoted(key) + " not found");
    }
    return absl::OkStatus();
  }
  const api::DeploymentColor& cur = it->second;
  if (o.exists == WriteOptions::Exists::kMustNotExist) {
    return absl::AlreadyExistsError(Quoted(key) + " already exists");
  }
  if (o.from_api) {
    const std::string file = SourceFile(cur.status.source);
    if (!file.empty()) {
      return absl::PermissionDeniedError(
          absl::StrCat(Quoted(key), " is managed by the manifest file ", cur.status.source,
                       ": change that file instead (through the API it is read-only)"));
    }
  }
  if (!o.resource_version.empty() && o.resource_version != cur.metadata.resource_version) {
    return absl::AbortedError(
        absl::StrCat("Operation cannot be fulfilled on ", Quoted(key),
                     ": the object has been modified; please apply your changes to the latest "
                     "version and try again"));
  }
  return absl::OkStatus();
}

absl::StatusOr<api::DeploymentColor> Store::Apply(const api::DeploymentColor& in,
                                                  const std::string& source,
                                                  const WriteOptions& options) {
  const std::string key = in.Key();
  api::DeploymentColor out;
  {
    std::lock_guard<std::mutex> l(mu_);
    SY_RETURN_IF_ERROR(CheckWrite(key, options));
    auto it = objects_.find(key);
    // Safety rule: no two resources name the same servers (they would act on them at once and
    // undo each other's steps forever). Manifests are checked as a whole by ManifestSource. A
    // write that shares nothing new goes through (pausing one of two stored before the rule).
    for (const auto& [other_key, other] : objects_) {
      if (!options.from_api || other_key == key) continue;
      const std::vector<api::FieldError> shared = api::SharedWith(in, other);
      if (shared.empty() ||
          (it != objects_.end() && api::SharedWith(it->second, other) == shared)) {
        continue;
      }
      return absl::FailedPreconditionError(
          absl::StrCat(Quoted(key), " is invalid: ", Joined(shared),
                       " (two resources must not act on the same servers)"));
    }
    const bool invalid_before = invalid_.count(key) > 0;
    if (it != objects_.end()) {
      out = it->second;
      const bool changed = out.spec != in.spec ||
                           Steering(out.metadata.annotations) != Steering(in.metadata.annotations);
      const bool relabeled = out.metadata.labels != in.metadata.labels ||
                             out.metadata.annotations != in.metadata.annotations;
      if (!changed && !relabeled && out.status.source == source && !invalid_before) return out;
      if (changed) ++out.metadata.generation;
      out.spec = in.spec;
      out.metadata.labels = in.metadata.labels;
      out.metadata.annotations = in.metadata.annotations;
    } else {
      out = in;
      out.status = {};
      out.metadata.uid = NewUid();
      out.metadata.generation = 1;
      out.metadata.resource_version.clear();
      out.metadata.creation_timestamp = util::FormatRfc3339(clock_.Now());
    }
    out.status.source = source;
    if (options.dry_run) return out;
    invalid_.erase(key);
    out.metadata.resource_version = std::to_string(version_ + 1);
    SY_RETURN_IF_ERROR(Persist(out));
    ++version_;
    if (it == objects_.end()) {
      Record(Event::Type::kAdded, out);
    } else {
      Record(Event::Type::kModified, out, it->second.metadata);
    }
    objects_[key] = out;
  }
  Notify(key);
  return out;
}

absl::Status Store::MarkInvalid(const std::string& key, const std::string& source,
                                const std::string& message) {
  {
    std::lock_guard<std::mutex> l(mu_);
    // Problems found while decoding name their file already.
    invalid_.insert_or_assign(
        key, absl::StartsWith(message, source) ? message : source + ": " + message);
  }
  Notify(key);
  return absl::OkStatus();
}

absl::Status Store::WriteStatus(const std::string& key, const api::DeploymentColorStatus& status,
                                const std::string& uid) {
  std::lock_guard<std::mutex> l(mu_);
  auto it = objects_.find(key);
  if (it == objects_.end()) return absl::NotFoundError("no resource " + key);
  if (!uid.empty() && it->second.metadata.uid != uid) {
    return absl::AbortedError(absl::StrCat(key, " was deleted and created again (uid ", uid,
                                           " is now ", it->second.metadata.uid,
                                           "): its status is not written"));
  }
  api::DeploymentColor updated = it->second;
  updated.status = status;
  updated.status.source = it->second.status.source;
  if (updated.status == it->second.status) return absl::OkStatus();
  updated.metadata.resource_version = std::to_string(version_ + 1);
  SY_RETURN_IF_ERROR(Persist(updated));
  ++version_;
  Record(Event::Type::kModified, updated, it->second.metadata);
  it->second = std::move(updated);
  return absl::OkStatus();
}

absl::Status Store::Remove(const std::string& key) {
  {
    std::lock_guard<std::mutex> l(mu_);
    invalid_.erase(key);
    auto it = objects_.find(key);
    if (it == objects_.end()) return absl::OkStatus();
    SY_RETURN_IF_ERROR(PersistVersion(version_ + 1));
    SY_RETURN_IF_ERROR(Unpersist(key));
    api::DeploymentColor gone = std::move(it->second);
    objects_.erase(it);
    gone.metadata.resource_version = std::to_string(++version_);
    Record(Event::Type::kDeleted, gone);
  }
  Notify(key);
  return absl::OkStatus();
}

absl::StatusOr<api::DeploymentColor> Store::Delete(const std::string& key,
                                                   const WriteOptions& options) {
  WriteOptions o = options;
  o.exists = WriteOptions::Exists::kMustExist;
  api::DeploymentColor gone;
  {
    std::lock_guard<std::mutex> l(mu_);
    SY_RETURN_IF_ERROR(CheckWrite(key, o));
    auto it = objects_.find(key);
    gone = it->second;
    if (o.dry_run) return gone;
    SY_RETURN_IF_ERROR(PersistVersion(version_ + 1));
    SY_RETURN_IF_ERROR(Unpersist(key));
    objects_.erase(it);
    invalid_.erase(key);
    gone.metadata.resource_version = std::to_string(++version_);
    Record(Event::Type::kDeleted, gone);
  }
  Notify(key);
  return gone;
}

std::optional<api::DeploymentColor> Store::Get(const std::string& key) const {
  std::lock_guard<std::mutex> l(mu_);
  auto it = objects_.find(key);
  if (it == objects_.end()) return std::nullopt;
  return it->second;
}

std::vector<api::DeploymentColor> Store::List() const {
  int64_t unused = 0;
  return ListAt(&unused);
}

std::vector<api::DeploymentColor> Store::ListAt(int64_t* resource_version) const {
  std::lock_guard<std::mutex> l(mu_);
  std::vector<api::DeploymentColor> out;
  out.reserve(objects_.size());
  for (const auto& [k, v] : objects_) out.push_back(v);
  *resource_version = version_;
  return out;
}

int64_t Store::ResourceVersion() const {
  std::lock_guard<std::mutex> l(mu_);
  return version_;
}

std::optional<std::string> Store::InvalidReason(const std::string& key) const {
  std::lock_guard<std::mutex> l(mu_);
  auto it = invalid_.find(key);
  if (it == invalid_.end()) return std::nullopt;
  return it->second;
}

absl::StatusOr<std::vector<Event>> Store::EventsAfter(int64_t after,
                                                      std::chrono::milliseconds wait) const {
  std::unique_lock<std::mutex> l(mu_);
  if (after > version_) {
    return absl::OutOfRangeError(
        absl::StrCat("resource version ", after, " is newer than the store's (", version_, ")"));
  }
  auto too_old = [&]() -> absl::Status {
    const int64_t oldest = history_.empty() ? version_ : history_.front().first - 1;
    if (after >= oldest) return absl::OkStatus();
    return absl::OutOfRangeError(
        absl::StrCat("too old resource version: ", after, " (", oldest, ")"));
  };
  SY_RETURN_IF_ERROR(too_old());
  changed_.wait_for(l, wait, [&] { return version_ > after; });
  SY_RETURN_IF_ERROR(too_old());  // the history may have moved on while we waited
  std::vector<Event> out;
  for (const auto& [rv, e] : history_) {
    if (rv > after) out.push_back(e);
  }
  return out;
}

void Store::OnChange(std::function<void(const std::string&)> fn) { on_change_ = std::move(fn); }

void Store::Notify(const std::string& key) {
  if (on_change_) on_change_(key);
}

}  // namespace sy::source
