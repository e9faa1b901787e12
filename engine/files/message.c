/* message.c: the engine's messages about a file name it first ("PATH: what went wrong"); a
 * program that prints the name itself shows only the reason. */
#include <string.h>
#include "unsharp/files.h"

const char *unsharp_message_reason(const char *msg, const char *path)
{
    size_t n = strlen(path);
    if (strncmp(msg, path, n) == 0 && msg[n] == ':' && msg[n + 1] == ' ') return msg + n + 2;
    return msg;
}
