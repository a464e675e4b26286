#include "pkg/host/pg_datadir.h"

#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <filesystem>
#include <map>
#include <mutex>

#include "absl/strings/ascii.h"
#include "absl/strings/match.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "pkg/host/pg_auto_conf.h"
#include "pkg/host/pg_controldata.h"
#include "pkg/host/process.h"
#include "pkg/util/files.h"
#include "pkg/util/status_macros.h"

namespace sy::host {

bool HoldsCluster(const std::string& data_directory) {
  return util::PathExists(data_directory + "/PG_VERSION") &&
         util::PathExists(data_directory + "/global/pg_control");
}

absl::StatusOr<DirectoryContent> InspectDataDirectory(const std::string& data_directory) {
  SY_ASSIGN_OR_RETURN(const bool version, util::Exists(data_directory + "/PG_VERSION"));
  SY_ASSIGN_OR_RETURN(const bool control, util::Exists(data_directory + "/global/pg_control"));
  if (version && control) return DirectoryContent::kCluster;
  std::error_code ec;
  std::filesystem::directory_iterator it(data_directory, ec);
  if (ec == std::errc::no_such_file_or_directory) return DirectoryContent::kAbsent;
  if (ec) return util::ErrnoStatus(ec.value(), "listing " + data_directory);
  return it == std::filesystem::directory_iterator() ? DirectoryContent::kAbsent
                                                     : DirectoryContent::kOther;
}

std::optional<int> ReadPostmasterPid(const std::string& data_directory) {
  absl::StatusOr<std::string> content = util::ReadFile(data_directory + "/postmaster.pid");
  if (!content.ok()) return std::nullopt;
  const std::string first = content->substr(0, content->find('\n'));
  int pid = 0;
  // A standalone backend writes its pid negated.
  if (!absl::SimpleAtoi(absl::StripAsciiWhitespace(first), &pid) || pid == 0) {
    return std::nullopt;
  }
  return pid < 0 ? -pid : pid;
}

bool PostmasterAlive(const std::string& data_directory) {
  const std::optional<int> pid = ReadPostmasterPid(data_directory);
  if (!pid || !ProcessAlive(*pid)) return false;
  // The pid of a server that crashed may since belong to anything. Every PostgreSQL process
  // works in its data directory; where we may not see a process's cwd (not root), its
  // command line must at least be the server's.
  std::error_code ec;
  const std::filesystem::path cwd =
      std::filesystem::read_symlink("/proc/" + std::to_string(*pid) + "/cwd", ec);
  if (!ec) return std::filesystem::equivalent(cwd, data_directory, ec) && !ec;
  const std::optional<std::string> cmdline = ProcessCommandLine(*pid);
  return !cmdline.has_value() || absl::StrContains(*cmdline, "postgres") ||
         absl::StrContains(*cmdline, "postmaster");
}

absl::StatusOr<model::StartupConfig> ReadStartupConfig(const std::string& data_directory) {
  model::StartupConfig c;
  SY_ASSIGN_OR_RETURN(c.standby_signal, util::Exists(data_directory + "/standby.signal"));
  SY_ASSIGN_OR_RETURN(c.recovery_signal, util::Exists(data_directory + "/recovery.signal"));
  absl::StatusOr<std::string> marker = util::ReadFile(data_directory + "/" + kFenceMarkerFile);
  if (!marker.ok() && !absl::IsNotFound(marker.status())) return marker.status();
  c.fenced = marker.ok();
  c.fence_promotion_requested = marker.ok() && absl::StrContains(*marker, kFencePromotionLine);
  SY_ASSIGN_OR_RETURN(c.promote_requested, util::Exists(data_directory + "/" + kPromoteSignalFile));
  absl::StatusOr<std::string> conf = util::ReadFile(data_directory + "/postgresql.auto.conf");
  if (absl::IsNotFound(conf.status())) return c;
  if (!conf.ok()) return conf.status();
  c.primary_conninfo = host::ConfigValue(*conf, "primary_conninfo").value_or("");
  c.primary_slot_name = host::ConfigValue(*conf, "primary_slot_name").value_or("");
  c.primary_host = host::ConninfoHost(c.primary_conninfo);
  c.primary_port = host::ConninfoPort(c.primary_conninfo);
  return c;
}

absl::StatusOr<WalTimelines> ReadWalTimelines(const std::string& data_directory) {
  WalTimelines out;
  std::error_code ec;
  const std::string pg_wal = data_directory + "/pg_wal";
  std::filesystem::directory_iterator it(pg_wal, ec);
  if (ec) return util::ErrnoStatus(ec.value(), "listing " + pg_wal);
  for (const auto& e : it) {
    const std::string name = e.path().filename().string();
    // Segments are 24 hex digits, history files "<8 hex>.history": both start with the TLI.
    const bool segment = name.size() == 24;
    const bool history = name.size() == 16 && absl::EndsWith(name, ".history");
    uint32_t tli = 0;
    if ((segment || history) && absl::SimpleHexAtoi(absl::string_view(name.data(), 8), &tli)) {
      out.any = std::max(out.any, tli);
      if (segment) out.segments = std::max(out.segments, tli);
    }
  }
  return out;
}

absl::StatusOr<int> CountArchiveReady(const std::string& data_directory) {
  const std::string status_dir = data_directory + "/pg_wal/archive_status";
  std::error_code ec;
  std::filesystem::directory_iterator it(status_dir, ec);
  if (ec == std::errc::no_such_file_or_directory) return 0;
  if (ec) return util::ErrnoStatus(ec.value(), "listing " + status_dir);
  int ready = 0;
  for (const auto& e : it) {
    if (absl::EndsWith(e.path().filename().string(), ".ready")) ++ready;
  }
  return ready;
}

std::vector<std::string> ReadLocalSlots(const std::string& data_directory) {
  std::vector<std::string> out;
  std::error_code ec;
  for (const auto& e : std::filesystem::directory_iterator(data_directory + "/pg_replslot", ec)) {
    const std::string name = e.path().filename().string();
    std::error_code dir_ec;
    if (e.is_directory(dir_ec) && !absl::EndsWith(name, ".tmp") && name[0] != '.') {
      out.push_back(name);
    }
  }
  std::sort(out.begin(), out.end());
  return out;
}

absl::StatusOr<std::vector<model::TimelineFork>> ReadTimelineHistory(
    const std::string& data_directory, uint32_t tli) {
  if (tli <= 1) return std::vector<model::TimelineFork>{};
  const std::string path = data_directory + "/pg_wal/" + TimelineHistoryFileName(tli);
  absl::StatusOr<std::string> content = util::ReadFile(path);
  if (absl::IsNotFound(content.status())) return std::vector<model::TimelineFork>{};
  if (!content.ok()) return content.status();
  absl::StatusOr<std::vector<model::TimelineFork>> history = ParseTimelineHistory(*content);
  if (!history.ok()) return util::Annotate(history.status(), path);
  return history;
}

absl::Status CheckControlDataProgram(const std::string& bin_directory) {
  const std::string program = bin_directory + "/pg_controldata";
  if (::access(program.c_str(), X_OK) != 0) {
    return absl::FailedPreconditionError(
        absl::StrCat(program,
                     " is missing or not executable: set spec.database.binDirectory to the "
                     "directory of the PostgreSQL server binaries"));
  }
  return absl::OkStatus();
}

namespace {

// Runs `program` with `args` under LC_ALL=C (through env, so that the labels are English
// whatever the locale: they are translated); kInternal with its output when it fails.
absl::StatusOr<std::string> RunInC(util::CommandRunner& runner, const std::string& program,
                                   std::vector<std::string> args) {
  util::Command cmd;
  cmd.argv = {"/usr/bin/env", "LC_ALL=C", program};
  cmd.argv.insert(cmd.argv.end(), args.begin(), args.end());
  cmd.timeout = std::chrono::seconds(10);
  SY_ASSIGN_OR_RETURN(const util::CommandResult r, runner.Run(cmd));
  if (r.exit_code != 0) {
    return absl::InternalError(absl::StrCat(util::Render(cmd.argv), " exited with ", r.exit_code,
                                            ": ", r.output.substr(0, 500)));
  }
  return r.output;
}

// The major version of the binaries `program` belongs to, from `program --version`: run once
// per program file (path, inode and modification time, so an upgrade in place is seen) and
// kept; failures are not kept.
absl::StatusOr<std::string> BinariesMajor(util::CommandRunner& runner, const std::string& program) {
  struct stat st {};
  if (::stat(program.c_str(), &st) != 0) return util::ErrnoStatus(errno, program);
  const std::string key = absl::StrCat(program, "@", st.st_dev, ":", st.st_ino, ":",
                                       st.st_mtim.tv_sec, ".", st.st_mtim.tv_nsec);
  static std::mutex mu;
  static std::map<std::string, std::string>* majors = new std::map<std::string, std::string>;
  std::lock_guard<std::mutex> l(mu);  // held while it runs: once per program, even at startup
  if (auto it = majors->find(key); it != majors->end()) return it->second;
  SY_ASSIGN_OR_RETURN(const std::string out, RunInC(runner, program, {"--version"}));
  absl::StatusOr<std::string> major = ParseBinariesMajor(out);
  if (!major.ok()) return util::Annotate(major.status(), program);
  majors->emplace(key, *major);
  return major;
}

}  // namespace

absl::StatusOr<model::ControlData> RunControlData(util::CommandRunner& runner,
                                                  const std::string& bin_directory,
                                                  const std::string& data_directory) {
  const std::string program = bin_directory + "/pg_controldata";
  SY_RETURN_IF_ERROR(CheckControlDataProgram(bin_directory));
  SY_ASSIGN_OR_RETURN(const std::string major, BinariesMajor(runner, program));
  // Safety rule: binaries of another major version misread pg_control (its layout changes
  // between majors) and must not act on the directory either.
  const std::string version_file = data_directory + "/PG_VERSION";
  if (absl::StatusOr<std::string> v = util::ReadFile(version_file); v.ok()) {
    const std::string dir_major(absl::StripAsciiWhitespace(*v));
    if (dir_major != major) {
      return absl::FailedPreconditionError(absl::StrCat(
          data_directory, " is a PostgreSQL ", dir_major, " data directory (PG_VERSION) but ",
          bin_directory, " holds PostgreSQL ", major,
          " binaries: set spec.database.binDirectory to the binaries of PostgreSQL ", dir_major));
    }
  } else if (!absl::IsNotFound(v.status())) {
    return v.status();
  }
  absl::StatusOr<std::string> out = RunInC(runner, program, {"-D", data_directory});
  if (!out.ok()) return out.status();
  absl::StatusOr<model::ControlData> control = ParseControlData(*out);
  if (!control.ok()) return util::Annotate(control.status(), program + " -D " + data_directory);
  absl::StatusOr<uint32_t> version = ParseControlVersion(*out);
  if (!version.ok()) return util::Annotate(version.status(), program);
  if (const uint32_t want = ControlVersionOfMajor(major); want != 0 && *version != want) {
    return absl::FailedPreconditionError(
        absl::StrCat("pg_control of ", data_directory, " has version ", *version, " but ", program,
                     " (PostgreSQL ", major, ") reads version ", want,
                     ": set spec.database.binDirectory to the binaries that wrote it"));
  }
  return control;
}

}  // namespace sy::host
