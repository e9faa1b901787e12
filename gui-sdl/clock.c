/* clock.c: the window's one clock (messages that fade, the moving dashes of pending tiles,
 * timings, the test scripts' waits), kept apart so that no window code depends on the test
 * hooks. */
#include <time.h>
#include "review.h"

uint64_t now_ms(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (uint64_t)ts.tv_sec * 1000 + (uint64_t)ts.tv_nsec / 1000000;
}
