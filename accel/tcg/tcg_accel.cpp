// The tcg accelerator: runs the board's vCPU on the translator (JIT or interpreter backend).
#include <chrono>

#include <fmt/format.h>

#include "accel/accel.h"
#include "accel/accel_types.h"
#include "accel/tcg/tcg_cpu.h"
#include "base/log.h"

namespace corvid {
namespace {

class TcgAccel : public Accelerator {
public:
    explicit TcgAccel(TcgOptions o) : opts_(o) {}

    Status init(Machine& machine) override {
        auto cpu = make_tcg_cpu(machine, opts_);
        if (!cpu) return make_error(cpu.error());
        cpu_ = std::move(*cpu);
        return {};
    }

    int run(Machine& machine, RunControl& rc, bool start_stopped) override {
        // -S: the vCPU stays stopped (in rc.service()) until the monitor's cont or a signal.
        if (start_stopped) rc.pause();
        rc.set_kick([this] { cpu_->kick(); });
        machine.set_cpu_kick([&rc] { rc.notify(); });
        rc.set_vcpu_service(true);
        while (!rc.should_stop()) {
            rc.service();  // monitor commands run here, between guest runs; stop parks here
            if (rc.should_stop()) break;
            if (rc.reset_requested()) {
                rc.clear_reset();
                if (machine.options().no_reboot) {
                    rc.request_shutdown(0);
                    break;
                }
                machine.reset();
                cpu_->reset();
            }
            machine.poll_devices();
            switch (cpu_->run()) {
                case TcgCpu::Event::kIdle:
                    // wfi/hlt: sleep until something happens (input, a signal, a reset...).
                    if (!cpu_->has_work()) {
                        int64_t ns = machine.next_deadline_ns();
                        int64_t ms = ns < 0 ? 100 : std::min<int64_t>(100, (ns + 999'999) / 1'000'000);
                        rc.wait(std::chrono::milliseconds(ms));
                    }
                    break;
                case TcgCpu::Event::kContinue: break;
                case TcgCpu::Event::kFatal: rc.request_shutdown(1); break;
            }
        }
        rc.set_vcpu_service(false);
        rc.set_kick(nullptr);
        machine.set_cpu_kick(nullptr);
        if (opts_.stats) {
            // The engine does not know the backend's settings; the option is reported here.
            fmt::print(stderr, "{}", cpu_->stats_report());
            if (!opts_.interp) fmt::print(stderr, "return hints             {}\n", opts_.return_hints ? "on" : "off");
        }
        return rc.exit_status();
    }

    std::string dump_cpu() const override { return cpu_ ? cpu_->dump() : std::string(); }

private:
    TcgOptions opts_;
    std::unique_ptr<TcgCpu> cpu_;
};

}  // namespace

Result<std::unique_ptr<Accelerator>> make_tcg_accel(const OptionList& props) {
    TcgOptions o;
    if (auto v = props.get("backend")) {
        if (*v == "jit") {
            o.interp = false;
        } else if (*v == "interp") {
            o.interp = true;
        } else {
            return make_error(fmt::format("Parameter 'backend' expects 'jit' or 'interp'"));
        }
    }
    if (auto v = props.get("tb-size")) {
        auto mib = parse_size(*v, 1);
        if (!mib || *mib == 0 || *mib > 2048) return make_error("Parameter 'tb-size' expects a size in MiB between 1 and 2048");
        o.tb_size_mib = *mib;
    }
    if (auto v = props.get("count-insns")) {
        auto b = parse_bool_property("count-insns", *v);
        if (!b) return make_error(b.error());
        o.count_insns = *b;
    }
    if (auto v = props.get("stats")) {
        auto b = parse_bool_property("stats", *v);
        if (!b) return make_error(b.error());
        o.stats = *b;
    }
    if (auto v = props.get("return-hints")) {
        auto b = parse_bool_property("return-hints", *v);
        if (!b) return make_error(b.error());
        o.return_hints = *b;
    }
    if (auto v = props.get("thread")) {
        if (*v != "single" && *v != "multi") return make_error("Parameter 'thread' expects 'single' or 'multi'");
    }
    return std::unique_ptr<Accelerator>(std::make_unique<TcgAccel>(o));
}

}  // namespace corvid
