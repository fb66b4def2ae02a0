// Interrupt lines a test harness can observe (qtest irq_intercept_in/out).
#pragma once

#include <cstddef>
#include <string>
#include <string_view>

namespace corvid {

class IrqObserver {
public:
    virtual ~IrqObserver() = default;
    virtual void irq_changed(int line, bool level) = 0;
};

// A device whose numbered input lines can be intercepted: while an observer is set, every
// change of an input line is reported to it and still delivered to the device (QEMU's qtest
// forwards an intercepted line to its original handler too).
class IrqInterceptTarget {
public:
    virtual ~IrqInterceptTarget() = default;
    virtual int irq_input_count() const = 0;
    virtual void set_irq_observer(IrqObserver* observer) = 0;
    // qtest set_irq_in: drives input `line` as a device would (an observer, if set, sees it).
    // False: the line does not exist or the device does not support it.
    virtual bool set_irq_input(int line, bool level) {
        (void)line;
        (void)level;
        return false;
    }
};

// True when `path` names the board's onboard device number `index`, i.e.
// "/machine/unattached/device[index]" as `info qom-tree` prints it, or a trailing part of it
// ("device[3]", "unattached/device[3]") as QEMU's partial QOM paths allow.
inline bool qom_path_is_onboard(std::string_view path, size_t index) {
    const std::string full = "/machine/unattached/device[" + std::to_string(index) + "]";
    if (path.empty() || path.size() > full.size()) return false;
    if (path == full) return true;
    // A partial path starts at a component boundary.
    return path[0] != '/' && full.compare(full.size() - path.size(), path.size(), path) == 0 &&
           full[full.size() - path.size() - 1] == '/';
}

}  // namespace corvid
