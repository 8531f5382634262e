using LinuxNetns.Tests.Infrastructure;

namespace LinuxNetns.Tests;

/// <summary>No thread is ever born in, or left in, a foreign namespace by the library; users can find those that are.</summary>
public sealed class ThreadHygieneTests : NamespaceTest
{
    [RootFact]
    public void First_use_in_a_fresh_process_leaves_no_stray_thread()
    {
        // In this test process the runtime's lazily started threads already run; in a fresh one they do not, so the
        // library's first Enter, Run and CreateSocket are where they would be born.
        string name = NewName("hygiene");
        ShellResult r = Probe.Run([], "hygiene", name);
        r.StdOut.Trim().Should().Be("ok strays:", r.StdErr);
        NetworkNamespace.Exists(name).Should().BeFalse();
    }

    [RootFact]
    public void FindStrayThreads_reports_a_thread_started_while_switched()
    {
        string name = NewName("stray");
        using (NetworkNamespace ns = NetworkNamespace.Create(name))
        {
            using var release = new ManualResetEventSlim();
            var started = new ManualResetEventSlim();
            Thread stray;
            int strayTid = 0;
            using (ns.Enter())
            {
                // The mistake the library warns about: a thread created while switched is born inside.
                stray = new Thread(() =>
                {
                    strayTid = NativeForTests.gettid();
                    started.Set();
                    release.Wait();
                }) { Name = "born-inside" };
                stray.Start();
            }
            started.Wait();
            IReadOnlyList<StrayThread> found = NamespaceDiagnostics.FindStrayThreads();
            found.Should().ContainSingle(t => t.Name == "born-inside").Which.Namespace.Should().Be(ns.Id);
            found.Should().NotContain(t => t.ThreadId == NativeForTests.gettid(), "this thread was switched back");
            release.Set();
            stray.Join();
            NativeForTests.WaitForThreadToEnd(strayTid);
        }
        NetworkNamespace.Delete(name);
    }
    [Fact]
    public void The_calls_made_while_switched_are_never_tiered()
    {
        // Switched code calls libc only through Interop.Switched (function pointers, no generated wrapper). A tiered
        // method is call-counted, and reaching its threshold while switched could make the runtime start its tiering
        // worker on that thread, inside the namespace: every one of them must be AggressiveOptimization.
        System.Reflection.Assembly library = typeof(NetworkNamespace).Assembly;
        Type switched = library.GetType("LinuxNetns.Interop.Switched", throwOnError: true)!;
        System.Reflection.MethodInfo[] calls = switched.GetMethods(
            System.Reflection.BindingFlags.Public | System.Reflection.BindingFlags.NonPublic | System.Reflection.BindingFlags.Static | System.Reflection.BindingFlags.DeclaredOnly)
            .Where(m => m.Name != "EnsureReady").ToArray();
        calls.Select(m => m.Name).Should().Contain(["Setns", "Unshare", "Mount", "Open", "Close", "ReadlinkAt", "FStat"]);
        foreach (System.Reflection.MethodInfo method in calls)
        {
            method.MethodImplementationFlags.Should().HaveFlag(
                System.Reflection.MethodImplAttributes.AggressiveOptimization, $"{method.Name} runs while switched");
        }

        // The netlink socket is opened on a Run worker: its [LibraryImport] wrappers are not call-counted either.
        Type libc = library.GetType("LinuxNetns.Interop.Libc", throwOnError: true)!;
        foreach (string name in new[] { "SocketImport", "BindImport", "GetsocknameImport", "SetsockoptImport", "SendImport", "RecvImport" })
        {
            System.Reflection.MethodInfo method = libc.GetMethod(
                name, System.Reflection.BindingFlags.NonPublic | System.Reflection.BindingFlags.Static)!;
            method.Should().NotBeNull(name);
            method.MethodImplementationFlags.Should().HaveFlag(
                System.Reflection.MethodImplAttributes.AggressiveOptimization, $"{name} runs on a Run worker");
        }
    }
    [Fact]
    public void A_stray_runtime_thread_is_named_for_what_it_is()
    {
        var ns = NamespaceDiagnostics.HomeNamespace;
        new StrayThread(1, ".NET BGC", ns).RuntimeRole.Should().Contain("background GC").And.Contain("System.GC.Concurrent");
        new StrayThread(2, ".NET TP Worker", ns).RuntimeRole.Should().Contain("thread-pool worker");
        new StrayThread(3, ".NET Tiered Com", ns).RuntimeRole.Should().Contain("tiered-compilation");
        new StrayThread(4, "born-inside", ns).RuntimeRole.Should().BeNull();

        // Every thread name a .NET 10 process was seen to have (comm, 15 characters), and the tiering worker's newer
        // name in the runtime's source (".NET Tiered JIT"): each is named, none is mistaken for another.
        string[] seen =
        [
            ".NET SynchManag", ".NET EventPipe", ".NET DebugPipe", ".NET Debugger", ".NET Finalizer", ".NET Tiered Com",
            ".NET Tiered JIT", ".NET SigHandler", ".NET Sockets", ".NET TP Worker", ".NET TP Gate", ".NET Timer",
            ".NET TP Wait", ".NET BGC", ".NET Server GC", ".NET Long Runni",
        ];
        foreach (string name in seen) new StrayThread(5, name, ns).RuntimeRole.Should().NotBeNullOrEmpty(name);
        new StrayThread(6, ".NET TP Gate", ns).RuntimeRole.Should().Contain("gate").And.Contain("never ends");
        new StrayThread(7, ".NET Tiered JIT", ns).RuntimeRole.Should().Contain("tiered-compilation");
        new StrayThread(8, ".NET TP Wait", ns).RuntimeRole.Should().Contain("wait thread");
    }
}
