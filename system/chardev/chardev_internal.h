// Helpers shared by the chardev backends (not part of the chardev interface).
#pragma once

#include <memory>

#include "system/chardev/chardev.h"

namespace corvid::chardev_detail {

// Writes everything (waits briefly when the peer is slow; drops output if it is gone).
void write_all(int fd, const uint8_t* data, size_t size);
// "Invalid parameter 'k'" for any key outside `known` (backend and id are always allowed).
Status check_keys(const TypeInfo& type, const OptionList& opts, std::initializer_list<const char*> known);

Result<std::unique_ptr<Chardev>> make_socket_chardev(const TypeInfo& type, const OptionList& opts, RunControl& rc);
Result<std::unique_ptr<Chardev>> make_pipe_chardev(const TypeInfo& type, const OptionList& opts);

}  // namespace corvid::chardev_detail
