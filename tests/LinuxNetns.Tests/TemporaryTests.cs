using System.Diagnostics;
using LinuxNetns.Tests.Infrastructure;

namespace LinuxNetns.Tests;

/// <summary>
/// CreateTemporary / CreateTemporaryPinned / PruneTemporary. Whether a namespace still exists is observed through a
/// witness: a veth pair with one end in it and the other in a second namespace; the kernel deletes the pair when
/// the namespace is torn down, so the witness's end disappearing proves the namespace is gone.
/// </summary>
public sealed class TemporaryTests : NamespaceTest
{
    [RootFact]
    public void A_temporary_namespace_has_no_name_and_no_mount()
    {
        using NetworkNamespace ns = NetworkNamespace.CreateTemporary();
        ns.IsTemporary.Should().BeTrue();
        ns.Name.Should().BeNull();
        ns.Path.Should().MatchRegex($"^/proc/{Environment.ProcessId}/fd/[0-9]+$");
        Shell.Run("stat", "-L", "-c", "%i", ns.Path).EnsureSuccess().StdOut.Trim().Should().Be(ns.Id.Inode.ToString());
        ns.Id.Should().NotBe(NamespaceDiagnostics.HomeNamespace);

        KernelState.IsMounted(ns.Id.Inode).Should().BeFalse("nothing pins it but the handle");
        KernelState.RunDirectoryInodes().Should().NotContain(ns.Id.Inode);
        KernelState.ReferencesInThisProcess(ns.Id.Inode).Should().ContainSingle("the handle's fd is its only reference");

        // It is a real, fresh namespace: only lo, down; nsenter sees the same.
        ns.Network.GetLinks().Select(l => l.Name).Should().Equal("lo");
        Shell.Run("nsenter", $"--net={ns.Path}", "ip", "-o", "link").EnsureSuccess().StdOut.Should().Contain("lo:").And.NotContain("UP");
    }

    [RootFact]
    public void The_namespace_dies_when_its_handle_is_the_last_reference_and_is_disposed()
    {
        using NetworkNamespace witness = NetworkNamespace.CreateTemporary();
        NetworkNamespace ns = NetworkNamespace.CreateTemporary();
        ulong inode = ns.Id.Inode;
        ns.Network.CreateVethPair("tmpd0", witness, "wit0");
        ns.CreateSocket(System.Net.Sockets.AddressFamily.InterNetwork, System.Net.Sockets.SocketType.Dgram, System.Net.Sockets.ProtocolType.Udp).Dispose();
        witness.Network.FindLink("wit0").Should().NotBeNull();

        // A second handle keeps it alive after the first is disposed.
        NetworkNamespace second = NetworkNamespace.OpenPath(ns.Path);
        ns.Dispose();
        KernelState.ReferencesInThisProcess(inode).Should().ContainSingle("only the second handle's fd is left");
        witness.Network.FindLink("wit0").Should().NotBeNull("the namespace lives while a handle is open");

        second.Dispose();
        KernelState.ReferencesInThisProcess(inode).Should().BeEmpty("no fd, socket or thread of ours refers to it any more");
        KernelState.Eventually(() => witness.Network.FindLink("wit0") is null).Should().BeTrue("the kernel tore the namespace down, and the veth with it");
        KernelState.IsMounted(inode).Should().BeFalse();
    }

    [RootFact]
    public void A_killed_process_leaves_nothing_of_its_temporary_namespace()
    {
        using NetworkNamespace witness = NetworkNamespace.CreateTemporary();
        const string witnessEnd = "witk0";
        using Process child = Process.Start(Probe.StartInfo([], "hold-temporary", witness.Path, witnessEnd))!;
        string? ready = child.StandardOutput.ReadLine();
        ready.Should().NotBeNull().And.StartWith("ready ", child.HasExited ? child.StandardError.ReadToEnd() : "");
        ulong inode = ulong.Parse(ready!["ready ".Length..]);
        witness.Network.FindLink(witnessEnd).Should().NotBeNull("the child's namespace is alive and joined to ours");
        KernelState.IsMounted(inode).Should().BeFalse();

        child.Kill(); // SIGKILL: no finalizer, no Dispose runs
        child.WaitForExit();

        KernelState.Eventually(() => witness.Network.FindLink(witnessEnd) is null).Should().BeTrue("the kernel freed the namespace of the killed process");
        KernelState.IsMounted(inode).Should().BeFalse();
        KernelState.RunDirectoryInodes().Should().NotContain(inode);
        NetworkNamespace.List().Should().NotContain(n => n.StartsWith($"tmp-{PidNamespace}-{child.Id}-"));
    }

    [RootFact]
    public void A_pinned_temporary_namespace_works_with_ip_netns_and_goes_with_its_handle()
    {
        string name;
        ulong inode;
        using (NetworkNamespace ns = NetworkNamespace.CreateTemporaryPinned())
        {
            name = ns.Name!;
            inode = ns.Id.Inode;
            ns.IsTemporary.Should().BeTrue();
            name.Should().MatchRegex($"^tmp-{PidNamespace}-{Environment.ProcessId}-[0-9]+-[0-9]+$");
            string startTime = File.ReadAllText("/proc/self/stat").Split(')')[^1].Split(' ', StringSplitOptions.RemoveEmptyEntries)[19];
            name.Split('-')[3].Should().Be(startTime, "the name records the owner's start time");
            ns.Path.Should().Be($"/run/netns/{name}");
            Shell.Ip("netns", "list").StdOut.Should().Contain(name);
            Shell.Ip("netns", "exec", name, "ip", "-o", "link").EnsureSuccess().StdOut.Should().Contain("lo:");
            NetworkNamespace.PruneTemporary().Should().NotContain(name, "its owner, this process, is alive");
        }
        NetworkNamespace.Exists(name).Should().BeFalse();
        KernelState.IsMounted(inode).Should().BeFalse();
    }

    [RootFact]
    public void Prune_removes_the_names_of_killed_owners_only()
    {
        using NetworkNamespace mine = NetworkNamespace.CreateTemporaryPinned();
        using Process child = Process.Start(Probe.StartInfo([], "hold-temporary-pinned"))!;
        string? ready = child.StandardOutput.ReadLine();
        ready.Should().NotBeNull().And.StartWith("ready tmp-");
        string orphan = ready!["ready ".Length..];
        try
        {
            orphan.Should().StartWith($"tmp-{PidNamespace}-{child.Id}-");
            child.Kill();
            child.WaitForExit();
            NetworkNamespace.Exists(orphan).Should().BeTrue("a killed process cannot remove its pin");

            // A name of the pattern whose pid is alive but whose start time differs is a reused pid: pruned too.
            // A name of a live owner is kept.
            IReadOnlyList<string> pruned = NetworkNamespace.PruneTemporary();
            pruned.Should().Contain(orphan).And.NotContain(mine.Name);
            NetworkNamespace.Exists(orphan).Should().BeFalse();
            NetworkNamespace.Exists(mine.Name!).Should().BeTrue();
            MountTable().Should().NotContain(orphan);
        }
        finally
        {
            if (NetworkNamespace.Exists(orphan)) NetworkNamespace.Delete(orphan);
        }
    }

    [RootFact]
    public void Prune_tells_a_reused_pid_from_the_owner()
    {
        // This process's pid with a start time it never had: the owner is gone although the pid runs.
        string fake = $"tmp-{PidNamespace}-{Environment.ProcessId}-1-{Environment.TickCount & 0xffff}";
        string notOurs = NewName("tmp-x"); // a name outside the pattern is never touched
        using (NetworkNamespace ns = NetworkNamespace.CreateTemporary())
        {
            ns.Pin(fake);
            ns.Pin(notOurs);
        }
        try
        {
            NetworkNamespace.PruneTemporary().Should().Contain(fake).And.NotContain(notOurs);
            NetworkNamespace.Exists(fake).Should().BeFalse();
            NetworkNamespace.Exists(notOurs).Should().BeTrue();
        }
        finally
        {
            if (NetworkNamespace.Exists(fake)) NetworkNamespace.Delete(fake);
            NetworkNamespace.Delete(notOurs);
        }
    }

    [RootFact]
    public void Prune_keeps_the_live_name_of_an_owner_running_in_another_pid_namespace()
    {
        // A real owner in a pid namespace of its own that shares our /proc and run directory: there it is pid 1,
        // which here is init with another start time; judged by its pid alone, its live pin would be pruned.
        using Process owner = Process.Start(Probe.StartInfo(["unshare", "--pid", "--fork", "--kill-child", "--"], "hold-temporary-pinned"))!;
        string? ready = owner.StandardOutput.ReadLine();
        string? name = ready?.StartsWith("ready tmp-") == true ? ready["ready ".Length..] : null;
        try
        {
            name.Should().NotBeNull("the owner prints its name (it said: {0})", ready);
            NetworkNamespace.PruneTemporary().Should().NotContain(name);
            NetworkNamespace.Exists(name!).Should().BeTrue("its owner is alive in its own pid namespace");
        }
        finally
        {
            owner.Kill(entireProcessTree: true);
            owner.WaitForExit();
            if (name is not null && NetworkNamespace.Exists(name)) NetworkNamespace.Delete(name);
        }
    }

    [RootFact]
    public void Prune_never_removes_a_name_whose_owner_is_in_another_pid_namespace()
    {
        // Both names claim a pid that runs nowhere here (above pid_max); one says it was made in our pid namespace
        // (its owner is judged gone), the other in a foreign one (a container sharing the run directory), where
        // that pid may well be alive: it must stay.
        string dead = $"{4194304 + Environment.ProcessId}";
        string foreign = $"tmp-{PidNamespace + 1}-{dead}-1-{Environment.TickCount & 0xffff}";
        string ours = $"tmp-{PidNamespace}-{dead}-1-{Environment.TickCount & 0xffff}";
        using (NetworkNamespace ns = NetworkNamespace.CreateTemporary())
        {
            ns.Pin(foreign);
            ns.Pin(ours);
        }
        try
        {
            IReadOnlyList<string> pruned = NetworkNamespace.PruneTemporary();
            pruned.Should().Contain(ours).And.NotContain(foreign);
            NetworkNamespace.Exists(foreign).Should().BeTrue("its owner cannot be judged from this pid namespace");
            MountTable().Should().Contain($"/run/netns/{foreign} ");
        }
        finally
        {
            if (NetworkNamespace.Exists(foreign)) NetworkNamespace.Delete(foreign);
            if (NetworkNamespace.Exists(ours)) NetworkNamespace.Delete(ours);
        }
    }

    /// <summary>The inode of this process's pid namespace, as temporary names record it.</summary>
    private static ulong PidNamespace => ulong.Parse(Shell.Run("stat", "-L", "-c", "%i", "/proc/self/ns/pid").EnsureSuccess().StdOut.Trim());

    private static string MountTable() => File.ReadAllText("/proc/self/mountinfo");
}
