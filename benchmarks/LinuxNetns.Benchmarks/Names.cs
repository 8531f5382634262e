using System.Diagnostics;

namespace LinuxNetns.Benchmarks;

/// <summary>
/// Every namespace a benchmark makes is named <c>lnb-PID-…</c>, PID being the process that made it. A process
/// removes its own names when it ends (normally, Ctrl+C or SIGTERM); the runner removes the names of processes
/// that are gone (killed) before and after each run. Names of live processes are never touched: another run, or
/// another engineer's, may own them.
/// </summary>
internal static class Names
{
    public const string Prefix = "lnb-";
    public const string RunDirectory = "/run/netns";
    private static int s_counter;
    private static int s_hooked;

    public static string Mine => $"{Prefix}{Environment.ProcessId}-";

    /// <summary>A fresh name owned by this process; the first call also arranges its cleanup at exit.</summary>
    public static string New(string hint)
    {
        if (Interlocked.Exchange(ref s_hooked, 1) == 0)
        {
            AppDomain.CurrentDomain.ProcessExit += (_, _) => DeleteMine();
            Console.CancelKeyPress += (_, _) => DeleteMine();
        }
        return $"{Mine}{hint}-{Interlocked.Increment(ref s_counter)}";
    }

    public static string PathOf(string name) => $"{RunDirectory}/{name}";

    /// <summary>
    /// The kernel tears deleted namespaces down in the background (about half a second for a thousand here), and
    /// that work competes with creating new ones: let the previous case's deletions finish before measuring.
    /// </summary>
    public static void Settle() => Thread.Sleep(500);

    /// <summary>Deletes every name of this process still in the run directory; returns how many.</summary>
    public static int DeleteMine() => DeleteWhere(name => name.StartsWith(Mine, StringComparison.Ordinal));

    /// <summary>Deletes the <c>lnb-</c> names whose process no longer exists (left by a killed run).</summary>
    public static int DeleteOrphans() => DeleteWhere(name =>
    {
        if (!name.StartsWith(Prefix, StringComparison.Ordinal)) return false;
        int dash = name.IndexOf('-', Prefix.Length);
        return dash > 0 && int.TryParse(name.AsSpan(Prefix.Length, dash - Prefix.Length), out int pid) && !IsAlive(pid);
    });

    /// <summary>True while process <paramref name="pid"/> runs (a zombie, ended but not yet reaped, does not count).</summary>
    public static bool IsAlive(int pid)
    {
        try
        {
            // "pid (comm) state …": comm may contain spaces and parentheses, so read the state after the last ')'.
            string stat = File.ReadAllText($"/proc/{pid}/stat");
            char state = stat[stat.LastIndexOf(')') + 2];
            return state is not ('Z' or 'X');
        }
        catch (IOException)
        {
            return false;
        }
    }

    private static int DeleteWhere(Func<string, bool> predicate)
    {
        int deleted = 0;
        foreach (string name in NetworkNamespace.List())
        {
            if (!predicate(name)) continue;
            try
            {
                NetworkNamespace.Delete(name);
                deleted++;
            }
            catch (NetworkNamespaceException e)
            {
                Console.Error.WriteLine($"could not delete {name}: {e.Message}");
            }
        }
        return deleted;
    }
}

/// <summary>What a .NET program does today: start <c>ip netns …</c> and wait for it.</summary>
internal static class Ip
{
    public static void Netns(params string[] arguments)
    {
        var info = new ProcessStartInfo("ip") { UseShellExecute = false, RedirectStandardOutput = true };
        info.ArgumentList.Add("netns");
        foreach (string a in arguments) info.ArgumentList.Add(a);
        using Process p = Process.Start(info)!;
        p.StandardOutput.ReadToEnd();
        p.WaitForExit();
        if (p.ExitCode != 0) throw new InvalidOperationException($"ip netns {string.Join(' ', arguments)} exited with {p.ExitCode}");
    }
}
