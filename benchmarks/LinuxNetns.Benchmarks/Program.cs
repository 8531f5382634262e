using System.Runtime.InteropServices;
using BenchmarkDotNet.Configs;
using BenchmarkDotNet.Jobs;
using BenchmarkDotNet.Running;
using Perfolizer.Horology;

namespace LinuxNetns.Benchmarks;

/// <summary>
/// <c>dotnet run -c Release --project benchmarks/LinuxNetns.Benchmarks -- [--short] [BenchmarkDotNet options]</c>.
/// Without <c>--filter</c> every benchmark runs. <c>--short</c>: fewer, shorter iterations (a few minutes on 2 cores).
/// Diagnostics instead of a run: <c>--syscalls METHOD COUNT</c> (for <c>strace -f -c</c>), <c>--compare A B COUNT</c>
/// and <c>--compare-scale N COUNT</c> (interleaved single calls, medians; see docs/benchmarks.md); <c>--tool-cost NETNS
/// [ROUNDS]</c>: the netns executable against ip netns, whole processes (<see cref="ToolCost"/>).
/// </summary>
public static class Program
{
    public static int Main(string[] args)
    {
        if (Environment.UserName != "root" && !IsRoot())
        {
            Console.Error.WriteLine("The benchmarks create network namespaces and mounts: run them as root (CAP_SYS_ADMIN).");
            return 1;
        }

        int probe = Array.IndexOf(args, "--syscalls");
        if (probe >= 0) return SyscallProbe.Run(args[probe + 1], int.Parse(args[probe + 2]));
        int compareScale = Array.IndexOf(args, "--compare-scale");
        if (compareScale >= 0) return SyscallProbe.CompareScale(int.Parse(args[compareScale + 1]), int.Parse(args[compareScale + 2]));
        int toolCost = Array.IndexOf(args, "--tool-cost");
        if (toolCost >= 0) return ToolCost.Run(args[toolCost + 1], args.Length > toolCost + 2 ? int.Parse(args[toolCost + 2]) : 300);
        int compare = Array.IndexOf(args, "--compare");
        if (compare >= 0) return SyscallProbe.Compare(args[compare + 1], args[compare + 2], int.Parse(args[compare + 3]));

        bool shortRun = args.Contains("--short");
        List<string> rest = args.Where(a => a != "--short").ToList();
        if (!rest.Any(a => a.StartsWith("--filter", StringComparison.Ordinal) || a is "--list" or "-h" or "--help" or "--info"))
            rest.AddRange(["--filter", "*"]);

        Job job = shortRun
            ? Job.Default.WithId("Short").WithLaunchCount(1).WithWarmupCount(2).WithIterationCount(5)
                .WithIterationTime(TimeInterval.FromMilliseconds(200))
            : Job.Default.WithMaxIterationCount(40); // the ip rows are noisy; 40 iterations bound the run to well under an hour
        IConfig config = DefaultConfig.Instance.AddJob(job.AsDefault());

        // Ctrl+C: BenchmarkDotNet would kill the benchmark process and go on with the next one. Instead, let the
        // benchmark process remove its namespaces (it does so on SIGINT), remove whatever is left, and stop.
        // The same for SIGTERM (kill, timeout).
        using var onInterrupt = PosixSignalRegistration.Create(PosixSignal.SIGINT, Interrupted);
        using var onTerminate = PosixSignalRegistration.Create(PosixSignal.SIGTERM, Interrupted);

        // Names left behind by a run that was killed (its process is gone); live runs' names are left alone.
        int orphans = Names.DeleteOrphans();
        if (orphans > 0) Console.WriteLine($"Removed {orphans} namespace(s) left by an earlier, interrupted run.");
        try
        {
            var summaries = BenchmarkSwitcher.FromAssembly(typeof(Program).Assembly).Run(rest.ToArray(), config).ToList();
            var reports = summaries.SelectMany(s => s.Reports).ToList();
            if (reports.Count > 0)
            {
                var table = new StringWriter();
                TargetsTable.Write(reports, table);
                string path = Path.Combine(summaries[0].ResultsDirectoryPath, "targets.md");
                File.WriteAllText(path, table.ToString());
                Console.WriteLine();
                Console.WriteLine($"// * Library vs. floor vs. ip netns, and the docs/design.md §12 targets ({path}) *");
                Console.Write(table);
            }
        }
        finally
        {
            Names.DeleteOrphans();
        }
        return s_interruptedBy == 0 ? 0 : 128 + s_interruptedBy;
    }

    private static volatile int s_interruptedBy;

    private static void Interrupted(PosixSignalContext context)
    {
        context.Cancel = true;
        s_interruptedBy = context.Signal == PosixSignal.SIGINT ? 2 : 15;
        Console.Error.WriteLine($"{context.Signal}: stopping the benchmark process and removing its namespaces.");
        // BenchmarkDotNet may start the next benchmark process meanwhile: repeat until none is seen for a moment.
        var deadline = DateTime.UtcNow.AddSeconds(10);
        int quiet = 0;
        while (quiet < 3 && DateTime.UtcNow < deadline)
        {
            quiet = StopChildren() ? 0 : quiet + 1;
            Names.DeleteOrphans();
            Thread.Sleep(100);
        }
        Environment.Exit(128 + s_interruptedBy);
    }

    /// <summary>Sends SIGINT to this process's children (the benchmark processes), waits up to 5 s for them to end; false if there were none.</summary>
    private static bool StopChildren()
    {
        const int SIGINT = 2;
        List<int> children = Children().Where(Names.IsAlive).ToList();
        foreach (int pid in children) Bare.kill(pid, SIGINT);
        var deadline = DateTime.UtcNow.AddSeconds(5);
        while (children.Any(Names.IsAlive) && DateTime.UtcNow < deadline) Thread.Sleep(50);
        return children.Count > 0;
    }

    private static List<int> Children()
    {
        var children = new List<int>();
        foreach (string dir in Directory.EnumerateDirectories("/proc"))
        {
            if (!int.TryParse(Path.GetFileName(dir), out int pid)) continue;
            try
            {
                // /proc/PID/stat: "pid (comm) state ppid …"; comm may contain spaces, so parse after the last ')'.
                string stat = File.ReadAllText($"{dir}/stat");
                string[] fields = stat[(stat.LastIndexOf(')') + 2)..].Split(' ');
                if (int.Parse(fields[1]) == Environment.ProcessId) children.Add(pid);
            }
            catch (IOException)
            {
            }
        }
        return children;
    }

    private static bool IsRoot() => File.ReadAllLines("/proc/self/status")
        .Any(l => l.StartsWith("Uid:", StringComparison.Ordinal) && l.Split('\t', StringSplitOptions.RemoveEmptyEntries)[1] == "0");
}
