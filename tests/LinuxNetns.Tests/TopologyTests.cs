using System.Diagnostics;
using System.Net;
using System.Net.Sockets;
using System.Text;
using System.Text.Json;
using LinuxNetns.Testing;
using LinuxNetns.Tests.Infrastructure;

namespace LinuxNetns.Tests;

/// <summary>
/// Switches, routers and shaped links of LinuxNetns.Testing, with real traffic between the network's own hosts only
/// (10.198.x and 10.199.x, fd00:198:: and fd00:199:: inside its namespaces), checked against what ip and tc show.
/// </summary>
public sealed class TopologyTests : NamespaceTest
{
    [RootFact]
    public async Task Hosts_on_a_switch_share_one_subnet_and_reach_each_other()
    {
        using VirtualNetwork net = new VirtualNetworkBuilder()
            .AddSwitch("lan").AddHost("a").AddHost("b").AddHost("c")
            .Connect("a", "lan").Connect("lan", "b").Connect("c", "lan")
            .PinNames().Build();

        VirtualHost lan = net["lan"];
        lan.Kind.Should().Be(VirtualHostKind.Switch);
        lan.Interfaces.Select(i => i.Name).Should().Equal("port0", "port1", "port2");
        lan.Interfaces.Select(i => i.Peer.Host.Name).Should().Equal("a", "b", "c");
        net["b"].InterfaceTo("lan").Name.Should().Be("eth0");
        FluentActions.Invoking(() => lan.Address).Should().Throw<InvalidOperationException>().WithMessage("*switch*");
        string ports = Shell.Ip("-n", lan.Namespace.Name!, "-o", "link", "show", "master", VirtualHost.SwitchBridgeName).EnsureSuccess().StdOut;
        foreach (string port in new[] { "port0", "port1", "port2" }) ports.Should().Contain($" {port}@");

        string[] names = ["a", "b", "c"];
        for (int i = 0; i < names.Length; i++)
        {
            net[names[i]].Address.Should().Be(IPAddress.Parse($"10.198.0.{i + 1}"));
            net[names[i]].IPv6Address.Should().Be(IPAddress.Parse($"fd00:198::{i + 1}"));
        }
        foreach (string from in names)
        {
            foreach (string to in names.Where(n => n != from))
            {
                await UdpRoundTrip(net[from], net[to], net[to].Address);
                await UdpRoundTrip(net[from], net[to], net[to].IPv6Address!);
            }
        }
    }

    [RootFact]
    public async Task Routers_join_subnets_and_the_builder_adds_the_routes_on_both_sides()
    {
        // lan1 (a, b, r1) — r1 — lan2 (c, r1); r1 — r2 on a link of their own; r2 — d on another.
        using VirtualNetwork net = new VirtualNetworkBuilder()
            .AddSwitch("lan1").AddSwitch("lan2")
            .AddHost("a").AddHost("b").AddHost("c").AddHost("d")
            .AddRouter("r1").AddRouter("r2")
            .Connect("a", "lan1").Connect("b", "lan1").Connect("r1", "lan1")
            .Connect("c", "lan2").Connect("r1", "lan2")
            .Connect("r1", "r2")      // 10.199.0.1 — .2
            .Connect("r2", "d")       // 10.199.1.1 — .2
            .PinNames().Build();

        net["r1"].Kind.Should().Be(VirtualHostKind.Router);
        Forwarding(net["r1"]).Should().Be("1");
        Forwarding(net["a"]).Should().Be("0");
        Routes(net["a"]).Should().BeEquivalentTo("10.198.1.0/24 via 10.198.0.3", "10.199.0.0/24 via 10.198.0.3", "10.199.1.0/24 via 10.198.0.3");
        Routes(net["d"]).Should().BeEquivalentTo("10.198.0.0/24 via 10.199.1.1", "10.198.1.0/24 via 10.199.1.1", "10.199.0.0/24 via 10.199.1.1");
        Routes(net["r1"]).Should().BeEquivalentTo("10.199.1.0/24 via 10.199.0.2");
        Routes(net["r2"]).Should().BeEquivalentTo("10.198.0.0/24 via 10.199.0.1", "10.198.1.0/24 via 10.199.0.1");
        Routes(net["c"], "-6").Should().Contain("fd00:198::/64 via fd00:198:0:1::2");

        // Through one router (a → c) and through two (b → d, and back), over IPv4 and IPv6.
        foreach ((string from, string to) in new[] { ("a", "c"), ("b", "d"), ("d", "a") })
        {
            await TcpEcho(net[from], net[to], net[to].Address);
            await TcpEcho(net[from], net[to], net[to].IPv6Address!);
        }
    }

    [RootFact]
    public async Task A_rate_limited_link_carries_no_more_than_its_rate()
    {
        const long rate = 4_000_000; // 500 kB/s each way
        using VirtualNetwork net = new VirtualNetworkBuilder().AddHost("a").AddHost("b")
            .Connect("a", "b").LimitRate("a", "b", rate).WithoutIPv6().PinNames().Build();
        foreach (VirtualInterface end in new[] { net["a"].Interfaces[0], net["b"].Interfaces[0] })
        {
            end.Host.Namespace.Network.GetRateLimit(end.Name)!.BitsPerSecond.Should().Be(rate);
            Shell.Run("tc", "-n", end.Host.Namespace.Name!, "qdisc", "show", "dev", end.Name).EnsureSuccess().StdOut.Should().Contain("tbf").And.Contain("rate 4Mbit");
        }
        int burst = net["a"].Namespace.Network.GetRateLimit("eth0")!.BurstBytes;

        // The sender pushes as fast as it can for a second. Whatever the machine's load, the receiver can have no more
        // than the bucket plus the rate times the time since the first byte could leave (a machine that is slow only
        // delivers less); an unshaped veth carries hundreds of times as much.
        using Socket listener = net["b"].CreateSocket(AddressFamily.InterNetwork, SocketType.Stream, ProtocolType.Tcp);
        listener.Bind(new IPEndPoint(net["b"].Address, 0));
        listener.Listen(1);
        Task<Socket> accepting = listener.AcceptAsync();
        using Socket sender = net["a"].CreateSocket(AddressFamily.InterNetwork, SocketType.Stream, ProtocolType.Tcp);
        long start = Stopwatch.GetTimestamp();
        await sender.ConnectAsync(listener.LocalEndPoint!);
        using Socket receiver = await accepting;
        using var sending = new CancellationTokenSource(TimeSpan.FromSeconds(1));
        Task pushing = Task.Run(async () =>
        {
            byte[] chunk = new byte[64 * 1024];
            try
            {
                while (true) await sender.SendAsync(chunk, sending.Token);
            }
            catch (OperationCanceledException)
            {
            }
        });
        long received = 0;
        byte[] buffer = new byte[64 * 1024];
        using var reading = new CancellationTokenSource(TimeSpan.FromSeconds(1.5));
        try
        {
            while (true) received += await receiver.ReceiveAsync(buffer, reading.Token);
        }
        catch (OperationCanceledException)
        {
        }
        double seconds = Stopwatch.GetElapsedTime(start).TotalSeconds;
        await pushing;

        received.Should().BeGreaterThan(0);
        received.Should().BeLessThanOrEqualTo((long)(burst + rate / 8 * seconds * 1.05) + 16 * 1024,
            $"{received} bytes in {seconds:F2} s over a {rate} bit/s link with a {burst}-byte bucket");
    }

    [RootFact]
    public void The_TestNetwork_sample_runs_and_leaves_nothing_behind()
    {
        List<string> before = NetworkNamespace.List().ToList();
        ShellResult run = Shell.Run(Probe.DotNet, Path.Combine(AppContext.BaseDirectory, "TestNetwork.dll"), "4").EnsureSuccess();
        run.StdOut.Should().Contain("switch office  port0 to alice, port1 to bob, port2 to gw")
            .And.Contain("router gw      eth0 10.198.0.3/24, eth1 10.199.0.1/24")
            .And.Contain("alice route: 10.199.1.0/24 via 10.198.0.3 dev eth0")
            .And.Contain("bob got \"hello bob\" from 10.198.0.1:")
            .And.Contain("connected to server 10.199.1.2:8080 through gw and isp")
            .And.Contain("uplink limited to 4.0 Mbit/s (tbf");
        NetworkNamespace.List().Should().BeEquivalentTo(before);
    }

    [Fact]
    public void The_builder_refuses_what_a_switch_cannot_be()
    {
        var builder = new VirtualNetworkBuilder().AddSwitch("s1").AddSwitch("s2").AddHost("h");
        FluentActions.Invoking(() => builder.Connect("s1", "s2")).Should().Throw<ArgumentException>().WithMessage("*both switches*router*");
        FluentActions.Invoking(() => builder.Connect("h", "10.0.0.1/24", "s1", "10.0.0.2/24")).Should().Throw<ArgumentException>().WithMessage("*\"s1\" is a switch*");
        FluentActions.Invoking(() => builder.AddHost("s1")).Should().Throw<ArgumentException>().WithMessage("*already added*");
        FluentActions.Invoking(() => builder.LimitRate("h", "s1", 1_000_000)).Should().Throw<ArgumentException>().WithMessage("*Connect them*");
        builder.Connect("s1", [], "h", ["10.0.0.1/24"]).LimitRate("s1", "h", 1_000_000).Should().BeSameAs(builder);
    }

    private static string Forwarding(VirtualHost host) =>
        Shell.Run("ip", "netns", "exec", host.Namespace.Name!, "cat", "/proc/sys/net/ipv4/ip_forward").EnsureSuccess().StdOut.Trim();

    /// <summary>The host's routes with a gateway, as <c>ip route</c> shows them: "DEST via GATEWAY".</summary>
    private static List<string> Routes(VirtualHost host, string family = "-4")
    {
        using JsonDocument routes = JsonDocument.Parse(Shell.Ip(family, "-n", host.Namespace.Name!, "-j", "route", "show").EnsureSuccess().StdOut);
        return routes.RootElement.EnumerateArray()
            .Where(r => r.TryGetProperty("gateway", out _))
            .Select(r => $"{r.GetProperty("dst").GetString()} via {r.GetProperty("gateway").GetString()}")
            .ToList();
    }

    internal static async Task UdpRoundTrip(VirtualHost from, VirtualHost to, IPAddress address)
    {
        using Socket server = to.CreateSocket(address.AddressFamily, SocketType.Dgram, ProtocolType.Udp);
        server.Bind(new IPEndPoint(address, 0));
        using Socket client = from.CreateSocket(address.AddressFamily, SocketType.Dgram, ProtocolType.Udp);
        byte[] message = Encoding.ASCII.GetBytes($"{from} to {to}");
        using var timeout = new CancellationTokenSource(TimeSpan.FromSeconds(30));
        await client.SendToAsync(message, server.LocalEndPoint!, timeout.Token);
        byte[] buffer = new byte[256];
        SocketReceiveFromResult got = await server.ReceiveFromAsync(buffer, new IPEndPoint(address.AddressFamily == AddressFamily.InterNetwork ? IPAddress.Any : IPAddress.IPv6Any, 0), timeout.Token);
        Encoding.ASCII.GetString(buffer, 0, got.ReceivedBytes).Should().Be($"{from} to {to}");
        ((IPEndPoint)got.RemoteEndPoint).Address.Should().Be(address.AddressFamily == AddressFamily.InterNetwork ? from.Address : from.IPv6Address);
    }

    internal static async Task TcpEcho(VirtualHost from, VirtualHost to, IPAddress address)
    {
        using Socket listener = to.CreateSocket(address.AddressFamily, SocketType.Stream, ProtocolType.Tcp);
        listener.Bind(new IPEndPoint(address, 0));
        listener.Listen(1);
        using var timeout = new CancellationTokenSource(TimeSpan.FromSeconds(30));
        Task echo = Task.Run(async () =>
        {
            using Socket accepted = await listener.AcceptAsync(timeout.Token);
            byte[] buffer = new byte[64];
            int n = await accepted.ReceiveAsync(buffer, timeout.Token);
            await accepted.SendAsync(buffer.AsMemory(0, n), timeout.Token);
        });
        using Socket client = from.CreateSocket(address.AddressFamily, SocketType.Stream, ProtocolType.Tcp);
        await client.ConnectAsync(listener.LocalEndPoint!, timeout.Token);
        await client.SendAsync(Encoding.ASCII.GetBytes($"{from}>{to}"), timeout.Token);
        byte[] reply = new byte[64];
        int length = await client.ReceiveAsync(reply, timeout.Token);
        Encoding.ASCII.GetString(reply, 0, length).Should().Be($"{from}>{to}", $"{from} reaches {to} at {address}");
        await echo;
    }
}
