// The qtest accelerator: no CPU at all. Its loop only serves the monitors (the qtest protocol
// in system/qtest/ runs its commands here through RunControl::run_on_vcpu) and lets devices
// take input and fire timers.
#include "accel/accel.h"
#include "accel/accel_types.h"

namespace corvid {
namespace {

class QtestAccel : public Accelerator {
public:
    Status init(Machine&) override { return {}; }
    int run(Machine& machine, RunControl& rc, bool) override {
        rc.set_vcpu_service(true);
        while (!rc.should_stop()) {
            rc.service();
            if (rc.reset_requested()) {
                rc.clear_reset();
                machine.reset();
            }
            machine.poll_devices();
            if (rc.should_stop()) break;
            int64_t next = machine.next_deadline_ns();
            auto ms = next < 0 ? std::chrono::milliseconds(-1) : std::chrono::milliseconds(next / 1000000 + 1);
            rc.wait(ms);
        }
        rc.set_vcpu_service(false);
        return rc.exit_status();
    }
};

}  // namespace

std::unique_ptr<Accelerator> make_qtest_accel(const OptionList&) {
    return std::make_unique<QtestAccel>();
}

}  // namespace corvid
