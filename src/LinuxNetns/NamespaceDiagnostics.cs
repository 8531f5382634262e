using LinuxNetns.Kernel;

namespace LinuxNetns;

/// <summary>A thread of this process that is not in the process's home network namespace.</summary>
/// <param name="ThreadId">The kernel thread id (tid), as in <c>/proc/self/task/TID</c>.</param>
/// <param name="Name">The thread's name (<c>comm</c>, at most 15 characters), e.g. <c>.NET TP Worker</c>.</param>
/// <param name="Namespace">The network namespace the thread is in.</param>
public readonly record struct StrayThread(int ThreadId, string Name, NamespaceId Namespace);

/// <summary>Finds threads left in foreign namespaces (DESIGN.md §2.2: threads are born in their creator's namespace).</summary>
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
