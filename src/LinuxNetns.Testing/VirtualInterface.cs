using System.Net;

namespace LinuxNetns.Testing;

/// <summary>One end of a veth link of a <see cref="VirtualNetwork"/>: on a host, <c>eth0</c>, <c>eth1</c>, …; on a switch, a port.</summary>
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

    /// <summary>The other end of the link (for a host on a switch: the switch's port).</summary>
    public VirtualInterface Peer { get; internal set; } = null!;

    /// <summary>
    /// Limits what this end sends (a token bucket, <see cref="LinuxNetns.Networking.NetworkConfiguration.SetRateLimit"/>);
    /// limit <see cref="Peer"/> too for both directions, as <see cref="VirtualNetworkBuilder.LimitRate"/> does.
    /// </summary>
    public void SetRateLimit(long bitsPerSecond, int? burstBytes = null, TimeSpan? latency = null) =>
        Host.Namespace.Network.SetRateLimit(Name, bitsPerSecond, burstBytes, latency);

    /// <summary>Removes this end's rate limit; false when it had none.</summary>
    public bool RemoveRateLimit() => Host.Namespace.Network.RemoveRateLimit(Name);

    /// <summary><c>HOST:NAME</c>.</summary>
    public override string ToString() => $"{Host.Name}:{Name}";
}
