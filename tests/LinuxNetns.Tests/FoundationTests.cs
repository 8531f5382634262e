using LinuxNetns.Tests.Infrastructure;

namespace LinuxNetns.Tests;

/// <summary>Create, open, pin, delete and list, compared with the real <c>ip netns</c> in both directions.</summary>
public sealed class FoundationTests : NamespaceTest
{
    [RootFact]
    public void Created_namespace_is_listed_and_usable_by_ip_netns()
    {
        string name = NewName("add");
        using (NetworkNamespace ns = NetworkNamespace.Create(name))
        {
            ns.Name.Should().Be(name);
            ns.Path.Should().Be($"/run/netns/{name}");
            Shell.Ip("netns", "list").EnsureSuccess().StdOut.Should().Contain(name);
            NetworkNamespace.List().Should().Contain(name);
            NetworkNamespace.Exists(name).Should().BeTrue();

            string links = Shell.Ip("netns", "exec", name, "ip", "-o", "link").EnsureSuccess().StdOut;
            links.Trim().Split('\n').Should().ContainSingle().Which.Should().Contain("lo:");

            // iproute2 identifies the same inode.
            string stat = Shell.Run("stat", "-L", "-c", "%i", ns.Path).EnsureSuccess().StdOut.Trim();
            ns.Id.Inode.ToString().Should().Be(stat);
            ns.Id.ToString().Should().Be($"net:[{stat}]");
        }
        NetworkNamespace.Delete(name);
        NetworkNamespace.Exists(name).Should().BeFalse();
        Shell.Ip("netns", "list").StdOut.Should().NotContain(name);
    }

    [RootFact]
    public void Ip_netns_delete_removes_a_namespace_we_created()
    {
        string name = NewName("ipdel");
        NetworkNamespace.Create(name).Dispose();
        Shell.Ip("netns", "delete", name).EnsureSuccess();
        NetworkNamespace.Exists(name).Should().BeFalse();
        FluentActions.Invoking(() => NetworkNamespace.Open(name)).Should().Throw<NamespaceNotFoundException>();
    }

    [RootFact]
    public void We_open_pin_and_delete_what_ip_netns_add_created()
    {
        string name = NewName("ipadd");
        string alias = NewName("alias");
        Shell.Ip("netns", "add", name).EnsureSuccess();
        using (NetworkNamespace ns = NetworkNamespace.Open(name))
        {
            ns.Id.Inode.ToString().Should().Be(Shell.Run("stat", "-L", "-c", "%i", $"/run/netns/{name}").StdOut.Trim());
            ns.Pin(alias);
            using NetworkNamespace again = NetworkNamespace.Open(alias);
            again.Id.Should().Be(ns.Id);
            Shell.Ip("netns", "list").StdOut.Should().Contain(alias);
        }
        NetworkNamespace.Delete(alias);
        NetworkNamespace.Delete(name);
        Shell.Ip("netns", "list").StdOut.Should().NotContain(name).And.NotContain(alias);
    }

    [RootFact]
    public void Handles_compare_by_namespace_identity()
    {
        string a = NewName("ida");
        string b = NewName("idb");
        using (NetworkNamespace nsA = NetworkNamespace.Create(a))
        using (NetworkNamespace nsB = NetworkNamespace.Create(b))
        using (NetworkNamespace nsA2 = NetworkNamespace.Open(a))
        using (NetworkNamespace self = NetworkNamespace.OpenProcess(Environment.ProcessId))
        using (NetworkNamespace thread = NetworkNamespace.OpenCurrentThread())
        using (NetworkNamespace byPath = NetworkNamespace.OpenPath($"/proc/{Environment.ProcessId}/ns/net"))
        {
            nsA2.Id.Should().Be(nsA.Id);
            nsB.Id.Should().NotBe(nsA.Id);
            self.Id.Should().NotBe(nsA.Id);
            thread.Id.Should().Be(self.Id, "the test thread is in the host namespace");
            self.Id.Should().Be(NamespaceDiagnostics.HomeNamespace);
            byPath.Id.Should().Be(self.Id);
        }
        NetworkNamespace.Delete(a);
        NetworkNamespace.Delete(b);
    }

    [RootFact]
    public void Pin_of_a_process_namespace_makes_it_visible_to_ip_netns()
    {
        // A "Docker-style" namespace: held only by a process, invisible to ip netns until pinned.
        string name = NewName("pid");
        using var sleeper = System.Diagnostics.Process.Start("unshare", "--net sleep 60");
        try
        {
            NetworkNamespace? opened = null;
            for (int i = 0; i < 100 && opened is null; i++)
            {
                // unshare execs sleep after switching; wait until the pid's namespace differs from ours.
                var candidate = NetworkNamespace.OpenProcess(sleeper.Id);
                if (candidate.Id != NamespaceDiagnostics.HomeNamespace) opened = candidate;
                else
                {
                    candidate.Dispose();
                    Thread.Sleep(20);
                }
            }
            opened.Should().NotBeNull();
            using (opened)
            {
                opened!.Pin(name);
            }
            Shell.Ip("netns", "list").StdOut.Should().Contain(name);
            Shell.Ip("netns", "identify", sleeper.Id.ToString()).StdOut.Trim().Should().Be(name);
            Shell.Ip("netns", "pids", name).StdOut.Trim().Should().Be(sleeper.Id.ToString());
        }
        finally
        {
            sleeper.Kill();
            sleeper.WaitForExit();
        }
        NetworkNamespace.Delete(name);
    }

    [RootFact]
    public void Creating_one_name_from_16_threads_succeeds_exactly_once()
    {
        string name = NewName("race");
        var results = new Exception?[16];
        var handles = new NetworkNamespace?[16];
        using var start = new Barrier(16);
        var threads = Enumerable.Range(0, 16).Select(i => new Thread(() =>
        {
            start.SignalAndWait();
            try
            {
                handles[i] = NetworkNamespace.Create(name);
            }
            catch (Exception e)
            {
                results[i] = e;
            }
        })).ToList();
        threads.ForEach(t => t.Start());
        threads.ForEach(t => t.Join());
        try
        {
            handles.Count(h => h is not null).Should().Be(1);
            results.Where(e => e is not null).Should().HaveCount(15).And.AllBeOfType<NamespaceAlreadyExistsException>();
        }
        finally
        {
            foreach (var h in handles) h?.Dispose();
            NetworkNamespace.Delete(name);
        }
        NetworkNamespace.Exists(name).Should().BeFalse();
    }

    [RootFact]
    public void Creating_and_deleting_64_names_in_parallel_all_succeed()
    {
        string[] names = Enumerable.Range(0, 64).Select(_ => NewName("par")).ToArray();
        Parallel.ForEach(names, new ParallelOptions { MaxDegreeOfParallelism = 8 }, name =>
        {
            using (NetworkNamespace.Create(name)) { }
        });
        NetworkNamespace.List().Should().Contain(names);
        Parallel.ForEach(names, new ParallelOptions { MaxDegreeOfParallelism = 8 }, name => NetworkNamespace.Delete(name));
        NetworkNamespace.List().Should().NotContain(names);
        Shell.Ip("netns", "list").StdOut.Should().NotContain(RunPrefix + "par");
    }

    public static TheoryData<string> BadNames => new()
    {
        "", ".", "..", "a/b", "/", "a\0b", new string('x', 256), new string('é', 128),
    };

    [Theory]
    [MemberData(nameof(BadNames))]
    public void Bad_names_are_rejected_everywhere_with_iproute2_wording(string bad)
    {
        string expected = $"Invalid netns name \"{bad.Replace("\0", "\\0")}\"*";
        FluentActions.Invoking(() => NetworkNamespace.Create(bad)).Should().Throw<ArgumentException>().WithMessage(expected);
        FluentActions.Invoking(() => NetworkNamespace.Open(bad)).Should().Throw<ArgumentException>().WithMessage(expected);
        FluentActions.Invoking(() => NetworkNamespace.Delete(bad)).Should().Throw<ArgumentException>().WithMessage(expected);
        FluentActions.Invoking(() => NetworkNamespace.Exists(bad)).Should().Throw<ArgumentException>().WithMessage(expected);
        if (Privilege.IsRoot)
        {
            using var self = NetworkNamespace.OpenCurrentThread();
            FluentActions.Invoking(() => self.Pin(bad)).Should().Throw<ArgumentException>().WithMessage(expected);
        }
    }

    [Fact]
    public void A_name_of_exactly_255_bytes_is_valid()
    {
        // Valid by iproute2's rule: fails only for being absent, not for the name.
        FluentActions.Invoking(() => NetworkNamespace.Open(new string('x', 255))).Should().Throw<NamespaceNotFoundException>();
    }

    [RootFact]
    public void Open_and_delete_of_a_missing_name_are_not_found()
    {
        string name = NewName("missing");
        FluentActions.Invoking(() => NetworkNamespace.Open(name)).Should().Throw<NamespaceNotFoundException>()
            .Where(e => e.Operation == NamespaceOperation.OpenNamespaceFile && e.Errno == Errno.ENOENT && e.Target == $"/run/netns/{name}" && e.Message.Contains("ENOENT"));
        FluentActions.Invoking(() => NetworkNamespace.Delete(name)).Should().Throw<NamespaceNotFoundException>()
            .Where(e => e.Operation == NamespaceOperation.Unlink && e.Errno == Errno.ENOENT)
            .WithMessage($"Cannot remove namespace file \"/run/netns/{name}\" failed: No such file or directory (ENOENT).*");
        FluentActions.Invoking(() => NetworkNamespace.OpenProcess(int.MaxValue)).Should().Throw<NamespaceNotFoundException>()
            .Where(e => e.Operation == NamespaceOperation.OpenProcess && e.Errno == Errno.ESRCH);
    }

    [RootFact]
    public void Create_before_exit_unshares_on_the_calling_thread_and_switches_it_back()
    {
        // The netns tool's add: made on the caller's thread, as ip makes it; from a thread that is not at home (here
        // inside a scope) on the home thread after all, so that the caller stays where it was.
        string here = NewName("here"), scoped = NewName("scoped"), outer = NewName("outer");
        var log = new ListLoggerFactory();
        var options = new NetworkNamespaceOptions { LoggerFactory = log };
        NamespaceId home = NativeForTests.CurrentThreadNamespace();
        using (NetworkNamespace made = NetworkNamespace.CreateBeforeExit(here, options))
        {
            NativeForTests.CurrentThreadNamespace().Should().Be(home, "the calling thread switched back");
            made.Id.Should().NotBe(home);
            Shell.Ip("netns", "exec", here, "ip", "-o", "link").EnsureSuccess().StdOut.Trim().Split('\n').Should().ContainSingle()
                .Which.Should().Contain("lo:", "ip netns sees a namespace of its own under the name");
        }
        log.Entries.Select(e => e.Message).Should().Contain(m => m.Contains("on the calling thread") && m.EndsWith(here));

        using (NetworkNamespace scope = NetworkNamespace.Create(outer))
        using (scope.Enter())
        using (NetworkNamespace made = NetworkNamespace.CreateBeforeExit(scoped, options))
        {
            NativeForTests.CurrentThreadNamespace().Should().Be(scope.Id, "a caller inside a scope is left inside it");
            made.Id.Should().NotBe(scope.Id).And.NotBe(home);
        }
        log.Entries.Select(e => e.Message).Should().Contain(m => m.Contains("on the home thread") && m.EndsWith(scoped));
        foreach (string name in new[] { here, scoped, outer }) NetworkNamespace.Delete(name);
    }

    [RootFact]
    public void Creating_an_existing_name_is_already_exists()
    {
        string name = NewName("dup");
        Shell.Ip("netns", "add", name).EnsureSuccess();
        FluentActions.Invoking(() => NetworkNamespace.Create(name)).Should().Throw<NamespaceAlreadyExistsException>()
            .Where(e => e.Operation == NamespaceOperation.CreatePlaceholder && e.Errno == Errno.EEXIST && e.Message.Contains("File exists"));
        NetworkNamespace.Exists(name).Should().BeTrue("the failed create must not remove the existing namespace");
        using (NetworkNamespace.Open(name)) { }
        NetworkNamespace.Delete(name);
    }

    [RootFact]
    public void A_stale_placeholder_gets_its_own_error_and_delete_removes_it()
    {
        string name = NewName("stale");
        using (NetworkNamespace.Create(NewName("dir"))) { } // make sure the run directory exists
        NetworkNamespace.Delete(NetworkNamespace.List().First(n => n.StartsWith(RunPrefix + "dir")));
        File.WriteAllBytes($"/run/netns/{name}", []);
        try
        {
            // Made a moment ago, it may be an add in progress: the open waits a little, then says so, and never
            // advises deleting it.
            FluentActions.Invoking(() => NetworkNamespace.Open(name)).Should().Throw<NotANetworkNamespaceException>()
                .Where(e => e.Problem == PlaceholderProblem.AddInProgress && e.Message.Contains("do not delete it"));
            // Still empty seconds later: an add that crashed.
            Thread.Sleep(TimeSpan.FromSeconds(LinuxNetns.Nsfs.NamespaceFile.AddInProgressSeconds + 1));
            FluentActions.Invoking(() => NetworkNamespace.Open(name)).Should().Throw<NotANetworkNamespaceException>()
                .Where(e => e.Problem == PlaceholderProblem.Stale && e.Message.Contains("crashed"));
        }
        finally
        {
            NetworkNamespace.Delete(name);
        }
        NetworkNamespace.Exists(name).Should().BeFalse();
    }

    [RootFact]
    public void An_open_racing_a_create_of_the_same_name_finds_it_or_nothing_and_never_calls_it_stale()
    {
        var misdiagnosed = new List<string>();
        for (int i = 0; i < 100 && misdiagnosed.Count == 0; i++)
        {
            string name = NewName("inflight");
            using var created = new ManualResetEventSlim();
            Task opener = Task.Factory.StartNew(() =>
            {
                while (true)
                {
                    bool createReturned = created.IsSet;
                    try
                    {
                        using (NetworkNamespace.Open(name)) return;
                    }
                    catch (NamespaceNotFoundException) when (!createReturned) { } // not made yet: look again
                    catch (NotANetworkNamespaceException e)
                    {
                        lock (misdiagnosed) misdiagnosed.Add(e.Problem + ": " + e.Message);
                        return;
                    }
                }
            }, TaskCreationOptions.LongRunning);
            try
            {
                using (NetworkNamespace.Create(name)) created.Set();
                opener.Wait(TimeSpan.FromMinutes(1)).Should().BeTrue("the open ends once the namespace exists");
            }
            finally
            {
                created.Set();
                try { opener.Wait(TimeSpan.FromMinutes(1)); }
                catch (AggregateException) { } // already reported by the assertion above
                NetworkNamespace.Delete(name);
            }
        }
        misdiagnosed.Should().BeEmpty("an open that meets an add between its placeholder and its mount waits for the mount");
    }

    [RootFact]
    public void A_mount_that_did_not_propagate_gets_its_own_error()
    {
        string name = NewName("hidden");
        // The probe lives in a private copy of our mount namespace: mounts made here afterwards do not reach it.
        var psi = Probe.StartInfo(["unshare", "--mount", "--propagation", "private", "--"], "wait-open", name);
        using var probe = System.Diagnostics.Process.Start(psi)!;
        probe.StandardOutput.ReadLine().Should().Be("ready");
        using (NetworkNamespace.Create(name)) { }
        probe.StandardInput.WriteLine("go");
        probe.StandardInput.Close();
        string line = probe.StandardOutput.ReadToEnd();
        probe.WaitForExit();
        NetworkNamespace.Delete(name);
        line.Should().StartWith("NotANetworkNamespaceException MountNotVisible").And.Contain("did not propagate");
    }

    [RootFact]
    public void Delete_of_a_name_with_a_stacked_mount_is_busy()
    {
        string name = NewName("busy");
        using (NetworkNamespace.Create(name)) { }
        Shell.Run("mount", "--bind", "/proc/self/ns/net", $"/run/netns/{name}").EnsureSuccess();

        FluentActions.Invoking(() => NetworkNamespace.Delete(name)).Should().Throw<NamespaceBusyException>()
            .Where(e => e.Operation == NamespaceOperation.Unlink && e.Errno == Errno.EBUSY);
        NetworkNamespace.Delete(name); // the lower mount is gone now too
        NetworkNamespace.Exists(name).Should().BeFalse();
    }

    [RootFact]
    public void Files_that_are_not_network_namespaces_are_refused()
    {
        FluentActions.Invoking(() => NetworkNamespace.OpenPath("/proc/self/ns/mnt")).Should().Throw<NotANetworkNamespaceException>()
            .Where(e => e.Problem == PlaceholderProblem.WrongNamespaceType);
        FluentActions.Invoking(() => NetworkNamespace.OpenPath("/etc/hostname")).Should().Throw<NotANetworkNamespaceException>()
            .Where(e => e.Problem == PlaceholderProblem.NotANamespace);
        FluentActions.Invoking(() => NetworkNamespace.OpenPath("/nonexistent/ns")).Should().Throw<NamespaceNotFoundException>();
    }

    [RootFact]
    public void Create_leaves_no_thread_in_the_new_namespace()
    {
        string name = NewName("threads");
        using (NetworkNamespace ns = NetworkNamespace.Create(name))
        {
            using NetworkNamespace me = NetworkNamespace.OpenCurrentThread();
            me.Id.Should().Be(NamespaceDiagnostics.HomeNamespace);
            NamespaceDiagnostics.FindStrayThreads().Should().BeEmpty();
            Shell.Ip("netns", "pids", name).StdOut.Should().BeEmpty();
        }
        NetworkNamespace.Delete(name);
    }

    [RootFact]
    public void Unprivileged_user_gets_the_clear_permission_error()
    {
        string name = NewName("nobody");
        using (NetworkNamespace.Create(NewName("rundir"))) { }
        NetworkNamespace.Delete(NetworkNamespace.List().First(n => n.StartsWith(RunPrefix + "rundir")));

        ShellResult r = Probe.Run(["setpriv", "--reuid=nobody", "--regid=nogroup", "--clear-groups", "--inh-caps=-all", "--"], "create", name);
        // The first step that needs the capability is the run directory's shared remount.
        r.StdOut.Should().StartWith("NamespacePermissionException ShareRunDirectory EPERM ").And.Contain("CAP_SYS_ADMIN").And.Contain("run as root");
        r.ExitCode.Should().Be(1);
        NetworkNamespace.Exists(name).Should().BeFalse();
    }

    [RootFact]
    public void Root_refused_by_ptrace_or_an_lsm_is_not_told_to_run_as_root()
    {
        // Here even root gets EACCES on /proc/1/ns/net (an LSM / ptrace rule), with CAP_SYS_ADMIN in hand.
        string capEff = File.ReadLines("/proc/thread-self/status").Single(l => l.StartsWith("CapEff:"));
        (Convert.ToUInt64(capEff[7..].Trim(), 16) & (1UL << 21)).Should().NotBe(0UL, "the test needs CAP_SYS_ADMIN");
        NetworkNamespace? opened = null;
        try
        {
            opened = NetworkNamespace.OpenProcess(1);
        }
        catch (NamespacePermissionException e)
        {
            e.Errno.Should().BeOneOf(Errno.EPERM, Errno.EACCES);
            e.Operation.Should().BeOneOf(NamespaceOperation.OpenProcess, NamespaceOperation.OpenNamespaceFile);
            e.Message.Should().Contain("/proc/1/ns/net").And.NotContain("run as root")
                .And.Contain("has CAP_SYS_ADMIN").And.Contain("ptrace").And.Contain("security module").And.Contain("seccomp");
            return;
        }
        finally
        {
            opened?.Dispose();
        }
        // Where root may open it, the refusal is not there to observe.
        opened.Should().NotBeNull();
    }

    [RootFact]
    public void ENOENT_from_a_step_other_than_the_lookup_is_not_namespace_not_found()
    {
        // mkdir of the run directory under a dangling symlink: ENOENT, but about the run directory, not a namespace.
        string dir = Path.Combine(Path.GetTempPath(), $"{RunPrefix}dangling");
        Directory.CreateDirectory(dir);
        try
        {
            File.CreateSymbolicLink(Path.Combine(dir, "link"), "/nonexistent-lnt-target");
            var options = new NetworkNamespaceOptions { RunDirectory = Path.Combine(dir, "link", "netns") };
            FluentActions.Invoking(() => NetworkNamespace.Create(NewName("enoent"), options)).Should().Throw<NetworkNamespaceException>()
                .Where(e => e.GetType() == typeof(NetworkNamespaceException) && e.Operation == NamespaceOperation.MakeRunDirectory && e.Errno == Errno.ENOENT && e.Message.Contains("mkdir run directory"));
        }
        finally
        {
            Directory.Delete(dir, recursive: true);
        }
    }

    [RootFact]
    public void Options_select_another_run_directory()
    {
        string dir = $"/run/{RunPrefix}dir";
        var options = new NetworkNamespaceOptions { RunDirectory = dir };
        string name = NewName("opt");
        try
        {
            using (NetworkNamespace ns = NetworkNamespace.Create(name, options))
            {
                ns.Path.Should().Be($"{dir}/{name}");
                NetworkNamespace.List(options).Should().Equal(name);
                NetworkNamespace.Exists(name).Should().BeFalse("the default run directory is another one");
            }
            NetworkNamespace.Delete(name, options);
            NetworkNamespace.List(options).Should().BeEmpty();
        }
        finally
        {
            // The run directory became a (shared) mount point of its own: undo that too.
            Shell.Run("umount", "-l", dir);
            Directory.Delete(dir, recursive: true);
        }
    }
}
