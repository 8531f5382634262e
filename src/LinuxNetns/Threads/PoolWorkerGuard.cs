using System.Globalization;

namespace LinuxNetns.Threads;

/// <summary>
/// Keeps a thread-pool worker, made at home, alive and idle for user code that runs switched, so that pool work the
/// code queues (<c>Task.Run</c>, a continuation queued from there) is picked up by it instead of making the pool
/// create a worker on the switched thread, inside the namespace, for ever.
/// </summary>
/// <remarks>
/// <para>The pool creates a worker on the thread that queues work when no worker is idle and fewer than its goal are
/// working (source: <c>PortableThreadPool.WorkerThread.cs</c>, <c>MaybeAddWorkingWorker</c>); its workers end after
/// 20 s without work (<c>System.Threading.ThreadPool.ThreadTimeoutMs</c>). So in a process that has been idle for 20 s,
/// the first <c>Task.Run</c> inside a flow made a worker inside (seen: <c>.NET TP Worker</c> in the namespace, running
/// later pool work of the whole process there).</para>
/// <para>Before switched user code runs, unless it did so within the workers' idle timeout less a second, this queues
/// an empty item from the home thread and waits for it to run: the worker that runs it (an idle one, or one the pool
/// creates for it, at home) then waits idle for the timeout. Not covered: a burst in which every worker is busy and
/// the pool is below its goal when the switched code queues (docs/runtime-threads.md, "RunAsync").</para>
/// </remarks>
internal static class PoolWorkerGuard
{
    private static readonly long IntervalMs = IntervalFor(WorkerTimeoutMs());
    private static long s_lastKickMs = long.MinValue / 2;
    private static int s_kicks;

    /// <summary>How many times a worker was made sure of (for tests and diagnostics).</summary>
    public static int Kicks => Volatile.Read(ref s_kicks);

    internal static long IntervalFor(long workerTimeoutMs) =>
        workerTimeoutMs < 0 ? long.MaxValue : Math.Max(0, workerTimeoutMs - 1000);

    // ThreadPool.ThreadTimeoutMs: runtimeconfig or DOTNET_ThreadPool_ThreadTimeoutMs (decimal), 20,000 ms by default, -1: never.
    private static long WorkerTimeoutMs()
    {
        if (AppContext.GetData("System.Threading.ThreadPool.ThreadTimeoutMs") is { } data
            && long.TryParse(Convert.ToString(data, CultureInfo.InvariantCulture), out long configured))
        {
            return configured;
        }
        string? text = Environment.GetEnvironmentVariable("DOTNET_ThreadPool_ThreadTimeoutMs");
        return long.TryParse(text, NumberStyles.Integer, CultureInfo.InvariantCulture, out long ms) ? ms : 20_000;
    }

    /// <summary>Call right before user code runs switched.</summary>
    public static void Ensure()
    {
        long now = Environment.TickCount64;
        if (ThreadPool.ThreadCount != 0 && now - Volatile.Read(ref s_lastKickMs) < IntervalMs) return;
        Volatile.Write(ref s_lastKickMs, now);
        Chore.Run();
    }

    private static readonly HomeThreadChore Chore = new(KickNow);

    private static void KickNow()
    {
        Interlocked.Increment(ref s_kicks);
        using var ran = new ManualResetEventSlim();
        ThreadPool.UnsafeQueueUserWorkItem(static r => r.Set(), ran, preferLocal: false);
        ran.Wait(TimeSpan.FromSeconds(5)); // bounded: a saturated pool delays this once, never hangs it
    }
}
