// Fuzz target: the GitOps manifest tree (source::ManifestSource::Sync over a real directory).
// An input is a script, one operation per line, on a fresh tree beside a directory "outside"
// that holds a secret token and a valid manifest of its own:
//   write PATH CONTENT [CUT]   CONTENT: blue green cart dup empty comment garbage; CUT: keep
//                              only the first CUT bytes (a partial write)
//   link PATH TARGET           a symbolic link (TARGET may be relative, "..", "../outside/token")
//   rename FROM TO | rm PATH | mkdir PATH | sync
// PATH is relative to the tree, without "..", and never through a link that leaves the tree
// (the script edits the tree as a commit would; it does not move files in from outside).
// A script that names the secret itself is skipped. Every "sync" (and the end) runs Sync().
// Invariants: never crashes or hangs; nothing outside the tree is ever applied and the
// secret appears in no message, mark or object; no sync moves a generation by more than one
// (a resource defined twice is not applied twice); a resource stops being managed only when
// its file is gone or no longer declares it (an emptied, truncated or unreadable file keeps
// it).
#include <stdlib.h>
#include <unistd.h>

#include <cstddef>
#include <cstdint>
#include <filesystem>
#include <fstream>
#include <map>
#include <sstream>
#include <string>
#include <string_view>
#include <vector>

#include "pkg/codec/codec.h"
#include "pkg/source/manifest_source.h"
#include "pkg/util/clock.h"
#include "tests/fuzz/fuzz_check.h"

namespace {

namespace fs = std::filesystem;
using sy::fuzz::Check;

constexpr char kSecret[] = "s3cr3t-0b8d5e1f-token";

// A manifest of `name` with activeColor `color`.
std::string Manifest(const std::string& name, const std::string& color) {
  return "apiVersion: switchyard.dev/v1alpha1\nkind: DeploymentColor\nmetadata:\n  name: " + name +
         "\nspec:\n  activeColor: " + color +
         "\n  colors:\n    blue:\n      upstreams: [\"127.0.0.1:18081\"]\n"
         "      database: {port: 15433, dataDirectory: /tmp/pg/blue}\n"
         "    green:\n      upstreams: [\"127.0.0.1:18082\"]\n"
         "      database: {port: 15434, dataDirectory: /tmp/pg/green}\n"
         "  database:\n    maxLagBytes: 16777216\n";
}

std::string Content(const std::string& id) {
  if (id == "blue") return Manifest("shop", "blue");
  if (id == "green") return Manifest("shop", "green");
  if (id == "cart") return Manifest("cart", "blue");
  if (id == "dup") return Manifest("shop", "blue") + "---\n" + Manifest("shop", "green");
  if (id == "empty") return "";
  if (id == "comment") return "# nothing here\n";
  return "{not: [yaml\n";
}

// Whether `path` resolves (through any links that exist) to the tree or below it.
bool ResolvesInside(const std::string& root, const fs::path& path) {
  std::error_code ec;
  const std::string real = fs::weakly_canonical(path, ec).string();
  const std::string real_root = fs::canonical(root, ec).string();
  return !ec && (real == real_root || real.rfind(real_root + "/", 0) == 0);
}

// A path inside the tree, or "" when `p` would leave it. The script edits the tree only, as
// a commit does: an operation whose directory is a link leading out of the tree (e.g. a
// rename of "d/token" after "link d ../outside") would carry the secret into the tree.
std::string Inside(const std::string& root, const std::string& p) {
  if (p.empty() || p[0] == '/' || p.find("..") != std::string::npos || p.size() > 40) return "";
  const std::string path = root + "/" + p;
  return ResolvesInside(root, fs::path(path).parent_path()) ? path : "";
}

// Whether `file` (as a store source names it) still declares `key` in a way Sync() must
// honour: present (a link that leads outside the tree counts: refused, not gone), and either
// unusable as a whole (then its resources stay) or holding a document named like the key.
bool StillDeclares(const std::string& root, const std::string& file, const std::string& key) {
  std::error_code ec;
  const fs::path real = fs::canonical(file, ec);
  if (ec) return false;  // gone, or a dangling link
  const std::string r = real.string();
  const std::string real_root = fs::canonical(root, ec).string();
  if (r.rfind(real_root + "/", 0) != 0) return true;
  if (!fs::is_regular_file(real, ec)) return false;
  std::ifstream in(real, std::ios::binary);
  std::stringstream buf;
  buf << in.rdbuf();
  const std::string content = buf.str();
  if (content.find_first_not_of(" \n\t\r") == std::string::npos) return true;  // emptied
  if (content.back() != '\n') return true;                                     // truncated
  const auto docs = sy::codec::DecodeYamlStream(content, file);
  if (docs.empty()) return true;
  for (const auto& d : docs) {
    if (d.object.metadata.name.empty() && !d.ok()) return true;  // unparsable: unknown
    if (d.object.Key() == key) return true;
  }
  return false;
}

struct Tree {
  Tree() {
    char tmpl[] = "/tmp/fuzz_tree.XXXXXX";
    dir = ::mkdtemp(tmpl) ? tmpl : "";
    root = dir + "/tree";
    fs::create_directories(root);
    fs::create_directories(dir + "/outside");
    std::ofstream(dir + "/outside/token") << kSecret << "\n";
    std::ofstream(dir + "/outside/outside.yaml") << Manifest("outside", "green");
  }
  ~Tree() {
    std::error_code ec;
    fs::remove_all(dir, ec);
  }
  std::string dir;
  std::string root;
};

void SyncAndCheck(const std::string& root, sy::source::ManifestSource& source,
                  sy::source::Store& store) {
  std::map<std::string, sy::api::DeploymentColor> before;
  for (const auto& dc : store.List()) before[dc.Key()] = dc;
  const absl::Status s = source.Sync();
  Check(std::string(s.message()).find(kSecret) == std::string::npos,
        "the secret in Sync()'s message");
  std::map<std::string, sy::api::DeploymentColor> after;
  for (const auto& dc : store.List()) {
    after[dc.Key()] = dc;
    Check(dc.metadata.name != "outside", "a manifest outside the tree was applied");
    Check(sy::codec::EncodeJson(dc).find(kSecret) == std::string::npos, "the secret in an object");
    Check(store.InvalidReason(dc.Key()).value_or("").find(kSecret) == std::string::npos,
          "the secret in a mark");
    auto it = before.find(dc.Key());
    if (it != before.end()) {
      Check(dc.metadata.generation <= it->second.metadata.generation + 1,
            "a generation moved by more than one in one sync");
      Check(dc.metadata.uid == it->second.metadata.uid, "a resource was re-created");
    }
  }
  for (const auto& [key, dc] : before) {
    if (after.count(key) > 0) continue;
    const std::string file = sy::source::SourceFile(dc.status.source);
    Check(!StillDeclares(root, file, key),
          "a resource stopped being managed while its file holds it");
  }
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  const std::string script(reinterpret_cast<const char*>(data), std::min<size_t>(size, 4096));
  // The secret may reach the tree only from the outside file; a script naming it (a path
  // "s3cr3t-...yaml") would put it into messages by itself.
  if (script.find(kSecret) != std::string::npos) return 0;
  Tree t;
  if (t.dir.empty()) return 0;
  const sy::util::Clock& clock = sy::util::RealClock::Get();
  sy::source::Store store("", clock);
  sy::source::ManifestSourceOptions options;
  options.removal_settle = std::chrono::milliseconds(0);
  sy::source::ManifestSource source(t.root, store, options);
  std::istringstream lines(script);
  std::string line;
  for (int ops = 0; ops < 64 && std::getline(lines, line); ++ops) {
    std::istringstream words(line);
    std::string op, a, b, c;
    words >> op >> a >> b >> c;
    std::error_code ec;
    if (op == "sync") {
      SyncAndCheck(t.root, source, store);
    } else if (op == "write" && !Inside(t.root, a).empty() &&
               ResolvesInside(t.root, Inside(t.root, a))) {  // not through a link either
      std::string content = Content(b);
      if (!c.empty())
        content.resize(std::min<size_t>(content.size(), std::strtoul(c.c_str(), nullptr, 10)));
      fs::create_directories(fs::path(Inside(t.root, a)).parent_path(), ec);
      std::ofstream(Inside(t.root, a), std::ios::binary | std::ios::trunc) << content;
    } else if (op == "link" && !Inside(t.root, a).empty() && !b.empty() && b.size() < 64) {
      fs::create_directories(fs::path(Inside(t.root, a)).parent_path(), ec);
      fs::create_symlink(b, Inside(t.root, a), ec);
    } else if (op == "rename" && !Inside(t.root, a).empty() && !Inside(t.root, b).empty()) {
      fs::rename(Inside(t.root, a), Inside(t.root, b), ec);
    } else if (op == "rm" && !Inside(t.root, a).empty()) {
      fs::remove_all(Inside(t.root, a), ec);
    } else if (op == "mkdir" && !Inside(t.root, a).empty()) {
      fs::create_directories(Inside(t.root, a), ec);
    }
  }
  SyncAndCheck(t.root, source, store);
  return 0;
}
