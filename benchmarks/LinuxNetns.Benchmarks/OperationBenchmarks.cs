using System.Diagnostics;
using System.Net.Sockets;
using BenchmarkDotNet.Attributes;
using BenchmarkDotNet.Configs;

namespace LinuxNetns.Benchmarks;

/// <summary>
/// Each operation three ways, in one run: the library; the floor (the same syscalls, bare P/Invoke); and
/// <c>ip netns …</c> started as a process. Ratios are to the floor of the same operation.
/// </summary>
[MemoryDiagnoser]
[GroupBenchmarksBy(BenchmarkLogicalGroupRule.ByCategory)]
[CategoriesColumn]
public unsafe class OperationBenchmarks
{
    private string _target = "";
    private NetworkNamespace _ns = null!;
    private byte* _targetPath;
    private int _targetFd = -1;
    private string _scratch = "";
    private byte* _scratchPath;
    private byte* _runDir;
    private BareThread _home = null!;
    private BareThread _worker = null!;
    private static readonly Action Empty = static () => { };
    private static readonly ProcessStartInfo True = new("/bin/true") { UseShellExecute = false };
    private byte* _targetName;
    private byte* _etcDir;

    [GlobalSetup]
    public void Setup()
    {
        Names.DeleteOrphans();
        _target = Names.New("ops");
        _ns = NetworkNamespace.Create(_target);
        _targetPath = Bare.Z(Names.PathOf(_target));
        _targetFd = Bare.OpenChecked(_targetPath);
        _scratch = Names.New("cd");
        _scratchPath = Bare.Z(Names.PathOf(_scratch));
        _runDir = Bare.Z(Names.RunDirectory);
        // Start the runtime's lazy threads (sockets, signals, timer, pool) from home, before any thread switches.
        _ns.Run(Empty);
        new Socket(AddressFamily.InterNetwork, SocketType.Dgram, ProtocolType.Udp).Dispose();
        _targetName = Bare.Z(_target);
        _etcDir = Bare.Z("/etc/netns/" + _target);
        // The first Process use starts the runtime's signal thread: from home, before the floor's exec thread switches.
        Process.Start(True)!.WaitForExit();
        _home = new BareThread("floor:home", -1);
        _worker = new BareThread("floor:worker", _targetFd);
        Names.Settle();
    }

    [GlobalCleanup]
    public void Cleanup()
    {
        _worker.Dispose();
        _home.Dispose();
        Bare.close(_targetFd);
        _ns.Dispose();
        Names.DeleteMine();
    }

    // ---- create + delete ---------------------------------------------------------------------------

    [BenchmarkCategory("create+delete"), Benchmark(Description = "library")]
    public void CreateDelete_Library()
    {
        NetworkNamespace.Create(_scratch).Dispose();
        NetworkNamespace.Delete(_scratch);
    }

    [BenchmarkCategory("create+delete"), Benchmark(Description = "floor", Baseline = true)]
    public void CreateDelete_Floor()
    {
        Bare.close(Bare.CreatePinned(_runDir, _scratchPath, _home));
        Bare.Delete(_scratchPath);
    }

    [BenchmarkCategory("create+delete"), Benchmark(Description = "ip netns add + ip netns del")]
    public void CreateDelete_Ip()
    {
        Ip.Netns("add", _scratch);
        Ip.Netns("del", _scratch);
    }

    // ---- open + dispose ----------------------------------------------------------------------------

    [BenchmarkCategory("open+dispose"), Benchmark(Description = "library")]
    public void Open_Library() => NetworkNamespace.Open(_target).Dispose();

    [BenchmarkCategory("open+dispose"), Benchmark(Description = "floor", Baseline = true)]
    public void Open_Floor() => Bare.close(Bare.OpenChecked(_targetPath));

    [BenchmarkCategory("open+dispose"), Benchmark(Description = "ip netns exec NAME /bin/true")]
    public void Open_Ip() => Ip.Netns("exec", _target, "/bin/true");

    // ---- enter + exit ------------------------------------------------------------------------------

    [BenchmarkCategory("enter+exit"), Benchmark(Description = "library")]
    public void Enter_Library()
    {
        using NamespaceScope scope = _ns.Enter();
    }

    [BenchmarkCategory("enter+exit"), Benchmark(Description = "floor", Baseline = true)]
    public void Enter_Floor() => Bare.EnterExit(_targetFd);

    [BenchmarkCategory("enter+exit"), Benchmark(Description = "ip netns exec NAME /bin/true")]
    public void Enter_Ip() => Ip.Netns("exec", _target, "/bin/true");

    // ---- Run of an empty delegate ------------------------------------------------------------------

    [BenchmarkCategory("Run(empty)"), Benchmark(Description = "library")]
    public void Run_Library() => _ns.Run(Empty);

    [BenchmarkCategory("Run(empty)"), Benchmark(Description = "floor", Baseline = true)]
    public void Run_Floor() => _worker.Execute(&Nothing, null);

    [BenchmarkCategory("Run(empty)"), Benchmark(Description = "ip netns exec NAME /bin/true")]
    public void Run_Ip() => Ip.Netns("exec", _target, "/bin/true");

    private static void Nothing(void* state)
    {
    }

    // ---- RunAsync, against Run (its floor here: the synchronous hand-off to the same namespace) ----------------------

    private static readonly Func<Task> EmptyAsync = static () => Task.CompletedTask;
    private static readonly Func<Task> YieldOnce = AsyncDelegates.YieldOnce;

    [BenchmarkCategory("RunAsync(empty)"), Benchmark(Description = "library")]
    public Task RunAsyncEmpty_Library() => _ns.RunAsync(EmptyAsync);

    [BenchmarkCategory("RunAsync(empty)"), Benchmark(Description = "Run(empty)", Baseline = true)]
    public void RunAsyncEmpty_Run() => _ns.Run(Empty);

    [BenchmarkCategory("RunAsync(await Task.Yield())"), Benchmark(Description = "library")]
    public Task RunAsyncYield_Library() => _ns.RunAsync(YieldOnce);

    [BenchmarkCategory("RunAsync(await Task.Yield())"), Benchmark(Description = "Run(empty)", Baseline = true)]
    public void RunAsyncYield_Run() => _ns.Run(Empty);

    // ---- CreateSocket ------------------------------------------------------------------------------

    [BenchmarkCategory("CreateSocket"), Benchmark(Description = "library")]
    public void Socket_Library() => _ns.CreateSocket(AddressFamily.InterNetwork, SocketType.Dgram, ProtocolType.Udp).Dispose();

    [BenchmarkCategory("CreateSocket"), Benchmark(Description = "floor", Baseline = true)]
    public void Socket_Floor()
    {
        int fd;
        _worker.Execute(&Bare.Socket, &fd);
        Bare.Check(fd, "socket");
        Bare.close(fd);
    }

    [BenchmarkCategory("CreateSocket"), Benchmark(Description = "ip netns exec NAME /bin/true")]
    public void Socket_Ip() => Ip.Netns("exec", _target, "/bin/true");

    // ---- exec of /bin/true -------------------------------------------------------------------------

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

/// <summary>Async delegates for the RunAsync rows (an await cannot be written in the unsafe class above).</summary>
internal static class AsyncDelegates
{
    public static async Task YieldOnce() => await Task.Yield();
}
