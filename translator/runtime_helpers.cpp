// The C-ABI runtime entry points of translator/runtime_helpers.h.
#include "translator/runtime_helpers.h"

#include "translator/engine.h"

namespace corvid {

extern "C" {

uint64_t corvid_slow_load(CpuCommon* cpu, uint64_t va, uint64_t mem_flags, uint64_t pc) {
    return cpu->engine->slow_load(cpu, va, uint32_t(mem_flags), pc);
}

void corvid_slow_store(CpuCommon* cpu, uint64_t va, uint64_t value, uint64_t mem_flags, uint64_t pc) {
    cpu->engine->slow_store(cpu, va, value, uint32_t(mem_flags), pc);
}

void corvid_raise(CpuCommon* cpu, uint64_t cause, uint64_t detail) {
    cpu->engine->raise(cpu, uint32_t(cause), detail);
}

void corvid_exit_to_loop(CpuCommon* cpu) {
    cpu->engine->exit_to_loop(cpu);
}

}  // extern "C"

}  // namespace corvid
