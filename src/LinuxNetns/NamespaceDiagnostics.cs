using LinuxNetns.Exec;
using LinuxNetns.Threads;

namespace LinuxNetns;

/// <summary>A thread of this process that is not in the process's home network namespace.</summary>
/// <param name="ThreadId">The kernel thread id (tid), as in <c>/proc/self/task/TID</c>.</param>
/// <param name="Name">The thread's name (<c>comm</c>, at most 15 characters), e.g. <c>.NET TP Worker</c>.</param>
/// <param name="Namespace">The network namespace the thread is in.</param>
public readonly record struct StrayThread(int ThreadId, string Name, NamespaceId Namespace)
{
    /// <summary>
    /// What the thread is when its name is one the .NET runtime gives its own threads (e.g. <c>.NET BGC</c>: the
    /// background garbage-collection thread), with what creates it; <c>null</c> for any other thread. See
    /// docs/runtime-threads.md for which of these can be born inside a namespace and what removes that risk.
    /// </summary>
    public string? RuntimeRole => RuntimeThreadRoles.Describe(Name);
}

/// <summary>The runtime's names for its own threads (<c>comm</c>, truncated by the kernel to 15 characters).</summary>
internal static class RuntimeThreadRoles
{
    // What creates each thread and when it ends, from the runtime's source (docs/runtime-threads.md cites the files).
    private static readonly (string Prefix, string Role)[] Known =
    [
        (".NET BGC", "the runtime's background GC thread, created by the thread whose allocation triggers a background "
            + "(gen2) collection while the thread does not exist, and ended after 20 s without one (workstation GC); "
            + "runtimeconfig System.GC.Concurrent=false removes it"),
        (".NET Server GC", "a server GC thread, created at start-up; never ends"),
        (".NET TP Worker", "a thread-pool worker, created by the thread that queues work when no idle worker is left, "
            + "and ended after 20 s idle (System.Threading.ThreadPool.ThreadTimeoutMs)"),
        (".NET TP Wait", "the thread pool's wait thread (RegisterWaitForSingleObject), created by the first registration "
            + "and ended 20 s after its last registered wait went away"),
        (".NET TP Gate", "the thread pool's gate thread (starvation detection), created with the first worker request; never ends"),
        (".NET Long Runni", "a thread started for a TaskCreationOptions.LongRunning task"),
        (".NET Tiered", "the tiered-compilation worker, created by the thread that next calls a method for the first "
            + "time or reaches a call-count threshold after it exited (4 s idle, TC_BackgroundWorkerTimeoutMs); "
            + "runtimeconfig System.Runtime.TieredCompilation=false removes it"),
        (".NET Timer", "the timer thread (System.Threading.Timer, Task.Delay), created by the first armed timer; never ends"),
        (".NET Sockets", "the sockets engine's epoll thread, created by the first socket registered for asynchronous "
            + "operations; never ends"),
        (".NET SigHandler", "the signal-handling thread, created by the first Process.Start, PosixSignalRegistration "
            + "or Console use that installs signal handling; never ends"),
        (".NET Finalizer", "the finalizer thread, created at start-up"),
        (".NET EventPipe", "the diagnostics server's thread, created at start-up"),
        (".NET Debugger", "the debugger's runtime-controller thread, created at start-up"),
        (".NET DebugPipe", "the debugger transport's thread, created at start-up"),
        (".NET SynchManag", "the runtime's synchronization manager thread, created at start-up"),
    ];

    public static string? Describe(string name)
    {
        foreach ((string prefix, string role) in Known)
        {
            if (name.StartsWith(prefix, StringComparison.Ordinal)) return role;
        }
        return null;
    }
}

/// <summary>Finds threads left in foreign namespaces (docs/design.md §2: threads are born in their creator's namespace).</summary>
public static class NamespaceDiagnostics
{
    /// <summary>The identity of the process's home network namespace (its main thread's at the library's first use).</summary>
    public static NamespaceId HomeNamespace => ThreadNamespaces.HomeId;

    /// <summary>
    /// Lists the threads of this process (<c>/proc/self/task/*/ns/net</c>) whose network namespace is not the home one:
    /// threads inside a <see cref="NamespaceScope"/> right now, the library's own workers while they live, and
    /// threads that were born in or left in a foreign namespace by mistake (e.g. a thread-pool worker created while
    /// a thread was switched).
    /// </summary>
    public static IReadOnlyList<StrayThread> FindStrayThreads()
    {
        NamespaceId home = ThreadNamespaces.HomeId;
        return ThreadNamespaces.ThreadsWhere("net", id => id != home);
    }
}
