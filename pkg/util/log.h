// The one logging facade: key=value lines through spdlog, e.g.
//   2026-11-27T03:00:00.123Z info  step resource=default/shop step=promote outcome=ok ms=41
#pragma once

#include <initializer_list>
#include <string>
#include <string_view>
#include <utility>

namespace sy::log {

enum class Level { kDebug, kInfo, kWarn, kError };

using Field = std::pair<std::string_view, std::string>;

// Thread-safe. `msg` is a short event name; fields are rendered key=value, values quoted
// when they contain spaces or quotes.
void Log(Level level, std::string_view msg, std::initializer_list<Field> fields = {});
inline void Info(std::string_view msg, std::initializer_list<Field> f = {}) {
  Log(Level::kInfo, msg, f);
}
inline void Warn(std::string_view msg, std::initializer_list<Field> f = {}) {
  Log(Level::kWarn, msg, f);
}
inline void Error(std::string_view msg, std::initializer_list<Field> f = {}) {
  Log(Level::kError, msg, f);
}
inline void Debug(std::string_view msg, std::initializer_list<Field> f = {}) {
  Log(Level::kDebug, msg, f);
}

// Sets the minimum level ("debug", "info", "warn", "error"); false when unknown.
bool SetLevel(std::string_view level);

// Renders one key=value field the way Log does (exposed for tests).
std::string FormatField(std::string_view key, std::string_view value);

}  // namespace sy::log
