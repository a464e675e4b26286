#include "pkg/util/log.h"

#include <spdlog/sinks/stdout_sinks.h>
#include <spdlog/spdlog.h>

#include <algorithm>
#include <memory>

namespace sy::log {
namespace {

std::shared_ptr<spdlog::logger> Logger() {
  static std::shared_ptr<spdlog::logger> logger = [] {
    // Not through spdlog's registry: nothing there can clash or throw.
    auto l = std::make_shared<spdlog::logger>("switchyard",
                                              std::make_shared<spdlog::sinks::stderr_sink_mt>());
    l->set_pattern("%Y-%m-%dT%H:%M:%S.%eZ %-5l %v", spdlog::pattern_time_type::utc);
    l->set_level(spdlog::level::info);
    l->flush_on(spdlog::level::info);
    return l;
  }();
  return logger;
}

}  // namespace

std::string FormatField(std::string_view key, std::string_view value) {
  std::string out(key);
  out += '=';
  // Control characters (CR, ESC, NUL, DEL...) are escaped: a value a client or a file chose
  // must not start a forged line or drive the terminal of whoever reads the log.
  auto control = [](char c) { return static_cast<unsigned char>(c) < 0x20 || c == 0x7f; };
  const bool quote = value.empty() || value.find_first_of(" \"=") != std::string_view::npos ||
                     std::any_of(value.begin(), value.end(), control);
  if (!quote) {
    out += value;
    return out;
  }
  out += '"';
  for (char c : value) {
    if (c == '"' || c == '\\') {
      out += '\\';
      out += c;
    } else if (c == '\n') {
      out += "\\n";
    } else if (c == '\r') {
      out += "\\r";
    } else if (c == '\t') {
      out += "\\t";
    } else if (control(c)) {
      static constexpr char kHex[] = "0123456789abcdef";
      out += "\\x";
      out += kHex[(c >> 4) & 0xf];
      out += kHex[c & 0xf];
    } else {
      out += c;
    }
  }
  out += '"';
  return out;
}

void Log(Level level, std::string_view msg, std::initializer_list<Field> fields) {
  std::string line(msg);
  for (const auto& [k, v] : fields) {
    line += ' ';
    line += FormatField(k, v);
  }
  auto l = Logger();
  switch (level) {
    case Level::kDebug:
      l->debug(line);
      break;
    case Level::kInfo:
      l->info(line);
      break;
    case Level::kWarn:
      l->warn(line);
      break;
    case Level::kError:
      l->error(line);
      break;
  }
}

bool SetLevel(std::string_view level) {
  auto lv = spdlog::level::from_str(std::string(level));
  if (lv == spdlog::level::off && level != "off") return false;
  Logger()->set_level(lv);
  return true;
}

}  // namespace sy::log
