using System.Diagnostics;
using LinuxNetns.Nsfs;
using LinuxNetns.Threads;
using LinuxNetns.Tests.Infrastructure;
using Microsoft.Extensions.Logging;
using Xunit.Abstractions;

namespace LinuxNetns.Tests;

/// <summary>ExecInNamespace, compared with the real <c>ip netns exec</c>.</summary>
public sealed class ExecTests(ITestOutputHelper output) : NamespaceTest
{
    private static ProcessStartInfo Psi(string file, params string[] args) => Shell.StartInfo(file, args);

    private static async Task<string> Out(NetworkNamespace ns, string file, params string[] args)
    {
        ExecResult r = await ExecInNamespace.RunAsync(ns, file, args);
        r.ExitCode.Should().Be(0, r.StandardError);
        return r.StandardOutput;
    }

    private static string[] HostClassNet() => Directory.GetFileSystemEntries("/sys/class/net").Order().ToArray();

    // ---- /sys and /etc, as ip netns exec ------------------------------------------------------------

    [RootFact]
    public async Task Sys_class_net_and_links_in_a_fresh_namespace_match_ip_netns_exec()
    {
        string name = NewName("sys");
        string[] hostBefore = HostClassNet();
        using (NetworkNamespace ns = NetworkNamespace.Create(name))
        {
            string ours = await Out(ns, "ls", "/sys/class/net");
            ours.Should().Be("lo\n");
            ours.Should().Be(Shell.Ip("netns", "exec", name, "ls", "/sys/class/net").EnsureSuccess().StdOut);

            string links = await Out(ns, "ip", "-o", "link");
            links.Should().Be(Shell.Ip("netns", "exec", name, "ip", "-o", "link").EnsureSuccess().StdOut);
            links.Trim().Split('\n').Should().ContainSingle().Which.Should().Contain(": lo:");

            // The same through the name-based entry point.
            (await ExecInNamespace.RunAsync(name, "ls", ["/sys/class/net"])).StandardOutput.Should().Be("lo\n");
        }
        NetworkNamespace.Delete(name);
        HostClassNet().Should().Equal(hostBefore, "the host's /sys is untouched");
        hostBefore.Should().HaveCountGreaterThan(1, "the host has more than lo, so the comparison means something");
    }

    [RootFact]
    public async Task A_veth_pair_inside_the_namespace_shows_in_its_sysfs_only()
    {
        string name = NewName("veth");
        string inside = $"lnt{Environment.ProcessId % 100000}i";
        string outside = $"lnt{Environment.ProcessId % 100000}o";
        using NetworkNamespace ns = NetworkNamespace.Create(name);
        try
        {
            // A pair between the test namespace and a second test namespace: no host interface is involved.
            Shell.Ip("netns", "exec", name, "ip", "link", "add", inside, "type", "veth", "peer", "name", outside).EnsureSuccess();
            string ours = await Out(ns, "ls", "/sys/class/net");
            ours.Should().Be(Shell.Ip("netns", "exec", name, "ls", "/sys/class/net").EnsureSuccess().StdOut);
            ours.Split('\n', StringSplitOptions.RemoveEmptyEntries).Should().BeEquivalentTo(inside, outside, "lo");
            HostClassNet().Should().NotContain(p => p.EndsWith(inside) || p.EndsWith(outside));
        }
        finally
        {
            ns.Dispose();
            NetworkNamespace.Delete(name); // the veth pair dies with the namespace
        }
    }

    [RootFact]
    public async Task Etc_netns_entries_replace_the_etc_files_for_the_child_only()
    {
        string name = NewName("etc");
        string etc = Directory.CreateTempSubdirectory(RunPrefix + "etcnetns-").FullName;
        var log = new ListLoggerFactory();
        var options = new NetworkNamespaceOptions { EtcDirectory = etc, LoggerFactory = log };
        var reported = new List<EtcBindException>();
        var reporting = new ExecOptions { NamespaceOptions = options, EtcBindFailed = reported.Add };
        string hostResolv = File.ReadAllText("/etc/resolv.conf");
        try
        {
            Directory.CreateDirectory(Path.Combine(etc, name));
            File.WriteAllText(Path.Combine(etc, name, "resolv.conf"), "nameserver 192.0.2.53\n");
            File.WriteAllText(Path.Combine(etc, name, RunPrefix + "no-such-etc-file"), "x"); // no /etc counterpart
            using (NetworkNamespace ns = NetworkNamespace.Create(name, options))
            {
                (await Out(ns, "cat", "/etc/resolv.conf")).Should().Be("nameserver 192.0.2.53\n");
                log.At(LogLevel.Warning).Should().ContainSingle()
                    .Which.Should().Be($"Bind {etc}/{name}/{RunPrefix}no-such-etc-file -> /etc/{RunPrefix}no-such-etc-file failed: No such file or directory (ENOENT)");
                (await ExecInNamespace.RunAsync(ns, Psi("cat", "/etc/resolv.conf"), null, reporting)).StandardOutput.Should().Be("nameserver 192.0.2.53\n");
                EtcBindException failure = reported.Should().ContainSingle().Which;
                (failure.Operation, failure.Errno, failure.Entry, failure.Target).Should().Be(
                    (NamespaceOperation.BindEtcFile, Errno.ENOENT, $"{etc}/{name}/{RunPrefix}no-such-etc-file", $"/etc/{RunPrefix}no-such-etc-file"));

                // Opt out, or pick another entry.
                var noEtc = new ExecOptions { BindEtc = false };
                (await ExecInNamespace.RunAsync(ns, Psi("cat", "/etc/resolv.conf"), null, noEtc)).StandardOutput.Should().Be(hostResolv);
                Directory.CreateDirectory(Path.Combine(etc, "other"));
                File.WriteAllText(Path.Combine(etc, "other", "resolv.conf"), "nameserver 192.0.2.54\n");
                var other = new ExecOptions { EtcName = "other" };
                (await ExecInNamespace.RunAsync(ns, Psi("cat", "/etc/resolv.conf"), null, other)).StandardOutput.Should().Be("nameserver 192.0.2.54\n");

                // The program-and-arguments overloads take options too, for a namespace and for a name.
                (await ExecInNamespace.RunAsync(ns, "cat", ["/etc/resolv.conf"], noEtc)).StandardOutput.Should().Be(hostResolv);
                var otherByName = new ExecOptions { EtcName = "other", NamespaceOptions = options };
                (await ExecInNamespace.RunAsync(name, "cat", ["/etc/resolv.conf"], otherByName)).StandardOutput.Should().Be("nameserver 192.0.2.54\n");
                (await ExecInNamespace.RunAsync(name, "cat", ["/etc/resolv.conf"], new ExecOptions { NamespaceOptions = options }))
                    .StandardOutput.Should().Be("nameserver 192.0.2.53\n");
            }
            NetworkNamespace.Delete(name, options);
            File.ReadAllText("/etc/resolv.conf").Should().Be(hostResolv, "the host's file is untouched");
        }
        finally
        {
            Directory.Delete(etc, recursive: true);
        }
    }

    [RootFact]
    public async Task The_real_etc_netns_is_used_exactly_like_ip_netns_exec()
    {
        string name = NewName("realetc");
        string etcNetns = "/etc/netns";
        bool createdEtcNetns = !Directory.Exists(etcNetns);
        string dir = Path.Combine(etcNetns, name);
        string hostResolv = File.ReadAllText("/etc/resolv.conf");
        var log = new ListLoggerFactory();
        try
        {
            Directory.CreateDirectory(dir);
            File.WriteAllText(Path.Combine(dir, "resolv.conf"), "nameserver 192.0.2.99\n");
            File.WriteAllText(Path.Combine(dir, "lnt-missing-target"), "x");
            using (NetworkNamespace.Create(name)) { }

            var options = new ExecOptions { NamespaceOptions = new NetworkNamespaceOptions { LoggerFactory = log } };
            ExecResult ours = await ExecInNamespace.RunAsync(name, Psi("cat", "/etc/resolv.conf"), null, options);
            ShellResult theirs = Shell.Ip("netns", "exec", name, "cat", "/etc/resolv.conf");
            ours.ExitCode.Should().Be(0).And.Be(theirs.ExitCode);
            ours.StandardOutput.Should().Be("nameserver 192.0.2.99\n").And.Be(theirs.StdOut);

            // iproute2 only warns about an entry it cannot bind; so do we, with the same words.
            string expected = $"Bind {dir}/lnt-missing-target -> /etc/lnt-missing-target failed: No such file or directory";
            theirs.StdErr.Should().Contain(expected);
            log.At(LogLevel.Warning).Should().ContainSingle().Which.Should().StartWith(expected);
            NetworkNamespace.Delete(name);
        }
        finally
        {
            Directory.Delete(dir, recursive: true);
            if (createdEtcNetns && !Directory.EnumerateFileSystemEntries(etcNetns).Any()) Directory.Delete(etcNetns);
        }
        File.ReadAllText("/etc/resolv.conf").Should().Be(hostResolv);
    }

    [RootFact]
    public async Task Concurrent_execs_into_two_namespaces_each_see_their_own()
    {
        string a = NewName("parA");
        string b = NewName("parB");
        using NetworkNamespace nsA = NetworkNamespace.Create(a);
        using NetworkNamespace nsB = NetworkNamespace.Create(b);
        Shell.Ip("netns", "exec", b, "ip", "link", "add", "lntpa", "type", "veth", "peer", "name", "lntpb").EnsureSuccess();
        Task<string>[] runs = Enumerable.Range(0, 16)
            .Select(i => Task.Run(() => Out(i % 2 == 0 ? nsA : nsB, "ls", "/sys/class/net")))
            .ToArray();
        string[] results = await Task.WhenAll(runs);
        for (int i = 0; i < results.Length; i++) results[i].Should().Be(i % 2 == 0 ? "lo\n" : "lntpa\nlntpb\nlo\n");
        nsA.Dispose();
        nsB.Dispose();
        NetworkNamespace.Delete(a);
        NetworkNamespace.Delete(b);
    }

    // ---- everything Process offers ------------------------------------------------------------------

    [RootFact]
    public async Task Exit_code_stdout_and_stderr_are_those_of_ip_netns_exec()
    {
        string name = NewName("exit");
        using (NetworkNamespace ns = NetworkNamespace.Create(name))
        {
            const string script = "echo out; echo err >&2; exit 7";
            ExecResult ours = await ExecInNamespace.RunAsync(ns, "sh", ["-c", script]);
            ShellResult theirs = Shell.Ip("netns", "exec", name, "sh", "-c", script);
            ours.Should().Be(new ExecResult(7, "out\n", "err\n"));
            (ours.ExitCode, ours.StandardOutput, ours.StandardError).Should().Be((theirs.ExitCode, theirs.StdOut, theirs.StdErr));

            (await ExecInNamespace.RunAsync(ns, "sh", ["-c", "kill -9 $$"])).ExitCode.Should().Be(128 + 9);
        }
        NetworkNamespace.Delete(name);
    }

    [RootFact]
    public async Task Stdin_environment_and_working_directory_reach_the_child()
    {
        string name = NewName("io");
        string cwd = Directory.CreateTempSubdirectory(RunPrefix + "cwd-").FullName;
        try
        {
            using (NetworkNamespace ns = NetworkNamespace.Create(name))
            {
                (await ExecInNamespace.RunAsync(ns, Psi("cat"), "hello\nworld\n")).StandardOutput.Should().Be("hello\nworld\n");

                ProcessStartInfo psi = Psi("sh", "-c", "echo \"$LNT_VAR\"; pwd; echo ${LNT_GONE-unset}");
                psi.Environment["LNT_VAR"] = "a value with spaces";
                psi.Environment.Remove("PATH"); // sh is found by the parent, as Process does
                psi.WorkingDirectory = cwd;
                (await ExecInNamespace.RunAsync(ns, psi)).StandardOutput.Should().Be($"a value with spaces\n{cwd}\nunset\n");

                // The plain Process API: interactive stdin, line by line.
                ProcessStartInfo interactive = Psi("sh", "-c", "while read l; do echo \"got $l\"; done");
                interactive.RedirectStandardInput = interactive.RedirectStandardOutput = true;
                using NamespaceProcess p = ExecInNamespace.Start(ns, interactive);
                p.StandardInput.WriteLine("one");
                (await p.StandardOutput.ReadLineAsync()).Should().Be("got one");
                p.StandardInput.WriteLine("two");
                (await p.StandardOutput.ReadLineAsync()).Should().Be("got two");
                p.StandardInput.Close();
                await p.WaitForExitAsync();
                p.ExitCode.Should().Be(0);
            }
            NetworkNamespace.Delete(name);
        }
        finally
        {
            Directory.Delete(cwd, recursive: true);
        }
    }

    [RootFact]
    public async Task Cancellation_kills_the_child_and_its_descendants_and_reaps_it()
    {
        string name = NewName("cancel");
        string dir = Directory.CreateTempSubdirectory(RunPrefix + "cancel-").FullName;
        try
        {
            using (NetworkNamespace ns = NetworkNamespace.Create(name))
            {
                using var cts = new CancellationTokenSource();
                string script = $"sleep 60 & echo $! > {dir}/grandchild; echo $$ > {dir}/child; wait";
                Task<ExecResult> run = ExecInNamespace.RunAsync(ns, "sh", ["-c", script], cts.Token);
                string childFile = Path.Combine(dir, "child");
                for (int i = 0; i < 500 && !(File.Exists(childFile) && File.ReadAllText(childFile).EndsWith('\n')); i++) await Task.Delay(20);
                int child = int.Parse(File.ReadAllText(childFile));
                int grandchild = int.Parse(File.ReadAllText(Path.Combine(dir, "grandchild")));
                Directory.Exists($"/proc/{child}").Should().BeTrue();

                cts.Cancel();
                await FluentActions.Awaiting(() => run).Should().ThrowAsync<OperationCanceledException>();
                Directory.Exists($"/proc/{child}").Should().BeFalse("the child was killed and reaped (no zombie)");
                for (int i = 0; i < 250 && Directory.Exists($"/proc/{grandchild}"); i++) await Task.Delay(20);
                Directory.Exists($"/proc/{grandchild}").Should().BeFalse("its descendants were killed too");

                // Process.Kill and WaitForExitAsync work on a started child as on any other.
                using NamespaceProcess p = ExecInNamespace.Start(ns, Psi("sleep", "60"));
                p.Kill();
                await p.WaitForExitAsync();
                p.ExitCode.Should().Be(128 + 9);
            }
            NetworkNamespace.Delete(name);
        }
        finally
        {
            Directory.Delete(dir, recursive: true);
        }
    }

    // ---- the host stays as it was ---------------------------------------------------------------------

    /// <summary>This process's mount table, without the run-directory entries of concurrent test runs.</summary>
    private static string[] HostMounts() =>
        File.ReadAllLines("/proc/self/mountinfo")
            .Where(l => !(l.Contains(" /run/netns/") || l.Contains(Prefix)) || l.Contains(RunPrefix))
            .ToArray();

    [RootFact]
    public void A_hundred_execs_leave_the_mount_table_and_the_threads_as_they_were()
    {
        string name = NewName("hundred");
        string[] before = HostMounts();
        string[] hostNet = HostClassNet();
        using (NetworkNamespace ns = NetworkNamespace.Create(name))
        {
            before = HostMounts(); // now including the new namespace's own mount
            for (int i = 0; i < 100; i++)
            {
                using NamespaceProcess p = ExecInNamespace.Start(ns, Psi("true"));
                p.WaitForExit();
                p.ExitCode.Should().Be(0);
            }
            HostMounts().Should().Equal(before);
            NamespaceDiagnostics.FindStrayThreads().Should().BeEmpty();
            ThreadsInOtherMountNamespaces().Should().BeEmpty();
        }
        NetworkNamespace.Delete(name);
        HostClassNet().Should().Equal(hostNet);
    }

    private static List<string> ThreadsInOtherMountNamespaces()
    {
        NamespaceId? mine = NamespaceFile.TryIdOfPath("/proc/self/ns/mnt");
        return Directory.EnumerateDirectories("/proc/self/task")
            .Where(t => NamespaceFile.TryIdOfPath(t + "/ns/mnt") is { } id && id != mine)
            .Select(t => File.ReadAllText(t + "/comm").Trim())
            .ToList();
    }

    [RootFact]
    public void The_first_exec_of_a_fresh_process_leaves_no_thread_behind()
    {
        // A separate process, so that the exec really is its first (and the first use of sockets, signals, timers).
        string name = NewName("first");
        ShellResult r = Probe.Run([], "exec-first", name);
        output.WriteLine(r.StdOut + r.StdErr);
        r.ExitCode.Should().Be(0, r.StdOut + r.StdErr);
        r.StdOut.Should().StartWith("ok lo | strays=[] |");
        r.StdOut.Should().Contain("netns:children", "the child monitor runs at home, and was not reported as a stray");
        NetworkNamespace.Exists(name).Should().BeFalse();
    }

    [RootFact]
    public void Execs_under_allocation_pressure_leave_no_runtime_thread_inside()
    {
        // The runtime's default (concurrent) GC, 16 MB of 32 KB arrays replaced one per exec, 1,500 execs: with the old
        // exec, whose thread ran Process.Start while switched, the first background GC was triggered on it in about one
        // process of three, and the ".NET BGC" thread was born inside the exec's network and mount namespaces. Four
        // fresh processes (two at a time); each must end with no thread in a foreign namespace.
        var names = new List<string>();
        for (int batch = 0; batch < 2; batch++)
        {
            var probes = new List<(Process Process, Task<string> Out, Task<string> Err)>();
            try
            {
                for (int i = 0; i < 2; i++)
                {
                    string name = NewName("pressure");
                    names.Add(name);
                    ProcessStartInfo psi = Probe.StartInfo([], "exec-pressure", name, "1500", "512");
                    psi.Environment["DOTNET_GCgen0size"] = "0x20000";
                    Process p = Process.Start(psi)!;
                    p.StandardInput.Close();
                    probes.Add((p, p.StandardOutput.ReadToEndAsync(), p.StandardError.ReadToEndAsync()));
                }
                foreach ((Process p, Task<string> stdout, Task<string> stderr) in probes)
                {
                    p.WaitForExit();
                    output.WriteLine(stdout.Result + stderr.Result);
                    stdout.Result.Should().StartWith("ok gc=").And.EndWith("strays=[]\n", "no thread may be born inside an exec's namespaces");
                }
            }
            finally
            {
                foreach ((Process p, _, _) in probes)
                {
                    if (!p.HasExited) p.Kill();
                    p.Dispose();
                }
            }
        }
        names.Should().OnlyContain(n => !NetworkNamespace.Exists(n));
    }

    [RootFact]
    public void Exec_from_a_switched_thread_leaves_that_thread_where_it_was()
    {
        string a = NewName("scopeA");
        string b = NewName("scopeB");
        using (NetworkNamespace nsA = NetworkNamespace.Create(a))
        using (NetworkNamespace nsB = NetworkNamespace.Create(b))
        {
            string? childNs;
            using (nsA.Enter())
            {
                using NamespaceProcess p = ExecInNamespace.Start(nsB, Psi("sleep", "5"));
                childNs = new FileInfo($"/proc/{p.Id}/ns/net").LinkTarget;
                p.Kill();
                p.WaitForExit();
                using NetworkNamespace current = NetworkNamespace.OpenCurrentThread();
                current.Id.Should().Be(nsA.Id, "the calling thread is still in its scope's namespace");
            }
            childNs.Should().Be(nsB.Id.ToString());
        }
        NetworkNamespace.Delete(a);
        NetworkNamespace.Delete(b);
    }

    [RootFact]
    public void Exec_from_inside_another_namespace_starts_its_thread_at_home_and_leaves_no_thread_behind()
    {
        // The window thread must not be born where the caller is (inside nsA): whatever the runtime starts from it before
        // it switches would be born there too. From a scope and from a Run item: the child is in nsB, the window thread
        // started in the home namespace (the exec refuses otherwise), no thread is left in nsA but the caller, and none
        // in nsB but its worker and a caller inside it.
        string a = NewName("bornA");
        string b = NewName("bornB");
        var log = new ListLoggerFactory();
        var options = new ExecOptions { NamespaceOptions = new NetworkNamespaceOptions { LoggerFactory = log } };
        using (NetworkNamespace nsA = NetworkNamespace.Create(a))
        using (NetworkNamespace nsB = NetworkNamespace.Create(b))
        {
            string? ChildNamespace()
            {
                using NamespaceProcess p = ExecInNamespace.Start(nsB, Psi("sleep", "5"), options);
                string? target = new FileInfo($"/proc/{p.Id}/ns/net").LinkTarget;
                p.Kill();
                p.WaitForExit();
                return target;
            }

            using (nsA.Enter())
            {
                for (int i = 0; i < 5; i++) ChildNamespace().Should().Be(nsB.Id.ToString());
                ThreadNamespaces.ThreadsWhere("net", id => id == nsA.Id).Select(t => t.ThreadId)
                    .Should().Equal([NativeForTests.gettid()], "only the calling thread is in its scope's namespace");
            }
            nsA.Run(() => ChildNamespace()).Should().Be(nsB.Id.ToString());
            ThreadNamespaces.ThreadsWhere("net", id => id == nsA.Id).Should().OnlyContain(t => t.Name.StartsWith("netns:"),
                "only nsA's worker is in nsA");

            // Threads that are in the target on purpose are no strays: its worker, and a caller already inside it.
            nsB.Run(() => { });
            using (nsB.Enter())
            {
                ChildNamespace().Should().Be(nsB.Id.ToString());
                ThreadNamespaces.ThreadsWhere("net", id => id == nsB.Id).Where(t => t.ThreadId != NativeForTests.gettid())
                    .Should().OnlyContain(t => t.Name.StartsWith("netns:"), "only nsB's worker and the caller are in nsB");
            }
        }
        NetworkNamespace.Delete(a);
        NetworkNamespace.Delete(b);
        log.Entries.Count(e => e.EventId == 32).Should().Be(7, "seven children were started");
    }

    // ---- mount propagation (docs/design.md §6) -------------------------------------------------------------

    [RootTheory]
    [InlineData(MountPropagation.Private)]
    [InlineData(MountPropagation.Slave)]
    public void Propagation_decides_what_a_running_child_sees_of_later_namespace_changes(MountPropagation propagation)
    {
        string target = NewName("prop");
        string unmounted = NewName("unmounted"); // exists before the child; later only unmounted
        string deleted = NewName("deleted");     // exists before the child; later deleted (umount + unlink)
        string added = NewName("added");         // created after the child started
        using NetworkNamespace ns = NetworkNamespace.Create(target);
        NamespaceId unmountedId;
        using (NetworkNamespace u = NetworkNamespace.Create(unmounted)) unmountedId = u.Id;
        using (NetworkNamespace.Create(deleted)) { }

        using NamespaceProcess child = ExecInNamespace.Start(ns, Psi("sleep", "60"), new ExecOptions { MountPropagation = propagation });
        try
        {
            string MountInfo() => File.ReadAllText($"/proc/{child.Id}/mountinfo");
            MountInfo().Should().Contain($"/run/netns/{unmounted} ").And.Contain($"/run/netns/{deleted} ");

            using (NetworkNamespace.Create(added)) { }
            Shell.Run("umount", $"/run/netns/{unmounted}").EnsureSuccess();
            NetworkNamespace.Delete(deleted);

            string seen = MountInfo();
            string throughChild = $"/proc/{child.Id}/root/run/netns/{unmounted}";
            if (propagation == MountPropagation.Private)
            {
                // Nothing propagates: the child keeps its copy of the unmounted namespace's mount — the namespace
                // stays alive while the child runs — and never sees the namespace added after it started.
                seen.Should().Contain($"/run/netns/{unmounted} ");
                using (NetworkNamespace stillAlive = NetworkNamespace.OpenPath(throughChild)) stillAlive.Id.Should().Be(unmountedId);
                seen.Should().NotContain($"/run/netns/{added} ");
            }
            else
            {
                // The host's unmount reaches the child's copy (the namespace is released), and so does the new mount.
                seen.Should().NotContain($"/run/netns/{unmounted} ");
                FluentActions.Invoking(() => NetworkNamespace.OpenPath(throughChild)).Should().Throw<NotANetworkNamespaceException>();
                seen.Should().Contain($"/run/netns/{added} ");
            }

            // Under both: a real delete unlinks the mount point, and the kernel (3.18+) then detaches the mounts on it
            // in every mount namespace, so the child does not keep a deleted namespace alive.
            seen.Should().NotContain($"/run/netns/{deleted} ");
        }
        finally
        {
            child.Kill();
            child.WaitForExit();
            NetworkNamespace.Delete(unmounted); // only the placeholder is left
            NetworkNamespace.Delete(added);
            NetworkNamespace.Delete(target);
        }
    }

    // ---- namespaces without a name ------------------------------------------------------------------------

    [RootFact]
    public async Task Works_for_a_namespace_opened_by_pid()
    {
        using Process holder = Process.Start(Psi("unshare", "--net", "sleep", "60"))!;
        try
        {
            NetworkNamespace? ns = null;
            for (int i = 0; i < 250 && ns is null; i++)
            {
                var candidate = NetworkNamespace.OpenProcess(holder.Id);
                if (candidate.Id != NamespaceDiagnostics.HomeNamespace) ns = candidate;
                else
                {
                    candidate.Dispose();
                    Thread.Sleep(20);
                }
            }
            ns.Should().NotBeNull();
            using (ns)
            {
                ns!.Name.Should().BeNull();
                (await Out(ns, "ls", "/sys/class/net")).Should().Be("lo\n");
                string pid = holder.Id.ToString();
                (await Out(ns, "ip", "-o", "link")).Should().Be(Shell.Run("nsenter", "-t", pid, "-n", "ip", "-o", "link").EnsureSuccess().StdOut);
                // Entering the network namespace alone is not enough for sysfs (docs/design.md §4).
                Shell.Run("nsenter", "-t", pid, "-n", "ls", "/sys/class/net").StdOut.Should().NotBe("lo\n");
            }
        }
        finally
        {
            holder.Kill();
            holder.WaitForExit();
        }
    }

    // ---- errors: before, or instead of, a child ---------------------------------------------------------

    private static string Children() =>
        string.Join(" ", Directory.EnumerateDirectories("/proc/self/task").Select(t => File.ReadAllText(t + "/children")));

    [RootFact]
    public void Each_mistake_is_a_clear_error_and_starts_nothing()
    {
        string name = NewName("err");
        string missing = NewName("missing");
        using NetworkNamespace ns = NetworkNamespace.Create(name);
        string childrenBefore = Children();

        FluentActions.Invoking(() => ExecInNamespace.Start(missing, Psi("true"))).Should().Throw<NamespaceNotFoundException>()
            .Where(e => e.Message.Contains(missing));
        FluentActions.Invoking(() => ExecInNamespace.Start(ns, Psi("lnt-no-such-program"))).Should().Throw<NetworkNamespaceException>()
            .Where(e => e.Operation == NamespaceOperation.ResolveProgram && e.Errno == Errno.ENOENT && e.Target == "lnt-no-such-program" && e.Message.Contains("not found") && e.Message.Contains(name));
        FluentActions.Invoking(() => ExecInNamespace.Start(ns, Psi("/nonexistent/prog"))).Should().Throw<NetworkNamespaceException>()
            .Where(e => e.Errno == Errno.ENOENT && e.Message.Contains("/nonexistent/prog"));
        string plainFile = Path.Combine(Path.GetTempPath(), RunPrefix + "not-executable");
        File.WriteAllText(plainFile, "#!/bin/sh\n");
        try
        {
            FluentActions.Invoking(() => ExecInNamespace.Start(ns, Psi(plainFile))).Should().Throw<NetworkNamespaceException>()
                .Where(e => e.Operation == NamespaceOperation.ResolveProgram && e.Errno == Errno.EACCES && e.Message.Contains("not executable"));
        }
        finally
        {
            File.Delete(plainFile);
        }
        FluentActions.Invoking(() => ExecInNamespace.Start(ns, Psi("/tmp"))).Should().Throw<NetworkNamespaceException>()
            .Where(e => e.Message.Contains("is a directory"));
        ProcessStartInfo badCwd = Psi("true");
        badCwd.WorkingDirectory = "/nonexistent/dir";
        FluentActions.Invoking(() => ExecInNamespace.Start(ns, badCwd)).Should().Throw<NetworkNamespaceException>()
            .Where(e => e.Message.Contains("working directory"));
        FluentActions.Invoking(() => ExecInNamespace.Start(ns, new ProcessStartInfo("true") { UseShellExecute = true }))
            .Should().Throw<ArgumentException>();
        FluentActions.Invoking(() => ExecInNamespace.Start(ns, Psi("true"), new ExecOptions { EtcName = "../x" }))
            .Should().Throw<ArgumentException>();

        Children().Should().Be(childrenBefore, "no child was started");
        ns.Dispose();
        FluentActions.Invoking(() => ExecInNamespace.Start(ns, Psi("true"))).Should().Throw<ObjectDisposedException>();
        NetworkNamespace.Delete(name);
    }

    [RootFact]
    public void Unprivileged_user_gets_the_clear_permission_error()
    {
        string name = NewName("nobodyexec");
        using (NetworkNamespace.Create(name)) { }
        ShellResult r = Probe.Run(["setpriv", "--reuid=nobody", "--regid=nogroup", "--clear-groups", "--inh-caps=-all", "--"], "exec", name);
        NetworkNamespace.Delete(name);
        r.StdOut.Should().StartWith("NamespacePermissionException Exec EPERM ").And.Contain("CAP_SYS_ADMIN").And.Contain("run as root")
            .And.Contain("ip netns exec", "the exec's own check answered, not an earlier open");
        r.ExitCode.Should().Be(1);
    }

    // ---- cost, reported (not asserted) -------------------------------------------------------------------

    [RootFact]
    public void Exec_of_true_costs_are_reported_next_to_ip_netns_exec()
    {
        string name = NewName("cost");
        using (NetworkNamespace ns = NetworkNamespace.Create(name))
        {
            const int n = 200;
            static void Wait(NamespaceProcess p)
            {
                p.WaitForExit();
                p.ExitCode.Should().Be(0);
                p.Dispose();
            }
            static void WaitPlain(Process p)
            {
                p.WaitForExit();
                p.ExitCode.Should().Be(0);
                p.Dispose();
            }
            for (int i = 0; i < 20; i++)
            {
                Wait(ExecInNamespace.Start(ns, Psi("/bin/true")));
                WaitPlain(Process.Start(Psi("ip", "netns", "exec", name, "/bin/true"))!);
            }
            var sw = Stopwatch.StartNew();
            for (int i = 0; i < n; i++) Wait(ExecInNamespace.Start(ns, Psi("/bin/true")));
            double library = sw.Elapsed.TotalMilliseconds / n;
            sw.Restart();
            for (int i = 0; i < n; i++) WaitPlain(Process.Start(Psi("ip", "netns", "exec", name, "/bin/true"))!);
            double ip = sw.Elapsed.TotalMilliseconds / n;
            sw.Restart();
            for (int i = 0; i < n; i++) WaitPlain(Process.Start(Psi("/bin/true"))!);
            double plain = sw.Elapsed.TotalMilliseconds / n;
            output.WriteLine($"start+wait of /bin/true, mean of {n}: ExecInNamespace {library:F3} ms, Process.Start(ip netns exec) {ip:F3} ms, plain Process.Start {plain:F3} ms");
        }
        NetworkNamespace.Delete(name);
    }
}
