using System.Net.Sockets;
using System.Runtime.InteropServices;
using LinuxNetns.Interop;

namespace LinuxNetns.Threads;

/// <summary>
/// The library's thread in the process's home namespace: new namespaces are made on it (then left), and the
/// runtime's lazily started threads are started from it, so that none of them is ever born in a foreign namespace.
/// </summary>
internal static class HomeThread
{
    // No spinning: its items (creating a namespace, starting a thread) take long or come alone, and a spinning home
    // thread or caller would take CPU from the window thread it just started.
    private static readonly WorkerSlot Slot = new("netns:home", "the library's home thread", spin: false);
    private static volatile bool s_runtimeThreadsStarted;
    private static readonly object StartLock = new();

    /// <summary>True when the calling thread is the home thread.</summary>
    public static bool IsCurrentThread => Slot.IsCurrentThread;

    /// <summary>Runs <paramref name="item"/> on the home thread and waits for it.</summary>
    public static void Execute(WorkItem item) =>
        Slot.Execute(item, ThreadNamespaces.Home, NetworkNamespaceOptions.Default.WorkerIdleTimeout);

    /// <summary>
    /// Makes sure the runtime threads that .NET starts lazily, from whichever thread first needs them, already run:
    /// the sockets event loop (started by the first socket), the signal-handling thread (started by the first Process
    /// or signal registration), the thread pool, its timer thread and its wait thread. Call before any thread of the process is
    /// switched into another namespace; a thread is born in the namespaces of the thread that creates it
    /// (docs/design.md §2, §3). Costs one round trip to the home thread, once per process.
    /// </summary>
    public static void EnsureRuntimeThreadsStarted()
    {
        if (s_runtimeThreadsStarted) return;
        lock (StartLock)
        {
            if (s_runtimeThreadsStarted) return;
            var item = new LibraryWorkItem<bool>(StartRuntimeThreads);
            Execute(item);
            item.ThrowIfFailed();
            s_runtimeThreadsStarted = true;
        }
    }

    private static bool StartRuntimeThreads()
    {
        // The calls made while switched: compiled and their call sites run once, here, before the first switch.
        Switched.EnsureReady();

        // Sockets: every socket registers with the epoll engine, whose threads start with the first one.
        new Socket(AddressFamily.Unix, SocketType.Stream, ProtocolType.Unspecified).Dispose();

        // Signals: the first registration (or Process use) starts the runtime's signal-handling thread.
        PosixSignalRegistration.Create(PosixSignal.SIGCONT, static _ => { }).Dispose();

        // The thread pool (its workers and gate thread start with the first work item), the timer thread (with the
        // first timer that is armed, not merely created) and the pool's wait thread (with the first registered wait).
        // Their callbacks run on pool threads: bounded waits, so a saturated pool delays this once, never hangs it.
        var bound = TimeSpan.FromSeconds(5);
        if (ThreadPool.ThreadCount == 0)
        {
            using var ran = new ManualResetEventSlim();
            ThreadPool.UnsafeQueueUserWorkItem(static r => r.Set(), ran, preferLocal: false);
            ran.Wait(bound);
        }
        using (var fired = new ManualResetEventSlim())
        using (new Timer(static f => ((ManualResetEventSlim)f!).Set(), fired, 0, Timeout.Infinite))
        {
            fired.Wait(bound);
        }
        using (var signalled = new ManualResetEvent(initialState: true))
        using (var waited = new ManualResetEventSlim())
        {
            RegisteredWaitHandle registration = ThreadPool.UnsafeRegisterWaitForSingleObject(
                signalled, static (w, _) => ((ManualResetEventSlim)w!).Set(), waited, Timeout.Infinite, executeOnlyOnce: true);
            waited.Wait(bound);
            registration.Unregister(null);
        }
        return true;
    }
}
