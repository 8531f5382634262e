using System.Net;
using System.Net.Sockets;
using System.Text;
using System.Text.Json;
using LinuxNetns.Netlink;
using LinuxNetns.Tests.Infrastructure;

namespace LinuxNetns.Tests;

/// <summary>
/// Links, addresses and routes through our rtnetlink layer, between temporary namespaces only, compared with what
/// the real <c>ip</c> shows inside them. Traffic flows only between namespaces the test created (10.200.x.x and
/// fd00:200:: on a veth between them); the host's link list must never show a test link.
/// </summary>
public sealed class LinkTests : NamespaceTest
{
    private static int s_links;
    private readonly List<string> _linkNames = [];
    private readonly NetworkNamespace _host = NetworkNamespace.OpenProcess(Environment.ProcessId);

    /// <summary>A unique interface name (at most 15 bytes) for this test; checked to be absent from the host.</summary>
    private string NewLink(string hint)
    {
        string name = $"l{Environment.ProcessId % 100000}{hint}{Interlocked.Increment(ref s_links)}";
        name = name.Length > 15 ? name[..15] : name;
        _linkNames.Add(name);
        return name;
    }

    public override void Dispose()
    {
        foreach (string name in _linkNames)
        {
            _host.Network.FindLink(name).Should().BeNull($"test link {name} must never reach the host's link list");
        }
        string hostLinks = Shell.Ip("-o", "link", "show").StdOut;
        foreach (string name in _linkNames) hostLinks.Should().NotContain($" {name}:").And.NotContain($" {name}@");
        _host.Dispose();
        base.Dispose();
    }

    [RootFact]
    public void Veth_between_two_temporary_namespaces_carries_tcp_and_udp_over_ipv4_and_ipv6()
    {
        using NetworkNamespace a = NetworkNamespace.CreateTemporary();
        using NetworkNamespace b = NetworkNamespace.CreateTemporary();
        string ea = NewLink("a"), eb = NewLink("b");
        a.Network.CreateVethPair(ea, b, eb);
        _host.Network.FindLink(ea).Should().BeNull();
        _host.Network.FindLink(eb).Should().BeNull();

        foreach ((NetworkNamespace ns, string link, string v4, string v6) in new[] { (a, ea, "10.200.0.1/24", "fd00:200::1/64"), (b, eb, "10.200.0.2/24", "fd00:200::2/64") })
        {
            ns.Network.BringLoopbackUp();
            ns.Network.AddAddress(link, v4);
            ns.Network.AddAddress(link, v6, duplicateAddressDetection: false);
            ns.Network.SetLinkUp(link);
        }

        foreach (IPAddress server in new[] { IPAddress.Parse("10.200.0.2"), IPAddress.Parse("fd00:200::2") })
        {
            TcpRoundTrip(a, b, server).Should().Be("ping over tcp " + server);
            UdpRoundTrip(a, b, server).Should().Be("ping over udp " + server);
        }
    }

    [RootFact]
    public void Our_listing_matches_what_ip_shows_inside_the_namespaces()
    {
        using NetworkNamespace a = NetworkNamespace.CreateTemporaryPinned();
        using NetworkNamespace b = NetworkNamespace.CreateTemporary();
        string ea = NewLink("a"), eb = NewLink("b"), lone = NewLink("c"), lone2 = NewLink("d");
        a.Network.CreateVethPair(ea, b, eb);
        a.Network.CreateVethPair(lone, lone2);
        a.Network.BringLoopbackUp();
        a.Network.AddAddress(ea, "10.200.1.1/24");
        a.Network.AddAddress(ea, "fd00:200:1::1/64", duplicateAddressDetection: false);
        a.Network.AddAddress(lone, "10.200.2.1/30");
        a.Network.SetLinkMtu(lone, 1400);
        a.Network.SetLinkUp(ea);
        b.Network.SetLinkUp(eb);

        // ip -n NAME (a pinned temporary namespace has a name) and nsenter --net=/proc/PID/fd/FD (an anonymous one).
        // The kernel finishes some changes asynchronously (carrier, hence operstate, and IPv6 link-local addresses
        // follow a link coming up): compare until both views agree on a settled state.
        Settled(() => CompareLinks(a, Shell.Ip("-n", a.Name!, "-j", "-d", "link", "show").EnsureSuccess().StdOut));
        Settled(() => CompareLinks(b, Shell.Run("nsenter", $"--net={b.Path}", "ip", "-j", "-d", "link", "show").EnsureSuccess().StdOut));
        Settled(() => CompareAddresses(a, Shell.Ip("-n", a.Name!, "-j", "addr", "show").EnsureSuccess().StdOut).Should().Be(5, "lo's two, and three added"));
        Settled(() => CompareAddresses(b, Shell.Run("nsenter", $"--net={b.Path}", "ip", "-j", "addr", "show").EnsureSuccess().StdOut));

        NetworkLink veth = a.Network.FindLink(ea)!;
        veth.Kind.Should().Be("veth");
        veth.IsUp.Should().BeTrue();
        veth.LinkNetnsId.Should().NotBeNull("the peer is in another namespace");
        veth.ParentIndex.Should().Be(b.Network.FindLink(eb)!.Index);
        a.Network.GetNsid(b).Should().Be(veth.LinkNetnsId, "IFLA_LINK_NETNSID is the peer namespace's nsid here");
        a.Network.FindLink(lone)!.Mtu.Should().Be(1400);
        a.Network.FindLink(lone)!.ToString().Should().StartWith($"{a.Network.FindLink(lone)!.Index}: {lone}@if").And.Contain("mtu 1400");
        a.Network.FindLink("nosuch0").Should().BeNull();
    }

    [RootFact]
    public void Rename_mtu_down_up_remove_address_and_routes_as_ip_sees_them()
    {
        using NetworkNamespace a = NetworkNamespace.CreateTemporaryPinned();
        using NetworkNamespace b = NetworkNamespace.CreateTemporary();
        string ea = NewLink("a"), eb = NewLink("b"), renamed = NewLink("r");
        a.Network.CreateVethPair(ea, b, eb);
        a.Network.RenameLink(ea, renamed);
        a.Network.FindLink(ea).Should().BeNull();
        Shell.Ip("-n", a.Name!, "-o", "link", "show", "dev", renamed).EnsureSuccess();

        a.Network.SetLinkMtu(renamed, 9000);
        a.Network.SetLinkUp(renamed);
        b.Network.SetLinkUp(eb);
        string shown = Shell.Ip("-n", a.Name!, "-o", "link", "show", "dev", renamed).StdOut;
        shown.Should().Contain("mtu 9000").And.Contain(",UP");
        a.Network.SetLinkDown(renamed);
        Shell.Ip("-n", a.Name!, "-o", "link", "show", "dev", renamed).StdOut.Should().NotContain(",UP");
        a.Network.SetLinkUp(renamed);

        a.Network.AddAddress(renamed, "10.200.3.1/24");
        a.Network.AddAddress(renamed, "10.200.3.9/24");
        a.Network.RemoveAddress(renamed, IPAddress.Parse("10.200.3.9"), 24);
        string addrs = Shell.Ip("-n", a.Name!, "-o", "-4", "addr", "show", "dev", renamed).StdOut;
        addrs.Should().Contain("10.200.3.1/24").And.NotContain("10.200.3.9");

        // A route through a gateway on the veth's subnet, and one bound to the link only.
        a.Network.AddRoute(IPNetwork.Parse("10.201.0.0/16"), IPAddress.Parse("10.200.3.2"));
        a.Network.AddRoute(IPNetwork.Parse("10.202.0.0/16"), linkName: renamed);
        string routes = Shell.Ip("-n", a.Name!, "route", "show").StdOut;
        routes.Should().Contain($"10.201.0.0/16 via 10.200.3.2 dev {renamed}").And.Contain($"10.202.0.0/16 dev {renamed} scope link");
        a.Network.GetRoutes().Should().Contain(r => r.Destination == IPNetwork.Parse("10.201.0.0/16") && r.Gateway!.Equals(IPAddress.Parse("10.200.3.2")) && r.OutputLinkName == renamed && r.Table == 254)
            .And.Contain(r => r.Destination == IPNetwork.Parse("10.202.0.0/16") && r.Gateway == null && r.Scope == AddressScope.Link);
        a.Network.RemoveRoute(IPNetwork.Parse("10.201.0.0/16"));
        Shell.Ip("-n", a.Name!, "route", "show").StdOut.Should().NotContain("10.201.0.0/16");
        a.Network.GetRoutes().Should().NotContain(r => r.Destination == IPNetwork.Parse("10.201.0.0/16"));
    }

    [RootFact]
    public void Link_scope_routes_are_removed_like_ip_route_del_removes_them()
    {
        using NetworkNamespace a = NetworkNamespace.CreateTemporaryPinned();
        string ea = NewLink("a"), eb = NewLink("b");
        a.Network.CreateVethPair(ea, eb);
        a.Network.SetLinkUp(ea);
        a.Network.AddAddress(ea, "10.200.5.1/24");
        a.Network.AddAddress(ea, "fd00:200:5::1/64", duplicateAddressDetection: false);
        string Routes() => Shell.Ip("-n", a.Name!, "route", "show").StdOut + Shell.Ip("-n", a.Name!, "-6", "route", "show").StdOut;

        // Ours (IPv4 without a gateway is scope link), and one that ip itself added (also scope link).
        a.Network.AddRoute(IPNetwork.Parse("10.204.0.0/16"), linkName: ea);
        a.Network.AddRoute(IPNetwork.Parse("10.206.0.0/16"), linkName: ea);
        Shell.Ip("-n", a.Name!, "route", "add", "10.205.0.0/16", "dev", ea).EnsureSuccess();
        a.Network.AddRoute(IPNetwork.Parse("10.207.0.0/16"), IPAddress.Parse("10.200.5.2"), ea);
        a.Network.AddRoute(IPNetwork.Parse("fd00:204::/48"), linkName: ea);
        Routes().Should().Contain($"10.204.0.0/16 dev {ea} scope link").And.Contain($"10.205.0.0/16 dev {ea} scope link")
            .And.Contain($"10.206.0.0/16 dev {ea} scope link").And.Contain("10.207.0.0/16 via 10.200.5.2").And.Contain("fd00:204::/48");

        a.Network.RemoveRoute(IPNetwork.Parse("10.204.0.0/16"), linkName: ea);
        a.Network.RemoveRoute(IPNetwork.Parse("10.205.0.0/16"), linkName: ea);
        a.Network.RemoveRoute(IPNetwork.Parse("10.206.0.0/16")); // destination only, as `ip route del 10.206.0.0/16`
        a.Network.RemoveRoute(IPNetwork.Parse("10.207.0.0/16"), IPAddress.Parse("10.200.5.2"));
        a.Network.RemoveRoute(IPNetwork.Parse("fd00:204::/48"), linkName: ea);

        string after = Routes();
        foreach (string gone in new[] { "10.204.0.0/16", "10.205.0.0/16", "10.206.0.0/16", "10.207.0.0/16", "fd00:204::/48" })
        {
            after.Should().NotContain(gone);
            a.Network.GetRoutes().Should().NotContain(r => r.Destination == IPNetwork.Parse(gone));
        }
        after.Should().Contain($"10.200.5.0/24 dev {ea}", "only the routes named were removed");
        FluentActions.Invoking(() => a.Network.RemoveRoute(IPNetwork.Parse("10.204.0.0/16"), linkName: ea))
            .Should().Throw<NetlinkException>().Which.Errno.Should().Be(Errno.ESRCH);
    }

    [RootFact]
    public void Bad_requests_fail_with_errno_and_the_kernels_explanation()
    {
        using NetworkNamespace a = NetworkNamespace.CreateTemporary();
        string ea = NewLink("a"), eb = NewLink("b");
        a.Network.CreateVethPair(ea, eb);

        NetlinkException exists = FluentActions.Invoking(() => a.Network.CreateVethPair(ea, NewLink("x"))).Should().Throw<NetlinkException>().Which;
        exists.Errno.Should().Be(Errno.EEXIST);
        exists.Message.Should().Contain(ea).And.Contain("RTM_NEWLINK");

        NetlinkException mtu = FluentActions.Invoking(() => a.Network.SetLinkMtu(ea, 1_000_000)).Should().Throw<NetlinkException>().Which;
        mtu.Errno.Should().Be(Errno.EINVAL);
        mtu.KernelMessage.Should().ContainEquivalentOf("mtu greater than device maximum", "the kernel's extended ACK says which bound was broken");
        mtu.Message.Should().Contain(mtu.KernelMessage);

        NetlinkException missing = FluentActions.Invoking(() => a.Network.AddAddress("nosuch0", "10.200.4.1/24")).Should().Throw<NetlinkException>().Which;
        missing.Errno.Should().Be(Errno.ENODEV);
        missing.Message.Should().Contain("nosuch0").And.Contain("its links are: lo, ").And.Contain(ea).And.Contain(eb);

        NetlinkException absent = FluentActions.Invoking(() => a.Network.RemoveAddress(ea, IPAddress.Parse("10.200.4.1"), 24)).Should().Throw<NetlinkException>().Which;
        absent.Errno.Should().Be(Errno.EADDRNOTAVAIL);

        NetlinkException taken = FluentActions.Invoking(() => a.Network.RenameLink(ea, eb)).Should().Throw<NetlinkException>().Which;
        taken.Errno.Should().Be(Errno.EEXIST);
        taken.Message.Should().Contain($"A link named \"{eb}\" already exists");

        NetlinkException unreachable = FluentActions.Invoking(() => a.Network.AddRoute(IPNetwork.Parse("10.203.0.0/16"), IPAddress.Parse("10.200.99.1")))
            .Should().Throw<NetlinkException>().Which;
        unreachable.Errno.Should().Be(Errno.ENETUNREACH);
        unreachable.KernelMessage.Should().NotBeNullOrEmpty();

        FluentActions.Invoking(() => a.Network.CreateVethPair("has space", "ok0")).Should().Throw<ArgumentException>().Which.Message.Should().Contain("has space");
        FluentActions.Invoking(() => a.Network.CreateVethPair("sixteen-bytes-xx", "ok0")).Should().Throw<ArgumentException>();
        FluentActions.Invoking(() => a.Network.AddAddress(ea, "10.200.4.1/33")).Should().Throw<FormatException>();
        FluentActions.Invoking(() => a.Network.AddAddress(ea, IPAddress.Parse("10.200.4.1"), 40)).Should().Throw<ArgumentOutOfRangeException>();
        using NetworkNamespace b = NetworkNamespace.CreateTemporary();
        NetlinkException local = FluentActions.Invoking(() => a.Network.MoveLink("lo", b)).Should().Throw<NetlinkException>().Which;
        local.Errno.Should().Be(Errno.EINVAL);
        local.Message.Should().Contain("cannot change namespace");
    }

    [RootFact]
    public void Links_moved_into_a_namespace_disappear_with_it()
    {
        using NetworkNamespace a = NetworkNamespace.CreateTemporary();
        NetworkNamespace b = NetworkNamespace.CreateTemporary();
        string kept = NewLink("k"), moved = NewLink("m"), movedRenamed = NewLink("v");
        try
        {
            a.Network.CreateVethPair(kept, moved);
            a.Network.MoveLink(moved, b, movedRenamed);
            a.Network.FindLink(moved).Should().BeNull();
            b.Network.FindLink(movedRenamed)!.Kind.Should().Be("veth");
            a.Network.FindLink(kept)!.LinkNetnsId.Should().NotBeNull("its peer now lives in another namespace");
        }
        finally
        {
            b.Dispose();
        }
        KernelState.Eventually(() => a.Network.FindLink(kept) is null).Should().BeTrue("the moved end died with its namespace, and took its peer along");
        a.Network.GetLinks().Select(l => l.Name).Should().Equal("lo");
    }

    [RootFact]
    public void A_dump_of_many_links_spans_several_datagrams_and_loses_none()
    {
        using NetworkNamespace a = NetworkNamespace.CreateTemporary();
        var expected = new List<string> { "lo" };
        for (int i = 0; i < 40; i++)
        {
            string x = $"m{i}x", y = $"m{i}y";
            a.Network.CreateVethPair(x, y);
            expected.Add(x);
            expected.Add(y);
        }
        // A socket with a small receive buffer: the datagrams (bigger than it) must be peeked and read whole.
        using NetlinkSocket small = a.Run(() => NetlinkSocket.OpenHere("small", Microsoft.Extensions.Logging.Abstractions.NullLogger.Instance, 512));
        List<NetlinkMessage> replies = small.Dump(RtnlMessages.GetLinks, "dump links");
        replies.Should().HaveCount(81);
        small.DatagramsReceived.Should().BeGreaterThan(2, "81 full link messages (~1.5 KiB each) do not fit one part");

        a.Network.GetLinks().Select(l => l.Name).Should().BeEquivalentTo(expected);
        string ip = Shell.Run("nsenter", $"--net={a.Path}", "ip", "-o", "link").EnsureSuccess().StdOut;
        ip.Trim().Split('\n').Should().HaveCount(81);
    }

    // ---- helpers ----------------------------------------------------------------------------------------

    private static string TcpRoundTrip(NetworkNamespace client, NetworkNamespace server, IPAddress address)
    {
        using Socket listener = server.CreateSocket(address.AddressFamily, SocketType.Stream, ProtocolType.Tcp);
        listener.Bind(new IPEndPoint(address, 0));
        listener.Listen(1);
        var endPoint = (IPEndPoint)listener.LocalEndPoint!;
        Task echo = Task.Run(async () =>
        {
            using Socket accepted = await listener.AcceptAsync();
            byte[] buffer = new byte[256];
            int n = await accepted.ReceiveAsync(buffer);
            await accepted.SendAsync(buffer.AsMemory(0, n));
        });
        using Socket socket = client.CreateSocket(address.AddressFamily, SocketType.Stream, ProtocolType.Tcp);
        socket.Connect(endPoint);
        socket.Send(Encoding.ASCII.GetBytes("ping over tcp " + address));
        byte[] reply = new byte[256];
        int read = socket.Receive(reply);
        echo.Wait(TimeSpan.FromSeconds(30)).Should().BeTrue();
        return Encoding.ASCII.GetString(reply, 0, read);
    }

    private static string UdpRoundTrip(NetworkNamespace client, NetworkNamespace server, IPAddress address)
    {
        using Socket receiver = server.CreateSocket(address.AddressFamily, SocketType.Dgram, ProtocolType.Udp);
        receiver.Bind(new IPEndPoint(address, 0));
        using Socket sender = client.CreateSocket(address.AddressFamily, SocketType.Dgram, ProtocolType.Udp);
        sender.ReceiveTimeout = 30_000;
        receiver.ReceiveTimeout = 30_000;
        sender.SendTo(Encoding.ASCII.GetBytes("ping over udp " + address), receiver.LocalEndPoint!);
        byte[] buffer = new byte[256];
        EndPoint from = new IPEndPoint(address.AddressFamily == AddressFamily.InterNetwork ? IPAddress.Any : IPAddress.IPv6Any, 0);
        int n = receiver.ReceiveFrom(buffer, ref from);
        receiver.SendTo(buffer.AsSpan(0, n), from);
        n = sender.Receive(buffer);
        return Encoding.ASCII.GetString(buffer, 0, n);
    }

    /// <summary>Runs a comparison until it passes (up to 30 s), then once more to report the difference if it never did.</summary>
    private static void Settled(Action compare)
    {
        bool passed = KernelState.Eventually(() =>
        {
            try
            {
                compare();
                return true;
            }
            catch (Exception)
            {
                return false;
            }
        });
        if (!passed) compare();
    }

    private static void CompareLinks(NetworkNamespace ns, string ipJson)
    {
        using JsonDocument doc = JsonDocument.Parse(ipJson);
        var fromIp = doc.RootElement.EnumerateArray().Select(e => new
        {
            Index = e.GetProperty("ifindex").GetInt32(),
            Name = e.GetProperty("ifname").GetString(),
            Mtu = e.GetProperty("mtu").GetInt32(),
            State = e.GetProperty("operstate").GetString(),
            Mac = e.TryGetProperty("address", out JsonElement mac) ? mac.GetString() : null,
            Up = e.GetProperty("flags").EnumerateArray().Any(f => f.GetString() == "UP"),
            Kind = e.TryGetProperty("linkinfo", out JsonElement info) && info.TryGetProperty("info_kind", out JsonElement k) ? k.GetString() : null,
            // NAME@PEER: an index in another namespace (with link-netnsid), or a name here.
            Parent = e.TryGetProperty("link_index", out JsonElement li) ? $"if{li.GetInt32()}" : e.TryGetProperty("link", out JsonElement ln) ? ln.GetString() : null,
            Nsid = e.TryGetProperty("link_netnsid", out JsonElement nsid) ? nsid.GetInt32() : (int?)null,
        }).ToList();
        IReadOnlyList<NetworkLink> links = ns.Network.GetLinks();
        var ours = links.Select(l => new
        {
            l.Index,
            l.Name,
            l.Mtu,
            State = l.OperationalState switch
            {
                LinkOperationalState.LowerLayerDown => "LOWERLAYERDOWN",
                var s => s.ToString().ToUpperInvariant(),
            },
            Mac = l.HardwareAddress is null ? null : string.Join(':', l.HardwareAddress.GetAddressBytes().Select(b => b.ToString("x2"))),
            Up = l.IsUp,
            l.Kind,
            Parent = l.ParentIndex is not { } p ? null : l.LinkNetnsId is not null ? $"if{p}" : links.First(x => x.Index == p).Name,
            Nsid = l.LinkNetnsId,
        }).ToList();
        ours.Should().BeEquivalentTo(fromIp, o => o.WithStrictOrdering());
    }

    /// <summary>Compares the addresses (but IPv6 link-local ones, which the kernel adds on its own time); returns their count.</summary>
    private static int CompareAddresses(NetworkNamespace ns, string ipJson)
    {
        using JsonDocument doc = JsonDocument.Parse(ipJson);
        var fromIp = doc.RootElement.EnumerateArray().SelectMany(link => link.GetProperty("addr_info").EnumerateArray().Select(a => new
        {
            Link = link.GetProperty("ifname").GetString(),
            Address = a.GetProperty("local").GetString(),
            Prefix = a.GetProperty("prefixlen").GetInt32(),
            Scope = a.GetProperty("scope").GetString(),
        })).Where(a => a.Scope != "link").ToList();
        var ours = ns.Network.GetAddresses().Where(a => a.Scope != AddressScope.Link).Select(a => new
        {
            Link = a.LinkName,
            Address = a.Address.ToString(),
            Prefix = a.PrefixLength,
            Scope = a.Scope == AddressScope.Global ? "global" : a.Scope.ToString().ToLowerInvariant(),
        }).ToList();
        ours.Should().BeEquivalentTo(fromIp);
        return ours.Count;
    }
}
