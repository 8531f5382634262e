using System.Diagnostics;
using LinuxNetns.Exec;
using LinuxNetns.Tests.Infrastructure;
using Xunit.Abstractions;

namespace LinuxNetns.Tests;

/// <summary>
/// The mount namespace prepared once per network namespace and entered by every exec (docs/exec.md): reused only
/// while it is exactly what a new one would be, and never keeping anything alive.
/// </summary>
public sealed class PreparedMountNamespaceTests(ITestOutputHelper output) : NamespaceTest
{
    private static ProcessStartInfo Psi(string file, params string[] args) => Shell.StartInfo(file, args);

    private static string MountNamespaceOf(int pid) => new FileInfo($"/proc/{pid}/ns/mnt").LinkTarget!;

    /// <summary>The mount namespaces this process holds a descriptor of (<c>mnt:[INODE]</c>).</summary>
    private static HashSet<string> HeldMountNamespaces() =>
        Directory.EnumerateFileSystemEntries("/proc/self/fd")
            .Select(fd =>
            {
                try
                {
                    return new FileInfo(fd).LinkTarget;
                }
                catch (IOException)
                {
                    return null; // closed meanwhile
                }
            })
            .Where(t => t is not null && t.StartsWith("mnt:[", StringComparison.Ordinal))
            .Select(t => t!)
            .ToHashSet();

    private static async Task<bool> Eventually(Func<bool> condition)
    {
        for (int i = 0; i < 500 && !condition(); i++) await Task.Delay(20);
        return condition();
    }

    /// <summary>
    /// Two execs in a row until they share a mount namespace: a change of the host's mount table between them (anything
    /// mounted on this machine meanwhile) rightly makes the second a new one, so a busy host gets a few tries.
    /// </summary>
    private static (NamespaceProcess First, NamespaceProcess Second) TwoChildren(NetworkNamespace ns, ExecOptions options)
    {
        for (int attempt = 1; ; attempt++)
        {
            NamespaceProcess first = ExecInNamespace.Start(ns, Psi("sleep", "30"), options);
            NamespaceProcess second = ExecInNamespace.Start(ns, Psi("sleep", "30"), options);
            if (MountNamespaceOf(second.Id) == MountNamespaceOf(first.Id) || attempt == 20) return (first, second);
            foreach (NamespaceProcess p in new[] { first, second })
            {
                p.Kill();
                p.WaitForExit();
                p.Dispose();
            }
        }
    }

    [RootTheory]
    [InlineData(MountPropagation.Private)]
    [InlineData(MountPropagation.Slave)]
    public void Execs_share_one_mount_namespace_until_the_host_mount_table_changes(MountPropagation propagation)
    {
        string name = NewName("shared");
        string later = NewName("later");
        var options = new ExecOptions { MountPropagation = propagation };
        using NetworkNamespace ns = NetworkNamespace.Create(name);
        string hostMounts = MountNamespaceOf(Environment.ProcessId);
        (NamespaceProcess first, NamespaceProcess second) = TwoChildren(ns, options);
        try
        {
            MountNamespaceOf(first.Id).Should().NotBe(hostMounts);
            MountNamespaceOf(second.Id).Should().Be(MountNamespaceOf(first.Id), "nothing changed between the two execs");

            using (NetworkNamespace.Create(later)) { }
            using NamespaceProcess third = ExecInNamespace.Start(ns, Psi("sleep", "30"), options);
            try
            {
                MountNamespaceOf(third.Id).Should().NotBe(MountNamespaceOf(first.Id), "the host's mount table changed: a new one was made");
                File.ReadAllText($"/proc/{third.Id}/mountinfo").Should().Contain($"/run/netns/{later} ", "a child sees the namespaces that exist when it starts");
                string firstSees = File.ReadAllText($"/proc/{first.Id}/mountinfo");
                if (propagation == MountPropagation.Private) firstSees.Should().NotContain($"/run/netns/{later} ");
                else firstSees.Should().Contain($"/run/netns/{later} ");
            }
            finally
            {
                third.Kill();
                third.WaitForExit();
            }
        }
        finally
        {
            foreach (NamespaceProcess p in new[] { first, second })
            {
                p.Kill();
                p.WaitForExit();
                p.Dispose();
            }
            if (NetworkNamespace.Exists(later)) NetworkNamespace.Delete(later);
            NetworkNamespace.Delete(name);
        }
    }

    [RootFact]
    public async Task Each_exec_sees_etc_netns_as_it_is_at_that_moment()
    {
        string name = NewName("etcnow");
        string etc = Directory.CreateTempSubdirectory(RunPrefix + "etcnow-").FullName;
        var options = new ExecOptions { NamespaceOptions = new NetworkNamespaceOptions { EtcDirectory = etc } };
        string host = File.ReadAllText("/etc/hostname");
        string entry = Path.Combine(etc, name, "hostname");
        try
        {
            using (NetworkNamespace ns = NetworkNamespace.Create(name))
            {
                async Task<string> Seen() => (await ExecInNamespace.RunAsync(ns, "cat", ["/etc/hostname"], options)).StandardOutput;

                (await Seen()).Should().Be(host, "no /etc/netns/NAME yet");
                Directory.CreateDirectory(Path.Combine(etc, name));
                (await Seen()).Should().Be(host, "an empty /etc/netns/NAME");
                File.WriteAllText(entry, "added\n");
                (await Seen()).Should().Be("added\n", "an entry added since the last exec");
                File.WriteAllText(entry, "edited\n");
                (await Seen()).Should().Be("edited\n", "an entry edited in place");
                string replacement = entry + ".new";
                File.WriteAllText(replacement, "replaced\n");
                File.Move(replacement, entry, overwrite: true);
                (await Seen()).Should().Be("replaced\n", "an entry replaced by a rename");
                File.Delete(entry);
                (await Seen()).Should().Be(host, "an entry removed since the last exec");
            }
            NetworkNamespace.Delete(name);
            File.ReadAllText("/etc/hostname").Should().Be(host);
        }
        finally
        {
            Directory.Delete(etc, recursive: true);
        }
    }

    [RootFact]
    public async Task A_mount_made_by_a_child_is_not_seen_by_the_next_exec_nor_by_the_host()
    {
        string name = NewName("childmount");
        string source = RunPrefix + "child-tmpfs";
        using (NetworkNamespace ns = NetworkNamespace.Create(name))
        {
            (await ExecInNamespace.RunAsync(ns, "mount", ["-t", "tmpfs", source, "/mnt"])).ExitCode.Should().Be(0);
            (await ExecInNamespace.RunAsync(ns, "cat", ["/proc/self/mountinfo"])).StandardOutput.Should().NotContain(source);
            File.ReadAllText("/proc/self/mountinfo").Should().NotContain(source);
        }
        NetworkNamespace.Delete(name);
    }

    [RootTheory]
    [InlineData(MountPropagation.Private)]
    [InlineData(MountPropagation.Slave)]
    public async Task A_deleted_namespace_dies_although_prepared_mount_namespaces_saw_it(MountPropagation propagation)
    {
        // Witness: a veth pair between the doomed namespace and another; the peer disappears when the doomed one dies.
        string doomed = NewName("doomed");
        string other = NewName("other");
        string witness = NewName("witness");
        var options = new ExecOptions { MountPropagation = propagation };
        using NetworkNamespace w = NetworkNamespace.Create(witness);
        try
        {
            using (NetworkNamespace d = NetworkNamespace.Create(doomed))
            {
                d.Network.CreateVethPair("lnt-d0", w, "lnt-w0");
                (await ExecInNamespace.RunAsync(d, "true", [], options)).ExitCode.Should().Be(0);
            }
            using (NetworkNamespace.Create(other)) { }
            // By name: kept after the call, and its copy of the host's mounts includes /run/netns/DOOMED.
            (await ExecInNamespace.RunAsync(other, "true", [], options)).ExitCode.Should().Be(0);
            (await ExecInNamespace.RunAsync(doomed, "true", [], options)).ExitCode.Should().Be(0);
            w.Network.FindLink("lnt-w0").Should().NotBeNull();

            Shell.Ip("netns", "delete", doomed).EnsureSuccess();
            (await Eventually(() => w.Network.FindLink("lnt-w0") is null)).Should().BeTrue("nothing keeps the deleted namespace alive");
        }
        finally
        {
            if (NetworkNamespace.Exists(other)) NetworkNamespace.Delete(other);
            NetworkNamespace.Delete(witness);
        }
    }

    /// <summary>
    /// An exec, and the mount namespace its child ran in while this process still holds it: a change of the host's mount
    /// table right after the exec (anything mounted on this machine) rightly releases it, so a busy host gets a few tries.
    /// </summary>
    private static string ExecAndHeld(Func<NamespaceProcess> start)
    {
        for (int attempt = 1; ; attempt++)
        {
            string held;
            using (NamespaceProcess p = start())
            {
                held = MountNamespaceOf(p.Id);
                p.Kill();
                p.WaitForExit();
            }
            if (HeldMountNamespaces().Contains(held) || attempt == 20) return held;
        }
    }

    [RootFact]
    public async Task A_prepared_mount_namespace_is_released_with_its_handle_or_its_name()
    {
        string name = NewName("release");
        NetworkNamespace ns = NetworkNamespace.Create(name);
        string held;
        try
        {
            held = ExecAndHeld(() => ExecInNamespace.Start(ns, Psi("sleep", "30")));
            HeldMountNamespaces().Should().Contain(held, "it is kept for the next exec");
        }
        finally
        {
            ns.Dispose();
        }
        HeldMountNamespaces().Should().NotContain(held, "disposing the handle released it");

        // Reached by name, it outlives the call's own handle, until the name is deleted.
        held = ExecAndHeld(() => ExecInNamespace.Start(name, Psi("sleep", "30")));
        HeldMountNamespaces().Should().Contain(held);
        Shell.Ip("netns", "delete", name).EnsureSuccess();
        (await Eventually(() => !HeldMountNamespaces().Contains(held))).Should().BeTrue("deleting the name (an unmount on the host) released it");
        output.WriteLine($"prepared mount namespaces kept now: {PreparedMountNamespace.Cache.Count}");
    }
}
