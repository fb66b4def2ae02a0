// The simple character backends behind -serial: stdio, null and file:PATH.
#pragma once

#include <memory>
#include <string>

#include "base/char_backend.h"
#include "base/result.h"
#include "base/run_control.h"

namespace corvid {

// Parses a -serial value ("stdio", "null", "none", "file:PATH"). "none" gives nullptr.
Result<std::unique_ptr<CharBackend>> make_serial_backend(const std::string& spec, RunControl& rc);

// Puts a terminal stdin into raw mode while the stdio backend lives (restored at exit).
void stdio_set_raw(bool raw);

}  // namespace corvid
