namespace LinuxNetns.Interop;

/// <summary>What the library reads from <c>/proc/PID/stat</c>.</summary>
internal static class ProcStat
{
    /// <summary>
    /// Field 22 of <c>/proc/PID/stat</c> (start time in clock ticks after boot), or null if no such process. With the pid
    /// it names a process for good: a reused pid has another start time.
    /// </summary>
    public static string? StartTime(int pid)
    {
        string stat;
        try
        {
            stat = File.ReadAllText($"/proc/{pid}/stat");
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            return null;
        }
        // The command name (field 2) is in parentheses and may itself contain spaces and ')'.
        int close = stat.LastIndexOf(')');
        if (close < 0) return null;
        string[] fields = stat[(close + 1)..].Split(' ', StringSplitOptions.RemoveEmptyEntries);
        return fields.Length > 19 ? fields[19] : null; // fields[0] is field 3 (state)
    }
}
