// PostgreSQL WAL positions ("16/B374D848") as 64-bit integers.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

namespace sy::model {

using Lsn = uint64_t;

// Parses "X/Y" (hex halves). nullopt when malformed.
std::optional<Lsn> ParseLsn(std::string_view s);
std::string FormatLsn(Lsn lsn);

}  // namespace sy::model
