using System.ComponentModel;
using System.Diagnostics;

namespace LinuxNetns.Kernel;

/// <summary>
/// Makes the first use of <see cref="Process"/> happen on the home thread, not on a switched exec thread: the first
/// <c>Process.Start</c> initializes the runtime's child-process support (SIGCHLD handling, the signal-handling thread,
/// terminal settings) from whichever thread calls it (docs/kernel.md §3).
/// </summary>
internal static class ProcessWarmup
{
    private static volatile bool s_done;
    private static readonly object Gate = new();

    /// <summary>Once per process: runtime threads, then a <c>Process.Start</c> that fails before forking.</summary>
    public static void Ensure()
    {
        if (s_done) return;
        lock (Gate)
        {
            if (s_done) return;
            HomeThread.EnsureRuntimeThreadsStarted();
            var item = new FuncWorkItem<bool>(StartNothing);
            HomeThread.Execute(item);
            item.ThrowIfFailed();
            s_done = true;
        }
    }

    private static bool StartNothing()
    {
        // A path below a regular file cannot exist: the runtime's access(2) check fails before it forks, after
        // Process has initialized itself and run the same managed code path an exec runs.
        var psi = new ProcessStartInfo("/dev/null/linuxnetns-warmup")
        {
            UseShellExecute = false,
            RedirectStandardInput = true,
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            WorkingDirectory = "/",
        };
        psi.ArgumentList.Add("warmup");
        psi.Environment["LINUXNETNS_WARMUP"] = "1";
        try
        {
            Process.Start(psi)?.Dispose();
        }
        catch (Win32Exception)
        {
        }
        return true;
    }
}
