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
        if (StartTime() is not { } key) return;
        // As the runtime's PAL names them: TMPDIR (default /tmp), with one slash before the name.
        string directory = Environment.GetEnvironmentVariable("TMPDIR") is { Length: > 0 } tmp ? tmp.TrimEnd('/') : "/tmp";
        string process = $"{Environment.ProcessId}-{key}";
        foreach (string name in (string[])[$"clr-debug-pipe-{process}-in", $"clr-debug-pipe-{process}-out", $"dotnet-diagnostic-{process}-socket"])
            Libc.Unlink($"{directory}/{name}");
    }

    /// <summary>Field 22 of /proc/self/stat (the start time in clock ticks after boot), read after the command name.</summary>
    private static string? StartTime()
    {
        string stat;
        try
        {
            stat = File.ReadAllText("/proc/self/stat");
        }
        catch (IOException)
        {
            return null;
        }
        // "PID (COMM) STATE PPID …": COMM may hold spaces and parentheses; the fields after its last ')' start at 3.
        string[] fields = stat[(stat.LastIndexOf(')') + 2)..].Split(' ');
        return fields.Length > 19 ? fields[19] : null;
    }
}
