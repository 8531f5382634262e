using System.Net;
using System.Net.Sockets;
using System.Text;
using LinuxNetns.Testing;
using LinuxNetns.Tests.Infrastructure;

namespace LinuxNetns.Tests;

/// <summary>
/// An xunit class fixture built with LinuxNetns.Testing, the way a user's integration tests would use it: three hosts,
/// client — router — server, each a temporary namespace, built once for the class and torn down by DisposeAsync.
/// </summary>
public sealed class RoutedNetworkFixture : IAsyncLifetime
{
    public VirtualNetwork Network { get; private set; } = null!;

    public Task InitializeAsync()
    {
        Network = new VirtualNetworkBuilder()
            .AddHost("client").AddHost("router").AddHost("server")
            .Connect("client", "router")   // 10.199.0.1 — 10.199.0.2, fd00:199:0:0::1 — ::2
            .Connect("router", "server")   // 10.199.1.1 — 10.199.1.2, fd00:199:0:1::1 — ::2
            .Build();
        Network["router"].EnableForwarding();
        Network["client"].Namespace.Network.AddRoute(IPNetwork.Parse("10.199.1.0/24"), IPAddress.Parse("10.199.0.2"));
        Network["server"].Namespace.Network.AddRoute(IPNetwork.Parse("10.199.0.0/24"), IPAddress.Parse("10.199.1.1"));
        Network["client"].Namespace.Network.AddRoute(IPNetwork.Parse("fd00:199:0:1::/64"), IPAddress.Parse("fd00:199::2"));
        Network["server"].Namespace.Network.AddRoute(IPNetwork.Parse("fd00:199::/64"), IPAddress.Parse("fd00:199:0:1::1"));
        return Task.CompletedTask;
    }

    public async Task DisposeAsync() => await Network.DisposeAsync();
}

public sealed class VirtualNetworkFixtureTests(RoutedNetworkFixture fixture) : NamespaceTest, IClassFixture<RoutedNetworkFixture>
{
    private VirtualNetwork Net => fixture.Network;

    // The fixture's namespaces stay open across the tests of this class, and so may their worker threads.
    protected override bool IsExpectedThread(StrayThread thread) => Net.Hosts.Any(h => h.Namespace.Id == thread.Namespace);

    [RootFact]
    public void Hosts_have_lo_up_and_addressed_links_as_ip_shows_them()
    {
        VirtualHost router = Net["router"];
        router.Interfaces.Select(i => i.Name).Should().Equal("eth0", "eth1");
        router.InterfaceTo("server").Peer.Host.Should().BeSameAs(Net["server"]);
        Net["client"].Address.Should().Be(IPAddress.Parse("10.199.0.1"));
        Net["server"].IPv6Address.Should().Be(IPAddress.Parse("fd00:199:0:1::2"));

        foreach (VirtualHost host in Net.Hosts)
        {
            host.Namespace.IsTemporary.Should().BeTrue();
            host.Namespace.Network.FindLink("lo")!.IsUp.Should().BeTrue();
            string ip = Shell.Run("nsenter", $"--net={host.Namespace.Path}", "ip", "-o", "addr", "show").EnsureSuccess().StdOut;
            foreach (VirtualInterface end in host.Interfaces)
            {
                host.Namespace.Network.FindLink(end.Name)!.IsUp.Should().BeTrue();
                foreach ((IPAddress address, int prefix) in end.Addresses)
                {
                    ip.Should().Contain($"{end.Name}    {(address.AddressFamily == AddressFamily.InterNetwork ? "inet" : "inet6")} {address}/{prefix}");
                }
            }
        }
    }

    [RootFact]
    public void Tcp_goes_through_the_router_over_ipv4_and_ipv6()
    {
        foreach (IPAddress server in new[] { Net["server"].Address, Net["server"].IPv6Address! })
        {
            using Socket listener = Net["server"].CreateSocket(server.AddressFamily, SocketType.Stream, ProtocolType.Tcp);
            listener.Bind(new IPEndPoint(server, 0));
            listener.Listen(1);
            Task echo = Task.Run(async () =>
            {
                using Socket accepted = await listener.AcceptAsync();
                byte[] buffer = new byte[64];
                int n = await accepted.ReceiveAsync(buffer);
                await accepted.SendAsync(buffer.AsMemory(0, n));
            });
            using Socket client = Net["client"].CreateSocket(server.AddressFamily, SocketType.Stream, ProtocolType.Tcp);
            client.Connect(listener.LocalEndPoint!);
            ((IPEndPoint)client.LocalEndPoint!).Address.Should().Be(server.AddressFamily == AddressFamily.InterNetwork ? Net["client"].Address : Net["client"].IPv6Address);
            client.Send("hello"u8);
            byte[] reply = new byte[64];
            Encoding.ASCII.GetString(reply, 0, client.Receive(reply)).Should().Be("hello");
            echo.Wait(TimeSpan.FromSeconds(30)).Should().BeTrue();
        }
    }

    [RootFact]
    public void Without_the_routers_forwarding_nothing_passes()
    {
        // The client has no route beyond its own link but to the server's subnet: another address is unreachable.
        using Socket client = Net["client"].CreateSocket(AddressFamily.InterNetwork, SocketType.Dgram, ProtocolType.Udp);
        FluentActions.Invoking(() => client.Connect(new IPEndPoint(IPAddress.Parse("10.198.0.1"), 9)))
            .Should().Throw<SocketException>().Which.SocketErrorCode.Should().Be(SocketError.NetworkUnreachable);
    }
}

/// <summary>Building and tearing down virtual networks.</summary>
public sealed class VirtualNetworkTests : NamespaceTest
{
    [RootFact]
    public async Task DisposeAsync_removes_every_namespace_pinned_name_and_link()
    {
        VirtualNetwork net = new VirtualNetworkBuilder().AddHost("a").AddHost("b").AddHost("c")
            .Connect("a", "b").Connect("b", "c").Connect("a", "c")
            .PinNames().WithMtu(1400).Build();
        var names = net.Hosts.Select(h => h.Namespace.Name!).ToList();
        var inodes = net.Hosts.Select(h => h.Namespace.Id.Inode).ToList();
        names.Should().OnlyContain(n => System.Text.RegularExpressions.Regex.IsMatch(n, $"^tmp-[0-9]+-{Environment.ProcessId}-"));
        foreach (string name in names)
        {
            Shell.Ip("netns", "list").StdOut.Should().Contain(name);
            Shell.Ip("-n", name, "-o", "link").StdOut.Should().Contain("mtu 1400");
        }
        net["a"].Interfaces.Select(i => i.Name).Should().Equal("eth0", "eth1");
        net["c"].InterfaceTo("a").Addresses.Select(a => $"{a.Address}/{a.PrefixLength}").Should().Equal("10.199.2.2/24", "fd00:199:0:2::2/64");

        await net.DisposeAsync();

        foreach (string name in names) NetworkNamespace.Exists(name).Should().BeFalse();
        foreach (ulong inode in inodes)
        {
            KernelState.ReferencesInThisProcess(inode).Should().BeEmpty();
            KernelState.IsMounted(inode).Should().BeFalse();
        }
        await net.DisposeAsync(); // twice is fine
    }

    [RootFact]
    public void Address_is_the_first_IPv4_address_of_the_first_interface_that_has_one()
    {
        using VirtualNetwork net = new VirtualNetworkBuilder().AddHost("x").AddHost("y").AddHost("z")
            .Connect("x", ["fd00:198:7::1/64"], "y", ["fd00:198:7::2/64"]) // eth0 of x and y: IPv6 only
            .Connect("x", ["10.198.8.1/24", "10.198.8.5/24"], "z", ["10.198.8.2/24"])
            .Build();
        net["x"].Interfaces.Select(i => i.Name).Should().Equal("eth0", "eth1");
        net["x"].Address.Should().Be(IPAddress.Parse("10.198.8.1"), "eth0 has none; eth1's first");
        net["x"].IPv6Address.Should().Be(IPAddress.Parse("fd00:198:7::1"));
        net["z"].IPv6Address.Should().BeNull();
        FluentActions.Invoking(() => net["y"].Address).Should().Throw<InvalidOperationException>().WithMessage("*\"y\" has no IPv4 address*");
    }

    [RootFact]
    public void Explicit_addresses_and_the_pair_shortcut()
    {
        using (VirtualNetwork net = new VirtualNetworkBuilder().AddHost("x").AddHost("y")
                   .Connect("x", "10.198.5.1/30", "y", "10.198.5.2/30").WithoutIPv6().Build())
        {
            net["x"].Address.Should().Be(IPAddress.Parse("10.198.5.1"));
            net["y"].IPv6Address.Should().BeNull();
            net["y"].Namespace.Network.GetAddresses().Where(a => a.LinkName == "eth0" && a.Scope == AddressScope.Global)
                .Select(a => a.ToString()).Should().Equal("10.198.5.2/30");
        }
        using (VirtualNetwork pair = VirtualNetwork.CreatePair())
        {
            pair["a"].Address.Should().Be(IPAddress.Parse("10.199.0.1"));
            pair["b"].Address.Should().Be(IPAddress.Parse("10.199.0.2"));
        }
    }

    [RootFact]
    public void A_failed_build_leaves_nothing_behind()
    {
        var builder = new VirtualNetworkBuilder().AddHost("a").AddHost("b")
            .Connect("a", new[] { "10.198.6.1/24", "10.198.6.1/24" }, "b", new[] { "10.198.6.2/24" }) // the same address twice: EEXIST
            .PinNames();
        List<string> before = OurTemporaryNames();
        FluentActions.Invoking(builder.Build).Should().Throw<NetlinkException>().Which.Errno.Should().Be(Errno.EEXIST);
        OurTemporaryNames().Should().BeEquivalentTo(before);
    }

    [Fact]
    public void The_builder_refuses_unknown_and_duplicate_hosts()
    {
        var builder = new VirtualNetworkBuilder().AddHost("a");
        FluentActions.Invoking(() => builder.AddHost("a")).Should().Throw<ArgumentException>().WithMessage("*already added*");
        FluentActions.Invoking(() => builder.Connect("a", "nope")).Should().Throw<ArgumentException>().WithMessage("*Unknown host \"nope\"*");
        FluentActions.Invoking(() => builder.Connect("a", "a")).Should().Throw<ArgumentException>();
        FluentActions.Invoking(() => builder.Connect("a", "1.2.3.4", "a", "x")).Should().Throw<FormatException>().WithMessage("*ADDRESS/PREFIX*");
        FluentActions.Invoking(() => new VirtualNetworkBuilder().Build()).Should().Throw<InvalidOperationException>();
    }

    private static List<string> OurTemporaryNames() =>
        NetworkNamespace.List().Where(n => System.Text.RegularExpressions.Regex.IsMatch(n, $"^tmp-[0-9]+-{Environment.ProcessId}-")).ToList();
}
