// TcgCpu implementations: the AArch64 and x86 vCPUs, each a frontend + state on one engine.
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
    return make_x64_backend(size_t(o.tb_size_mib) << 20, o.count_insns, o.return_hints);
}

EngineOptions engine_options(const TcgOptions& o) {
    EngineOptions e;
    e.backend = o.interp ? EngineOptions::BackendKind::kInterp : EngineOptions::BackendKind::kJit;
    e.code_buffer_bytes = size_t(o.tb_size_mib) << 20;
    e.count_insns = o.count_insns;
    return e;
}

// What both vCPUs share: the engine, the state, and running / resetting / dumping them.
template <typename FrontendT, typename StateT>
class EngineCpu : public TcgCpu {
public:
    void kick() override { state_.common.exit_request.store(1, std::memory_order_relaxed); }
    std::string dump() const override { return frontend_.dump_state(&state_.common); }
    std::string stats_report() const override { return engine_.stats_report(); }

protected:
    template <typename... FrontendArgs>
    EngineCpu(Machine& m, const TcgOptions& o, FrontendArgs&&... args)
        : machine_(m),
          frontend_(std::forward<FrontendArgs>(args)...),
          engine_(frontend_, m.memory(), engine_options(o), make_backend(o)) {}

    // Runs guest code; true when the run ended in wfi/hlt. An internal error is printed and
    // reported through *fatal.
    bool run_engine(bool* fatal) {
        RunExit r = engine_.run(&state_.common);
        *fatal = r.kind == RunExit::Kind::kError;
        if (*fatal) fmt::print(stderr, "corvid: internal translator error: {}\n{}", r.error, dump());
        return r.kind == RunExit::Kind::kHalt && r.halt == ir::HaltReason::kWaitForInterrupt;
    }

    // Drops all translations; the frontend's own reset follows. exit_request is left alone:
    // a kick that arrived during the reset (a monitor command waiting for the vCPU) must still
    // make the next run return.
    void reset_engine() {
        engine_.flush_all();
        state_.common.engine = &engine_;
    }

    Machine& machine_;
    FrontendT frontend_;
    Engine engine_;
    StateT state_;
};

class A64TcgCpu : public EngineCpu<A64Frontend, A64State> {
public:
    A64TcgCpu(Machine& m, const A64CpuModel* model, const TcgOptions& o)
        : EngineCpu(m, o, m.a64_platform(), A64CpuOptions{model}) {
        reset();
    }

    Event run() override {
        if (machine_.cpu_powered_off()) return Event::kIdle;
        frontend_.take_pending_interrupt(state_);
        bool fatal;
        bool wfi = run_engine(&fatal);
        if (fatal) return Event::kFatal;
        return wfi && !frontend_.irq_line() ? Event::kIdle : Event::kContinue;
    }

    bool has_work() const override { return frontend_.irq_line() && !machine_.cpu_powered_off(); }

    void reset() override {
        reset_engine();
        frontend_.reset(state_, machine_.entry_point());
        engine_.tlb_flush(&state_.common);
    }
};

// The x86 vCPU: the board's I/O port space behind in/out, its PIC behind INTR, PVH entry.
class X86TcgCpu : public EngineCpu<X86Frontend, X86State>, public X86Platform {
public:
    X86TcgCpu(Machine& m, const TcgOptions& o) : EngineCpu(m, o, static_cast<X86Platform*>(this)) { reset(); }

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
        if (has_work()) {
            int vector = machine_.x86_interrupts()->acknowledge();
            if (vector >= 0 && frontend_.take_pending_interrupt(state_, vector)) halted_ = false;
        }
        if (halted_) return Event::kIdle;
        bool fatal;
        halted_ = run_engine(&fatal);
        if (fatal) return Event::kFatal;
        return halted_ && !has_work() ? Event::kIdle : Event::kContinue;
    }

    bool has_work() const override { return intr_pending() && X86Frontend::interrupts_enabled(state_); }

    void reset() override {
        reset_engine();
        X86BootState boot = machine_.x86_boot_state();
        frontend_.reset_pvh(state_, boot.entry, boot.ebx);
        engine_.tlb_flush(&state_.common);
        halted_ = false;
    }

private:
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
