using System.Net;
using LinuxNetns.Networking;

namespace LinuxNetns.Testing;

/// <summary>
/// Describes a small virtual network — hosts and the veth links between them — and builds it with
/// <see cref="Build"/>. Every host is a temporary network namespace; nothing of it reaches the machine's own
/// interfaces.
/// </summary>
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
    private readonly List<string> _hosts = [];
    private readonly List<LinkSpec> _links = [];
    private bool _pin;
    private bool _ipv6 = true;
    private int? _mtu;
    private NetworkNamespaceOptions _options = NetworkNamespaceOptions.Default;

    internal sealed record LinkSpec(string A, string B, (IPAddress, int)[] AddressesA, (IPAddress, int)[] AddressesB);

    /// <summary>Adds a host: a temporary namespace with <c>lo</c> up.</summary>
    /// <param name="name">A name unique in this network (used to look the host up, not a namespace name).</param>
    /// <exception cref="ArgumentException">The name is empty or already used.</exception>
    public VirtualNetworkBuilder AddHost(string name)
    {
        ArgumentException.ThrowIfNullOrWhiteSpace(name);
        if (_hosts.Contains(name)) throw new ArgumentException($"A host named \"{name}\" was already added.", nameof(name));
        _hosts.Add(name);
        return this;
    }

    /// <summary>
    /// Joins two hosts with a veth pair and gives both ends addresses from the link's own subnets: for the N-th link
    /// (counting from 0) <c>10.199.N.1/24</c> and <c>.2</c>, and (unless <see cref="WithoutIPv6"/>)
    /// <c>fd00:199:0:N::1/64</c> and <c>::2</c>. The ends are named <c>eth0</c>, <c>eth1</c>, … on each host, in the
    /// order the host's links were added.
    /// </summary>
    /// <exception cref="ArgumentException">A host is unknown, or both are the same.</exception>
    public VirtualNetworkBuilder Connect(string hostA, string hostB)
    {
        int n = _links.Count;
        if (n > 255) throw new InvalidOperationException("Automatic addressing supports 256 links; pass addresses to Connect for more.");
        var a = new List<(IPAddress, int)> { (IPAddress.Parse($"10.199.{n}.1"), 24) };
        var b = new List<(IPAddress, int)> { (IPAddress.Parse($"10.199.{n}.2"), 24) };
        return AddLink(hostA, hostB, [.. a], [.. b], automatic: true);
    }

    /// <summary>
    /// Joins two hosts with a veth pair and gives each end the addresses given, written <c>ADDRESS/PREFIX</c>
    /// (IPv4 or IPv6, any number; IPv6 ones are added without duplicate address detection, so usable at once).
    /// </summary>
    /// <exception cref="ArgumentException">A host is unknown, or both are the same.</exception>
    /// <exception cref="FormatException">An address is not <c>ADDRESS/PREFIX</c>.</exception>
    public VirtualNetworkBuilder Connect(string hostA, IEnumerable<string> addressesA, string hostB, IEnumerable<string> addressesB)
    {
        ArgumentNullException.ThrowIfNull(addressesA);
        ArgumentNullException.ThrowIfNull(addressesB);
        return AddLink(hostA, hostB,
            addressesA.Select(NetworkConfiguration.ParseAddressWithPrefix).ToArray(),
            addressesB.Select(NetworkConfiguration.ParseAddressWithPrefix).ToArray(),
            automatic: false);
    }

    /// <summary>Joins two hosts with one address each, e.g. <c>Connect("a", "10.0.0.1/24", "b", "10.0.0.2/24")</c>.</summary>
    /// <inheritdoc cref="Connect(string, IEnumerable{string}, string, IEnumerable{string})"/>
    public VirtualNetworkBuilder Connect(string hostA, string addressA, string hostB, string addressB) =>
        Connect(hostA, [addressA], hostB, [addressB]);

    /// <summary>
    /// Also pins every host under a generated name (<see cref="NetworkNamespace.CreateTemporaryPinned()"/>), so that
    /// <c>ip netns exec</c>, <c>ip -n</c> and <c>/etc/netns/NAME</c> work with it; the names go with the network.
    /// </summary>
    public VirtualNetworkBuilder PinNames()
    {
        _pin = true;
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

    /// <summary>Run directory (for pinned names), logging and worker settings of the hosts' namespaces.</summary>
    public VirtualNetworkBuilder WithOptions(NetworkNamespaceOptions options)
    {
        _options = options ?? throw new ArgumentNullException(nameof(options));
        return this;
    }

    /// <summary>
    /// Creates the namespaces, links and addresses, and sets everything up. On failure, whatever was created is
    /// removed again before the exception propagates.
    /// </summary>
    /// <exception cref="InvalidOperationException">No host was added.</exception>
    /// <exception cref="NetworkNamespaceException">The kernel refused a step (e.g. not running as root).</exception>
    public VirtualNetwork Build()
    {
        if (_hosts.Count == 0) throw new InvalidOperationException("Add at least one host before Build().");
        var hosts = new List<VirtualHost>();
        try
        {
            foreach (string name in _hosts)
            {
                NetworkNamespace ns = _pin ? NetworkNamespace.CreateTemporaryPinned(_options) : NetworkNamespace.CreateTemporary(_options);
                var host = new VirtualHost(name, ns);
                hosts.Add(host);
                ns.Network.BringLoopbackUp();
            }
            Dictionary<string, VirtualHost> byName = hosts.ToDictionary(h => h.Name);
            var links = new List<VirtualInterface>();
            for (int i = 0; i < _links.Count; i++)
            {
                LinkSpec spec = _links[i];
                VirtualHost a = byName[spec.A], b = byName[spec.B];
                (IPAddress, int)[] addressesA = spec.AddressesA, addressesB = spec.AddressesB;
                if (_ipv6 && _automatic.Contains(i))
                {
                    addressesA = [.. addressesA, (IPAddress.Parse($"fd00:199:0:{i:x}::1"), 64)];
                    addressesB = [.. addressesB, (IPAddress.Parse($"fd00:199:0:{i:x}::2"), 64)];
                }
                string nameA = a.NextInterfaceName(), nameB = b.NextInterfaceName();
                a.Namespace.Network.CreateVethPair(nameA, b.Namespace, nameB);
                var endA = new VirtualInterface(a, nameA, addressesA);
                var endB = new VirtualInterface(b, nameB, addressesB);
                endA.Peer = endB;
                endB.Peer = endA;
                foreach (VirtualInterface end in new[] { endA, endB })
                {
                    NetworkNamespace ns = end.Host.Namespace;
                    if (_mtu is { } mtu) ns.Network.SetLinkMtu(end.Name, mtu);
                    foreach ((IPAddress address, int prefix) in end.Addresses)
                        ns.Network.AddAddress(end.Name, address, prefix, duplicateAddressDetection: false);
                    ns.Network.SetLinkUp(end.Name);
                    end.Host.AddInterface(end);
                }
                links.Add(endA);
            }
            return new VirtualNetwork(hosts, links);
        }
        catch
        {
            foreach (VirtualHost h in hosts) h.Namespace.Dispose();
            throw;
        }
    }

    private readonly HashSet<int> _automatic = [];

    private VirtualNetworkBuilder AddLink(string hostA, string hostB, (IPAddress, int)[] a, (IPAddress, int)[] b, bool automatic)
    {
        if (!_hosts.Contains(hostA)) throw new ArgumentException($"Unknown host \"{hostA}\": add it with AddHost first.", nameof(hostA));
        if (!_hosts.Contains(hostB)) throw new ArgumentException($"Unknown host \"{hostB}\": add it with AddHost first.", nameof(hostB));
        if (hostA == hostB) throw new ArgumentException($"A link joins two different hosts; both ends are \"{hostA}\".", nameof(hostB));
        if (automatic) _automatic.Add(_links.Count);
        _links.Add(new LinkSpec(hostA, hostB, a, b));
        return this;
    }
}
