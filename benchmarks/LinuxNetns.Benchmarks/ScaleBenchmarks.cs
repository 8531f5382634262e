using System.Diagnostics;
using BenchmarkDotNet.Attributes;
using BenchmarkDotNet.Configs;

namespace LinuxNetns.Benchmarks;

/// <summary>
/// <see cref="Present"/> real named namespaces (each its own kernel namespace and bind mount) exist during the
/// measurement; does the cost of one operation stay flat as they grow from 10 to 1,000?
/// </summary>
public abstract class ScaleBase
{
    /// <summary>How many named namespaces of ours are present while measuring (others' may exist too).</summary>
    [Params(10, 100, 1000)]
    public int Present { get; set; }

    protected void CreateFillers()
    {
        Names.DeleteOrphans();
        for (int i = 0; i < Present; i++)
        {
            NetworkNamespace.Create(Names.New("fill")).Dispose();
        }
        Names.Settle();
    }

    protected void DeleteAll() => Names.DeleteMine();
}

/// <summary>List and exec with N namespaces present (exec copies the whole mount table into its own mount namespace).</summary>
[MemoryDiagnoser]
[GroupBenchmarksBy(BenchmarkLogicalGroupRule.ByCategory)]
[CategoriesColumn]
public unsafe class ScaleListExecBenchmarks : ScaleBase
{
    private static readonly ProcessStartInfo True = new("/bin/true") { UseShellExecute = false };
    private byte* _runDir;
    private string _target = "";
    private NetworkNamespace _ns = null!;
    private int _targetFd;
    private byte* _targetName;
    private byte* _etcDir;

    [GlobalSetup]
    public void Setup()
    {
        CreateFillers();
        _runDir = Bare.Z(Names.RunDirectory);
        _target = Names.New("exec");
        _ns = NetworkNamespace.Create(_target);
        _targetFd = Bare.OpenChecked(Bare.Z(Names.PathOf(_target)));
        _targetName = Bare.Z(_target);
        _etcDir = Bare.Z("/etc/netns/" + _target);
        Process.Start(True)!.WaitForExit(); // the runtime's signal thread starts at home
    }

    [GlobalCleanup]
    public void Cleanup()
    {
        Bare.close(_targetFd);
        _ns.Dispose();
        DeleteAll();
    }

    [BenchmarkCategory("list"), Benchmark(Description = "library")]
    public IReadOnlyList<string> List_Library() => NetworkNamespace.List();

    [BenchmarkCategory("list"), Benchmark(Description = "floor", Baseline = true)]
    public List<string> List_Floor() => Bare.ListNames(_runDir);

    [BenchmarkCategory("list"), Benchmark(Description = "ip netns list")]
    public void List_Ip() => Ip.Netns("list");

    [BenchmarkCategory("exec /bin/true"), Benchmark(Description = "library")]
    public void Exec_Library()
    {
        using NamespaceProcess child = ExecInNamespace.Start(_ns, True);
        child.WaitForExit();
    }

    [BenchmarkCategory("exec /bin/true"), Benchmark(Description = "floor", Baseline = true)]
    public void Exec_Floor() => BareExec.Run(_targetFd, _targetName, _etcDir, True);

    [BenchmarkCategory("exec /bin/true"), Benchmark(Description = "ip netns exec NAME /bin/true")]
    public void Exec_Ip() => Ip.Netns("exec", _target, "/bin/true");
}

/// <summary>
/// Create and delete with N namespaces present. Each iteration creates (or deletes) a fixed batch of
/// <see cref="Batch"/> namespaces, prepared and removed outside the measurement, so the count present stays
/// between N and N + <see cref="Batch"/>.
/// </summary>
[MemoryDiagnoser]
[GroupBenchmarksBy(BenchmarkLogicalGroupRule.ByCategory)]
[CategoriesColumn]
[InvocationCount(Batch, 1)]
// Single deletes vary a lot (each lazy unmount waits for an RCU grace period): many short iterations, in both modes.
[IterationCount(20)]
public unsafe class ScaleCreateDeleteBenchmarks : ScaleBase
{
    public const int Batch = 32;
    private string[] _names = [];
    private nint[] _paths = [];
    private byte* _runDir;
    private BareThread _home = null!;
    private int _next;

    [GlobalSetup]
    public void Setup()
    {
        CreateFillers();
        _names = Enumerable.Range(0, Batch).Select(_ => Names.New("batch")).ToArray();
        _paths = _names.Select(n => (nint)Bare.Z(Names.PathOf(n))).ToArray();
        _runDir = Bare.Z(Names.RunDirectory);
        _home = new BareThread("floor:home", -1);
    }

    [GlobalCleanup]
    public void Cleanup()
    {
        _home.Dispose();
        DeleteAll();
    }

    [IterationSetup(Targets = new[] { nameof(Create_Library), nameof(Create_Floor), nameof(Create_Ip) })]
    public void BeforeCreates() => _next = 0;

    [IterationCleanup(Targets = new[] { nameof(Create_Library), nameof(Create_Floor), nameof(Create_Ip) })]
    public void AfterCreates()
    {
        foreach (string name in _names)
        {
            if (NetworkNamespace.Exists(name)) NetworkNamespace.Delete(name);
        }
    }

    [IterationSetup(Targets = new[] { nameof(Delete_Library), nameof(Delete_Floor), nameof(Delete_Ip) })]
    public void BeforeDeletes()
    {
        _next = 0;
        foreach (string name in _names)
        {
            if (!NetworkNamespace.Exists(name)) NetworkNamespace.Create(name).Dispose();
        }
    }

    [BenchmarkCategory("create"), Benchmark(Description = "library")]
    public void Create_Library() => NetworkNamespace.Create(_names[_next++]).Dispose();

    [BenchmarkCategory("create"), Benchmark(Description = "floor", Baseline = true)]
    public void Create_Floor() => Bare.close(Bare.CreatePinned(_runDir, (byte*)_paths[_next++], _home));

    [BenchmarkCategory("create"), Benchmark(Description = "ip netns add")]
    public void Create_Ip() => Ip.Netns("add", _names[_next++]);

    [BenchmarkCategory("delete"), Benchmark(Description = "library")]
    public void Delete_Library() => NetworkNamespace.Delete(_names[_next++]);

    [BenchmarkCategory("delete"), Benchmark(Description = "floor", Baseline = true)]
    public void Delete_Floor() => Bare.Delete((byte*)_paths[_next++]);

    [BenchmarkCategory("delete"), Benchmark(Description = "ip netns del")]
    public void Delete_Ip() => Ip.Netns("del", _names[_next++]);
}
