#include "pkg/host/pg_standby_config.h"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <filesystem>

#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "pkg/host/pg_auto_conf.h"
#include "pkg/host/pg_datadir.h"
#include "pkg/model/step.h"
#include "pkg/util/files.h"
#include "pkg/util/status_macros.h"

namespace sy::host {
namespace {

// Like util::WriteFileAtomically, and the file is given to uid:gid before it replaces `path`.
absl::Status WriteOwnedFileAtomically(const std::string& path, const std::string& content,
                                      mode_t mode, uid_t uid, gid_t gid) {
  const std::string tmp = path + ".switchyard-tmp";
  SY_RETURN_IF_ERROR(util::WriteFileAtomically(tmp, content, mode));
  if (::chown(tmp.c_str(), uid, gid) != 0 || ::rename(tmp.c_str(), path.c_str()) != 0) {
    const int err = errno;
    ::unlink(tmp.c_str());
    return util::ErrnoStatus(err, "replacing " + path);
  }
  return SyncDirectory(path.substr(0, path.rfind('/')));
}

std::string Conninfo(const api::DeploymentColorSpec& spec, api::Color source,
                     std::string_view application_name) {
  const api::DatabaseRef& db = spec.color(source).database;
  std::string s = absl::StrCat("host=", host::QuoteConninfoValue(db.host), " port=", db.port,
                               " user=", host::QuoteConninfoValue(spec.database.replication_user));
  if (!application_name.empty()) {
    absl::StrAppend(&s, " application_name=", host::QuoteConninfoValue(application_name));
  }
  if (!spec.database.password_file.empty()) {
    absl::StrAppend(&s, " passfile=", host::QuoteConninfoValue(spec.database.password_file));
  }
  return s;
}

// Deletes Switchyard's own slot directories (model::kSlotPrefix) in pg_replslot the way
// PostgreSQL drops a slot: renamed to <slot>.tmp first (synced), then removed. Interrupted
// anywhere (the daemon killed mid-step), this leaves the whole slot or a *.tmp directory,
// which PostgreSQL removes at start-up; never a slot directory without its state file, on
// which the server PANICs at start-up ("could not open file pg_replslot/<slot>/state") and
// stays down. Rule: every other slot (a logical CDC slot, a backup tool's physical slot) is
// someone else's and stays, whatever WAL it pins.
absl::Status DropLocalSlots(const std::string& data_directory) {
  const std::string dir = data_directory + "/pg_replslot";
  std::vector<std::string> slots;
  for (std::string& slot : host::ReadLocalSlots(data_directory)) {
    if (model::IsSwitchyardSlot(slot)) slots.push_back(std::move(slot));
  }
  for (const std::string& slot : slots) {
    const std::string path = absl::StrCat(dir, "/", slot);
    const std::string doomed = path + ".tmp";
    std::error_code ec;
    std::filesystem::remove_all(doomed, ec);  // what an interrupted drop left
    if (ec) return util::ErrnoStatus(ec.value(), "removing " + doomed);
    if (::rename(path.c_str(), doomed.c_str()) != 0) {
      return util::ErrnoStatus(errno, "dropping stale slot " + path);
    }
    SY_RETURN_IF_ERROR(SyncDirectory(dir));
    std::filesystem::remove_all(doomed, ec);
    if (ec) return util::ErrnoStatus(ec.value(), "removing stale slot " + doomed);
  }
  if (!slots.empty()) SY_RETURN_IF_ERROR(SyncDirectory(dir));
  return absl::OkStatus();
}

}  // namespace

absl::Status SyncDirectory(const std::string& dir) {
  const int fd = ::open(dir.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC);
  if (fd < 0) return util::ErrnoStatus(errno, "opening " + dir);
  const int rc = ::fsync(fd);
  const int err = errno;
  ::close(fd);
  return rc == 0 ? absl::OkStatus() : util::ErrnoStatus(err, "syncing " + dir);
}

std::string StandbyConninfo(const api::DeploymentColorSpec& spec, api::Color target,
                            api::Color source) {
  return Conninfo(spec, source, api::ColorName(target));
}

std::string ReplicationConninfo(const api::DeploymentColorSpec& spec, api::Color source) {
  return Conninfo(spec, source, "");
}

namespace {

// The owner of a cluster's directory: files Switchyard writes there end up owned like it.
absl::StatusOr<struct stat> ClusterOwner(const std::string& data_directory) {
  if (!host::HoldsCluster(data_directory)) {
    return absl::FailedPreconditionError(data_directory + " holds no PostgreSQL cluster");
  }
  struct stat dir_st;
  if (::stat(data_directory.c_str(), &dir_st) != 0) {
    return util::ErrnoStatus(errno, "reading " + data_directory);
  }
  return dir_st;
}

// Sets the replication settings of postgresql.auto.conf (atomically, mode and owner kept).
absl::Status SetReplicationSettings(const std::string& data_directory, const struct stat& owner,
                                    const std::string& primary_conninfo,
                                    const std::string& slot_name) {
  const std::string conf_path = data_directory + "/postgresql.auto.conf";
  std::string conf;
  mode_t mode = 0600;
  if (absl::StatusOr<std::string> read = util::ReadFile(conf_path); read.ok()) {
    conf = std::move(*read);
    struct stat st;
    if (::stat(conf_path.c_str(), &st) == 0) mode = st.st_mode & 07777;
  } else if (!absl::IsNotFound(read.status())) {
    return read.status();
  }
  const std::string rewritten = host::RewriteConfig(
      conf, {{"primary_conninfo", primary_conninfo}, {"primary_slot_name", slot_name}});
  if (rewritten == conf) return absl::OkStatus();
  return WriteOwnedFileAtomically(conf_path, rewritten, mode, owner.st_uid, owner.st_gid);
}

// Creates `path` (empty unless `content`) owned like the cluster, durably, unless it exists.
absl::Status CreateOwnedFile(const std::string& path, const struct stat& owner,
                             const std::string& content = "") {
  if (util::PathExists(path)) return absl::OkStatus();
  const std::string tmp = path + ".switchyard-tmp";
  const int fd = ::open(tmp.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
  if (fd < 0) return util::ErrnoStatus(errno, "creating " + path);
  bool ok = ::fchown(fd, owner.st_uid, owner.st_gid) == 0;
  ok = ok && ::write(fd, content.data(), content.size()) == static_cast<ssize_t>(content.size());
  ok = ok && ::fsync(fd) == 0;
  const int err = errno;
  ::close(fd);
  if (!ok || ::rename(tmp.c_str(), path.c_str()) != 0) {
    const int e = ok ? errno : err;
    ::unlink(tmp.c_str());
    return util::ErrnoStatus(e, "creating " + path);
  }
  return SyncDirectory(path.substr(0, path.rfind('/')));
}

// Removes `path` durably; OK when it does not exist.
absl::Status RemoveFile(const std::string& path) {
  if (::unlink(path.c_str()) != 0) {
    if (errno == ENOENT) return absl::OkStatus();
    return util::ErrnoStatus(errno, "removing " + path);
  }
  return SyncDirectory(path.substr(0, path.rfind('/')));
}

}  // namespace

absl::Status ConfigureStandbyDirectory(const std::string& data_directory,
                                       const std::string& primary_conninfo,
                                       const std::string& slot_name) {
  SY_ASSIGN_OR_RETURN(const struct stat owner, ClusterOwner(data_directory));
  // First: once standby.signal exists the directory counts as configured and is started.
  SY_RETURN_IF_ERROR(DropLocalSlots(data_directory));
  SY_RETURN_IF_ERROR(SetReplicationSettings(data_directory, owner, primary_conninfo, slot_name));
  SY_RETURN_IF_ERROR(CreateOwnedFile(data_directory + "/standby.signal", owner));
  // A leftover recovery.signal would be outranked by standby.signal; gone, it cannot act
  // once standby.signal is removed (pkg/observe/README.md #31).
  SY_RETURN_IF_ERROR(RemoveFile(data_directory + "/recovery.signal"));
  return RemoveFile(data_directory + "/" + host::kFenceMarkerFile);
}

absl::Status FenceDirectory(const std::string& data_directory, const std::string& note) {
  SY_ASSIGN_OR_RETURN(const struct stat owner, ClusterOwner(data_directory));
  SY_RETURN_IF_ERROR(SetReplicationSettings(data_directory, owner, "", ""));
  SY_RETURN_IF_ERROR(CreateOwnedFile(data_directory + "/" + host::kFenceMarkerFile, owner, note));
  return CreateOwnedFile(data_directory + "/standby.signal", owner);
}

absl::Status RecordPromotionRequest(const std::string& data_directory, const std::string& line) {
  SY_ASSIGN_OR_RETURN(const struct stat owner, ClusterOwner(data_directory));
  const std::string path = data_directory + "/" + host::kFenceMarkerFile;
  absl::StatusOr<std::string> marker = util::ReadFile(path);
  if (absl::IsNotFound(marker.status())) {
    return absl::FailedPreconditionError(data_directory + " is not fenced (no " +
                                         host::kFenceMarkerFile + ")");
  }
  if (!marker.ok()) return marker.status();
  if (absl::StrContains(*marker, host::kFencePromotionLine)) return absl::OkStatus();
  return WriteOwnedFileAtomically(path, *marker + line + "\n", 0600, owner.st_uid, owner.st_gid);
}

absl::Status LiftFenceDirectory(const std::string& data_directory) {
  // A leftover recovery.signal counts like standby.signal (pkg/observe/README.md #31): left,
  // the server would start an archive recovery and promote itself onto a new timeline.
  SY_RETURN_IF_ERROR(RemoveFile(data_directory + "/recovery.signal"));
  SY_RETURN_IF_ERROR(RemoveFile(data_directory + "/standby.signal"));
  return RemoveFile(data_directory + "/" + host::kFenceMarkerFile);
}

absl::Status RemovePromoteRequest(const std::string& data_directory) {
  return RemoveFile(data_directory + "/" + host::kPromoteSignalFile);
}

}  // namespace sy::host
