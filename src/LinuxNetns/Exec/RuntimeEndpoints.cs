using LinuxNetns.Interop;

namespace LinuxNetns.Exec;

/// <summary>
/// The files through which debuggers and diagnostic tools reach this .NET process: at start CoreCLR makes, in TMPDIR,
/// <c>clr-debug-pipe-PID-KEY-in</c> and <c>-out</c> (FIFOs) and <c>dotnet-diagnostic-PID-KEY-socket</c>, KEY being the
/// process's start time (field 22 of <c>/proc/self/stat</c>), and removes them when it shuts down. A process that
/// replaces itself with execve never shuts down, so without <see cref="Remove"/> they would stay in TMPDIR for good,
/// three per <c>netns exec</c> (the same pid and start time would also make a .NET program started so find its own
/// names taken). A NativeAOT process has none of them: then nothing is there to remove.
/// </summary>
internal static class RuntimeEndpoints
{
    /// <summary>Removes this process's endpoint files; ignores those that do not exist. Debugging and tracing end here.</summary>
    public static void Remove()
    {
        if (ProcStat.StartTime(Environment.ProcessId) is not { } key) return;
        // In the directory the runtime chose: TMPDIR, else /tmp (what Path.GetTempPath gives, with its trailing slash).
        string process = $"{Environment.ProcessId}-{key}";
        foreach (string name in (string[])[$"clr-debug-pipe-{process}-in", $"clr-debug-pipe-{process}-out", $"dotnet-diagnostic-{process}-socket"])
            Libc.Unlink(Path.GetTempPath() + name);
    }
}
