using System.Runtime.InteropServices;
using LinuxNetns.Analyzers;
using Microsoft.CodeAnalysis;
using Microsoft.CodeAnalysis.CSharp.Testing;
using Microsoft.CodeAnalysis.Testing;

namespace LinuxNetns.Tests;

/// <summary>
/// The LNS analyzer on snippets compiled against the real LinuxNetns assembly. No root, no network: the references
/// are the installed SDK's reference pack (or, without one, the running runtime's assemblies), never downloaded.
/// </summary>
public sealed class AnalyzerTests
{
    private const string Usings = """
        using System;
        using System.Threading;
        using System.Threading.Tasks;
        using LinuxNetns;

        """;

    private static Task Verify(string body, OutputKind kind = OutputKind.DynamicallyLinkedLibrary)
    {
        var test = new CSharpAnalyzerTest<ThreadsInNamespaceAnalyzer, DefaultVerifier>
        {
            TestCode = Usings + body,
            // An empty set: nothing to resolve, so nothing to download; the references come below.
            ReferenceAssemblies = new ReferenceAssemblies("net10.0"),
        };
        test.TestState.OutputKind = kind;
        test.TestState.AdditionalReferences.AddRange(FrameworkReferences.Value);
        test.TestState.AdditionalReferences.Add(MetadataReference.CreateFromFile(typeof(NetworkNamespace).Assembly.Location));
        return test.RunAsync();
    }

    private static readonly Lazy<MetadataReference[]> FrameworkReferences = new(() =>
    {
        string runtime = RuntimeEnvironment.GetRuntimeDirectory(); // <dotnet>/shared/Microsoft.NETCore.App/<version>/
        string packs = Path.GetFullPath(Path.Combine(runtime, "../../../packs/Microsoft.NETCore.App.Ref"));
        string major = $"{Environment.Version.Major}.";
        string? refDir = Directory.Exists(packs)
            ? Directory.GetDirectories(packs, major + "*").Select(v => Path.Combine(v, "ref", $"net{Environment.Version.Major}.0"))
                .Where(Directory.Exists).OrderBy(d => d, StringComparer.Ordinal).LastOrDefault()
            : null;
        IEnumerable<string> files = refDir is not null
            ? Directory.GetFiles(refDir, "*.dll")
            : Directory.GetFiles(runtime, "System*.dll").Append(typeof(object).Assembly.Location).Where(IsManaged);
        return files.Distinct().Select(f => (MetadataReference)MetadataReference.CreateFromFile(f)).ToArray();
    });

    private static bool IsManaged(string path)
    {
        try { System.Reflection.AssemblyName.GetAssemblyName(path); return true; }
        catch (BadImageFormatException) { return false; }
    }

    // --- LNS0001: inside using (ns.Enter()) -------------------------------------------------------------

    [Fact]
    public Task Task_Run_inside_a_using_statement_is_LNS0001() => Verify("""
        class C
        {
            void M(NetworkNamespace ns)
            {
                using (ns.Enter())
                {
                    {|LNS0001:Task.Run(() => { })|};
                }
            }
        }
        """);

    [Fact]
    public Task Every_listed_starter_inside_a_scope_is_LNS0001() => Verify("""
        class C
        {
            void M(NetworkNamespace ns, Thread t, Task task)
            {
                using (var scope = ns.Enter())
                {
                    {|LNS0001:Task.Factory.StartNew(() => { })|};
                    {|LNS0001:new TaskFactory().StartNew(() => { })|};
                    {|LNS0001:new TaskFactory<int>().StartNew(() => 1)|};
                    {|LNS0001:task.Start()|};
                    {|LNS0001:t.Start()|};
                    {|LNS0001:new Thread(() => { }).UnsafeStart()|};
                    {|LNS0001:Parallel.For(0, 2, i => { })|};
                    {|LNS0001:Parallel.Invoke(() => { })|};
                    {|LNS0001:ThreadPool.QueueUserWorkItem(_ => { })|};
                    {|LNS0001:ThreadPool.UnsafeQueueUserWorkItem(_ => { }, null)|};
                    {|LNS0001:ThreadPool.RegisterWaitForSingleObject(new ManualResetEvent(false), (_, _) => { }, null, -1, true)|};
                    using var timer = {|LNS0001:new Timer(_ => { })|};
                    using var timers = {|LNS0001:new System.Timers.Timer(10)|};
                    {|LNS0001:timers.Start()|};
                    using var periodic = {|LNS0001:new PeriodicTimer(TimeSpan.FromSeconds(1))|};
                }
            }
        }
        """);

    [Fact]
    public Task Using_declaration_flags_the_rest_of_its_block_and_nothing_before_or_after() => Verify("""
        class C
        {
            void M(NetworkNamespace ns, bool b)
            {
                Task.Run(() => { });
                if (b)
                {
                    Task.Run(() => { });
                    using var scope = ns.Enter();
                    {|LNS0001:Task.Run(() => { })|};
                    if (b) {|LNS0001:ThreadPool.QueueUserWorkItem(_ => { })|};
                }
                Task.Run(() => { });
            }
        }
        """);

    [Fact]
    public Task Calls_outside_after_or_in_the_resource_of_the_scope_are_not_flagged() => Verify("""
        class C
        {
            void M(NetworkNamespace ns)
            {
                Task.Run(() => { });
                using (ns.Enter())
                {
                    Thread.Sleep(0);
                }
                Task.Run(() => { });
                new Thread(() => { }).Start();
                using (Task.Run(() => ns).Result.Enter()) { }
            }

            // A method called from the scope is not analyzed through the call: the rule is syntactic.
            void Helper() => Task.Run(() => { });
            void N(NetworkNamespace ns) { using (ns.Enter()) Helper(); }
        }
        """);

    [Fact]
    public Task A_thread_created_inside_but_not_started_there_is_not_flagged() => Verify("""
        class C
        {
            Thread M(NetworkNamespace ns)
            {
                Thread t;
                using (ns.Enter())
                {
                    t = new Thread(() => { });
                }
                t.Start();
                return t;
            }
        }
        """);

    [Fact]
    public Task Nested_lambdas_and_local_functions_inside_a_scope_are_flagged() => Verify("""
        class C
        {
            void M(NetworkNamespace ns)
            {
                using var scope = ns.Enter();
                Action later = () => {|LNS0001:Task.Run(() => { })|};
                void Local() => {|LNS0001:ThreadPool.QueueUserWorkItem(_ => { })|};
                Local();
            }
        }
        """);

    [Fact]
    public Task Using_declaration_in_top_level_statements_is_LNS0001() => Verify("""
        NetworkNamespace ns = NetworkNamespace.CreateTemporary();
        Task.Run(() => { });
        using var scope = ns.Enter();
        {|LNS0001:Task.Run(() => { })|};
        """, OutputKind.ConsoleApplication);

    [Fact]
    public Task Another_type_with_an_Enter_method_is_not_a_namespace_scope() => Verify("""
        ref struct Fake { public void Dispose() { } }
        class Other { public Fake Enter() => default; public void Run(Action a) => a(); }
        class C
        {
            void M(Other o)
            {
                using (o.Enter()) { Task.Run(() => { }); }
                using var s = o.Enter();
                Task.Run(() => { });
                o.Run(() => Task.Run(() => { }));
            }
        }
        """);

    // --- LNS0002: inside a Run delegate ---------------------------------------------------------------

    [Fact]
    public Task Task_Run_inside_Run_is_LNS0002_and_outside_Run_is_not() => Verify("""
        class C
        {
            void M(NetworkNamespace ns)
            {
                ns.Run(() => {|LNS0002:Task.Run(() => { })|});
                int n = ns.Run(() => { {|LNS0002:new Thread(() => { }).Start()|}; return 1; });
                ns.Run(delegate { {|LNS0002:Parallel.Invoke(() => { })|}; });
                ns.Run(() => Console.WriteLine(n));
                Task.Run(() => ns.Run(() => { }));
            }
        }
        """);

    [Fact]
    public Task Nested_lambdas_inside_Run_are_flagged_and_the_innermost_context_wins() => Verify("""
        class C
        {
            void M(NetworkNamespace ns)
            {
                ns.Run(() =>
                {
                    Action a = () => {|LNS0002:Task.Run(() => { })|};
                    using (ns.Enter()) {|LNS0001:Task.Run(() => { })|};
                });
                using (ns.Enter())
                {
                    ns.Run(() => {|LNS0002:ThreadPool.QueueUserWorkItem(_ => { })|});
                }
            }
        }
        """);

    [Fact]
    public Task A_method_group_passed_to_Run_is_not_analyzed_through() => Verify("""
        class C
        {
            void Work() => Task.Run(() => { });
            void M(NetworkNamespace ns) => ns.Run(Work);
        }
        """);

    // --- LNS0003: await inside a Run delegate ---------------------------------------------------------

    [Fact]
    public Task Await_inside_Run_is_LNS0003_and_outside_is_not() => Verify("""
        class C
        {
            async Task M(NetworkNamespace ns)
            {
                await ns.Run(async () => { {|LNS0003:await Task.Yield()|}; });
                _ = ns.Run(async () => { {|LNS0003:await Task.Delay(1)|}; });
                await Task.Yield();
                ns.Run(() => { });
            }
        }
        """);
}
