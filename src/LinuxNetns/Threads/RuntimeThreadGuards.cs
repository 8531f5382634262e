namespace LinuxNetns.Threads;

/// <summary>
/// What runs at home before user code runs on a switched library thread (a <c>Run</c> item, a <c>RunAsync</c> batch):
/// the runtime threads that come and go must exist at home then, or the runtime may create them on the switched
/// thread, inside (docs/runtime-threads.md).
/// </summary>
internal static class RuntimeThreadGuards
{
    public static void BeforeSwitchedUserCode()
    {
        HomeThread.EnsureRuntimeThreadsStarted();
        TieringWorkerGuard.Ensure();
        PoolWorkerGuard.Ensure();
    }
}
