namespace LinuxNetns.Threads;

/// <summary>
/// Starts the library's own threads from the home thread. A thread is born in the namespaces of the thread that
/// starts it (docs/design.md §2), and the caller may be anywhere: inside a <see cref="NamespaceScope"/>, or in a
/// <see cref="NetworkNamespace.Run(System.Action)"/> item on a namespace's worker.
/// </summary>
internal static class HomeThreadStarter
{
    /// <summary>
    /// Starts <paramref name="thread"/> (created with a parameterless start) on the home thread, after running
    /// <paramref name="beforeStart"/> there; returns once it is started. Rethrows what either threw.
    /// </summary>
    public static void Start(Thread thread, Action? beforeStart = null)
    {
        // Library code only (callers pass library code as beforeStart): the home thread need not check its namespace
        // links after it, which would cost it about as much CPU as starting the thread, on the exec's critical path.
        var item = new LibraryWorkItem<bool>(() =>
        {
            beforeStart?.Invoke();
            thread.Start();
            return true;
        });
        HomeThread.Execute(item);
        item.ThrowIfFailed();
    }
}
