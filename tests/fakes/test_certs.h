// Throwaway certificates for tests of mutual TLS: a CA, and certificates it signs with the
// subjectAltName a test chooses (IP:127.0.0.1 for a server, URI:switchyard://... for a
// controller), minted with the `openssl` program run through util::ExecCommandRunner (no
// shell). Header-only.
#pragma once

#include <string>
#include <vector>

#include "absl/status/status.h"
#include "absl/strings/str_cat.h"
#include "pkg/util/command_runner.h"
#include "pkg/util/files.h"

namespace sy::fakes {

inline absl::Status RunOpenssl(std::vector<std::string> args) {
  util::ExecCommandRunner runner;
  util::Command cmd;
  cmd.argv = {"openssl"};
  cmd.argv.insert(cmd.argv.end(), args.begin(), args.end());
  cmd.timeout = std::chrono::milliseconds(20000);
  absl::StatusOr<util::CommandResult> r = runner.Run(cmd);
  if (!r.ok()) return r.status();
  if (r->exit_code != 0) {
    return absl::InternalError(absl::StrCat(util::Render(cmd.argv), ": ", r->output));
  }
  return absl::OkStatus();
}

// <dir>/<name>.crt and <dir>/<name>.key: a self-signed CA.
inline absl::Status MintCa(const std::string& dir, const std::string& name) {
  return RunOpenssl({"req", "-x509", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:prime256v1",
                     "-nodes", "-days", "1", "-subj", "/CN=" + name, "-keyout",
                     dir + "/" + name + ".key", "-out", dir + "/" + name + ".crt"});
}

// <dir>/<name>.crt and <dir>/<name>.key, signed by CA <dir>/<ca>.crt, with subjectAltName
// `san` (e.g. "IP:127.0.0.1", "URI:switchyard://test/controller/1").
inline absl::Status MintCert(const std::string& dir, const std::string& name, const std::string& ca,
                             const std::string& san) {
  const std::string base = dir + "/" + name;
  absl::Status s = RunOpenssl({"req", "-new", "-newkey", "ec", "-pkeyopt",
                               "ec_paramgen_curve:prime256v1", "-nodes", "-subj", "/CN=" + name,
                               "-keyout", base + ".key", "-out", base + ".csr"});
  if (!s.ok()) return s;
  s = util::WriteFileAtomically(base + ".ext", "subjectAltName=" + san + "\n", 0600);
  if (!s.ok()) return s;
  return RunOpenssl({"x509", "-req", "-in", base + ".csr", "-CA", dir + "/" + ca + ".crt", "-CAkey",
                     dir + "/" + ca + ".key", "-CAcreateserial", "-days", "1", "-extfile",
                     base + ".ext", "-out", base + ".crt"});
}

}  // namespace sy::fakes
