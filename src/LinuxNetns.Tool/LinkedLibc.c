/*
 * The libc functions that the LinuxNetns library calls while a thread is switched into another namespace
 * (LinuxNetns.Interop.SwitchedCalls), by name, for the statically linked native netns: a static executable has no
 * libc.so.6 whose exports the library could look up (docs/netns-tool.md, "Statically linked").
 * LinuxNetns.Tool.csproj hands this file to the NativeAOT link, whose compiler driver compiles it for the target.
 * Every name in SwitchedCalls.FunctionNames must be here (a test compares the two lists).
 */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <sched.h>
#include <spawn.h>
#include <stddef.h>
#include <string.h>
#include <sys/mount.h>
#include <sys/stat.h>
#include <unistd.h>

static const struct
{
    const char *name;
    void *address;
} functions[] = {
    { "setns", (void *)setns },
    { "unshare", (void *)unshare },
    { "mount", (void *)mount },
    { "umount2", (void *)umount2 },
    { "open", (void *)open },
    { "close", (void *)close },
    { "chdir", (void *)chdir },
    { "posix_spawn", (void *)posix_spawn },
    { "readlinkat", (void *)readlinkat },
    { "statx", (void *)statx },
    { "__errno_location", (void *)__errno_location },
    { "sched_yield", (void *)sched_yield },
};

/* The address of the linked-in function NAME, or NULL when the table lacks it. */
void *netns_linked_libc(const char *name)
{
    for (size_t i = 0; i < sizeof functions / sizeof functions[0]; i++)
    {
        if (strcmp(functions[i].name, name) == 0) return functions[i].address;
    }
    return NULL;
}
