/* Semihosting guest: SYS_WRITE0 to the host console, then SYS_EXIT_EXTENDED with status 3. */
#include "runtime.h"

int main(void) {
    uart_puts("semihosting: uart line before the semihosting calls\n");
    semihost_write0("semihosting: hello via SYS_WRITE0\n");
    semihost_exit(3);
}
