#include "pkg/source/store.h"

#include <dirent.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <random>

#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "pkg/codec/codec.h"
#include "pkg/util/files.h"
#include "pkg/util/status_macros.h"

namespace sy::source {
namespace {

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

}  // namespace

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
    if (n.size() > 5 && n.substr(n.size() - 5) == ".json") files.push_back(objects + "/" + n);
  }
  ::closedir(d);
  std::lock_guard<std::mutex> l(mu_);
  for (const auto& f : files) {
    SY_ASSIGN_OR_RETURN(std::string content, util::ReadFile(f));
    auto obj = codec::DecodeJson(content, f);
    if (!obj.ok()) {
      return absl::DataLossError(absl::StrCat("state file ", f, " is unreadable (",
                                              obj.status().message(),
                                              "): move it away to start without it"));
    }
    int64_t rv = 0;
    if (absl::SimpleAtoi(obj->metadata.resource_version, &rv)) version_ = std::max(version_, rv);
    objects_[obj->Key()] = *std::move(obj);
  }
  return absl::OkStatus();
}

absl::Status Store::Persist(const api::DeploymentColor& obj) {
  if (dir_.empty()) return absl::OkStatus();
  return util::WriteFileAtomically(PathFor(obj.Key()), codec::EncodeJson(obj, 2) + "\n", 0600);
}

absl::StatusOr<api::DeploymentColor> Store::Apply(const api::DeploymentColor& in,
                                                  const std::string& source) {
  const std::string key = in.Key();
  api::DeploymentColor out;
  {
    std::lock_guard<std::mutex> l(mu_);
    auto it = objects_.find(key);
    const bool invalid_before = invalid_.erase(key) > 0;
    if (it != objects_.end()) {
      out = it->second;
      const bool changed =
          out.spec != in.spec || out.metadata.annotations != in.metadata.annotations;
      const bool relabeled = out.metadata.labels != in.metadata.labels;
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
      out.metadata.creation_timestamp = util::FormatRfc3339(clock_.Now());
    }
    out.status.source = source;
    out.metadata.resource_version = std::to_string(++version_);
    SY_RETURN_IF_ERROR(Persist(out));
    objects_[key] = out;
  }
  Notify(key);
  return out;
}

absl::Status Store::MarkInvalid(const std::string& key, const std::string& source,
                                const std::string& message) {
  {
    std::lock_guard<std::mutex> l(mu_);
    auto [it, inserted] = invalid_.insert_or_assign(key, source + ": " + message);
    (void)it;
    (void)inserted;
  }
  Notify(key);
  return absl::OkStatus();
}

absl::Status Store::WriteStatus(const std::string& key, const api::DeploymentColorStatus& status) {
  {
    std::lock_guard<std::mutex> l(mu_);
    auto it = objects_.find(key);
    if (it == objects_.end()) return absl::NotFoundError("no resource " + key);
    if (it->second.status == status) return absl::OkStatus();
    api::DeploymentColor updated = it->second;
    updated.status = status;
    updated.metadata.resource_version = std::to_string(++version_);
    SY_RETURN_IF_ERROR(Persist(updated));
    it->second = std::move(updated);
  }
  return absl::OkStatus();
}

absl::Status Store::Remove(const std::string& key) {
  {
    std::lock_guard<std::mutex> l(mu_);
    invalid_.erase(key);
    if (objects_.erase(key) == 0) return absl::OkStatus();
    if (!dir_.empty() && ::unlink(PathFor(key).c_str()) != 0 && errno != ENOENT) {
      return util::ErrnoStatus(errno, "removing " + PathFor(key));
    }
  }
  Notify(key);
  return absl::OkStatus();
}

std::optional<api::DeploymentColor> Store::Get(const std::string& key) const {
  std::lock_guard<std::mutex> l(mu_);
  auto it = objects_.find(key);
  if (it == objects_.end()) return std::nullopt;
  return it->second;
}

std::vector<api::DeploymentColor> Store::List() const {
  std::lock_guard<std::mutex> l(mu_);
  std::vector<api::DeploymentColor> out;
  for (const auto& [k, v] : objects_) out.push_back(v);
  return out;
}

std::optional<std::string> Store::InvalidReason(const std::string& key) const {
  std::lock_guard<std::mutex> l(mu_);
  auto it = invalid_.find(key);
  if (it == invalid_.end()) return std::nullopt;
  return it->second;
}

void Store::OnChange(std::function<void(const std::string&)> fn) { on_change_ = std::move(fn); }

void Store::Notify(const std::string& key) {
  if (on_change_) on_change_(key);
}

}  // namespace sy::source
