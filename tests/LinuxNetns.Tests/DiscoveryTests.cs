using System.Diagnostics;
using System.Text.Json.Nodes;
using LinuxNetns.Interop;
using LinuxNetns.Tests.Differential;
using LinuxNetns.Tests.Infrastructure;

namespace LinuxNetns.Tests;

/// <summary>
/// NamespaceDiscovery against real holders of each kind: a process, a descriptor of another process, a bind mount in
/// another process's private mount namespace, the host's own namespace, one made by <c>ip netns add</c>. Each is found
/// with exactly its holders, then pinned (from the one holder left) and used by <c>ip netns exec</c>.
/// </summary>
// In the process-wide collection: it scans every process, descriptor and mount namespace of the machine, and its pins
// and deletes change the host's mount table.
[Collection(ProcessWideCollection.Name)]
public sealed class DiscoveryTests : NamespaceTest
{
    private static Process Start(string file, params string[] args)
    {
        var psi = new ProcessStartInfo(file) { UseShellExecute = false, RedirectStandardInput = true };
        foreach (string a in args) psi.ArgumentList.Add(a);
        return Process.Start(psi)!;
    }

    private static void Stop(Process? p)
    {
        if (p is null) return;
        try
        {
            if (!p.HasExited) p.Kill();
            p.WaitForExit();
        }
        catch (InvalidOperationException)
        {
        }
        p.Dispose();
    }

    /// <summary><c>unshare -n sleep 60</c>, once its pid is in the new namespace; returns that namespace's inode.</summary>
    private static (Process Process, ulong Inode) StartNamespaceHolder()
    {
        Process p = Start("unshare", "--net", "sleep", "60");
        ulong home = NamespaceFile("/proc/self/ns/net");
        KernelState.Eventually(() => NamespaceFile($"/proc/{p.Id}/ns/net") is var n && n != 0 && n != home).Should().BeTrue("unshare must switch");
        return (p, NamespaceFile($"/proc/{p.Id}/ns/net"));
    }

    private static ulong NamespaceFile(string path) => Libc.Stat(path, out Libc.StatX st) == 0 ? st.Ino : 0;

    private static DiscoveredNamespace Found(ulong inode)
    {
        DiscoveryResult all = NamespaceDiscovery.Discover();
        all.Select(n => n.Id).Should().OnlyHaveUniqueItems("each namespace is reported once");
        DiscoveredNamespace? d = all.SingleOrDefault(n => n.Id.Inode == inode);
        d.Should().NotBeNull($"net:[{inode}] must be discovered");
        return d!;
    }

    /// <summary>Pins the discovered namespace and checks that <c>ip netns exec NAME</c> runs inside it.</summary>
    private void PinAndExec(DiscoveredNamespace d, ulong inode)
    {
        string name = NewName("disc");
        d.Pin(name);
        try
        {
            ShellResult r = Shell.Ip("netns", "exec", name, "readlink", "/proc/self/ns/net");
            r.ExitCode.Should().Be(0, r.StdErr);
            r.StdOut.Trim().Should().Be($"net:[{inode}]");
            Shell.Ip("netns", "list").StdOut.Should().Contain(name);
        }
        finally
        {
            NetworkNamespace.Delete(name);
        }
    }

    [RootFact]
    public void A_namespace_held_only_by_a_process_is_found_with_its_pid_and_pinned()
    {
        (Process holder, ulong inode) = StartNamespaceHolder();
        try
        {
            DiscoveredNamespace d = Found(inode);
            d.ProcessIds.Should().Equal(holder.Id);
            d.Names.Should().BeEmpty();
            d.BindMounts.Should().BeEmpty();
            d.Descriptors.Should().BeEmpty();
            d.Threads.Should().BeEmpty();
            d.IsCurrent.Should().BeFalse();
            d.OwnerUserNamespace.Should().NotBeNull();
            d.OwnerUserNamespace!.Value.Inode.Should().Be(NamespaceFile("/proc/self/ns/user"));
            using (NetworkNamespace ns = d.Open())
            {
                ns.Path.Should().Be($"/proc/{holder.Id}/ns/net");
                ns.Id.Should().Be(d.Id);
            }
            PinAndExec(d, inode);
        }
        finally
        {
            Stop(holder);
        }
    }

    [RootFact]
    public void A_namespace_held_only_by_a_descriptor_of_another_process_is_found_with_pid_and_fd_and_pinned()
    {
        (Process first, ulong inode) = StartNamespaceHolder();
        Process? fdHolder = null;
        try
        {
            // A shell in the host's namespace opens the namespace as fd 3 and becomes sleep, which keeps it.
            fdHolder = Start("sh", "-c", $"exec 3</proc/{first.Id}/ns/net; exec sleep 60");
            int pid = fdHolder.Id;
            KernelState.Eventually(() => NamespaceFile($"/proc/{pid}/fd/3") == inode && File.ReadAllText($"/proc/{pid}/comm").Trim() == "sleep")
                .Should().BeTrue("the shell must open fd 3 and exec sleep");
            Stop(first);
            first = null!;

            DiscoveredNamespace d = Found(inode);
            d.Descriptors.Should().Equal(new DiscoveredDescriptor(pid, 3));
            d.ProcessIds.Should().BeEmpty("the process that made it has exited");
            d.Threads.Should().BeEmpty();
            d.Names.Should().BeEmpty();
            d.BindMounts.Should().BeEmpty();
            using (NetworkNamespace ns = d.Open()) ns.Path.Should().Be($"/proc/{pid}/fd/3");
            PinAndExec(d, inode);
        }
        finally
        {
            Stop(first);
            Stop(fdHolder);
        }
    }

    [RootFact]
    public void A_namespace_held_only_by_a_bind_mount_in_another_private_mount_namespace_is_found_and_pinned()
    {
        (Process first, ulong inode) = StartNamespaceHolder();
        string dir = Path.Combine(Path.GetTempPath(), NewName("mnt"));
        Directory.CreateDirectory(dir);
        string target = Path.Combine(dir, "netns file");   // a space: mountinfo escapes it as \040
        File.WriteAllBytes(target, []);
        Process? mounter = null;
        try
        {
            mounter = Start("unshare", "--mount", "--propagation", "private", "sh", "-c",
                $"mount --bind /proc/{first.Id}/ns/net '{target}' && exec sleep 60");
            int pid = mounter.Id;
            KernelState.Eventually(() => File.Exists($"/proc/{pid}/mountinfo") && File.ReadAllText($"/proc/{pid}/mountinfo").Contains($"net:[{inode}]")
                    && File.ReadAllText($"/proc/{pid}/comm").Trim() == "sleep")
                .Should().BeTrue("the private mount namespace must get the bind mount");
            Stop(first);
            first = null!;
            KernelState.IsMounted(inode).Should().BeFalse("the mount is private to the other mount namespace");

            DiscoveredNamespace d = Found(inode);
            d.ProcessIds.Should().BeEmpty();
            d.Descriptors.Should().BeEmpty();
            d.Names.Should().BeEmpty();
            DiscoveredMount m = d.BindMounts.Should().ContainSingle().Subject;
            m.Path.Should().Be(target);
            m.IsInCallerMountNamespace.Should().BeFalse();
            m.MountNamespace.Inode.Should().Be(NamespaceFile($"/proc/{pid}/ns/mnt"));
            m.MountNamespace.Inode.Should().NotBe(NamespaceFile("/proc/self/ns/mnt"));
            m.ReachablePath.Should().Be($"/proc/{pid}/root{target}");
            using (NetworkNamespace ns = d.Open()) ns.Path.Should().Be(m.ReachablePath);
            PinAndExec(d, inode);
        }
        finally
        {
            Stop(first);
            Stop(mounter);
            Directory.Delete(dir, recursive: true);
        }
    }

    [RootFact]
    public void The_host_namespace_is_found_once_as_current_with_this_process_and_its_owner()
    {
        ulong home = NamespaceFile("/proc/self/ns/net");
        DiscoveryResult all = NamespaceDiscovery.Discover();
        all.Where(n => n.IsCurrent).Should().ContainSingle().Which.Id.Inode.Should().Be(home);
        DiscoveredNamespace d = all.Single(n => n.Id.Inode == home);
        d.ProcessIds.Should().Contain(Environment.ProcessId);
        d.OwnerUserNamespace!.Value.Inode.Should().Be(NamespaceFile("/proc/self/ns/user"));
        all.ProcessesScanned.Should().BeGreaterThan(1);
        all.MountNamespacesScanned.Should().BeGreaterThanOrEqualTo(1);
        all.Find(d.Id).Should().BeSameAs(d);
        using (NetworkNamespace ns = d.Open()) ns.Id.Should().Be(d.Id);
        PinAndExec(d, home);
    }

    [RootFact]
    public void A_namespace_added_by_ip_is_found_by_name_mount_and_nsid_and_pinned_under_a_second_name()
    {
        string name = NewName("ip");
        Shell.Ip("netns", "add", name).EnsureSuccess();
        try
        {
            Shell.Ip("netns", "set", name, "auto").EnsureSuccess();
            using NetworkNamespace pinned = NetworkNamespace.Open(name);
            using NetworkNamespace home = NetworkNamespace.OpenProcess(Environment.ProcessId);
            int? nsid = home.Network.GetNsid(pinned);
            nsid.Should().NotBeNull();

            DiscoveredNamespace d = Found(pinned.Id.Inode);
            d.Id.Should().Be(pinned.Id);
            d.Names.Should().Equal(name);
            d.BindMounts.Should().Contain(m => m.Path == $"/run/netns/{name}" && m.IsInCallerMountNamespace);
            d.Nsid.Should().Be(nsid);
            d.Descriptors.Should().Contain(new DiscoveredDescriptor(Environment.ProcessId, pinned.Handle.DangerousGetHandle().ToInt32()));
            using (NetworkNamespace opened = d.Open())
            {
                opened.Name.Should().Be(name, "a name is the first holder tried");
                opened.Id.Should().Be(pinned.Id);
            }
            PinAndExec(d, pinned.Id.Inode);
        }
        finally
        {
            Shell.Ip("netns", "delete", name);
        }
    }

    [RootFact]
    public void A_thread_switched_into_a_namespace_is_reported_as_a_thread_holder()
    {
        using NetworkNamespace temporary = NetworkNamespace.CreateTemporary();
        int tid = temporary.Run(Libc.GetThreadId);   // the worker stays inside until the handle is disposed
        DiscoveredNamespace d = Found(temporary.Id.Inode);
        d.Threads.Should().Contain(new DiscoveredThread(Environment.ProcessId, tid));
        d.ProcessIds.Should().NotContain(Environment.ProcessId, "the process's main thread is at home");
        d.Descriptors.Should().Contain(x => x.ProcessId == Environment.ProcessId);
    }

    [RootFact]
    public void Odd_files_in_the_run_directory_and_unreadable_entries_are_counted_not_thrown()
    {
        string dir = Path.Combine(Path.GetTempPath(), NewName("rundir"));
        Directory.CreateDirectory(dir);
        try
        {
            File.WriteAllText(Path.Combine(dir, "text"), "not a namespace");
            File.WriteAllBytes(Path.Combine(dir, "placeholder"), []);
            Shell.Run("mkfifo", Path.Combine(dir, "fifo")).EnsureSuccess();
            Directory.CreateDirectory(Path.Combine(dir, "directory"));
            var options = new NetworkNamespaceOptions { RunDirectory = dir };

            DiscoveryResult all = NamespaceDiscovery.Discover(options, DiscoverySources.RunDirectory | DiscoverySources.Processes);
            all.Skipped.Unrecognized.Should().Be(4, "a text file, an empty placeholder, a FIFO and a directory are no namespace");
            all.SelectMany(n => n.Names).Should().BeEmpty();
            all.Should().Contain(n => n.IsCurrent);

            // In sandboxes where root may not read /proc/1/ns/net (EACCES), that entry is counted as denied.
            if (Libc.Stat("/proc/1/ns/net", out _) != 0 && Libc.LastErrno == Libc.EACCES)
                all.Skipped.Denied.Should().BeGreaterThanOrEqualTo(1);
            all.Skipped.Total.Should().Be(all.Skipped.Vanished + all.Skipped.Denied + all.Skipped.Unrecognized + all.Skipped.Failed);
        }
        finally
        {
            Directory.Delete(dir, recursive: true);
        }
    }

    [RootFact]
    public void OpenProcess_of_an_exited_process_is_not_found_and_of_a_live_one_is_its_namespace()
    {
        using Process done = Start("true");
        done.WaitForExit();
        int gone = done.Id;
        FluentActions.Invoking(() => NetworkNamespace.OpenProcess(gone)).Should().Throw<NamespaceNotFoundException>()
            .Which.Message.Should().Contain($"{gone}");

        (Process holder, ulong inode) = StartNamespaceHolder();
        try
        {
            using NetworkNamespace ns = NetworkNamespace.OpenProcess(holder.Id);
            ns.Id.Inode.Should().Be(inode);
        }
        finally
        {
            Stop(holder);
        }
    }

    [RootFact]
    public void The_netns_tool_lists_discovered_namespaces_as_a_table_and_as_json()
    {
        (Process holder, ulong inode) = StartNamespaceHolder();
        try
        {
            ShellResult table = Shell.Run(Probe.DotNet, Differential.Differential.NetnsDll, "discover");
            table.ExitCode.Should().Be(0, table.StdErr);
            string[] lines = table.StdOut.Split('\n', StringSplitOptions.RemoveEmptyEntries);
            lines[0].Should().StartWith("NS ").And.Contain("HOLDER");
            lines.Should().Contain(l => l.StartsWith($"{inode} ") && l.EndsWith($"pid {holder.Id}"));
            lines.Should().Contain(l => l.Contains("(current)"));

            ShellResult json = Shell.Run(Probe.DotNet, Differential.Differential.NetnsDll, "-j", "discover");
            json.ExitCode.Should().Be(0, json.StdErr);
            JsonArray array = JsonNode.Parse(json.StdOut)!.AsArray();
            JsonNode entry = array.Single(n => n!["inode"]!.GetValue<ulong>() == inode)!;
            entry["ns"]!.GetValue<string>().Should().Be($"net:[{inode}]");
            entry["pids"]!.AsArray().Select(p => p!.GetValue<int>()).Should().Equal(holder.Id);
            entry["current"]!.GetValue<bool>().Should().BeFalse();
            entry["userns"]!.GetValue<string>().Should().StartWith("user:[");
            array.Count(n => n!["current"]!.GetValue<bool>()).Should().Be(1);
        }
        finally
        {
            Stop(holder);
        }
    }
}
