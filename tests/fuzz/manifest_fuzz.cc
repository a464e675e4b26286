// Fuzz target: the manifest decoder and validation (codec::DecodeYamlStream, DecodeManifests).
// Invariants: never crashes, hangs or throws; every problem names itself; a document decoded
// without problems encodes to YAML and JSON that decode back to the same object.
#include <cstddef>
#include <cstdint>
#include <string_view>

#include "pkg/codec/codec.h"
#include "tests/fuzz/fuzz_check.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  using sy::fuzz::Check;
  using sy::fuzz::CheckSame;
  const std::string_view content(reinterpret_cast<const char*>(data), size);
  const auto docs = sy::codec::DecodeYamlStream(content, "fuzz.yaml");
  bool all_ok = !docs.empty();
  for (const auto& doc : docs) {
    all_ok = all_ok && doc.ok();
    for (const auto& p : doc.problems) {
      Check(!p.message.empty(), "a problem without a message");
      Check(p.ToString().rfind("fuzz.yaml", 0) == 0, "a problem that does not name the file");
    }
    if (!doc.ok()) continue;
    const std::string yaml = sy::codec::EncodeYaml(doc.object);
    const auto again = sy::codec::DecodeYamlStream(yaml, "again.yaml");
    Check(again.size() == 1 && again[0].ok(), "EncodeYaml's output does not decode");
    CheckSame(again[0].object, doc.object, "YAML round trip changed the object");
    const auto json = sy::codec::DecodeJson(sy::codec::EncodeJson(doc.object), "again.json");
    Check(json.ok(), "EncodeJson's output does not decode");
    CheckSame(*json, doc.object, "JSON round trip changed the object");
  }
  // DecodeManifests agrees: it succeeds exactly when every document is valid and the keys
  // are unique (so a success implies all_ok).
  const auto manifests = sy::codec::DecodeManifests(content, "fuzz.yaml");
  Check(!manifests.ok() || all_ok, "DecodeManifests accepted a document with problems");
  Check(manifests.ok() || !manifests.status().message().empty(), "an error without a message");
  return 0;
}
