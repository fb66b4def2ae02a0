// The kvm accelerator: the board's x86 vCPU on /dev/kvm, in its own thread.
#include <thread>

#include "accel/accel.h"
#include "accel/accel_types.h"
#include "accel/kvm/kvm_vm.h"

namespace corvid {
namespace {

class KvmAccel : public Accelerator {
public:
    explicit KvmAccel(std::string device) : vm_(std::move(device)) {}

    Status init(Machine& machine) override {
        if (machine.arch() != Arch::kX86_64) {
            return make_error("KVM is not supported for AArch64 guests on this host (an x86-64 host runs x86 guests only)");
        }
        if (auto st = vm_.open_vm(); !st) return st;
        return vm_.setup(machine);
    }

    int run(Machine& machine, RunControl& rc, bool start_stopped) override {
        // -S: the vCPU thread parks in rc.service() until the monitor's cont (or a signal).
        if (start_stopped) rc.pause();
        machine.set_cpu_kick([this] { vm_.kick(); });
        rc.set_kick([this] { vm_.kick(); });
        int status = 0;
        std::thread vcpu([&] {
            status = vm_.run_loop(rc);
            // The vCPU ended by itself (error): wake the main thread.
            if (!rc.should_stop()) rc.request_shutdown(status);
        });
        // Bounded: the vCPU thread waits on the same wake-up fd and may consume a wake-up.
        while (!rc.should_stop()) rc.wait(std::chrono::milliseconds(100));
        vm_.kick();
        vcpu.join();
        rc.set_kick(nullptr);
        machine.set_cpu_kick(nullptr);
        return status != 0 ? status : rc.exit_status();
    }

    std::string dump_cpu() const override { return vm_.dump_registers(); }

private:
    KvmVm vm_;
};

}  // namespace

std::unique_ptr<Accelerator> make_kvm_accel(const OptionList& props) {
    return std::make_unique<KvmAccel>(props.get("device").value_or("/dev/kvm"));
}

}  // namespace corvid
