// TcgCpu implementations: the AArch64 vCPU (A64 frontend + engine). x86 under the translator
// is the x86 issue's work.
#include "accel/tcg/tcg_cpu.h"

#include <fmt/format.h>

#include "backend/x64/x64_backend.h"
#include "frontends/a64/a64_frontend.h"
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
        state_.common.engine = &engine_;
        state_.common.exit_request.store(0);
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

}  // namespace

Result<std::unique_ptr<TcgCpu>> make_tcg_cpu(Machine& machine, const TcgOptions& options) {
    if (machine.arch() == Arch::kAArch64) {
        const A64CpuModel* model = find_a64_cpu_model(machine.options().cpu_model);
        if (!model) return make_error(fmt::format("unable to find CPU model '{}'", machine.options().cpu_model));
        return std::unique_ptr<TcgCpu>(std::make_unique<A64TcgCpu>(machine, model, options));
    }
    if (machine.has_kernel()) {
        return make_error("x86 guest code cannot run under the translator yet (use -accel kvm)");
    }
    // No kernel on an x86 board: the firmware's idle loop is what the guest would run; until the
    // x86 frontend exists the vCPU is modelled as halted.
    struct IdleCpu : TcgCpu {
        Event run() override { return Event::kIdle; }
        void kick() override {}
        bool has_work() const override { return false; }
        void reset() override {}
        std::string dump() const override { return "the vCPU is halted\n"; }
        std::string stats_report() const override { return {}; }
    };
    return std::unique_ptr<TcgCpu>(std::make_unique<IdleCpu>());
}

}  // namespace corvid
