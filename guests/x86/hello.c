/* hello: COM1 output and isa-debug-exit (exit status 1). */
#include "runtime.h"

int main(void) {
    const uint32_t* si = (const uint32_t*)(uintptr_t)pvh_start_info;
    printf("Hello from Corvid x86 guest!\n");
    /* The PVH contract: EBX points at hvm_start_info (magic, version >= 1). */
    printf("pvh: magic %s, version %s\n", si && si[0] == 0x336ec578 ? "ok" : "BAD", si && si[1] >= 1 ? "ok" : "BAD");
    return 0;
}
