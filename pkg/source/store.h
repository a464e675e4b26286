// The store of resources: desired spec and status of each DeploymentColor, keyed by
// "namespace/name", persisted in the state directory so a restart loses nothing.
#pragma once

#include <functional>
#include <map>
#include <mutex>
#include <optional>
#include <string>
#include <vector>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "pkg/api/types.h"
#include "pkg/util/clock.h"

namespace sy::source {

// Thread-safe. Every write bumps the object's resourceVersion (from one store-wide counter);
// a spec or annotation change also bumps metadata.generation. Persisted writes are atomic
// (temp file, fsync, rename): after a crash each object is the old or the new version.
class Store {
 public:
  // `state_dir` empty: memory only (tests). Call Load() once before use. `clock` (for
  // creationTimestamp) must outlive this object.
  Store(std::string state_dir, const util::Clock& clock);

  // Reads every persisted object. kInternal / kDataLoss name the file that cannot be read.
  absl::Status Load();

  // Creates or updates the desired state of `obj` (its spec, labels, annotations; status
  // and server-set metadata are kept). `source` says where it came from (shown in status).
  // Returns the stored object.
  absl::StatusOr<api::DeploymentColor> Apply(const api::DeploymentColor& obj,
                                             const std::string& source);

  // Marks `key` as having an invalid manifest: the last valid spec stays in force;
  // status.phase becomes Invalid with the message. Unknown keys are remembered too so a
  // later valid manifest starts fresh.
  absl::Status MarkInvalid(const std::string& key, const std::string& source,
                           const std::string& message);

  // Replaces the status of `key` (persisted only when it changed).
  absl::Status WriteStatus(const std::string& key, const api::DeploymentColorStatus& status);

  // Stops managing `key` (its persisted file is removed). Nothing in the world is touched.
  absl::Status Remove(const std::string& key);

  std::optional<api::DeploymentColor> Get(const std::string& key) const;
  std::vector<api::DeploymentColor> List() const;
  // Keys of objects whose manifest is currently invalid, with the problem.
  std::optional<std::string> InvalidReason(const std::string& key) const;

  // Called (outside the lock) with the key after every change. Set before use.
  void OnChange(std::function<void(const std::string&)> fn);

 private:
  absl::Status Persist(const api::DeploymentColor& obj);
  void Notify(const std::string& key);
  std::string PathFor(const std::string& key) const;

  const std::string dir_;
  const util::Clock& clock_;
  mutable std::mutex mu_;
  std::map<std::string, api::DeploymentColor> objects_;
  std::map<std::string, std::string> invalid_;
  int64_t version_ = 0;
  std::function<void(const std::string&)> on_change_;
};

}  // namespace sy::source
