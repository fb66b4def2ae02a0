// Accelerators: what runs a machine's vCPU (tcg translator, kvm, qtest with no CPU).
#pragma once

#include "base/result.h"
#include "base/run_control.h"
#include "hw/machine.h"
#include "object/type_registry.h"

namespace corvid {

class Accelerator : public Object {
public:
    ~Accelerator() override = default;

    // Prepares the accelerator for this machine (open devices, create the vCPU...).
    // Errors are reported by the caller as "-accel NAME: <error>" unless they already carry text.
    virtual Status init(Machine& machine) = 0;

    // Runs until shutdown or termination; returns the process exit status.
    // `start_stopped` (-S) keeps the vCPU stopped (idle) until terminated.
    virtual int run(Machine& machine, RunControl& rc, bool start_stopped) = 0;

    // Text for the `info registers`-style dump (empty when there is no CPU).
    virtual std::string dump_cpu() const { return {}; }
};

// Registers tcg-accel (insecure), kvm-accel (secure) and qtest-accel (no statement).
void register_accel_types(TypeRegistry& registry, Arch arch);

}  // namespace corvid
