using System.Runtime.CompilerServices;
using LinuxNetns.Exec;
using LinuxNetns.Threads;
using LinuxNetns.Tests.Infrastructure;
using Microsoft.CodeAnalysis;
using Microsoft.CodeAnalysis.CSharp;

namespace LinuxNetns.Tests;

/// <summary>NamespaceScope: the calling thread, switched and restored.</summary>
public sealed class ScopeTests : NamespaceTest
{
    [RootFact]
    public void Enter_switches_the_calling_thread_and_dispose_restores_it()
    {
        string name = NewName("enter");
        using (NetworkNamespace ns = NetworkNamespace.Create(name))
        {
            NamespaceId home = NativeForTests.CurrentThreadNamespace();
            using (ns.Enter())
            {
                NativeForTests.CurrentThreadNamespace().Should().Be(ns.Id);
                // What the kernel shows for this very thread agrees.
                string link = new FileInfo($"/proc/self/task/{NativeForTests.gettid()}/ns/net").LinkTarget!;
                link.Should().Be(ns.Id.ToString());
            }
            NativeForTests.CurrentThreadNamespace().Should().Be(home);
        }
        NetworkNamespace.Delete(name);
    }

    [RootFact]
    public void Nested_scopes_restore_in_order()
    {
        string a = NewName("nest-a");
        string b = NewName("nest-b");
        using (NetworkNamespace nsA = NetworkNamespace.Create(a))
        using (NetworkNamespace nsB = NetworkNamespace.Create(b))
        {
            NamespaceId home = NativeForTests.CurrentThreadNamespace();
            using (nsA.Enter())
            {
                using (nsB.Enter())
                {
                    NativeForTests.CurrentThreadNamespace().Should().Be(nsB.Id);
                    using (nsB.Enter())
                    {
                        // Same namespace again: nothing to switch.
                        NativeForTests.CurrentThreadNamespace().Should().Be(nsB.Id);
                    }
                    NativeForTests.CurrentThreadNamespace().Should().Be(nsB.Id);
                    using (nsA.Enter())
                    {
                        NativeForTests.CurrentThreadNamespace().Should().Be(nsA.Id);
                    }
                    NativeForTests.CurrentThreadNamespace().Should().Be(nsB.Id);
                }
                NativeForTests.CurrentThreadNamespace().Should().Be(nsA.Id);
            }
            NativeForTests.CurrentThreadNamespace().Should().Be(home);

            // Entering the namespace the thread is already in (the home one) is a scope that switches nothing.
            using (NetworkNamespace self = NetworkNamespace.OpenCurrentThread())
            using (self.Enter())
            {
                NativeForTests.CurrentThreadNamespace().Should().Be(home);
            }
        }
        NetworkNamespace.Delete(a);
        NetworkNamespace.Delete(b);
    }

    [RootFact]
    public void An_exception_inside_the_scope_still_restores_the_thread()
    {
        string name = NewName("throw");
        using (NetworkNamespace ns = NetworkNamespace.Create(name))
        {
            NamespaceId home = NativeForTests.CurrentThreadNamespace();
            Action act = () =>
            {
                using (ns.Enter())
                {
                    throw new InvalidOperationException("inside");
                }
            };
            act.Should().Throw<InvalidOperationException>().WithMessage("inside");
            NativeForTests.CurrentThreadNamespace().Should().Be(home);
        }
        NetworkNamespace.Delete(name);
    }

    /// <summary>The layout of <see cref="NamespaceScope"/>'s fields, to carry its bits to another thread.</summary>
    private struct ScopeFields
    {
#pragma warning disable CS0649 // written through Unsafe.As
        public int Depth, Token, ThreadId;
#pragma warning restore CS0649
    }

    [RootFact]
    public void Dispose_on_another_thread_throws_and_changes_no_thread()
    {
        string name = NewName("other");
        using (NetworkNamespace ns = NetworkNamespace.Create(name))
        {
            NamespaceScope scope = ns.Enter();
            // A scope cannot reach another thread in safe code; copy its bits the way unsafe code could.
            ScopeFields bits = Unsafe.As<NamespaceScope, ScopeFields>(ref scope);
            Exception? error = null;
            NamespaceId otherBefore = default, otherAfter = default;
            var other = new Thread(() =>
            {
                otherBefore = NativeForTests.CurrentThreadNamespace();
                NamespaceScope stolen = Unsafe.As<ScopeFields, NamespaceScope>(ref bits);
                try
                {
                    stolen.Dispose();
                }
                catch (Exception e)
                {
                    error = e;
                }
                otherAfter = NativeForTests.CurrentThreadNamespace();
            });
            other.Start();
            other.Join();

            error.Should().BeOfType<InvalidOperationException>().Which.Message.Should().Contain("No thread was changed");
            otherAfter.Should().Be(otherBefore);
            NativeForTests.CurrentThreadNamespace().Should().Be(ns.Id, "the entering thread is still inside");
            scope.Dispose();
            NativeForTests.CurrentThreadNamespace().Should().Be(NamespaceDiagnostics.HomeNamespace);
        }
        NetworkNamespace.Delete(name);
    }

    [RootFact]
    public void Disposing_an_outer_scope_before_the_inner_one_throws()
    {
        string name = NewName("order");
        using (NetworkNamespace ns = NetworkNamespace.Create(name))
        using (NetworkNamespace self = NetworkNamespace.OpenCurrentThread())
        {
            NamespaceScope outer = ns.Enter();
            NamespaceScope inner = self.Enter();
            try
            {
                outer.Dispose();
                throw new Xunit.Sdk.XunitException("expected InvalidOperationException");
            }
            catch (InvalidOperationException e)
            {
                e.Message.Should().Contain("innermost first");
            }
            NativeForTests.CurrentThreadNamespace().Should().Be(self.Id);
            inner.Dispose();
            NativeForTests.CurrentThreadNamespace().Should().Be(ns.Id);
            outer.Dispose();
            outer.Dispose(); // a second dispose of the same scope does nothing
            NativeForTests.CurrentThreadNamespace().Should().Be(self.Id);
        }
        NetworkNamespace.Delete(name);
    }

    [RootFact]
    public void A_failed_restore_falls_back_to_the_home_namespace_and_says_which_thread_went_where()
    {
        RestoreOutcome r = BreakRestore(alsoBreakHome: false);
        r.Error.Should().BeOfType<NamespaceRestoreException>().Which.Errno.Should().Be(Errno.EINVAL);
        ((NamespaceRestoreException)r.Error!).Operation.Should().Be(NamespaceOperation.RestoreNamespace);
        r.Error.Message.Should().Contain($"thread {r.Tid} ").And.Contain("home network namespace");
        r.After.Should().Be(NamespaceDiagnostics.HomeNamespace, "the thread is not left inside the namespace it entered");
        r.LaterError.Should().BeNull("a thread back at home, with no scope open, is usable again");
    }

    [RootFact]
    public void A_restore_that_fails_even_to_the_home_namespace_names_the_stranded_thread_and_refuses_it_afterwards()
    {
        RestoreOutcome r = BreakRestore(alsoBreakHome: true);
        r.Error.Should().BeOfType<NamespaceRestoreException>().Which.Errno.Should().Be(Errno.EINVAL);
        r.Error!.Message.Should().Contain($"thread {r.Tid} ").And.Contain($"net:[{r.Entered.Inode}]");
        r.After.Should().Be(r.Entered, "the thread could not leave");
        r.LaterError.Should().BeOfType<NamespaceRestoreException>();
    }

    private sealed record RestoreOutcome(Exception? Error, Exception? LaterError, NamespaceId After, NamespaceId Entered, int Tid);

    /// <summary>
    /// On a thread of the test's own (which ends afterwards, as the library tells users to do), enters a namespace from
    /// a third one and replaces the scope's saved descriptor by /dev/null, and for a moment the library's home
    /// descriptor too (restored before the thread ends), then leaves the scope.
    /// </summary>
    private RestoreOutcome BreakRestore(bool alsoBreakHome)
    {
        string name = NewName("restore");
        string from = NewName("restore-from");
        NetworkNamespace ns = NetworkNamespace.Create(name);
        NetworkNamespace start = NetworkNamespace.Create(from);
        try
        {
            Exception? restoreError = null, laterError = null;
            NamespaceId after = default;
            int victimTid = 0;
            var victim = new Thread(() =>
            {
                victimTid = NativeForTests.gettid();
                // Start outside the home namespace: the scope then saves the way back in a descriptor of its own.
                NativeForTests.setns((int)start.Handle.DangerousGetHandle(), NativeForTests.CLONE_NEWNET).Should().Be(0);
                List<int> before = NativeForTests.NetNamespaceFds();
                NamespaceScope scope = ns.Enter();
                int saved = NativeForTests.NetNamespaceFds().Except(before).Single();
                int home = ThreadNamespaces.Home.Fd;
                int homeCopy = alsoBreakHome ? NativeForTests.fcntl(home, NativeForTests.F_DUPFD_CLOEXEC, 0) : -1;
                try
                {
                    using (FileStream devNull = File.OpenRead("/dev/null"))
                    {
                        int nul = (int)devNull.SafeFileHandle.DangerousGetHandle();
                        NativeForTests.dup2(nul, saved).Should().Be(saved);
                        if (alsoBreakHome) NativeForTests.dup3(nul, home, NativeForTests.O_CLOEXEC).Should().Be(home);
                    }
                    try
                    {
                        scope.Dispose();
                    }
                    catch (Exception e)
                    {
                        restoreError = e;
                    }
                }
                finally
                {
                    if (homeCopy >= 0)
                    {
                        NativeForTests.dup3(homeCopy, home, NativeForTests.O_CLOEXEC).Should().Be(home);
                        NativeForTests.close(homeCopy);
                    }
                }
                after = NativeForTests.CurrentThreadNamespace();
                try
                {
                    using (ns.Enter()) { }
                }
                catch (Exception e)
                {
                    laterError = e;
                }
            });
            victim.Start();
            victim.Join();
            NativeForTests.WaitForThreadToEnd(victimTid);
            return new RestoreOutcome(restoreError, laterError, after, ns.Id, victimTid);
        }
        finally
        {
            ns.Dispose();
            start.Dispose();
            NetworkNamespace.Delete(name);
            NetworkNamespace.Delete(from);
        }
    }

    [RootFact]
    public void A_thread_outside_the_home_namespace_is_restored_to_where_it_was()
    {
        string name = NewName("away");
        string from = NewName("away-from");
        using (NetworkNamespace ns = NetworkNamespace.Create(name))
        using (NetworkNamespace start = NetworkNamespace.Create(from))
        {
            NamespaceId inside = default, after = default;
            int openedByScope = -1, leftOpen = -1;
            var thread = new Thread(() =>
            {
                NativeForTests.setns((int)start.Handle.DangerousGetHandle(), NativeForTests.CLONE_NEWNET).Should().Be(0);
                int before = NativeForTests.NetNamespaceFds().Count;
                using (ns.Enter())
                {
                    inside = NativeForTests.CurrentThreadNamespace();
                    openedByScope = NativeForTests.NetNamespaceFds().Count - before;
                }
                after = NativeForTests.CurrentThreadNamespace();
                leftOpen = NativeForTests.NetNamespaceFds().Count - before;
                using (NetworkNamespace home = NetworkNamespace.OpenPath("/proc/self/ns/net"))
                {
                    NativeForTests.setns((int)home.Handle.DangerousGetHandle(), NativeForTests.CLONE_NEWNET).Should().Be(0);
                }
            });
            thread.Start();
            thread.Join();

            inside.Should().Be(ns.Id);
            after.Should().Be(start.Id, "the scope goes back to the namespace the thread was in, not to the home one");
            openedByScope.Should().Be(1, "away from home, the way back is kept in a descriptor of the scope's own");
            leftOpen.Should().Be(0, "and closed when the scope ends");
        }
        NetworkNamespace.Delete(name);
        NetworkNamespace.Delete(from);
    }

    [RootFact]
    public void From_home_a_scope_opens_no_descriptor()
    {
        string name = NewName("fromhome");
        using (NetworkNamespace ns = NetworkNamespace.Create(name))
        {
            using (ns.Enter()) { } // first use: the library opens its home descriptor once
            int before = NativeForTests.NetNamespaceFds().Count;
            int during;
            using (ns.Enter())
            {
                during = NativeForTests.NetNamespaceFds().Count;
                NativeForTests.CurrentThreadNamespace().Should().Be(ns.Id);
            }
            during.Should().Be(before, "the way back home is the library's home descriptor");
            NativeForTests.CurrentThreadNamespace().Should().Be(NamespaceDiagnostics.HomeNamespace);
        }
        NetworkNamespace.Delete(name);
    }

    [RootFact]
    public void Enter_and_exit_allocate_nothing()
    {
        string name = NewName("alloc");
        using (NetworkNamespace ns = NetworkNamespace.Create(name))
        {
            for (int i = 0; i < 100; i++)
            {
                using (ns.Enter()) { }
            }
            Allocations.LeastOverRounds(() =>
            {
                for (int i = 0; i < 1000; i++)
                {
                    using (ns.Enter())
                    using (ns.Enter()) { }
                }
            }).Should().Be(0);
        }
        NetworkNamespace.Delete(name);
    }

    [Fact]
    public void The_compiler_refuses_a_scope_across_await()
    {
        const string acrossAwait = """
            using System.Threading.Tasks;
            using LinuxNetns;
            static class C
            {
                static async Task UsingDeclaration(NetworkNamespace ns)
                {
                    using var scope = ns.Enter();
                    await Task.Yield();
                }

                static async Task UsingBlock(NetworkNamespace ns)
                {
                    using (ns.Enter())
                    {
                        await Task.Yield();
                    }
                }

                static async Task ExplicitDispose(NetworkNamespace ns)
                {
                    var scope = ns.Enter();
                    await Task.Yield();
                    scope.Dispose();
                }
            }
            """;
        const string withoutAwait = """
            using System.Threading.Tasks;
            using LinuxNetns;
            static class C
            {
                static async Task M(NetworkNamespace ns)
                {
                    using (ns.Enter()) { }
                    await Task.Yield();
                }
            }
            """;
        Compile(withoutAwait).Should().BeEmpty("the control snippet is valid");
        Compile(acrossAwait).Where(d => d.Id == "CS4007" && d.GetMessage().Contains("NamespaceScope"))
            .Should().HaveCount(3, "each of the three ways to hold a scope across an await is refused");
    }

    private static List<Diagnostic> Compile(string source)
    {
        var references = ((string)AppContext.GetData("TRUSTED_PLATFORM_ASSEMBLIES")!).Split(':')
            .Select(p => MetadataReference.CreateFromFile(p))
            .Append(MetadataReference.CreateFromFile(typeof(NetworkNamespace).Assembly.Location));
        var compilation = CSharpCompilation.Create("snippet",
            [CSharpSyntaxTree.ParseText(source, new CSharpParseOptions(LanguageVersion.Latest))],
            references.DistinctBy(r => r.Display),
            new CSharpCompilationOptions(OutputKind.DynamicallyLinkedLibrary));
        // CS4007 comes from lowering the async method, so emit: GetDiagnostics() alone does not report it.
        return compilation.Emit(Stream.Null).Diagnostics.Where(d => d.Severity == DiagnosticSeverity.Error).ToList();
    }
}
