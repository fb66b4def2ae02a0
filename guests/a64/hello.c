/* The smallest guest: one line on the PL011, then PSCI SYSTEM_OFF. */
#include "runtime.h"

int main(void) {
    uart_puts("Hello from Corvid AArch64 guest!\n");
    return 0;
}
