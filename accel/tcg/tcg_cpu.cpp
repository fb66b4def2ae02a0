// TcgCpu implementations: the AArch64 vCPU (A64 frontend + engine). x86 under the translator
// is the x86 issue's work.
#include "accel/tcg/tcg_cpu.h"

#include <fmt/format.h>

#include "backend/x64/x64_backend.h"
#include "base/run_control.h"
#include "frontends/a64/a64_frontend.h"
#include "frontends/x86/x86_frontend.h"
#include "translator/engine.h"

namespace corvid {
namespace {

std::unique_ptr<ExecBackend> make_backend(const TcgOptions& o) {
    if (o.interp) return make_interp_backend();
    return make_x64_backend(size_t(o.tb_size_mib) << 20, o.count_insns);
}

EngineOptions engine_options(const TcgOptions& o) {
    EngineOptions e;
    e.backend = o.interp ? EngineOptions::BackendKind::kInterp : EngineOptions::BackendKind::kJit;
    e.code_buffer_bytes = size_t(o.tb_size_mib) << 20;
    e.count_insns = o.count_insns;
    return e;
}

class A64TcgCpu : public TcgCpu {
public:
    A64TcgCpu(Machine& m, const A64CpuModel* model, const TcgOptions& o)
        : machine_(m),
          frontend_(m.a64_platform(), A64CpuOptions{model}),
          engine_(frontend_, m.memory(), engine_options(o), make_backend(o)) {
        reset();
    }

    Event run() override {
        if (machine_.cpu_powered_off()) return Event::kIdle;
        frontend_.take_pending_interrupt(state_);
        RunExit r = engine_.run(&state_.common);
        if (r.kind == RunExit::Kind::kError) {
            fmt::print(stderr, "corvid: internal translator error: {}\n{}", r.error, dump());
            return Event::kFatal;
        }
        if (r.kind == RunExit::Kind::kHalt && r.halt == ir::HaltReason::kWaitForInterrupt) {
            return frontend_.irq_line() ? Event::kContinue : Event::kIdle;
        }
        return Event::kContinue;
    }

    void kick() override { state_.common.exit_request.store(1, std::memory_order_relaxed); }
    bool has_work() const override { return frontend_.irq_line() && !machine_.cpu_powered_off(); }

    void reset() override {
        engine_.flush_all();
        // exit_request is left alone: a kick that arrived during the reset (a monitor command
        // waiting for the vCPU) must still make the next run return.
        state_.common.engine = &engine_;
        frontend_.reset(state_, machine_.entry_point());
        engine_.tlb_flush(&state_.common);
    }

    std::string dump() const override { return frontend_.dump_state(&state_.common); }
    std::string stats_report() const override {
        std::string s = engine_.stats_report();
        return s;
    }

private:
    Machine& machine_;
    A64Frontend frontend_;
    Engine engine_;
    A64State state_;
};

// The x86 vCPU: the board's I/O port space behind in/out, its PIC behind INTR, PVH entry.
class X86TcgCpu : public TcgCpu, public X86Platform {
public:
    X86TcgCpu(Machine& m, const TcgOptions& o)
        : machine_(m), frontend_(this), engine_(frontend_, m.memory(), engine_options(o), make_backend(o)) {
        reset();
    }

    // X86Platform
    uint64_t io_read(uint16_t port, unsigned size) override {
        uint64_t v = ~0ull;
        if (MemoryBus* io = machine_.io()) {
            if (io->read(port, size, &v) != MemResult::kOk) v = ~0ull;
        }
        return size >= 8 ? v : (v & ((1ull << (8 * size)) - 1));
    }
    void io_write(uint16_t port, uint64_t value, unsigned size) override {
        if (MemoryBus* io = machine_.io()) (void)io->write(port, size, value);
    }
    bool intr_pending() const override {
        X86InterruptSource* pic = machine_.x86_interrupts();
        return pic && pic->intr_pending();
    }
    void triple_fault() override {
        RunControl& rc = machine_.options().run_control ? *machine_.options().run_control : RunControl::global();
        rc.request_reset();
        state_.common.exit_request.store(1);
    }

    Event run() override {
        X86InterruptSource* pic = machine_.x86_interrupts();
        if (pic && pic->intr_pending() && X86Frontend::interrupts_enabled(state_)) {
            int vector = pic->acknowledge();
            if (vector >= 0 && frontend_.take_pending_interrupt(state_, vector)) halted_ = false;
        }
        if (halted_) return Event::kIdle;
        RunExit r = engine_.run(&state_.common);
        if (r.kind == RunExit::Kind::kError) {
            fmt::print(stderr, "corvid: internal translator error: {}\n{}", r.error, dump());
            return Event::kFatal;
        }
        if (r.kind == RunExit::Kind::kHalt && r.halt == ir::HaltReason::kWaitForInterrupt) {
            halted_ = true;
            return has_work() ? Event::kContinue : Event::kIdle;
        }
        return Event::kContinue;
    }

    void kick() override { state_.common.exit_request.store(1, std::memory_order_relaxed); }
    bool has_work() const override {
        X86InterruptSource* pic = machine_.x86_interrupts();
        return pic && pic->intr_pending() && X86Frontend::interrupts_enabled(state_);
    }

    void reset() override {
        engine_.flush_all();
        // exit_request is left alone: a kick that arrived during the reset (a monitor command
        // waiting for the vCPU) must still make the next run return.
        state_.common.engine = &engine_;
        X86BootState boot = machine_.x86_boot_state();
        frontend_.reset_pvh(state_, boot.entry, boot.ebx);
        engine_.tlb_flush(&state_.common);
        halted_ = false;
    }

    std::string dump() const override { return frontend_.dump_state(&state_.common); }
    std::string stats_report() const override { return engine_.stats_report(); }

private:
    Machine& machine_;
    X86Frontend frontend_;
    Engine engine_;
    X86State state_;
    bool halted_ = false;
};

}  // namespace

Result<std::unique_ptr<TcgCpu>> make_tcg_cpu(Machine& machine, const TcgOptions& options) {
    if (machine.arch() == Arch::kAArch64) {
        const A64CpuModel* model = find_a64_cpu_model(machine.options().cpu_model);
        if (!model) return make_error(fmt::format("unable to find CPU model '{}'", machine.options().cpu_model));
        return std::unique_ptr<TcgCpu>(std::make_unique<A64TcgCpu>(machine, model, options));
    }
    return std::unique_ptr<TcgCpu>(std::make_unique<X86TcgCpu>(machine, options));
}

}  // namespace corvid
