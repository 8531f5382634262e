using System.Net;
using System.Net.Sockets;
using LinuxNetns.Tests.Infrastructure;

namespace LinuxNetns.Tests;

/// <summary>ns.RunAsync: async code on the namespace's event-loop thread, every continuation inside.</summary>
public sealed class RunAsyncTests : NamespaceTest
{
    [RootFact]
    public async Task Every_continuation_of_a_flow_resumes_inside_on_the_same_thread()
    {
        using NetworkNamespace ns = NetworkNamespace.CreateTemporary();
        int callerTid = NativeForTests.gettid();
        var seen = new List<(NamespaceId Ns, int Tid, bool Context)>();
        void Note() => seen.Add((NativeForTests.CurrentThreadNamespace(), NativeForTests.gettid(), SynchronizationContext.Current is not null));

        await ns.RunAsync(async () =>
        {
            Note();
            await Task.Yield();
            Note();
            await Task.Delay(20);
            Note();
            // A real async socket operation: UDP over the namespace's loopback, completed by the runtime's epoll thread.
            using var receiver = new Socket(AddressFamily.InterNetwork, SocketType.Dgram, ProtocolType.Udp);
            using var sender = new Socket(AddressFamily.InterNetwork, SocketType.Dgram, ProtocolType.Udp);
            ns.Network.SetLinkUp("lo");
            receiver.Bind(new IPEndPoint(IPAddress.Loopback, 0));
            Task<int> receive = receiver.ReceiveAsync(new byte[16], SocketFlags.None);
            await Task.Delay(10);
            await sender.SendToAsync(new byte[] { 1, 2, 3 }, SocketFlags.None, receiver.LocalEndPoint!);
            (await receive).Should().Be(3);
            Note();
            await Task.Factory.StartNew(Note); // TaskScheduler.Current is the loop's: StartNew runs there too
        });

        seen.Should().HaveCount(5);
        seen.Should().OnlyContain(s => s.Ns == ns.Id && s.Context, "every continuation resumes inside, under the loop's context");
        seen.Select(s => s.Tid).Distinct().Should().ContainSingle().Which.Should().NotBe(callerTid);
        NativeForTests.CurrentThreadNamespace().Should().Be(NamespaceDiagnostics.HomeNamespace,
            "the caller's continuation after the await runs outside, never on the namespace's thread");
    }

    [RootFact]
    public async Task Many_flows_run_concurrently_on_one_namespace_interleaved_at_their_awaits()
    {
        using NetworkNamespace ns = NetworkNamespace.CreateTemporary();
        int running = 0, maxRunning = 0;
        var tids = new System.Collections.Concurrent.ConcurrentBag<int>();
        Task<int>[] flows = Enumerable.Range(0, 20).Select(i => ns.RunAsync(async () =>
        {
            maxRunning = Math.Max(maxRunning, ++running); // no lock: one thread runs them all
            tids.Add(NativeForTests.gettid());
            await Task.Delay(50);
            NativeForTests.CurrentThreadNamespace().Should().Be(ns.Id);
            running--;
            return i;
        })).ToArray();

        (await Task.WhenAll(flows)).Should().Equal(Enumerable.Range(0, 20));
        maxRunning.Should().BeGreaterThan(1, "a flow that awaits lets the others run");
        tids.Distinct().Should().ContainSingle("the flows share the namespace's one thread");
    }

    [RootFact]
    public async Task Exceptions_reach_the_caller_unchanged_before_and_after_an_await()
    {
        using NetworkNamespace ns = NetworkNamespace.CreateTemporary();
        var before = new InvalidOperationException("before");
        var after = new FormatException("after");

        (await ns.Invoking(n => n.RunAsync(() => throw before)).Should().ThrowAsync<InvalidOperationException>())
            .Which.Should().BeSameAs(before, "a synchronous throw of a non-async delegate");
        (await ns.Invoking(n => n.RunAsync(async () => { await Task.Yield(); ThrowAfterAwait(after); })).Should().ThrowAsync<FormatException>())
            .Which.Should().BeSameAs(after).And.Subject.As<Exception>().StackTrace.Should().Contain(nameof(ThrowAfterAwait));
        (await ns.RunAsync(async () => { await Task.Yield(); return 42; })).Should().Be(42, "the thread survives its flows' exceptions");
    }

    private static void ThrowAfterAwait(Exception e) => throw e;

    [RootFact]
    public async Task Cancellation_reaches_the_caller_with_its_token()
    {
        using NetworkNamespace ns = NetworkNamespace.CreateTemporary();
        using var cts = new CancellationTokenSource();

        // Canceled inside the flow.
        Task flow = ns.RunAsync(async () => await Task.Delay(Timeout.Infinite, cts.Token));
        cts.CancelAfter(20);
        (await flow.Invoking(f => f).Should().ThrowAsync<OperationCanceledException>()).Which.CancellationToken.Should().Be(cts.Token);
        flow.IsCanceled.Should().BeTrue();

        // Canceled before it starts: the delegate never runs.
        bool ran = false;
        Task<int> notStarted = ns.RunAsync(() => { ran = true; return Task.FromResult(1); }, cts.Token);
        (await notStarted.Invoking(f => f).Should().ThrowAsync<OperationCanceledException>()).Which.CancellationToken.Should().Be(cts.Token);
        ran.Should().BeFalse();
    }

    [RootFact]
    public async Task ConfigureAwait_false_and_Task_Run_leave_the_namespace_and_the_flow_comes_back_inside()
    {
        using NetworkNamespace ns = NetworkNamespace.CreateTemporary();
        (NamespaceId inRun, NamespaceId afterRun, NamespaceId afterFalse, bool poolAfterFalse) = await ns.RunAsync(async () =>
        {
            NamespaceId inRun = await Task.Run(NativeForTests.CurrentThreadNamespace);
            NamespaceId afterRun = NativeForTests.CurrentThreadNamespace();
            await Task.Delay(10).ConfigureAwait(false);
            return (inRun, afterRun, NativeForTests.CurrentThreadNamespace(), Thread.CurrentThread.IsThreadPoolThread);
        });
        inRun.Should().Be(NamespaceDiagnostics.HomeNamespace, "Task.Run runs on a pool thread, outside");
        afterRun.Should().Be(ns.Id, "the await without ConfigureAwait(false) resumed inside");
        afterFalse.Should().Be(NamespaceDiagnostics.HomeNamespace, "after ConfigureAwait(false) the flow runs on a pool thread");
        poolAfterFalse.Should().BeTrue();
        NativeForTests.ThreadsIn(ns.Id).Should().Be(1, "only the namespace's own thread is inside");
    }

    [RootFact]
    public async Task Nested_flows_and_Run_work_from_inside_a_flow()
    {
        using NetworkNamespace a = NetworkNamespace.CreateTemporary();
        using NetworkNamespace b = NetworkNamespace.CreateTemporary();
        (NamespaceId Nested, NamespaceId Other, NamespaceId Sync, NamespaceId Back) seen = await a.RunAsync(async () =>
        {
            int tid = NativeForTests.gettid();
            NamespaceId nested = await a.RunAsync(() =>
            {
                NativeForTests.gettid().Should().Be(tid, "RunAsync of the same namespace from a flow runs in that flow");
                return Task.FromResult(NativeForTests.CurrentThreadNamespace());
            });
            NamespaceId other = await b.RunAsync(async () => { await Task.Yield(); return NativeForTests.CurrentThreadNamespace(); });
            NamespaceId sync = b.Run(NativeForTests.CurrentThreadNamespace);
            return (nested, other, sync, NativeForTests.CurrentThreadNamespace());
        });
        seen.Should().Be((a.Id, b.Id, b.Id, a.Id));
    }

    [RootFact]
    public async Task Work_a_flow_leaves_running_goes_on_inside_after_its_loop_ended_idle()
    {
        using NetworkNamespace ns = NetworkNamespace.CreateTemporary(new NetworkNamespaceOptions { WorkerIdleTimeout = TimeSpan.FromMilliseconds(100) });
        Task<(NamespaceId, int)>? detached = null;
        int flowTid = await ns.RunAsync(() =>
        {
            detached = Later();
            return Task.FromResult(NativeForTests.gettid());
        });
        // Waited for, not awaited: detached completes on the loop, inside, and an await would hand this method's
        // continuation to xunit's context from there, whose Post starts a thread (docs/runtime-threads.md, "RunAsync").
        // Bounded: a dropped continuation fails, not hangs.
        detached!.Wait(TimeSpan.FromSeconds(20)).Should().BeTrue("the continuation posted after the loop ended runs");
        (NamespaceId where, int tid) = detached.Result;
        where.Should().Be(ns.Id, "a continuation posted after the loop ended idle runs on the namespace's next loop");
        tid.Should().NotBe(flowTid, "the first loop had ended");

        static async Task<(NamespaceId, int)> Later()
        {
            await Task.Delay(600); // outlives the loop's idle time: the loop ends meanwhile
            return (NativeForTests.CurrentThreadNamespace(), NativeForTests.gettid());
        }
    }

    [RootFact]
    public async Task A_disposed_handle_refuses_new_flows_and_running_flows_finish()
    {
        NetworkNamespace ns = NetworkNamespace.CreateTemporary();
        var release = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        Task<NamespaceId> running = ns.RunAsync(async () =>
        {
            await release.Task;
            return NativeForTests.CurrentThreadNamespace();
        });
        NamespaceId id = ns.Id;
        ns.Dispose();
        ns.Invoking(n => { n.RunAsync(() => Task.CompletedTask); }).Should().Throw<ObjectDisposedException>();
        release.SetResult();
        (await running).Should().Be(id, "a flow that was running when the handle was disposed goes on inside");
    }

    [RootFact]
    public async Task A_flow_that_leaves_the_thread_in_another_namespace_fails_its_siblings_and_the_thread_is_not_reused()
    {
        using NetworkNamespace ns = NetworkNamespace.CreateTemporary();
        var never = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        Task sibling = ns.RunAsync(async () => { await never.Task; });
        int firstTid = await ns.RunAsync(() => Task.FromResult(NativeForTests.gettid()));
        await ns.RunAsync(() =>
        {
            using NetworkNamespace home = NetworkNamespace.OpenProcess(Environment.ProcessId);
            NativeForTests.setns(home.Handle.DangerousGetHandle().ToInt32(), 0x40000000).Should().Be(0);
            return Task.CompletedTask;
        });
        (await sibling.Invoking(s => s).Should().ThrowAsync<InvalidOperationException>()).WithMessage("*left the namespace's thread*");
        (int tid, NamespaceId where) = await ns.RunAsync(() => Task.FromResult((NativeForTests.gettid(), NativeForTests.CurrentThreadNamespace())));
        where.Should().Be(ns.Id);
        tid.Should().NotBe(firstTid, "a thread left elsewhere is never reused");
        never.SetResult();
    }

    [RootFact]
    public void Pool_work_queued_from_a_flow_in_an_idle_process_makes_no_pool_worker_inside()
    {
        // A fresh process whose pool workers have idled out (timeout driven down to 100 ms), as in a process that was
        // idle for 20 s. Inside an Enter scope, Task.Run makes the pool create its worker on the switched thread: the
        // hazard is real. Inside a RunAsync flow, the library made sure of an idle worker at home first.
        string enter = RunPoolProbe("enter");
        enter.Should().StartWith("ok threads-before 0").And.Contain(".NET TP Worker(net)",
            "a pool worker is born on the thread that queues work when none is idle");

        string flow = RunPoolProbe("runasync");
        flow.Should().StartWith("ok threads-before 0");
        flow.Trim().Should().EndWith("strays:", "no thread of the process may be left inside but the namespace's own");
    }

    private static string RunPoolProbe(string mode)
    {
        System.Diagnostics.ProcessStartInfo psi = Probe.StartInfo([], "pool-inside", mode);
        psi.Environment["DOTNET_ThreadPool_ThreadTimeoutMs"] = "100";
        using var p = System.Diagnostics.Process.Start(psi)!;
        p.StandardInput.Close();
        Task<string> err = p.StandardError.ReadToEndAsync();
        string output = p.StandardOutput.ReadToEnd();
        p.WaitForExit();
        p.ExitCode.Should().Be(0, output + err.Result);
        return output;
    }
}
