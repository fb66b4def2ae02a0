// The qtest accelerator: no CPU at all. The qtest protocol comes with the monitor issue; here
// the machine is built and the process idles until it is terminated.
#include "accel/accel.h"
#include "accel/accel_types.h"

namespace corvid {
namespace {

class QtestAccel : public Accelerator {
public:
    Status init(Machine&) override { return {}; }
    int run(Machine&, RunControl& rc, bool) override {
        while (!rc.should_stop()) rc.wait();
        return rc.exit_status();
    }
};

}  // namespace

std::unique_ptr<Accelerator> make_qtest_accel(const OptionList&) { return std::make_unique<QtestAccel>(); }

}  // namespace corvid
