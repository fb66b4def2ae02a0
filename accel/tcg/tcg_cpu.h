// A vCPU run by the translator: one per guest architecture, behind one small interface.
#pragma once

#include <memory>
#include <string>

#include "base/result.h"
#include "hw/machine.h"

namespace corvid {

struct TcgOptions {
    bool interp = false;
    uint64_t tb_size_mib = 32;
    bool count_insns = false;
    bool stats = false;  // print translator statistics at exit
    bool return_hints = false;  // JIT return-stack hints (-accel tcg,return-hints=on|off), see EXITS.md
};

class TcgCpu {
public:
    enum class Event { kContinue, kIdle, kFatal };  // kFatal: an internal error was printed
    virtual ~TcgCpu() = default;
    virtual Event run() = 0;          // until a halt or an exit request
    virtual void kick() = 0;          // async-signal-safe: leave generated code soon
    virtual bool has_work() const = 0;  // an interrupt is pending
    virtual void reset() = 0;         // architectural reset to the machine's entry point
    virtual std::string dump() const = 0;
    virtual std::string stats_report() const = 0;
};

Result<std::unique_ptr<TcgCpu>> make_tcg_cpu(Machine& machine, const TcgOptions& options);

}  // namespace corvid
