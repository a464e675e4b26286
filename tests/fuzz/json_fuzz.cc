// Fuzz target: the JSON codec (codec::DecodeJson, the API's body decoder).
// Invariants: never crashes, hangs or throws; an accepted object encodes to JSON and YAML
// that decode back to the same object; a refusal says why.
#include <cstddef>
#include <cstdint>
#include <string_view>

#include "pkg/codec/codec.h"
#include "tests/fuzz/fuzz_check.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  using sy::fuzz::Check;
  using sy::fuzz::CheckSame;
  const std::string_view content(reinterpret_cast<const char*>(data), size);
  const auto dc = sy::codec::DecodeJson(content, "fuzz.json");
  if (!dc.ok()) {
    Check(!dc.status().message().empty(), "a refusal without a message");
    return 0;
  }
  const std::string json = sy::codec::EncodeJson(*dc, 2);
  const auto again = sy::codec::DecodeJson(json, "again.json");
  Check(again.ok(), "EncodeJson's output does not decode");
  CheckSame(*again, *dc, "JSON round trip changed the object");
  const auto docs = sy::codec::DecodeYamlStream(sy::codec::EncodeYaml(*dc), "again.yaml");
  Check(docs.size() == 1 && docs[0].ok(), "EncodeYaml's output does not decode");
  CheckSame(docs[0].object, *dc, "YAML round trip changed the object");
  return 0;
}
