// ManifestSource::Sync(): the manifest tree to the store. The watch loop is in
// manifest_watch.cc.
#include "pkg/source/manifest_source.h"

#include <unistd.h>

#include <algorithm>
#include <cstring>

#include "absl/strings/ascii.h"
#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "pkg/api/validation.h"
#include "pkg/codec/codec.h"
#include "pkg/util/log.h"

namespace sy::source {
namespace {

constexpr char kKept[] = "the last valid spec stays in force";
// A file being written, or changing while read, is read again this long after.
constexpr std::chrono::milliseconds kRetryDeferred{250};
constexpr char kOlderThan[] = "an older commit than ";

// One document of the tree, where it is.
struct Place {
  std::string file;
  int line = 0;
  const codec::DecodedDocument* doc = nullptr;
};

std::string Where(const Place& p) { return absl::StrCat(p.file, ":", p.line); }

}  // namespace

// What one file of the tree gave.
struct ManifestSource::FileResult {
  enum class State { kDocuments, kDeferred, kProblem };
  State state = State::kDocuments;
  std::string problem;
  std::vector<codec::DecodedDocument> docs;
};

ManifestSource::ManifestSource(std::string path, source::Store& store,
                               ManifestSourceOptions options)
    : path_(std::move(path)), store_(store), options_(options) {
  if (!path_.empty() && path_[0] != '/') {
    char cwd[4096];
    if (::getcwd(cwd, sizeof cwd) != nullptr) path_ = std::string(cwd) + "/" + path_;
  }
  while (path_.size() > 1 && path_.back() == '/') path_.pop_back();
}

std::chrono::steady_clock::time_point ManifestSource::Now() const {
  return options_.clock != nullptr ? options_.clock->MonotonicNow()
                                   : util::RealClock::Get().MonotonicNow();
}

void ManifestSource::SetWriting(const std::string& file, bool writing) {
  if (writing) {
    writing_.insert(file);
  } else {
    writing_.erase(file);
  }
}

ManifestSource::FileResult ManifestSource::Read(const ManifestFile& f) const {
  FileResult r;
  if (writing_.count(f.path) > 0) {
    r.state = FileResult::State::kDeferred;
    return r;
  }
  auto content = ReadManifest(f, kMaxManifestBytes);
  if (absl::IsAborted(content.status())) {
    r.state = FileResult::State::kDeferred;  // written now: the next sync reads it whole
    return r;
  }
  r.state = FileResult::State::kProblem;
  if (!content.ok()) {
    r.problem = std::string(content.status().message());
    return r;
  }
  if (absl::StripAsciiWhitespace(*content).empty()) {
    r.problem = f.path + ": the file is empty (remove it to stop managing its resources)";
    return r;
  }
  if (!absl::EndsWith(f.path, ".json") && content->back() != '\n') {
    // A YAML file cut anywhere but at a line's end lacks its final newline; what is left
    // may still decode, with defaults in place of what was cut.
    r.problem = f.path +
                ": the file does not end with a newline: it may be incomplete "
                "(being written, or truncated)";
    return r;
  }
  r.docs = codec::DecodeYamlStream(*content, f.path);
  if (r.docs.empty()) {
    r.problem = f.path +
                ": the file holds no document (remove it to stop managing its "
                "resources)";
    return r;
  }
  r.state = FileResult::State::kDocuments;
  return r;
}

std::string ManifestSource::CommitNote(const std::string& commit) {
  if (commit.empty()) return "";
  if (commit == back_commit_) return back_note_;
  if (commit != last_commit_ && !last_commit_.empty() && options_.history != nullptr &&
      options_.history->IsAncestor(GitDirOf(path_), commit, last_commit_).value_or(false)) {
    // Said in status.source until the checkout moves on: a rollback by git is applied, but
    // nobody should take it for the newest commit.
    back_commit_ = commit;
    back_note_ = absl::StrCat(kOlderThan, last_commit_, " applied before");
    log::Warn("manifest", {{"path", path_},
                           {"checkout", "went back to an older commit"},
                           {"commit", commit},
                           {"before", last_commit_}});
    return back_note_;
  }
  last_commit_ = commit;
  back_commit_.clear();
  back_note_.clear();
  return "";
}

absl::Status ManifestSource::KeepEverything(const std::string& why) {
  for (const auto& [key, file] : managed_) {
    if (store_.Get(key)) (void)store_.MarkInvalid(key, file, why);
  }
  if (why != last_error_) log::Error("manifest", {{"path", path_}, {"problems", why}});
  last_error_ = why;
  return absl::UnavailableError(why);
}

absl::Status ManifestSource::Sync() {
  if (!started_) {
    // What files gave before a restart: removed if their manifest is gone now.
    for (const auto& dc : store_.List()) {
      const std::string file = SourceFile(dc.status.source);
      if (file.empty()) continue;
      managed_[dc.Key()] = file;
      // The newest commit applied: the one shown, or the one it is older than.
      const std::string& source = dc.status.source;
      const size_t older = source.find(kOlderThan);
      const size_t at =
          older != std::string::npos ? older + strlen(kOlderThan) : source.find(" (commit ");
      if (at != std::string::npos) {
        last_commit_ = source.substr(older != std::string::npos ? at : at + 9, 40);
      }
    }
    started_ = true;
  }
  due_.reset();
  auto scan = ScanManifestTree(path_);
  if (!scan.ok()) {
    if (managed_.empty()) return scan.status();
    return KeepEverything(absl::StrCat(scan.status().message(), " (", kKept, " for each of its ",
                                       managed_.size(), " resources)"));
  }
  if (scan->empty && !managed_.empty()) {
    return KeepEverything(absl::StrCat("the manifest directory ", path_,
                                       " is empty, as a checkout not populated yet is (", kKept,
                                       " for each of its ", managed_.size(), " resources)"));
  }
  const std::string commit = GitHeadCommit(path_);
  const std::string note = CommitNote(commit);
  const auto now = Now();

  std::map<std::string, std::string> seen;  // key -> file
  std::vector<std::string> problems(scan->refused.begin(), scan->refused.end());
  // Keeps the resources `file` (or a directory `file`/...) gave last time: which resources it
  // holds now is unknown, and unknown is not "removed". Marked with `why` unless empty.
  auto keep_previous = [&](const std::string& file, bool dir, const std::string& why) {
    for (const auto& [key, from] : managed_) {
      const bool under = dir ? absl::StartsWith(from, file + "/") : from == file;
      if (!under || seen.count(key) > 0) continue;
      seen[key] = from;
      if (!why.empty() && store_.Get(key)) (void)store_.MarkInvalid(key, from, why);
    }
  };

  std::vector<std::pair<std::string, FileResult>> results;
  results.reserve(scan->files.size());               // `places` points into it
  std::map<std::string, std::vector<Place>> places;  // key -> every document declaring it
  std::vector<const Place*> valid;                   // applied once checked as a whole
  for (const ManifestFile& f : scan->files) {
    results.emplace_back(f.path, Read(f));
    FileResult& r = results.back().second;
    for (const codec::DecodedDocument& doc : r.docs) {
      if (!doc.object.metadata.name.empty()) {
        places[doc.object.Key()].push_back({f.path, doc.line, &doc});
      }
    }
  }
  for (auto& [key, at] : places) {
    if (at.size() > 1) {
      std::vector<std::string> where;
      for (const Place& p : at) where.push_back(Where(p));
      problems.push_back(absl::StrCat("resource ", key, " is defined more than once: ",
                                      absl::StrJoin(where, " and "), "; none is applied"));
      auto prev = managed_.find(key);
      seen[key] = prev != managed_.end() ? prev->second : at.front().file;
      if (store_.Get(key)) (void)store_.MarkInvalid(key, seen[key], problems.back());
      continue;
    }
    const Place& p = at.front();
    seen[key] = p.file;
    if (p.doc->ok()) {
      valid.push_back(&p);
      continue;
    }
    std::vector<std::string> lines;
    for (const auto& problem : p.doc->problems) lines.push_back(problem.ToString());
    problems.push_back(absl::StrJoin(lines, "; "));
    if (store_.Get(key)) (void)store_.MarkInvalid(key, p.file, problems.back());
  }
  // Safety rule: no two resources name the same servers; both are refused (each names the
  // other) and a managed one keeps its last valid spec, which shared nothing when applied.
  const std::vector<api::DeploymentColor> stored = store_.List();
  for (const Place* p : valid) {
    const api::DeploymentColor& obj = p->doc->object;
    const std::string key = obj.Key();
    std::vector<std::string> shared;
    for (const Place* other : valid) {
      for (const api::FieldError& e : api::SharedWith(obj, other->doc->object)) {
        shared.push_back(absl::StrCat(e.field, ": ", e.message, " (", other->file, ")"));
      }
    }
    for (const api::DeploymentColor& other : stored) {
      if (!SourceFile(other.status.source).empty()) continue;  // the manifests' own: above
      for (const api::FieldError& e : api::SharedWith(obj, other)) {
        shared.push_back(absl::StrCat(e.field, ": ", e.message, " (through the API)"));
      }
    }
    if (!shared.empty()) {
      problems.push_back(absl::StrCat(p->file, ": ", key, ": ", absl::StrJoin(shared, "; "),
                                      ": two resources must not act on the same servers"));
      if (store_.Get(key)) (void)store_.MarkInvalid(key, p->file, problems.back());
      continue;
    }
    auto applied = store_.Apply(obj, FileSource(p->file, commit, note));
    if (!applied.ok()) {
      // E.g. the state directory is not writable: the stored spec stays in force, and the
      // resource says why (and --once stops) instead of a log line alone.
      problems.emplace_back(applied.status().message());
      if (store_.Get(key)) (void)store_.MarkInvalid(key, p->file, problems.back());
    }
  }
  for (const auto& [file, r] : results) {
    if (r.state == FileResult::State::kDeferred) {
      keep_previous(file, /*dir=*/false, "");
      due_ = now + kRetryDeferred;
      continue;
    }
    std::string unnamed;  // problems of documents whose resource is unknown
    if (r.state == FileResult::State::kProblem) unnamed = r.problem;
    for (const codec::DecodedDocument& doc : r.docs) {
      if (!doc.object.metadata.name.empty()) continue;
      std::vector<std::string> lines;
      for (const auto& problem : doc.problems) lines.push_back(problem.ToString());
      absl::StrAppend(&unnamed, unnamed.empty() ? "" : "; ", absl::StrJoin(lines, "; "));
    }
    if (unnamed.empty()) continue;
    problems.push_back(unnamed);
    keep_previous(file, /*dir=*/false, unnamed);
  }
  for (const auto& [dir, why] : scan->unreadable) {
    problems.push_back(absl::StrCat("directory ", dir, " cannot be read (", why,
                                    "): what it holds is unknown, ", kKept));
    keep_previous(dir, /*dir=*/true, problems.back());
  }
  for (const std::string& refused : scan->refused) {
    keep_previous(refused.substr(0, refused.find(": ")), /*dir=*/false, refused);
  }
  for (const auto& [key, file] : managed_) {
    if (seen.count(key) > 0) {
      missing_since_.erase(key);
      continue;
    }
    const auto first = missing_since_.emplace(key, now).first->second;
    if (now - first < options_.removal_settle) {
      seen[key] = file;  // not yet: a checkout may be re-creating the file
      due_ =
          std::min(due_.value_or(first + options_.removal_settle), first + options_.removal_settle);
      continue;
    }
    missing_since_.erase(key);
    log::Info("unmanaged", {{"resource", key},
                            {"file", file},
                            {"reason", "its manifest is gone; nothing was torn down"}});
    (void)store_.Remove(key);
  }
  managed_ = std::move(seen);
  if (problems.empty()) {
    last_error_.clear();
    return absl::OkStatus();
  }
  const std::string all = absl::StrJoin(problems, "\n");
  if (all != last_error_) log::Error("manifest", {{"path", path_}, {"problems", all}});
  last_error_ = all;
  return absl::InvalidArgumentError(all);
}

absl::StatusOr<std::vector<std::string>> ManifestFiles(const std::string& path) {
  auto scan = ScanManifestTree(path);
  if (!scan.ok()) return scan.status();
  std::vector<std::string> files;
  for (const ManifestFile& f : scan->files) files.push_back(f.path);
  return files;
}

}  // namespace sy::source
