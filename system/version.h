// The version string printed by -version and QMP query-version.
#pragma once

namespace corvid {
inline constexpr const char* kCorvidVersion = "0.1.0";
inline constexpr int kCorvidMajor = 0, kCorvidMinor = 1, kCorvidMicro = 0;
}  // namespace corvid
