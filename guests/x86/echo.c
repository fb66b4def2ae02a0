/* echo: copies COM1 input to output (polling LSR.DR) until it sees 'q'. Exit status 1. */
#include "runtime.h"

int main(void) {
    serial_puts("echo: type, 'q' quits\n");
    unsigned count = 0;
    for (;;) {
        int c = serial_getc();
        if (c == 'q') break;
        serial_putc((char)c);
        count++;
    }
    printf("\necho: %u bytes\n", count);
    return 0;
}
