using System.Reflection;

namespace LinuxNetns.Benchmarks;

/// <summary>
/// <c>--syscalls METHOD COUNT</c>: runs one benchmark method of <see cref="OperationBenchmarks"/> COUNT times outside
/// BenchmarkDotNet, between two marker writes, so that <c>strace -f -c</c> (or <c>strace -f</c> and the markers)
/// shows which syscalls one operation makes. Compare COUNT=0 with COUNT=10000 to subtract the setup.
/// </summary>
internal static class SyscallProbe
{
    public static int Run(string method, int count)
    {
        var target = new OperationBenchmarks();
        MethodInfo? m = typeof(OperationBenchmarks).GetMethod(method);
        if (m is null)
        {
            Console.Error.WriteLine($"No method {method}; one of: " + string.Join(", ",
                typeof(OperationBenchmarks).GetMethods().Where(x => x.GetCustomAttribute<BenchmarkDotNet.Attributes.BenchmarkAttribute>() is not null).Select(x => x.Name)));
            return 2;
        }
        var action = m.CreateDelegate<Action>(target);
        target.Setup();
        try
        {
            for (int i = 0; i < 100; i++) action(); // warm up (tiering, lazily started threads)
            Thread.Sleep(300);
            Console.Out.Flush();
            Console.WriteLine("BEGIN");
            for (int i = 0; i < count; i++) action();
            Console.WriteLine("END");
        }
        finally
        {
            target.Cleanup();
        }
        return 0;
    }

    /// <summary>
    /// <c>--compare METHOD_A METHOD_B COUNT</c>: times single calls of two methods of <see cref="OperationBenchmarks"/>,
    /// alternating A, B, A, B… so that a machine whose load drifts (other people's builds) affects both alike, and prints
    /// the medians and their ratio. A sanity check for noisy machines, not a replacement for BenchmarkDotNet.
    /// </summary>
    public static int Compare(string methodA, string methodB, int count)
    {
        var target = new OperationBenchmarks();
        var a = typeof(OperationBenchmarks).GetMethod(methodA)!.CreateDelegate<Action>(target);
        var b = typeof(OperationBenchmarks).GetMethod(methodB)!.CreateDelegate<Action>(target);
        target.Setup();
        try
        {
            for (int i = 0; i < 50; i++)
            {
                a();
                b();
            }
            var ta = new double[count];
            var tb = new double[count];
            for (int i = 0; i < count; i++)
            {
                long t0 = System.Diagnostics.Stopwatch.GetTimestamp();
                a();
                long t1 = System.Diagnostics.Stopwatch.GetTimestamp();
                b();
                long t2 = System.Diagnostics.Stopwatch.GetTimestamp();
                ta[i] = (t1 - t0) * 1e6 / System.Diagnostics.Stopwatch.Frequency;
                tb[i] = (t2 - t1) * 1e6 / System.Diagnostics.Stopwatch.Frequency;
            }
            Array.Sort(ta);
            Array.Sort(tb);
            double ma = ta[count / 2], mb = tb[count / 2];
            Console.WriteLine($"{methodA}: median {ma:F1} us, p10 {ta[count / 10]:F1}, p90 {ta[count * 9 / 10]:F1}");
            Console.WriteLine($"{methodB}: median {mb:F1} us, p10 {tb[count / 10]:F1}, p90 {tb[count * 9 / 10]:F1}");
            Console.WriteLine($"ratio of medians {methodA}/{methodB}: {ma / mb:F2}");
        }
        finally
        {
            target.Cleanup();
        }
        return 0;
    }

    /// <summary>
    /// <c>--compare-scale N COUNT</c>: with N namespaces present, times COUNT creates, then COUNT deletes, then COUNT
    /// execs of the library and the floor, alternating one call of each, and prints the medians and their ratios
    /// (the count present grows by up to 2 × COUNT during the creates).
    /// </summary>
    public static unsafe int CompareScale(int present, int count)
    {
        byte* runDir = Bare.Z(Names.RunDirectory);
        using var home = new BareThread("floor:home", -1);
        try
        {
            for (int i = 0; i < present; i++) NetworkNamespace.Create(Names.New("fill")).Dispose();
            Names.Settle();
            string[] libNames = Enumerable.Range(0, count).Select(_ => Names.New("lib")).ToArray();
            string[] floorNames = Enumerable.Range(0, count).Select(_ => Names.New("floor")).ToArray();
            nint[] floorPaths = floorNames.Select(n => (nint)Bare.Z(Names.PathOf(n))).ToArray();

            Report("create", present, Alternate(count,
                i => NetworkNamespace.Create(libNames[i]).Dispose(),
                i => Bare.close(Bare.CreatePinned(runDir, (byte*)floorPaths[i], home))));
            Report("delete", present, Alternate(count,
                i => NetworkNamespace.Delete(libNames[i]),
                i => Bare.Delete((byte*)floorPaths[i])));

            string target = Names.New("exec");
            using NetworkNamespace ns = NetworkNamespace.Create(target);
            int fd = Bare.OpenChecked(Bare.Z(Names.PathOf(target)));
            byte* name = Bare.Z(target), etc = Bare.Z("/etc/netns/" + target);
            var info = new System.Diagnostics.ProcessStartInfo("/bin/true") { UseShellExecute = false };
            System.Diagnostics.Process.Start(info)!.WaitForExit();
            Report("exec /bin/true", present, Alternate(count,
                _ =>
                {
                    using var child = ExecInNamespace.Start(ns, info);
                    child.WaitForExit();
                },
                _ => BareExec.Run(fd, name, etc, info)));
            Bare.close(fd);
        }
        finally
        {
            Names.DeleteMine();
        }
        return 0;
    }

    private static (double[] Library, double[] Floor) Alternate(int count, Action<int> library, Action<int> floor)
    {
        var a = new double[count];
        var b = new double[count];
        for (int i = 0; i < count; i++)
        {
            long t0 = System.Diagnostics.Stopwatch.GetTimestamp();
            library(i);
            long t1 = System.Diagnostics.Stopwatch.GetTimestamp();
            floor(i);
            long t2 = System.Diagnostics.Stopwatch.GetTimestamp();
            a[i] = (t1 - t0) * 1e6 / System.Diagnostics.Stopwatch.Frequency;
            b[i] = (t2 - t1) * 1e6 / System.Diagnostics.Stopwatch.Frequency;
        }
        Array.Sort(a);
        Array.Sort(b);
        return (a, b);
    }

    private static void Report(string operation, int present, (double[] Library, double[] Floor) t)
    {
        double ml = t.Library[t.Library.Length / 2], mf = t.Floor[t.Floor.Length / 2];
        Console.WriteLine($"{operation,-15} present {present,5}: library median {ml,8:F1} us, floor median {mf,8:F1} us, ratio {ml / mf:F2}");
    }
}
