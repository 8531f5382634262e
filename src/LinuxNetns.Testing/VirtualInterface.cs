using System.Net;

namespace LinuxNetns.Testing;

/// <summary>One end of a veth link of a <see cref="VirtualNetwork"/>.</summary>
public sealed class VirtualInterface
{
    internal VirtualInterface(VirtualHost host, string name, IReadOnlyList<(IPAddress Address, int PrefixLength)> addresses)
    {
        Host = host;
        Name = name;
        Addresses = addresses;
    }

    /// <summary>The host this end is on.</summary>
    public VirtualHost Host { get; }

    /// <summary>The interface name inside the host, e.g. <c>eth0</c>.</summary>
    public string Name { get; }

    /// <summary>The addresses assigned to this end, with their prefix lengths.</summary>
    public IReadOnlyList<(IPAddress Address, int PrefixLength)> Addresses { get; }

    /// <summary>The other end of the link.</summary>
    public VirtualInterface Peer { get; internal set; } = null!;

    /// <summary><c>HOST:NAME</c>.</summary>
    public override string ToString() => $"{Host.Name}:{Name}";
}
