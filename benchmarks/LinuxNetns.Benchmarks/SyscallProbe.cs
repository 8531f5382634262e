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
}
