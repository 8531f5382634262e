using System.Diagnostics;
using System.Net;
using System.Net.Sockets;
using System.Text.Json;
using LinuxNetns.Networking;
using LinuxNetns.Testing;
using LinuxNetns.Testing.Rootless;
using LinuxNetns.Tests.Infrastructure;

namespace LinuxNetns.Tests;

/// <summary>
/// Networks built without root (docs/rootless.md): a helper in a user namespace of the network's own holds the
/// namespaces. As root these tests ask for that with InUserNamespace(); CI runs them again as an unprivileged user
/// (uid 65534), where the builder takes that way by itself. Traffic only between the network's own hosts.
/// </summary>
public sealed class RootlessNetworkTests : NamespaceTest
{
    /// <summary>A builder that takes the user-namespace way whoever runs the test.</summary>
    private static VirtualNetworkBuilder Builder() => Privilege.IsRoot ? new VirtualNetworkBuilder().InUserNamespace() : new VirtualNetworkBuilder();

    [Fact]
    public async Task Hosts_reach_each_other_over_TCP_and_UDP_through_sockets_made_inside()
    {
        await using VirtualNetwork net = Builder().AddHost("client").AddHost("server").Connect("client", "server").Build();

        net.InUserNamespace.Should().BeTrue();
        net["client"].Address.Should().Be(IPAddress.Parse("10.199.0.1"));
        net["server"].Namespace.Network.GetAddresses().Where(a => a.LinkName == "eth0").Select(a => a.Address)
            .Should().Contain([IPAddress.Parse("10.199.0.2"), IPAddress.Parse("fd00:199::2")]);
        await TopologyTests.TcpEcho(net["client"], net["server"], net["server"].Address);
        await TopologyTests.TcpEcho(net["server"], net["client"], net["client"].IPv6Address!);
        await TopologyTests.UdpRoundTrip(net["client"], net["server"], net["server"].Address);
        await TopologyTests.UdpRoundTrip(net["server"], net["client"], net["client"].IPv6Address!);

        // The namespaces are not this process's: a socket made here is not in them.
        using Socket here = new(AddressFamily.InterNetwork, SocketType.Dgram, ProtocolType.Udp);
        FluentActions.Invoking(() => here.Bind(new IPEndPoint(net["client"].Address, 0))).Should().Throw<SocketException>();
    }

    [Fact]
    public async Task Networks_built_at_once_and_threads_racing_on_one_host_each_get_sockets_of_their_own_host()
    {
        Task<VirtualNetwork>[] building = Enumerable.Range(0, 3).Select(_ => Task.Run(() =>
            Builder().AddHost("a").AddHost("b").Connect("a", "b").Build())).ToArray();
        try
        {
            VirtualNetwork[] nets = await Task.WhenAll(building);
            nets.Select(n => n["a"].Namespace.Id).Distinct().Should().HaveCount(3);
            foreach (VirtualNetwork net in nets)
            {
                VirtualHost host = net["b"];
                // Eight threads at once, through one helper: every socket is made in b (b's address binds only there).
                Task<int>[] racers = Enumerable.Range(0, 8).Select(_ => Task.Factory.StartNew(() =>
                {
                    for (int i = 0; i < 25; i++)
                    {
                        using Socket socket = host.CreateSocket(AddressFamily.InterNetwork, SocketType.Dgram, ProtocolType.Udp);
                        socket.Bind(new IPEndPoint(host.Address, 0));
                    }
                    return 25;
                }, TaskCreationOptions.LongRunning)).ToArray();
                (await Task.WhenAll(racers)).Sum().Should().Be(200);
                await TopologyTests.UdpRoundTrip(net["a"], host, host.Address);
            }
        }
        finally
        {
            await Task.WhenAny(Task.WhenAll(building));
            foreach (Task<VirtualNetwork> built in building.Where(b => b.IsCompletedSuccessfully)) await (await built).DisposeAsync();
        }
    }

    [Fact]
    public async Task Switches_routers_and_rate_limits_work_as_with_root()
    {
        await using VirtualNetwork net = Builder()
            .AddSwitch("lan").AddHost("a").AddHost("b").AddRouter("gw").AddHost("server")
            .Connect("a", "lan").Connect("b", "lan").Connect("gw", "lan").Connect("gw", "server")
            .LimitRate("gw", "server", 5_000_000)
            .Build();

        await TopologyTests.UdpRoundTrip(net["a"], net["b"], net["b"].Address);
        await TopologyTests.TcpEcho(net["a"], net["server"], net["server"].Address);
        await TopologyTests.TcpEcho(net["server"], net["b"], net["b"].IPv6Address!);
        net["a"].Namespace.Network.GetRoutes()
            .Should().Contain(r => r.Destination == IPNetwork.Parse("10.199.0.0/24") && Equals(r.Gateway, net["gw"].InterfaceTo("lan").Addresses[0].Address));
        LinkRateLimit? limit = net["server"].Namespace.Network.GetRateLimit("eth0");
        limit.Should().NotBeNull();
        limit!.BitsPerSecond.Should().Be(5_000_000);

        // Forwarding is on in the router's namespace only, as a process inside it sees /proc/sys.
        ExecResult forwarding = await ExecInNamespace.RunAsync(net["gw"].Namespace, "cat", ["/proc/sys/net/ipv4/ip_forward"]);
        forwarding.StandardOutput.Trim().Should().Be("1");
        ExecResult host = await ExecInNamespace.RunAsync(net["a"].Namespace, "cat", ["/proc/sys/net/ipv4/ip_forward"]);
        host.StandardOutput.Trim().Should().Be("0");
    }

    [Fact]
    public async Task Exec_in_a_host_sees_its_interfaces_with_a_fresh_sysfs()
    {
        await using VirtualNetwork net = Builder().AddHost("a").AddHost("b").Connect("a", "b").Build();

        ExecResult sysfs = await ExecInNamespace.RunAsync(net["a"].Namespace, "ls", ["/sys/class/net"]);
        sysfs.ExitCode.Should().Be(0, sysfs.StandardError);
        sysfs.StandardOutput.Split('\n', StringSplitOptions.RemoveEmptyEntries).Should().BeEquivalentTo("eth0", "lo");

        ExecResult ip = await ExecInNamespace.RunAsync(net["b"].Namespace, "ip", ["-j", "addr", "show", "eth0"]);
        ip.ExitCode.Should().Be(0, ip.StandardError);
        using JsonDocument json = JsonDocument.Parse(ip.StandardOutput);
        json.RootElement[0].GetProperty("addr_info").EnumerateArray().Select(a => a.GetProperty("local").GetString())
            .Should().Contain("10.199.0.2");

        // Standard input, output, error and the exit code travel as for a child of this process.
        ExecResult echo = await ExecInNamespace.RunAsync(net["a"].Namespace, new ProcessStartInfo("sh", ["-c", "cat; echo oops >&2; exit 7"]), standardInput: "hello");
        echo.Should().Be(new ExecResult(7, "hello", "oops\n"));

        // Inside, the process is root of the network's user namespace (this user, outside).
        ExecResult id = await ExecInNamespace.RunAsync(net["a"].Namespace, "cat", ["/proc/self/uid_map"]);
        id.StandardOutput.Split(' ', StringSplitOptions.RemoveEmptyEntries).Take(2).Should().Equal("0", GetEuid().ToString());
    }

    [Fact]
    public async Task A_process_started_in_a_host_can_be_killed_and_reports_the_signal()
    {
        await using VirtualNetwork net = Builder().AddHost("a").Build();
        using NamespaceProcess sleeper = ExecInNamespace.Start(net["a"].Namespace, new ProcessStartInfo("sleep", "600"));
        Directory.Exists($"/proc/{sleeper.Id}").Should().BeTrue("Id is the pid as this process sees it");
        File.ReadAllText($"/proc/{sleeper.Id}/comm").Trim().Should().Be("sleep");
        sleeper.HasExited.Should().BeFalse();
        sleeper.Kill();
        (await Task.WhenAny(sleeper.WaitForExitAsync(), Task.Delay(TimeSpan.FromSeconds(30)))).Should().NotBeNull();
        sleeper.WaitForExit(TimeSpan.FromSeconds(30)).Should().BeTrue();
        sleeper.ExitCode.Should().Be(128 + 9);
    }

    [Fact]
    public async Task A_process_that_exits_at_once_still_has_its_pid_and_exit_code()
    {
        await using VirtualNetwork net = Builder().AddHost("a").Build();
        for (int i = 0; i < 20; i++)
        {
            // The helper reaps the child only once this side has read its pid from the pidfd.
            using NamespaceProcess process = ExecInNamespace.Start(net["a"].Namespace, new ProcessStartInfo("sh", ["-c", $"exit {i}"]));
            process.Id.Should().BePositive();
            process.WaitForExit(TimeSpan.FromSeconds(30)).Should().BeTrue();
            process.ExitCode.Should().Be(i);
        }
    }

    [Fact]
    public async Task An_HTTP_client_reaches_a_server_in_another_host()
    {
        await using VirtualNetwork net = Builder().AddHost("client").AddHost("server").Connect("client", "server").Build();
        using Socket listener = net["server"].CreateSocket(AddressFamily.InterNetwork, SocketType.Stream, ProtocolType.Tcp);
        listener.Bind(new IPEndPoint(net["server"].Address, 0));
        listener.Listen();
        Task serving = Task.Run(async () =>
        {
            using Socket connection = await listener.AcceptAsync();
            var request = new List<byte>();
            var buffer = new byte[1024];
            while (!System.Text.Encoding.ASCII.GetString(request.ToArray()).Contains("\r\n\r\n"))
            {
                int n = await connection.ReceiveAsync(buffer);
                if (n == 0) return;
                request.AddRange(buffer.AsSpan(0, n).ToArray());
            }
            await connection.SendAsync("HTTP/1.1 200 OK\r\nContent-Length: 6\r\nConnection: close\r\n\r\ninside"u8.ToArray());
        });
        using var http = new HttpClient(net["client"].Namespace.CreateHttpMessageHandler()) { Timeout = TimeSpan.FromSeconds(30) };
        (await http.GetStringAsync($"http://{listener.LocalEndPoint}/")).Should().Be("inside");
        await serving;

        // A host name would be resolved inside, on a thread switched there: refused, with what to do instead.
        (await FluentActions.Awaiting(() => http.GetStringAsync("http://server.invalid/")).Should().ThrowAsync<HttpRequestException>())
            .WithInnerException<NotSupportedException>().WithMessage("Resolving \"server.invalid\"*IP address*");
    }

    [Fact]
    public async Task What_would_switch_a_thread_inside_is_refused_with_what_works_instead()
    {
        await using VirtualNetwork net = Builder().AddHost("a").Build();
        NetworkNamespace ns = net["a"].Namespace;

        FluentActions.Invoking(() => ns.Enter()).Should().Throw<NotSupportedException>()
            .WithMessage("Enter() cannot be used on*host \"a\" of a network built without root*CreateSocket*ExecInNamespace*Network*");
        FluentActions.Invoking(() => ns.Run(() => { })).Should().Throw<NotSupportedException>().WithMessage("Run cannot be used*");
        FluentActions.Invoking(() => ns.Run(() => 1)).Should().Throw<NotSupportedException>();
        await FluentActions.Awaiting(() => ns.RunAsync(() => Task.CompletedTask)).Should().ThrowAsync<NotSupportedException>();
        FluentActions.Invoking(() => ns.Pin(NewName("pin"))).Should().Throw<NotSupportedException>();
        FluentActions.Invoking(() => Builder().PinNames().AddHost("x").Build()).Should().Throw<NotSupportedException>().WithMessage("*PinNames*");
    }

    [Fact]
    public async Task Disposing_the_network_ends_the_helper_and_every_process_in_its_hosts()
    {
        int[] before = Children();
        VirtualNetwork net = Builder().AddHost("a").AddHost("b").Connect("a", "b").Build();
        int[] helpers = Children().Except(before).Where(IsHelper).ToArray();
        helpers.Should().ContainSingle("the helper's unshare is a child of this process");
        NamespaceProcess sleeper = ExecInNamespace.Start(net["b"].Namespace, new ProcessStartInfo("sleep", "600"));
        ulong[] inodes = [net["a"].Namespace.Id.Inode, net["b"].Namespace.Id.Inode];

        await net.DisposeAsync();

        sleeper.WaitForExit(TimeSpan.FromSeconds(30)).Should().BeTrue("the helper's pid namespace ends with it");
        KernelState.Eventually(() => !Directory.Exists($"/proc/{sleeper.Id}")).Should().BeTrue();
        foreach (int pid in helpers) KernelState.Eventually(() => !Directory.Exists($"/proc/{pid}")).Should().BeTrue();
        NamespaceHolders(inodes).Should().BeEmpty();
    }

    [Fact]
    public async Task A_killed_helper_makes_later_requests_fail_with_what_happened_and_dispose_still_works()
    {
        int[] before = Children();
        VirtualNetwork net = Builder().AddHost("a").AddHost("b").Connect("a", "b").Build();
        try
        {
            int unshare = Children().Except(before).Single(IsHelper);
            int helper = int.Parse(File.ReadAllText($"/proc/{unshare}/task/{unshare}/children").Trim());
            Shell.Run("kill", "-KILL", helper.ToString()).EnsureSuccess();
            KernelState.Eventually(() => !Directory.Exists($"/proc/{unshare}")).Should().BeTrue();

            FluentActions.Invoking(() => net["a"].CreateSocket(AddressFamily.InterNetwork, SocketType.Dgram, ProtocolType.Udp))
                .Should().Throw<NetworkNamespaceException>().Where(e => e.Operation == NamespaceOperation.UserNamespace)
                .WithMessage("The user-namespace helper*is gone; it could not create a socket*");
            // What needs no helper still works: the netlink socket was opened while it lived.
            net["a"].Namespace.Network.GetLinks().Select(l => l.Name).Should().Contain("eth0");
        }
        finally
        {
            await net.DisposeAsync();
        }
    }

    [Fact]
    public void SIGKILL_of_the_process_leaves_no_helper_no_process_and_no_namespace()
    {
        using Process probe = Process.Start(Probe.StartInfo([], "rootless-hold"))!;
        try
        {
            string ready = probe.StandardOutput.ReadLine() ?? "";
            ready.Should().StartWith("ready ", probe.HasExited ? probe.StandardError.ReadToEnd() : "");
            string[] fields = ready.Split(' ');
            int[] helpers = fields[1].Split(',').Select(int.Parse).ToArray();
            int sleeper = int.Parse(fields[2]);
            ulong[] inodes = [ulong.Parse(fields[3]), ulong.Parse(fields[4])];
            File.ReadAllText($"/proc/{sleeper}/comm").Trim().Should().Be("sleep");
            NamespaceHolders(inodes).Should().NotBeEmpty("the probe and its helper hold the namespaces (the check can fail)");

            probe.Kill();
            probe.WaitForExit();

            KernelState.Eventually(() => !Directory.Exists($"/proc/{sleeper}")).Should().BeTrue("the helper's pid namespace ended with it");
            foreach (int pid in helpers) KernelState.Eventually(() => !Directory.Exists($"/proc/{pid}")).Should().BeTrue($"helper {pid} ends with its client");
            KernelState.Eventually(() => NamespaceHolders(inodes).Count == 0).Should().BeTrue(string.Join(", ", NamespaceHolders(inodes)));
        }
        finally
        {
            if (!probe.HasExited) probe.Kill(entireProcessTree: true);
        }
    }

    [Fact]
    public void A_temporary_directory_too_long_for_a_socket_address_still_works()
    {
        // The helper's socket is made in TMPDIR, and a Unix socket address holds at most 108 bytes.
        DirectoryInfo longTemp = Directory.CreateTempSubdirectory("lnt-long-tmpdir-" + new string('x', 120));
        try
        {
            Path.Combine(longTemp.FullName, "linuxnetns-userns-XXXXXX", "helper.sock").Length.Should().BeGreaterThan(108);
            ShellResult r = Probe.Run(["env", "TMPDIR=" + longTemp.FullName], "rootless-build");
            r.StdOut.Should().Be("ok 10.199.0.1\n", r.StdErr);
            longTemp.EnumerateFileSystemInfos().Should().BeEmpty("the helper's directory is removed once it is connected");
        }
        finally
        {
            longTemp.Delete(recursive: true);
        }
    }

    [Fact]
    public void Where_user_namespaces_are_disabled_the_error_names_the_setting()
    {
        // user.max_user_namespaces is per user namespace: 0 in a namespace of the test's own stops the probe there
        // from making one, and nothing on the host changes.
        ShellResult r = Probe.Run(["unshare", "--user", "--map-root-user", "sh", "-c", "echo 0 > /proc/sys/user/max_user_namespaces && exec \"$0\" \"$@\""], "rootless-build");
        r.StdOut.Should().StartWith("NamespacePermissionException").And.Contain("user.max_user_namespaces is 0").And.Contain("sysctl -w user.max_user_namespaces");
        File.ReadAllText("/proc/sys/user/max_user_namespaces").Trim().Should().NotBe("0");
    }

    [Fact]
    public void The_other_settings_that_disable_user_namespaces_are_named_too()
    {
        DirectoryInfo procSys = Directory.CreateTempSubdirectory("lnt-procsys-");
        try
        {
            Directory.CreateDirectory(Path.Combine(procSys.FullName, "kernel"));
            File.WriteAllText(Path.Combine(procSys.FullName, "kernel", "unprivileged_userns_clone"), "0\n");
            File.WriteAllText(Path.Combine(procSys.FullName, "kernel", "apparmor_restrict_unprivileged_userns"), "1\n");
            NetworkNamespaceException e = UserNamespaceSupport.StartFailed(1, "unshare: unshare failed: Operation not permitted", procSys.FullName);
            e.Should().BeOfType<NamespacePermissionException>();
            e.Errno.Should().Be(Errno.EPERM);
            e.Message.Should().Contain("kernel.unprivileged_userns_clone is 0").And.Contain("kernel.apparmor_restrict_unprivileged_userns is 1")
                .And.Contain("Operation not permitted");

            File.WriteAllText(Path.Combine(procSys.FullName, "kernel", "unprivileged_userns_clone"), "1\n");
            File.WriteAllText(Path.Combine(procSys.FullName, "kernel", "apparmor_restrict_unprivileged_userns"), "0\n");
            UserNamespaceSupport.StartFailed(1, "unshare: unshare failed: Operation not permitted", procSys.FullName).Message
                .Should().Contain("none of kernel.unprivileged_userns_clone, user.max_user_namespaces, kernel.apparmor_restrict_unprivileged_userns forbids it");
        }
        finally
        {
            procSys.Delete(recursive: true);
        }
    }

    [Fact]
    public void The_TestNetwork_sample_runs_unchanged_without_root()
    {
        ShellResult run = RunUnprivileged("TestNetwork.dll", "4");
        run.ExitCode.Should().Be(0, run.StdErr);
        run.StdOut.Should().Contain("built without root, in a user namespace of its own")
            .And.Contain("alice route: 10.199.1.0/24 via 10.198.0.3 dev eth0")
            .And.Contain("bob got \"hello bob\" from 10.198.0.1:")
            .And.Contain("connected to server 10.199.1.2:8080 through gw and isp")
            .And.Contain("uplink limited to 4.0 Mbit/s (tbf");
    }

    /// <summary>
    /// Runs an assembly of the test directory as an unprivileged user: directly when the tests run as one; as root,
    /// as uid 65534 from a copy of the directory that this user can read (the clone may sit where it cannot).
    /// </summary>
    private static ShellResult RunUnprivileged(string assembly, params string[] args)
    {
        if (!Privilege.IsRoot) return Shell.Run(Probe.DotNet, [Path.Combine(AppContext.BaseDirectory, assembly), .. args]);
        DirectoryInfo copy = Directory.CreateTempSubdirectory("lnt-unprivileged-");
        try
        {
            Shell.Run("cp", "-a", AppContext.BaseDirectory.TrimEnd('/'), Path.Combine(copy.FullName, "bin")).EnsureSuccess();
            Shell.Run("chmod", "-R", "a+rX", copy.FullName).EnsureSuccess();
            return Shell.Run("setpriv", ["--reuid=65534", "--regid=65534", "--clear-groups", "env", "HOME=/tmp", "DOTNET_CLI_HOME=/tmp",
                Probe.DotNet, Path.Combine(copy.FullName, "bin", assembly), .. args]);
        }
        finally
        {
            copy.Delete(recursive: true);
        }
    }

    /// <summary>This process's children, over all its threads.</summary>
    private static int[] Children() =>
        Directory.EnumerateDirectories("/proc/self/task")
            .SelectMany(t => File.ReadAllText(Path.Combine(t, "children")).Split(' ', StringSplitOptions.RemoveEmptyEntries))
            .Select(int.Parse).ToArray();

    private static bool IsHelper(int pid)
    {
        try
        {
            return File.ReadAllText($"/proc/{pid}/cmdline").Contains(HelperLocation.AssemblyFileName, StringComparison.Ordinal);
        }
        catch (IOException)
        {
            return false;
        }
    }

    /// <summary>Every thread, descriptor or mount of this user's processes that refers to one of the namespaces.</summary>
    private static List<string> NamespaceHolders(ulong[] inodes)
    {
        string[] links = inodes.Select(i => $"net:[{i}]").ToArray();
        var holders = new List<string>();
        foreach (string process in Directory.EnumerateDirectories("/proc").Where(d => int.TryParse(Path.GetFileName(d), out _)))
        {
            try
            {
                foreach (string task in Directory.EnumerateDirectories(Path.Combine(process, "task")))
                {
                    if (links.Contains(new FileInfo(Path.Combine(task, "ns", "net")).LinkTarget)) holders.Add(task);
                }
                foreach (string fd in Directory.EnumerateFiles(Path.Combine(process, "fd")))
                {
                    if (links.Contains(new FileInfo(fd).LinkTarget)) holders.Add(fd);
                }
                foreach (string line in File.ReadLines(Path.Combine(process, "mountinfo")))
                {
                    if (inodes.Any(i => line.Contains($"net:[{i}]"))) holders.Add($"{process} mount {line}");
                }
            }
            catch (Exception e) when (e is IOException or UnauthorizedAccessException)
            {
                // gone meanwhile, or another user's (which cannot hold this user's namespaces)
            }
        }
        return holders;
    }

    [System.Runtime.InteropServices.DllImport("libc", EntryPoint = "geteuid")]
    private static extern uint GetEuid();
}
