using LinuxNetns.Tests.Infrastructure;

namespace LinuxNetns.Tests;

/// <summary>ns.Run: synchronous code on a library-owned thread inside the namespace.</summary>
public sealed class RunTests : NamespaceTest
{
    [RootFact]
    public void Run_executes_inside_the_namespace_and_returns_the_result()
    {
        string name = NewName("run");
        using (NetworkNamespace ns = NetworkNamespace.Create(name))
        {
            int callerTid = NativeForTests.gettid();
            (NamespaceId id, int tid) = ns.Run(() => (NativeForTests.CurrentThreadNamespace(), NativeForTests.gettid()));
            id.Should().Be(ns.Id);
            tid.Should().NotBe(callerTid, "the caller's thread never switches");
            NativeForTests.CurrentThreadNamespace().Should().Be(NamespaceDiagnostics.HomeNamespace);

            int ran = 0;
            ns.Run(() => { ran++; });
            ran.Should().Be(1);

            // The worker is reused between calls.
            ns.Run(NativeForTests.gettid).Should().Be(tid);
        }
        NetworkNamespace.Delete(name);
    }

    [RootFact]
    public void Exceptions_reach_the_caller_with_their_original_stack_trace()
    {
        string name = NewName("runex");
        using (NetworkNamespace ns = NetworkNamespace.Create(name))
        {
            var act = () => ns.Run(ThrowFromInside);
            act.Should().Throw<InvalidOperationException>().WithMessage("thrown inside")
                .Which.StackTrace.Should().Contain(nameof(ThrowFromInside));
            ns.Run(() => 7).Should().Be(7, "the worker survives an exception");
        }
        NetworkNamespace.Delete(name);
    }

    [RootFact]
    public void Dispose_returns_while_other_threads_keep_calling_Run_even_with_an_infinite_idle_time()
    {
        var options = new NetworkNamespaceOptions { WorkerIdleTimeout = Timeout.InfiniteTimeSpan };
        for (int round = 0; round < 20; round++)
        {
            string name = NewName("dispose-race");
            NetworkNamespace ns = NetworkNamespace.Create(name, options);
            try
            {
                using var running = new CountdownEvent(2);
                var unexpected = new List<Exception>();
                Thread[] callers = Enumerable.Range(0, 2).Select(_ => new Thread(() =>
                {
                    bool signalled = false;
                    try
                    {
                        // Until the handle is disposed: a queued call either runs or gets ObjectDisposedException.
                        while (true)
                        {
                            ns.Run(static () => { });
                            if (!signalled) { signalled = true; running.Signal(); }
                        }
                    }
                    catch (ObjectDisposedException)
                    {
                    }
                    catch (Exception e)
                    {
                        lock (unexpected) unexpected.Add(e);
                    }
                    finally
                    {
                        if (!signalled) running.Signal();
                    }
                })).ToArray();
                foreach (Thread t in callers) t.Start();
                running.Wait();

                Task dispose = Task.Factory.StartNew(ns.Dispose, TaskCreationOptions.LongRunning);
                // Generous: a regression fails here instead of hanging the suite; a correct Dispose takes microseconds.
                dispose.Wait(TimeSpan.FromSeconds(60)).Should().BeTrue($"Dispose must not wait for a stop signal it lost (round {round})");
                foreach (Thread t in callers) t.Join(TimeSpan.FromSeconds(60)).Should().BeTrue("callers end with ObjectDisposedException");
                unexpected.Should().BeEmpty();
            }
            finally
            {
                ns.Dispose();
                NetworkNamespace.Delete(name);
            }
        }
    }

    [RootFact]
    public void Run_back_into_a_namespace_whose_worker_waits_for_this_one_is_refused_instead_of_deadlocking()
    {
        string nameA = NewName("cycle-a");
        string nameB = NewName("cycle-b");
        NetworkNamespace a = NetworkNamespace.Create(nameA);
        NetworkNamespace b = NetworkNamespace.Create(nameB);
        Task<Exception?>? outer = null;
        try
        {
            bool innerRan = false;
            // Bounded, so that a regression fails instead of hanging the suite.
            outer = Task.Factory.StartNew(() => a.Run(() => b.Run(() =>
            {
                try
                {
                    a.Run(() => innerRan = true);
                    return null;
                }
                catch (InvalidOperationException e)
                {
                    return (Exception?)e;
                }
            })), TaskCreationOptions.LongRunning);
            outer.Wait(TimeSpan.FromSeconds(60)).Should().BeTrue("a call that can never be served must not wait for ever");
            innerRan.Should().BeFalse();
            outer.Result.Should().BeOfType<InvalidOperationException>()
                .Which.Message.Should().Contain($"'{nameA}'").And.Contain($"'{nameB}'");
            a.Run(() => b.Run(() => 3)).Should().Be(3, "both workers serve again afterwards");
        }
        finally
        {
            // Deadlocked workers would never stop: then only the names go (the handles die with the test process).
            if (outer?.IsCompleted != false)
            {
                a.Dispose();
                b.Dispose();
            }
            NetworkNamespace.Delete(nameA);
            NetworkNamespace.Delete(nameB);
        }
    }

    private static int ThrowFromInside() => throw new InvalidOperationException("thrown inside");

    [RootFact]
    public void Ten_thousand_calls_leak_no_thread_and_no_descriptor()
    {
        string name = NewName("runleak");
        NetworkNamespace ns = NetworkNamespace.Create(name);
        try
        {
            // Measured by what belongs to this namespace alone (its worker's tid, the threads inside it), never by
            // the process's thread count, which the runtime's pool moves at will.
            int worker = ns.Run(NativeForTests.gettid);
            int fdsBefore = NativeForTests.NetNamespaceFds().Count;
            for (int i = 0; i < 10_000; i++)
            {
                if (i % 2 == 0)
                {
                    ns.Run(() => i);
                }
                else
                {
                    FluentActions.Invoking(() => ns.Run(() => throw new FormatException())).Should().Throw<FormatException>();
                }
            }
            NativeForTests.NetNamespaceFds().Count.Should().Be(fdsBefore);
            ns.Run(NativeForTests.gettid).Should().Be(worker, "one worker serves every call");
            NativeForTests.ThreadsIn(ns.Id).Should().Be(1, "no thread per call");
            ns.Dispose();
            NativeForTests.WaitForThreadToEnd(worker); // disposing the handle ends its worker
        }
        finally
        {
            ns.Dispose();
            NetworkNamespace.Delete(name);
        }
    }

    [RootFact]
    public void A_worker_that_user_code_unshared_is_retired()
    {
        string name = NewName("unshare");
        using (NetworkNamespace ns = NetworkNamespace.Create(name))
        {
            int first = ns.Run(() =>
            {
                NativeForTests.unshare(NativeForTests.CLONE_NEWUTS).Should().Be(0);
                return NativeForTests.gettid();
            });
            NativeForTests.WaitForThreadToEnd(first);
            int second = ns.Run(NativeForTests.gettid);
            second.Should().NotBe(first, "a thread that unshared anything is never reused");
            ns.Run(NativeForTests.CurrentThreadNamespace).Should().Be(ns.Id);
        }
        NetworkNamespace.Delete(name);
    }

    [RootFact]
    public void A_worker_that_user_code_left_in_another_namespace_is_retired()
    {
        string name = NewName("leave");
        using (NetworkNamespace ns = NetworkNamespace.Create(name))
        using (NetworkNamespace home = NetworkNamespace.OpenCurrentThread())
        {
            int first = ns.Run(() =>
            {
                // User code switching the worker without switching back.
                NativeForTests.setns((int)home.Handle.DangerousGetHandle(), NativeForTests.CLONE_NEWNET).Should().Be(0);
                return NativeForTests.gettid();
            });
            NativeForTests.WaitForThreadToEnd(first);
            (NamespaceId id, int tid) = ns.Run(() => (NativeForTests.CurrentThreadNamespace(), NativeForTests.gettid()));
            id.Should().Be(ns.Id);
            tid.Should().NotBe(first);
        }
        NetworkNamespace.Delete(name);
    }

    [RootFact]
    public void Run_inside_Run_of_the_same_namespace_runs_inline()
    {
        string name = NewName("reenter");
        using (NetworkNamespace ns = NetworkNamespace.Create(name))
        {
            (int outer, int inner) = ns.Run(() => (NativeForTests.gettid(), ns.Run(NativeForTests.gettid)));
            inner.Should().Be(outer);
        }
        NetworkNamespace.Delete(name);
    }

    [RootFact]
    public void Run_of_an_action_reuses_its_work_item_across_calls_exceptions_and_nesting()
    {
        string name = NewName("action");
        using (NetworkNamespace ns = NetworkNamespace.Create(name))
        {
            int ran = 0;
            ns.Run(() => ran++);
            FluentActions.Invoking(() => ns.Run(ThrowingAction)).Should().Throw<InvalidOperationException>()
                .Which.StackTrace.Should().Contain(nameof(ThrowingAction));
            ns.Run(() => ran++); // the item that carried the exception is clean again
            ns.Run(() => ns.Run(() => ran += 10)); // nested: the inner call cannot take the outer's item
            ran.Should().Be(12);

            Action nothing = static () => { };
            for (int i = 0; i < 100; i++) ns.Run(nothing);
            Allocations.LeastOverRounds(() =>
            {
                for (int i = 0; i < 1000; i++) ns.Run(nothing);
            }).Should().Be(0, "Run(Action) reuses one work item per handle (a new one per call would show in every round)");
        }
        NetworkNamespace.Delete(name);
    }

    private static void ThrowingAction() => throw new InvalidOperationException("from the action");

    [RootFact]
    public void Run_inside_Run_while_the_worker_is_in_another_scope_is_refused()
    {
        string name = NewName("reenter-scope");
        string other = NewName("reenter-other");
        using (NetworkNamespace ns = NetworkNamespace.Create(name))
        using (NetworkNamespace elsewhere = NetworkNamespace.Create(other))
        {
            Exception? refused = ns.Run(() =>
            {
                using (elsewhere.Enter())
                {
                    try
                    {
                        ns.Run(() => 1);
                        return null;
                    }
                    catch (InvalidOperationException e)
                    {
                        return e;
                    }
                }
            });
            refused.Should().NotBeNull("running inline would run ns's code in the other namespace");
            ns.Run(NativeForTests.CurrentThreadNamespace).Should().Be(ns.Id);
        }
        NetworkNamespace.Delete(name);
        NetworkNamespace.Delete(other);
    }

    [Fact]
    public void A_worker_idle_timeout_that_is_not_positive_is_refused()
    {
        FluentActions.Invoking(() => new NetworkNamespaceOptions { WorkerIdleTimeout = TimeSpan.Zero }).Should().Throw<ArgumentOutOfRangeException>();
        FluentActions.Invoking(() => new NetworkNamespaceOptions { WorkerIdleTimeout = TimeSpan.FromSeconds(-2) }).Should().Throw<ArgumentOutOfRangeException>();
        new NetworkNamespaceOptions { WorkerIdleTimeout = Timeout.InfiniteTimeSpan }.WorkerIdleTimeout.Should().Be(Timeout.InfiniteTimeSpan);
    }

    [RootFact]
    public void An_idle_worker_ends_by_itself()
    {
        string name = NewName("idle");
        var options = new NetworkNamespaceOptions { WorkerIdleTimeout = TimeSpan.FromMilliseconds(50) };
        using (NetworkNamespace created = NetworkNamespace.Create(name))
        using (NetworkNamespace ns = NetworkNamespace.Open(name, options))
        {
            int tid = ns.Run(NativeForTests.gettid);
            NativeForTests.WaitForThreadToEnd(tid);
            ns.Run(NativeForTests.CurrentThreadNamespace).Should().Be(ns.Id, "a new worker is started on demand");
        }
        NetworkNamespace.Delete(name);
    }

    [RootFact]
    public void Run_on_a_disposed_handle_throws()
    {
        string name = NewName("disposed");
        NetworkNamespace ns = NetworkNamespace.Create(name);
        ns.Dispose();
        FluentActions.Invoking(() => ns.Run(() => 1)).Should().Throw<ObjectDisposedException>();
        FluentActions.Invoking(() => ns.Enter()).Should().Throw<ObjectDisposedException>();
        NetworkNamespace.Delete(name);
    }
}
