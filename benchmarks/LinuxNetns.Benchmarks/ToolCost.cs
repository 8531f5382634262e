using System.Diagnostics;
using System.Runtime.InteropServices;
using System.Text;

namespace LinuxNetns.Benchmarks;

/// <summary>
/// <c>--tool-cost NETNS [ROUNDS]</c>: the whole-process wall time of <c>NETNS CMD</c> against <c>ip netns CMD</c>,
/// as a script sees it. Each round starts one of each back to back (the order alternates), ROUNDS rounds (default
/// 300), medians: <c>list</c>, <c>identify</c>, <c>pids NAME</c>, <c>add</c> then <c>delete</c> (two processes),
/// <c>exec NAME /bin/true</c>; and two baselines: <c>/bin/true</c>, what starting any process costs from here, and
/// <c>-V</c>, each program's own start-up (netns: the NativeAOT runtime's) with no work after it.
/// </summary>
/// <remarks>
/// Processes are started with <c>posix_spawn</c> (stdout and stderr to /dev/null) and reaped with <c>waitpid</c>: no
/// pipes, no <see cref="Process"/> (whose SIGCHLD handling would reap them first). Names are this process's
/// (<see cref="Names"/>), removed at the end.
/// </remarks>
internal static unsafe partial class ToolCost
{
    private const double Target = 1.5;

    public static int Run(string tool, int rounds)
    {
        if (!File.Exists(tool))
        {
            Console.Error.WriteLine($"--tool-cost: {tool} does not exist: give the path of a netns executable (e.g. bash benchmarks/tool-cost.sh).");
            return 1;
        }
        string ip = FindOnPath("ip") ?? throw new InvalidOperationException("--tool-cost: ip (iproute2) is not on PATH.");
        string name = $"{Names.Mine}cost";
        var rows = new List<(string Command, double Ip, double Netns)>();
        NetworkNamespace.Create(name).Dispose();
        try
        {
            string[][] Pair(params string[] args) => [[ip, "netns", .. args], [tool, .. args]];
            rows.Add(Measure("/bin/true (any process)", rounds, [["/bin/true"], ["/bin/true"]]));
            rows.Add(Measure("-V (start-up, no work)", rounds, [[ip, "-V"], [tool, "-V"]]));
            rows.Add(Measure("list", rounds, Pair("list")));
            rows.Add(Measure("identify", rounds, Pair("identify")));
            rows.Add(Measure($"pids NAME", rounds, Pair("pids", name)));
            rows.Add(MeasureAddDelete(ip, tool, rounds));
            rows.Add(Measure("exec NAME /bin/true", rounds, Pair("exec", name, "/bin/true")));
        }
        finally
        {
            Names.DeleteMine();
        }

        Console.WriteLine($"Whole-process wall time, medians of {rounds} interleaved pairs; netns = {tool}");
        Console.WriteLine();
        Console.WriteLine("| command | ip netns | netns | netns ÷ ip | target | this run |");
        Console.WriteLine("|---|--:|--:|--:|---|---|");
        foreach (var (command, ipMs, netnsMs) in rows)
        {
            double ratio = netnsMs / ipMs;
            bool baseline = command.StartsWith('/') || command.StartsWith('-');
            Console.WriteLine($"| {command} | {ipMs:F2} ms | {netnsMs:F2} ms | {ratio:F2} | {(baseline ? "—" : $"≤ {Target}× ip")} | " +
                $"{(baseline ? "" : ratio <= Target ? "meets" : "**misses**")} |");
        }
        return 0;
    }

    private static (string, double, double) Measure(string label, int rounds, string[][] commands)
    {
        var a = new double[rounds];
        var b = new double[rounds];
        for (int i = 0; i < 5; i++)
        {
            Time(commands[0]);
            Time(commands[1]);
        }
        for (int i = 0; i < rounds; i++)
        {
            if (i % 2 == 0)
            {
                a[i] = Time(commands[0]);
                b[i] = Time(commands[1]);
            }
            else
            {
                b[i] = Time(commands[1]);
                a[i] = Time(commands[0]);
            }
        }
        return (label, Median(a), Median(b));
    }

    /// <summary>add NAME, then delete NAME: one round is both processes, for each tool.</summary>
    private static (string, double, double) MeasureAddDelete(string ip, string tool, int rounds)
    {
        var a = new double[rounds];
        var b = new double[rounds];
        for (int i = 0; i < rounds; i++)
        {
            string ipName = $"{Names.Mine}ip{i}", netnsName = $"{Names.Mine}nn{i}";
            double ForIp() => Time([ip, "netns", "add", ipName]) + Time([ip, "netns", "delete", ipName]);
            double ForNetns() => Time([tool, "add", netnsName]) + Time([tool, "delete", netnsName]);
            if (i % 2 == 0)
            {
                a[i] = ForIp();
                b[i] = ForNetns();
            }
            else
            {
                b[i] = ForNetns();
                a[i] = ForIp();
            }
        }
        return ("add NAME + delete NAME", Median(a), Median(b));
    }

    private static double Median(double[] values)
    {
        Array.Sort(values);
        return values[values.Length / 2];
    }

    /// <summary>Starts <paramref name="argv"/>, waits for it; the wall time in milliseconds. Throws if it fails.</summary>
    private static double Time(string[] argv)
    {
        byte** args = stackalloc byte*[argv.Length + 1];
        var pinned = new List<GCHandle>();
        void* actions = NativeMemory.AllocZeroed(256); // glibc's posix_spawn_file_actions_t is 80 bytes
        try
        {
            for (int i = 0; i < argv.Length; i++)
            {
                byte[] bytes = Encoding.UTF8.GetBytes(argv[i] + "\0");
                GCHandle handle = GCHandle.Alloc(bytes, GCHandleType.Pinned);
                pinned.Add(handle);
                args[i] = (byte*)handle.AddrOfPinnedObject();
            }
            args[argv.Length] = null;
            Check(FileActionsInit(actions), "posix_spawn_file_actions_init");
            Check(FileActionsAddOpen(actions, 1, "/dev/null", 1 /* O_WRONLY */, 0), "posix_spawn_file_actions_addopen");
            Check(FileActionsAddOpen(actions, 2, "/dev/null", 1 /* O_WRONLY */, 0), "posix_spawn_file_actions_addopen");

            long start = Stopwatch.GetTimestamp();
            Check(Spawn(out int pid, args[0], actions, null, args, Environ()), $"posix_spawn {argv[0]}");
            int status;
            while (WaitPid(pid, &status, 0) < 0)
            {
                if (Marshal.GetLastPInvokeError() != 4 /* EINTR */) throw new InvalidOperationException($"waitpid {pid}: errno {Marshal.GetLastPInvokeError()}");
            }
            double ms = Stopwatch.GetElapsedTime(start).TotalMilliseconds;
            bool exitedZero = (status & 0x7f) == 0 && ((status >> 8) & 0xff) == 0;
            if (!exitedZero) throw new InvalidOperationException($"`{string.Join(' ', argv)}` failed (wait status {status}).");
            return ms;
        }
        finally
        {
            FileActionsDestroy(actions);
            NativeMemory.Free(actions);
            foreach (GCHandle handle in pinned) handle.Free();
        }
    }

    private static void Check(int result, string what)
    {
        if (result != 0) throw new InvalidOperationException($"{what}: error {result}");
    }

    private static string? FindOnPath(string program) =>
        (Environment.GetEnvironmentVariable("PATH") ?? "/usr/sbin:/usr/bin:/sbin:/bin").Split(':')
            .Select(dir => Path.Combine(dir, program)).FirstOrDefault(File.Exists);

    [LibraryImport("libc", EntryPoint = "posix_spawn")]
    private static partial int Spawn(out int pid, byte* path, void* fileActions, void* attributes, byte** argv, byte** envp);

    [LibraryImport("libc", EntryPoint = "posix_spawn_file_actions_init")]
    private static partial int FileActionsInit(void* actions);

    [LibraryImport("libc", EntryPoint = "posix_spawn_file_actions_addopen", StringMarshalling = StringMarshalling.Utf8)]
    private static partial int FileActionsAddOpen(void* actions, int fd, string path, int flags, int mode);

    [LibraryImport("libc", EntryPoint = "posix_spawn_file_actions_destroy")]
    private static partial int FileActionsDestroy(void* actions);

    [LibraryImport("libc", EntryPoint = "waitpid", SetLastError = true)]
    private static partial int WaitPid(int pid, int* status, int options);

    // The process's own environment (glibc's environ), passed on unchanged.
    private static readonly nint s_environ = NativeLibrary.GetExport(NativeLibrary.Load("libc.so.6"), "environ");

    private static byte** Environ() => *(byte***)s_environ;
}
