/* Echo guest: copies PL011 RX to TX until it sees 'q', then powers off. */
#include "runtime.h"

int main(void) {
    uart_puts("echo: type, 'q' quits\n");
    unsigned count = 0;
    for (;;) {
        int c = uart_getc();
        if (c == 'q') break;
        uart_putc((char)c);
        count++;
    }
    uart_printf("\necho: %u bytes\n", count);
    return 0;
}
