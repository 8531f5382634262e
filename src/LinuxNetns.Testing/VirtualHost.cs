using System.Net;
using System.Net.Sockets;

namespace LinuxNetns.Testing;

/// <summary>
/// A node of a <see cref="VirtualNetwork"/>: a temporary network namespace with <c>lo</c> up and its links' ends. Most
/// are hosts; a router is a host that forwards; a switch holds a bridge (<see cref="SwitchBridgeName"/>) whose ports
/// are its interfaces (<see cref="Kind"/>).
/// </summary>
public sealed class VirtualHost
{
    /// <summary>The name of the bridge inside a switch's namespace; its ports are <c>port0</c>, <c>port1</c>, ….</summary>
    public const string SwitchBridgeName = "br0";

    private readonly List<VirtualInterface> _interfaces = [];

    internal VirtualHost(string name, NetworkNamespace ns, VirtualHostKind kind)
    {
        Name = name;
        Namespace = ns;
        Kind = kind;
    }

    /// <summary>The host's name in the network (not a namespace name; see <see cref="NetworkNamespace.Name"/> for a pinned one).</summary>
    public string Name { get; }

    /// <summary>Whether this is a host, a router or a switch.</summary>
    public VirtualHostKind Kind { get; }

    /// <summary>
    /// The host's namespace: for routes and listings (<see cref="NetworkNamespace.Network"/>), sockets, exec
    /// (<see cref="ExecInNamespace"/>) and, as root, <see cref="NetworkNamespace.Run(Action)"/> and
    /// <see cref="NetworkNamespace.Enter"/>, which a network built without root refuses (<see cref="VirtualNetwork.InUserNamespace"/>).
    /// </summary>
    public NetworkNamespace Namespace { get; }

    /// <summary>The host's link ends, in the order they were added (<c>eth0</c>, <c>eth1</c>, …).</summary>
    public IReadOnlyList<VirtualInterface> Interfaces => _interfaces;

    /// <summary>
    /// The host's IPv4 address: the first one of the first interface that has one, interfaces in the order they were
    /// added (<c>eth0</c> first). A host whose first link is IPv6-only still has the IPv4 address of a later one.
    /// </summary>
    /// <exception cref="InvalidOperationException">No interface of the host has an IPv4 address.</exception>
    public IPAddress Address => FirstAddress(AddressFamily.InterNetwork)
        ?? throw new InvalidOperationException(Kind == VirtualHostKind.Switch
            ? $"\"{Name}\" is a switch, which has no address: ask a host connected to it."
            : $"Host \"{Name}\" has no IPv4 address.");

    /// <summary>The host's IPv6 address: the first one of the first interface that has one (as <see cref="Address"/>), or null.</summary>
    public IPAddress? IPv6Address => FirstAddress(AddressFamily.InterNetworkV6);

    /// <summary>The host's end of the link to <paramref name="hostName"/> (the first, if there are several).</summary>
    /// <exception cref="KeyNotFoundException">No link joins the two hosts.</exception>
    public VirtualInterface InterfaceTo(string hostName) =>
        _interfaces.FirstOrDefault(i => i.Peer.Host.Name == hostName)
        ?? throw new KeyNotFoundException($"Host \"{Name}\" has no link to \"{hostName}\".");

    /// <summary>Creates a socket inside the host (see <see cref="NetworkNamespace.CreateSocket"/>); usable from any thread.</summary>
    public Socket CreateSocket(AddressFamily addressFamily, SocketType socketType, ProtocolType protocolType) =>
        Namespace.CreateSocket(addressFamily, socketType, protocolType);

    /// <summary>Makes the host a router: turns on IPv4 and IPv6 forwarding in its namespace only.</summary>
    public void EnableForwarding()
    {
        Namespace.WriteSysctl("net/ipv4/ip_forward", "1");
        Namespace.WriteSysctl("net/ipv6/conf/all/forwarding", "1");
    }

    /// <summary>The host's name.</summary>
    public override string ToString() => Name;

    // Each link adds its end before the next link is made, so the count names the next one.
    internal string NextInterfaceName() => Kind == VirtualHostKind.Switch ? $"port{_interfaces.Count}" : $"eth{_interfaces.Count}";

    internal void AddInterface(VirtualInterface end) => _interfaces.Add(end);

    private IPAddress? FirstAddress(AddressFamily family) =>
        _interfaces.SelectMany(i => i.Addresses).Select(a => a.Address).FirstOrDefault(a => a.AddressFamily == family);
}
