// The store of resources: desired spec and status of each DeploymentColor, keyed by
// "namespace/name", persisted in the state directory so a restart loses nothing, with a short
// history of changes for watchers.
#pragma once

#include <chrono>
#include <condition_variable>
#include <cstdint>
#include <deque>
#include <functional>
#include <map>
#include <mutex>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "pkg/api/types.h"
#include "pkg/util/clock.h"

namespace sy::source {

// Where an object's spec comes from, as status.source shows it: the API ("api") or a manifest
// file ("/srv/gitops/shop.yaml", with " (commit <sha>)" when the file is in a git checkout).
// Objects from files are read-only through the API.
inline constexpr std::string_view kApiSource = "api";
// `note` (when not empty) follows the commit: "/srv/gitops/shop.yaml (commit <sha>; <note>)".
std::string FileSource(const std::string& path, const std::string& commit,
                       const std::string& note = "");
// The manifest file named by `source` ("" when it is not a file).
std::string SourceFile(const std::string& source);

// How a write is checked. All checks run under the store's lock with the write itself.
struct WriteOptions {
  enum class Exists { kAny, kMustNotExist, kMustExist };
  Exists exists = Exists::kAny;
  // Non-empty: the stored object must have this metadata.resourceVersion.
  std::string resource_version;
  // A write through the API: refused for objects a manifest file owns.
  bool from_api = false;
  // Check and compute the result, but store nothing, bump nothing and notify nobody.
  bool dry_run = false;
};

// One change, as watchers see it. `object` carries the resourceVersion of the change (for a
// deletion: the object as it was, with the version of its deletion). `previous` is the
// object's metadata before a modification (a watch with a label selector turns a change of
// labels into ADDED or DELETED, as Kubernetes does).
struct Event {
  enum class Type { kAdded, kModified, kDeleted };
  Type type = Type::kModified;
  api::DeploymentColor object;
  std::optional<api::ObjectMeta> previous;
};

// A state file Load() moved aside instead of loading.
struct QuarantinedFile {
  std::string file;      // where it was
  std::string moved_to;  // <state-dir>/quarantine/<name>.<unix time>
  std::string reason;
};

// Thread-safe. Every write bumps the object's resourceVersion (from one store-wide counter,
// which never goes back, across restarts too: deletions persist it);
// a spec change, or a change of an annotation of the switchyard.dev/ prefix (those steer the
// controller), also bumps metadata.generation; labels and other annotations do not. Persisted
// writes are atomic (temp file, fsync, rename): after a crash each object is the old or the
// new version.
class Store {
 public:
  // `state_dir` empty: memory only (tests). Call Load() once before use. `clock` (for
  // creationTimestamp) must outlive this object.
  Store(std::string state_dir, const util::Clock& clock);

  // Reads every persisted object. A file that cannot be decoded, or whose name is not the one
  // its object would be stored under (a stray copy), is moved to <state-dir>/quarantine and
  // listed by Quarantined(); the rest load. kInternal / kDataLoss name a file that can be
  // neither read nor moved aside.
  absl::Status Load();
  // What Load() moved aside.
  std::vector<QuarantinedFile> Quarantined() const;

  // Creates or updates the desired state of `obj` (its spec, labels, annotations; status
  // and server-set metadata are kept). `source` says where it came from (status.source).
  // Returns the stored object (with dry_run: the object as it would be stored). Errors:
  // kAlreadyExists, kNotFound (Exists), kAborted (resourceVersion differs), kPermissionDenied
  // (from_api and a manifest file owns the object; the message names the file),
  // kFailedPrecondition (from_api and another stored resource names one of its database
  // servers, data directories or its nginx upstream file: api::SharedWith, naming both), or
  // the persistence error.
  absl::StatusOr<api::DeploymentColor> Apply(const api::DeploymentColor& obj,
                                             const std::string& source,
                                             const WriteOptions& options = {});

  // Marks `key` as having an invalid manifest: the last valid spec stays in force;
  // status.phase becomes Invalid with the message. Unknown keys are remembered too so a
  // later valid manifest starts fresh.
  absl::Status MarkInvalid(const std::string& key, const std::string& source,
                           const std::string& message);

  // Replaces the status of `key` (persisted only when it changed). status.source is the
  // store's (it follows the spec) and is kept as stored. `uid` non-empty: only onto that
  // incarnation of the object; kAborted when the object was deleted and created again since
  // (a pass must not write what it saw of the old one onto the new one). kNotFound when gone.
  absl::Status WriteStatus(const std::string& key, const api::DeploymentColorStatus& status,
                           const std::string& uid = "");

  // Stops managing `key` (its persisted file is removed). Nothing in the world is touched.
  absl::Status Remove(const std::string& key);

  // Remove() with checks (options.exists is kMustExist regardless): returns the object as it
  // was. Errors as Apply's.
  absl::StatusOr<api::DeploymentColor> Delete(const std::string& key, const WriteOptions& options);

  std::optional<api::DeploymentColor> Get(const std::string& key) const;
  std::vector<api::DeploymentColor> List() const;
  // List() and the store's resourceVersion, taken together.
  std::vector<api::DeploymentColor> ListAt(int64_t* resource_version) const;
  // The resourceVersion of the latest change.
  int64_t ResourceVersion() const;
  // Keys of objects whose manifest is currently invalid, with the problem.
  std::optional<std::string> InvalidReason(const std::string& key) const;

  // The changes after resourceVersion `after`, oldest first, waiting up to `wait` for one
  // (an empty list when none came). kOutOfRange when `after` is older than the history kept
  // (the last kHistory changes, since this process started) or newer than the store: list
  // again and watch from the list's version.
  absl::StatusOr<std::vector<Event>> EventsAfter(int64_t after,
                                                 std::chrono::milliseconds wait) const;
  static constexpr size_t kHistory = 1000;

  // Called (outside the lock) with the key after every change of spec, labels, annotations
  // or source, and after MarkInvalid and Remove (not after WriteStatus). Set before use.
  void OnChange(std::function<void(const std::string&)> fn);

 private:
  absl::Status CheckWrite(const std::string& key, const WriteOptions& o) const;
  absl::Status LoadFile(const std::string& file);
  absl::Status Quarantine(const std::string& file, const std::string& reason);
  // Makes resourceVersion `v` durable before an object that may hold the highest one goes.
  absl::Status PersistVersion(int64_t v);
  std::string VersionPath() const;
  absl::Status Persist(const api::DeploymentColor& obj);
  absl::Status Unpersist(const std::string& key);
  void Record(Event::Type type, const api::DeploymentColor& obj,
              std::optional<api::ObjectMeta> previous = std::nullopt);
  void Notify(const std::string& key);
  std::string PathFor(const std::string& key) const;

  const std::string dir_;
  const util::Clock& clock_;
  mutable std::mutex mu_;
  mutable std::condition_variable changed_;
  std::map<std::string, api::DeploymentColor> objects_;
  std::map<std::string, std::string> invalid_;
  std::vector<QuarantinedFile> quarantined_;
  int64_t version_ = 0;
  std::deque<std::pair<int64_t, Event>> history_;  // (resourceVersion, change)
  std::function<void(const std::string&)> on_change_;
};

}  // namespace sy::source
