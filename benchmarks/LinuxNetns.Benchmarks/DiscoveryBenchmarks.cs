using System.Diagnostics;
using BenchmarkDotNet.Attributes;

namespace LinuxNetns.Benchmarks;

/// <summary>
/// <see cref="NamespaceDiscovery.Discover()"/> with 100 processes (each <c>unshare --net sleep</c>, so each holds an anonymous
/// namespace of its own) and 100 named namespaces present, against <c>lsns -t net</c> started with <c>Process.Start</c>
/// (what a .NET program does today). lsns is the baseline: the ratio column is Discover ÷ lsns. See docs/benchmarks.md.
/// </summary>
[MemoryDiagnoser]
public class DiscoveryBenchmarks
{
    private const int Processes = 100;
    private const int Named = 100;
    private readonly List<Process> _sleepers = [];

    [GlobalSetup]
    public void Setup()
    {
        Names.DeleteOrphans();
        for (int i = 0; i < Named; i++) NetworkNamespace.Create(Names.New("disc")).Dispose();
        for (int i = 0; i < Processes; i++)
        {
            _sleepers.Add(Process.Start(new ProcessStartInfo("unshare", "--net sleep 3600") { UseShellExecute = false })!);
        }
        Names.Settle();
        DiscoveryResult seen = NamespaceDiscovery.Discover();
        int anonymous = seen.Count(n => n.Names.Count == 0 && n.ProcessIds.Any(p => _sleepers.Exists(s => s.Id == p)));
        Console.WriteLine($"// discovery sees {seen.Count} namespaces, {anonymous} of them held by the {Processes} sleepers; skipped {seen.Skipped}");
    }

    [GlobalCleanup]
    public void Cleanup()
    {
        foreach (Process p in _sleepers)
        {
            try
            {
                p.Kill();
                p.WaitForExit();
            }
            catch (InvalidOperationException)
            {
            }
            p.Dispose();
        }
        _sleepers.Clear();
        Names.DeleteMine();
    }

    [Benchmark(Description = "Discover() (all sources)")]
    public int Discover_All() => NamespaceDiscovery.Discover().Count;

    [Benchmark(Description = "Discover(processes + run directory)")]
    public int Discover_ProcessesAndNames() =>
        NamespaceDiscovery.Discover(NetworkNamespaceOptions.Default, DiscoverySources.Processes | DiscoverySources.RunDirectory).Count;

    [Benchmark(Description = "Discover(all but Details)")]
    public int Discover_NoDetails() =>
        NamespaceDiscovery.Discover(NetworkNamespaceOptions.Default, DiscoverySources.All & ~DiscoverySources.Details).Count;

    [Benchmark(Description = "Discover(all but Descriptors, Threads)")]
    public int Discover_NoDescriptorsOrThreads() =>
        NamespaceDiscovery.Discover(NetworkNamespaceOptions.Default, DiscoverySources.All & ~(DiscoverySources.Descriptors | DiscoverySources.Threads)).Count;

    [Benchmark(Description = "lsns -t net", Baseline = true)]
    public int Lsns()
    {
        using Process p = Process.Start(new ProcessStartInfo("lsns", "-t net") { UseShellExecute = false, RedirectStandardOutput = true })!;
        string output = p.StandardOutput.ReadToEnd();
        p.WaitForExit();
        return output.Length;
    }
}
