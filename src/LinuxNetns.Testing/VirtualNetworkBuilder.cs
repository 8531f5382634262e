using System.Net;
using LinuxNetns.Interop;
using LinuxNetns.Networking;
using LinuxNetns.Testing.Rootless;

namespace LinuxNetns.Testing;

/// <summary>
/// Describes a small virtual network — hosts, routers, switches and the veth links between them — and builds it with
/// <see cref="Build"/>. Every node is a temporary network namespace; nothing of it reaches the machine's own
/// interfaces.
/// </summary>
/// <remarks>
/// <para>Automatic addressing (<see cref="Connect(string, string)"/>), deterministic and the same on every run:</para>
/// <list type="bullet">
/// <item>the N-th link between two hosts or routers (counting from 0, switches' links not counted):
/// <c>10.199.N.1/24</c> and <c>.2</c>, <c>fd00:199:0:N::1/64</c> and <c>::2</c>, first the host named first;</item>
/// <item>the S-th switch (counting from 0, in the order added): <c>10.198.S.0/24</c> and <c>fd00:198:0:S::/64</c>; the
/// K-th host connected to it (counting from 0) gets <c>.K+1</c> and <c>::K+1</c>.</item>
/// </list>
/// <para>Routes: when the network has routers, every host and router gets a route to every subnet it is not on and
/// can reach through routers (fewest routers first), via the first router's address on the shared link or switch;
/// per family, so an IPv6 route needs IPv6 addresses all the way. Hosts never forward.</para>
/// </remarks>
/// <example>
/// <code>
/// await using VirtualNetwork net = new VirtualNetworkBuilder()
///     .AddHost("client").AddHost("server")
///     .Connect("client", "server")          // 10.199.0.1/24 and 10.199.0.2/24, fd00:199:0:0::1/64 and ::2/64
///     .Build();
/// using Socket listener = net["server"].CreateSocket(AddressFamily.InterNetwork, SocketType.Stream, ProtocolType.Tcp);
/// listener.Bind(new IPEndPoint(net["server"].Address, 8080));
/// </code>
/// </example>
public sealed class VirtualNetworkBuilder
{
    private const int MaxAutomaticLinks = 256;
    private const int MaxAutomaticPorts = 254;

    private readonly List<NodeSpec> _nodes = [];
    private readonly List<LinkSpec> _links = [];
    private bool _pin;
    private bool _userNamespace;
    private bool _ipv6 = true;
    private int? _mtu;
    private NetworkNamespaceOptions _options = NetworkNamespaceOptions.Default;

    private sealed record NodeSpec(string Name, VirtualHostKind Kind, int SwitchNumber);

    // A link's A side is never a switch (Connect puts the switch second). Automatic: the subnet it was given is
    // the automatic one, so its IPv6 addresses are added unless WithoutIPv6.
    private sealed class LinkSpec(string a, string b, (IPAddress, int)[] addressesA, (IPAddress, int)[] addressesB, bool automatic)
    {
        public string A { get; } = a;
        public string B { get; } = b;
        public (IPAddress, int)[] AddressesA { get; } = addressesA;
        public (IPAddress, int)[] AddressesB { get; } = addressesB;
        public bool Automatic { get; } = automatic;
        public (IPAddress, int)[] IPv6A { get; init; } = [];
        public (IPAddress, int)[] IPv6B { get; init; } = [];
        public long? RateLimit { get; set; }
    }

    /// <summary>Adds a host: a temporary namespace with <c>lo</c> up.</summary>
    /// <param name="name">A name unique in this network (used to look the host up, not a namespace name).</param>
    /// <exception cref="ArgumentException">The name is empty or already used.</exception>
    public VirtualNetworkBuilder AddHost(string name) => AddNode(name, VirtualHostKind.Host);

    /// <summary>
    /// Adds a router: a host with IPv4 and IPv6 forwarding on, in its namespace only. Connect it to links and
    /// switches like a host; the builder adds the routes through it on every host (see the remarks of this class).
    /// </summary>
    /// <inheritdoc cref="AddHost"/>
    public VirtualNetworkBuilder AddRouter(string name) => AddNode(name, VirtualHostKind.Router);

    /// <summary>
    /// Adds a switch: a bridge (<see cref="VirtualHost.SwitchBridgeName"/>, without spanning tree or multicast
    /// snooping, so it forwards at once and floods multicast as a plain switch does) in a namespace of its own.
    /// Hosts and routers connected to it (<see cref="Connect(string, string)"/>) share one subnet.
    /// </summary>
    /// <inheritdoc cref="AddHost"/>
    public VirtualNetworkBuilder AddSwitch(string name) =>
        AddNode(name, VirtualHostKind.Switch, _nodes.Count(n => n.Kind == VirtualHostKind.Switch));

    /// <summary>
    /// Joins two nodes with a veth pair and addresses them automatically (see the remarks of this class): two hosts
    /// or routers get a subnet of their own; a host or router and a switch (either order) get the host its next
    /// address on the switch's subnet. The ends are named <c>eth0</c>, <c>eth1</c>, … on each host, in the order the
    /// host's links were added, and <c>port0</c>, <c>port1</c>, … on a switch.
    /// </summary>
    /// <exception cref="ArgumentException">A node is unknown, both are the same, or both are switches.</exception>
    /// <exception cref="InvalidOperationException">The automatic addresses ran out (256 links, 254 hosts a switch).</exception>
    public VirtualNetworkBuilder Connect(string hostA, string hostB)
    {
        (NodeSpec a, NodeSpec b) = Ends(hostA, hostB);
        if (b.Kind == VirtualHostKind.Switch)
        {
            int port = _links.Count(l => l.B == b.Name);
            if (port >= MaxAutomaticPorts)
                throw new InvalidOperationException($"Automatic addressing gives a switch {MaxAutomaticPorts} hosts; \"{b.Name}\" is full: pass addresses to Connect for more.");
            int s = b.SwitchNumber;
            return Add(new LinkSpec(a.Name, b.Name, [(IPAddress.Parse($"10.198.{s}.{port + 1}"), 24)], [], automatic: true)
            {
                IPv6A = [(IPAddress.Parse($"fd00:198:0:{s:x}::{port + 1:x}"), 64)],
            });
        }
        int n = _links.Count(l => Kind(l.B) != VirtualHostKind.Switch);
        if (n >= MaxAutomaticLinks) throw new InvalidOperationException($"Automatic addressing supports {MaxAutomaticLinks} links; pass addresses to Connect for more.");
        return Add(new LinkSpec(a.Name, b.Name, [(IPAddress.Parse($"10.199.{n}.1"), 24)], [(IPAddress.Parse($"10.199.{n}.2"), 24)], automatic: true)
        {
            IPv6A = [(IPAddress.Parse($"fd00:199:0:{n:x}::1"), 64)],
            IPv6B = [(IPAddress.Parse($"fd00:199:0:{n:x}::2"), 64)],
        });
    }

    /// <summary>
    /// Joins two nodes with a veth pair and gives each end the addresses given, written <c>ADDRESS/PREFIX</c>
    /// (IPv4 or IPv6, any number; IPv6 ones are added without duplicate address detection, so usable at once).
    /// A switch's side takes no addresses: pass an empty list for it.
    /// </summary>
    /// <exception cref="ArgumentException">A node is unknown, both are the same, both are switches, or a switch's
    /// side has addresses.</exception>
    /// <exception cref="FormatException">An address is not <c>ADDRESS/PREFIX</c>.</exception>
    public VirtualNetworkBuilder Connect(string hostA, IEnumerable<string> addressesA, string hostB, IEnumerable<string> addressesB)
    {
        ArgumentNullException.ThrowIfNull(addressesA);
        ArgumentNullException.ThrowIfNull(addressesB);
        (IPAddress, int)[] a = addressesA.Select(NetworkConfiguration.ParseAddressWithPrefix).ToArray();
        (IPAddress, int)[] b = addressesB.Select(NetworkConfiguration.ParseAddressWithPrefix).ToArray();
        (NodeSpec first, NodeSpec second) = Ends(hostA, hostB);
        if (first.Name != hostA) (a, b) = (b, a); // the switch was named first: keep each node's own addresses
        if (second.Kind == VirtualHostKind.Switch && b.Length > 0)
            throw new ArgumentException($"\"{second.Name}\" is a switch and takes no addresses; give them to \"{first.Name}\".", first.Name == hostA ? nameof(addressesB) : nameof(addressesA));
        return Add(new LinkSpec(first.Name, second.Name, a, b, automatic: false));
    }

    /// <summary>Joins two nodes with one address each, e.g. <c>Connect("a", "10.0.0.1/24", "b", "10.0.0.2/24")</c>.</summary>
    /// <inheritdoc cref="Connect(string, IEnumerable{string}, string, IEnumerable{string})"/>
    public VirtualNetworkBuilder Connect(string hostA, string addressA, string hostB, string addressB) =>
        Connect(hostA, [addressA], hostB, [addressB]);

    /// <summary>
    /// Limits the links between <paramref name="hostA"/> and <paramref name="hostB"/> (every one joining them; connect
    /// them first) to <paramref name="bitsPerSecond"/> in each direction: a token bucket (<c>tbf</c>) on both ends,
    /// with the defaults of <see cref="NetworkConfiguration.SetRateLimit"/>. For a host on a switch, that is the
    /// host's own link to the switch. Change it later with <see cref="VirtualInterface.SetRateLimit"/>.
    /// </summary>
    /// <exception cref="ArgumentOutOfRangeException">The rate is below 8 bits per second.</exception>
    /// <exception cref="ArgumentException">No link joins the two.</exception>
    public VirtualNetworkBuilder LimitRate(string hostA, string hostB, long bitsPerSecond)
    {
        ArgumentOutOfRangeException.ThrowIfLessThan(bitsPerSecond, 8);
        List<LinkSpec> links = _links.Where(l => (l.A == hostA && l.B == hostB) || (l.A == hostB && l.B == hostA)).ToList();
        if (links.Count == 0) throw new ArgumentException($"No link joins \"{hostA}\" and \"{hostB}\": Connect them before limiting the rate.", nameof(hostB));
        foreach (LinkSpec link in links) link.RateLimit = bitsPerSecond;
        return this;
    }

    /// <summary>
    /// Also pins every node under a generated name (<see cref="NetworkNamespace.CreateTemporaryPinned()"/>), so that
    /// <c>ip netns exec</c>, <c>ip -n</c> and <c>/etc/netns/NAME</c> work with it; the names go with the network.
    /// </summary>
    public VirtualNetworkBuilder PinNames()
    {
        _pin = true;
        return this;
    }

    /// <summary>
    /// Builds the network in a user namespace of its own, as it is always built without root (docs/rootless.md): a
    /// helper process holds the namespaces; sockets, exec and the network configuration work the same; Enter and Run
    /// throw <see cref="NotSupportedException"/>. For root, to run a test exactly as it runs unprivileged.
    /// </summary>
    public VirtualNetworkBuilder InUserNamespace()
    {
        _userNamespace = true;
        return this;
    }

    /// <summary>Leaves out the automatic IPv6 addresses of <see cref="Connect(string, string)"/>.</summary>
    public VirtualNetworkBuilder WithoutIPv6()
    {
        _ipv6 = false;
        return this;
    }

    /// <summary>Sets the MTU of every veth end (default: the kernel's, 1500).</summary>
    public VirtualNetworkBuilder WithMtu(int mtu)
    {
        ArgumentOutOfRangeException.ThrowIfNegativeOrZero(mtu);
        _mtu = mtu;
        return this;
    }

    /// <summary>Run directory (for pinned names), logging and worker settings of the nodes' namespaces.</summary>
    public VirtualNetworkBuilder WithOptions(NetworkNamespaceOptions options)
    {
        _options = options ?? throw new ArgumentNullException(nameof(options));
        return this;
    }

    /// <summary>
    /// Creates the namespaces, bridges, links, addresses, rate limits and routes, and sets everything up. On failure,
    /// whatever was created is removed again before the exception propagates.
    /// </summary>
    /// <remarks>Without CAP_SYS_ADMIN (not root), or with <see cref="InUserNamespace"/>, the network is built in a user
    /// namespace of its own (<see cref="VirtualNetwork.InUserNamespace"/>); that needs a kernel that allows unprivileged
    /// user namespaces and util-linux <c>unshare</c>.</remarks>
    /// <exception cref="InvalidOperationException">No host was added.</exception>
    /// <exception cref="NotSupportedException"><see cref="PinNames"/> for a network built without root (pinning mounts
    /// under /run/netns, which needs root).</exception>
    /// <exception cref="NetworkNamespaceException">The kernel refused a step; without root, e.g. because unprivileged user
    /// namespaces are disabled (the message names the setting).</exception>
    public VirtualNetwork Build()
    {
        if (_nodes.Count == 0) throw new InvalidOperationException("Add at least one host before Build().");
        bool rootless = _userNamespace || Libc.HasEffectiveCapability(Libc.CAP_SYS_ADMIN) == false;
        if (rootless && _pin)
        {
            throw new NotSupportedException(_userNamespace
                ? "PinNames and InUserNamespace do not go together: a pinned name is a mount under /run/netns, which only root can make, and only for namespaces of its own user namespace."
                : "PinNames needs root: a pinned name is a mount under /run/netns. Without root, use the hosts' namespaces through their handles (CreateSocket, ExecInNamespace, Network).");
        }
        UserNamespaceHelper? helper = rootless ? UserNamespaceHelper.Start() : null;
        var hosts = new List<VirtualHost>();
        try
        {
            foreach (NodeSpec node in _nodes)
            {
                NetworkNamespace ns = helper is not null ? InHelper(helper, node.Name)
                    : _pin ? NetworkNamespace.CreateTemporaryPinned(_options) : NetworkNamespace.CreateTemporary(_options);
                var host = new VirtualHost(node.Name, ns, node.Kind);
                hosts.Add(host);
                ns.Network.BringLoopbackUp();
                if (node.Kind == VirtualHostKind.Switch)
                {
                    ns.Network.CreateBridge(VirtualHost.SwitchBridgeName, multicastSnooping: false);
                    ns.Network.SetLinkUp(VirtualHost.SwitchBridgeName);
                }
                else if (node.Kind == VirtualHostKind.Router)
                {
                    host.EnableForwarding();
                }
            }
            Dictionary<string, VirtualHost> byName = hosts.ToDictionary(h => h.Name);
            var links = new List<VirtualInterface>();
            foreach (LinkSpec spec in _links)
            {
                VirtualHost a = byName[spec.A], b = byName[spec.B];
                bool ipv6 = _ipv6 && spec.Automatic;
                var endA = new VirtualInterface(a, a.NextInterfaceName(), ipv6 ? [.. spec.AddressesA, .. spec.IPv6A] : spec.AddressesA);
                var endB = new VirtualInterface(b, b.NextInterfaceName(), ipv6 ? [.. spec.AddressesB, .. spec.IPv6B] : spec.AddressesB);
                endA.Peer = endB;
                endB.Peer = endA;
                a.Namespace.Network.CreateVethPair(endA.Name, b.Namespace, endB.Name);
                foreach (VirtualInterface end in new[] { endA, endB })
                {
                    NetworkConfiguration network = end.Host.Namespace.Network;
                    if (_mtu is { } mtu) network.SetLinkMtu(end.Name, mtu);
                    if (end.Host.Kind == VirtualHostKind.Switch) network.SetLinkMaster(end.Name, VirtualHost.SwitchBridgeName);
                    foreach ((IPAddress address, int prefix) in end.Addresses)
                        network.AddAddress(end.Name, address, prefix, duplicateAddressDetection: false);
                    if (spec.RateLimit is { } rate) network.SetRateLimit(end.Name, rate);
                    network.SetLinkUp(end.Name);
                    end.Host.AddInterface(end);
                }
                links.Add(endA);
            }
            if (hosts.Any(h => h.Kind == VirtualHostKind.Router)) VirtualRoutes.AddAll(hosts);
            return new VirtualNetwork(hosts, links, helper);
        }
        catch
        {
            foreach (VirtualHost h in hosts) h.Namespace.Dispose();
            helper?.Dispose();
            throw;
        }
    }

    /// <summary>A new namespace made by the helper, held here by its descriptor and worked on through the helper.</summary>
    private NetworkNamespace InHelper(UserNamespaceHelper helper, string host)
    {
        (int number, SafeFdHandle fd) = helper.NewNamespace();
        return NetworkNamespace.FromAgent(fd, new HelperNamespaceAgent(helper, number, host), _options);
    }

    private VirtualNetworkBuilder AddNode(string name, VirtualHostKind kind, int switchNumber = -1)
    {
        ArgumentException.ThrowIfNullOrWhiteSpace(name);
        if (_nodes.Any(n => n.Name == name)) throw new ArgumentException($"A host, router or switch named \"{name}\" was already added.", nameof(name));
        _nodes.Add(new NodeSpec(name, kind, switchNumber));
        return this;
    }

    private VirtualHostKind Kind(string name) => _nodes.First(n => n.Name == name).Kind;

    /// <summary>The two nodes of a link, the switch (if any) second.</summary>
    private (NodeSpec A, NodeSpec B) Ends(string hostA, string hostB)
    {
        NodeSpec a = _nodes.FirstOrDefault(n => n.Name == hostA)
            ?? throw new ArgumentException($"Unknown host \"{hostA}\": add it with AddHost, AddRouter or AddSwitch first.", nameof(hostA));
        NodeSpec b = _nodes.FirstOrDefault(n => n.Name == hostB)
            ?? throw new ArgumentException($"Unknown host \"{hostB}\": add it with AddHost, AddRouter or AddSwitch first.", nameof(hostB));
        if (hostA == hostB) throw new ArgumentException($"A link joins two different hosts; both ends are \"{hostA}\".", nameof(hostB));
        if (a.Kind == VirtualHostKind.Switch && b.Kind == VirtualHostKind.Switch)
            throw new ArgumentException($"\"{hostA}\" and \"{hostB}\" are both switches: join their subnets through a router (AddRouter) instead.", nameof(hostB));
        return a.Kind == VirtualHostKind.Switch ? (b, a) : (a, b);
    }

    private VirtualNetworkBuilder Add(LinkSpec link)
    {
        _links.Add(link);
        return this;
    }
}
