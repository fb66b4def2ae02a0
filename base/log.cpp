// Implementation of the `-d` category log on top of spdlog.
#include "base/log.h"

#include <atomic>
#include <memory>
#include <mutex>

#include <spdlog/sinks/basic_file_sink.h>
#include <spdlog/sinks/stdout_sinks.h>
#include <spdlog/spdlog.h>

namespace corvid::log {
namespace {

constexpr CategoryInfo kCategories[] = {
    {"in_asm", kInAsm, "show target assembly code for each compiled TB"},
    {"op", kOp, "show micro ops for each compiled TB"},
    {"op_opt", kOpOpt, "show micro ops after optimization"},
    {"out_asm", kOutAsm, "show generated host assembly code for each compiled TB"},
    {"exec", kExec, "show trace before each executed TB (lots of logs)"},
    {"int", kInt, "show interrupts/exceptions in short format"},
    {"guest_errors", kGuestErrors, "log when the guest OS does something invalid (eg accessing a non-existent register)"},
    {"unimp", kUnimp, "log unimplemented functionality"},
    {"cpu", kCpu, "show CPU registers before entering a TB (lots of logs)"},
};

std::atomic<uint32_t> g_mask{0};
std::mutex g_mutex;
std::shared_ptr<spdlog::logger> g_logger;

spdlog::logger& logger() {
    std::lock_guard lock(g_mutex);
    if (!g_logger) {
        g_logger = std::make_shared<spdlog::logger>("corvid", std::make_shared<spdlog::sinks::stderr_sink_mt>());
        g_logger->set_pattern("%v");
        g_logger->flush_on(spdlog::level::info);
    }
    return *g_logger;
}

}  // namespace

const CategoryInfo* categories(size_t* count) {
    *count = std::size(kCategories);
    return kCategories;
}

Result<uint32_t> parse_categories(std::string_view list) {
    uint32_t m = 0;
    while (!list.empty()) {
        size_t comma = list.find(',');
        std::string_view item = list.substr(0, comma);
        list = comma == std::string_view::npos ? std::string_view{} : list.substr(comma + 1);
        if (item.empty()) continue;
        bool found = false;
        for (const auto& c : kCategories) {
            if (item == c.name) {
                m |= c.mask;
                found = true;
            }
        }
        if (!found) return make_error(fmt::format("Invalid -d option \"{}\"", item));
    }
    return m;
}

void set_mask(uint32_t m) { g_mask.store(m, std::memory_order_relaxed); }
uint32_t mask() { return g_mask.load(std::memory_order_relaxed); }

Status set_file(const std::string& path) {
    std::shared_ptr<spdlog::sinks::sink> sink;
    if (path.empty()) {
        sink = std::make_shared<spdlog::sinks::stderr_sink_mt>();
    } else {
        try {
            sink = std::make_shared<spdlog::sinks::basic_file_sink_mt>(path, true);
        } catch (const spdlog::spdlog_ex& e) {
            return make_error(fmt::format("could not open log file '{}': {}", path, e.what()));
        }
    }
    auto l = std::make_shared<spdlog::logger>("corvid", sink);
    l->set_pattern("%v");
    l->flush_on(spdlog::level::info);
    std::lock_guard lock(g_mutex);
    g_logger = l;
    return {};
}

void write(std::string_view text) {
    if (!text.empty() && text.back() == '\n') text.remove_suffix(1);
    logger().info("{}", text);
}

}  // namespace corvid::log
